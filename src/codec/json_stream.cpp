#include "codec/json_stream.hpp"

#include <cstring>

#include "codec/json_fields.hpp"

namespace dcs::codec {

namespace {
bool is_json_whitespace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
}  // namespace

// Where the string being read from `from` (not just after a backslash) ends: the index of its
// closing quote, or chunk.size() when it goes on past the chunk, with escaped_ telling whether
// the chunk ended on an unpaired backslash. A quote after an odd run of backslashes is part of
// the string. Backslashes before `from` were already paired, so runs are counted from there.
std::size_t JsonStreamSplitter::string_end(std::string_view chunk, std::size_t from) {
  const auto backslashes_before = [&](std::size_t end) {
    std::size_t run = 0;
    while (end - run > from && chunk[end - run - 1] == '\\') ++run;
    return run;
  };
  for (std::size_t at = from;;) {
    const void* quote = std::memchr(chunk.data() + at, '"', chunk.size() - at);
    if (quote == nullptr) {
      escaped_ = backslashes_before(chunk.size()) % 2 == 1;
      return chunk.size();
    }
    const auto q = static_cast<std::size_t>(static_cast<const char*>(quote) - chunk.data());
    if (backslashes_before(q) % 2 == 0) return q;
    at = q + 1;
  }
}

void JsonStreamSplitter::feed(std::string_view chunk, std::vector<std::string>& documents) {
  std::size_t start = 0;  // where the current document begins inside `chunk`
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    if (!in_document_) {
      if (is_json_whitespace(c)) continue;
      if (c != '{') throw DecodeError(std::string("stream holds a byte outside any JSON object: '") + c + "'");
      in_document_ = true;
      depth_ = 1;
      start = i;
      continue;
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
        continue;
      }
      // Most of a watch message is string content (base64 keys and values): jump to the quote
      // that ends the string instead of stepping through every byte of it.
      i = string_end(chunk, i);
      if (i == chunk.size()) break;
      in_string_ = false;
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      buffer_.append(chunk.substr(start, i + 1 - start));
      documents.push_back(std::move(buffer_));
      buffer_.clear();
      in_document_ = false;
    }
  }
  if (in_document_) buffer_.append(chunk.substr(start));
}

}  // namespace dcs::codec
