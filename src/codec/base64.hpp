// Standard, padded base64 (RFC 4648) as etcd's gateway requires for keys and values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dcs::codec {

std::string base64_encode(std::string_view bytes);
/// Appends the encoding of `bytes` to `out` (request bodies are built in place).
void base64_append(std::string& out, std::string_view bytes);

/// Decodes padded standard base64; nullopt for anything else (wrong length, bad characters,
/// misplaced padding, whitespace).
std::optional<std::string> base64_decode(std::string_view text);
/// The same into `out` (replacing its contents, reusing its buffer); false for anything that is
/// not padded standard base64, `out` then unspecified.
bool base64_decode_into(std::string_view text, std::string& out);

}  // namespace dcs::codec
