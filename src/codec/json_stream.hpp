// Splits a byte stream of concatenated JSON objects (etcd's watch and keepalive streams) into
// whole documents, whatever the chunking: a chunk may end inside a document, inside a string
// or an escape, or carry several documents. Newlines between documents are optional (the last
// error object of a stream has none).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dcs::codec {

class JsonStreamSplitter {
 public:
  /// Appends `chunk` and moves every document it completes into `documents`. Throws DecodeError
  /// when the stream holds something other than objects between documents.
  void feed(std::string_view chunk, std::vector<std::string>& documents);

  /// True when the bytes after the last complete document are not just whitespace: a stream
  /// that ends now was cut inside a message.
  bool has_partial_document() const noexcept { return in_document_; }

 private:
  std::size_t string_end(std::string_view chunk, std::size_t from);

  std::string buffer_;  // bytes of the unfinished document
  bool in_document_ = false;
  bool in_string_ = false;
  bool escaped_ = false;
  std::size_t depth_ = 0;
};

}  // namespace dcs::codec
