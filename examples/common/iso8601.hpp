// ISO 8601 timestamps as Patroni stores them in the failover key's `scheduled_at`
// ("2024-05-01T10:00:00+00:00"): dcsctl writes them, ha_daemon reads them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dcs_examples {

/// Unix seconds of "YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|+HH:MM|+HHMM|+HH]"; a time without
/// an offset is local time (as patronictl reads --scheduled). nullopt when it is not of that form.
std::optional<double> parse_iso8601(std::string_view text);

/// "YYYY-MM-DDTHH:MM:SS+00:00" (UTC, whole seconds), what Python's isoformat() prints for an
/// aware UTC datetime without microseconds.
std::string format_iso8601_utc(double unix_seconds);

/// The current time as unix seconds (the system clock).
double unix_now();

}  // namespace dcs_examples
