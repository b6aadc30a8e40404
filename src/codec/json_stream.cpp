#include "codec/json_stream.hpp"

#include "codec/json_fields.hpp"

namespace dcs::codec {

namespace {
bool is_json_whitespace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
}  // namespace

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
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
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
