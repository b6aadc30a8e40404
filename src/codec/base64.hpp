// Standard, padded base64 (RFC 4648) as etcd's gateway requires for keys and values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dcs::codec {

std::string base64_encode(std::string_view bytes);

/// Decodes padded standard base64; nullopt for anything else (wrong length, bad characters,
/// misplaced padding, whitespace).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dcs::codec
