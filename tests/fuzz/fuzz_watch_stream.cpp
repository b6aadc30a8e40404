// The watch stream parser: the document splitter (src/codec/json_stream.cpp) fed the input in
// arbitrary chunk splits, then every document through the watch reader's steps (JSON parse, error
// object, decode_watch_message). Invariants: the split does not depend on the chunking; a
// malformed stream ends in DecodeError or a dcs::Error, nothing else.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/json_stream.hpp"
#include "codec/watch_codec.hpp"
#include "dcs/etcd3/errors.hpp"
#include "fuzz_support.hpp"

using dcs::codec::json;

namespace {

struct Split {
  std::vector<std::string> documents;
  bool failed = false;  // the splitter refused a byte
  bool partial = false;
};

Split split(const std::vector<std::string_view>& chunks) {
  Split out;
  dcs::codec::JsonStreamSplitter splitter;
  for (const auto chunk : chunks) {
    std::vector<std::string> documents;
    const bool ok = dcs::fuzz::only_typed_errors(
        "JsonStreamSplitter::feed", [&] { splitter.feed(chunk, documents); }, /*allow_decode_error=*/true);
    // Documents completed before the refused byte still count: the reader handled them.
    for (auto& d : documents) out.documents.push_back(std::move(d));
    if (!ok) {
      out.failed = true;
      return out;
    }
  }
  out.partial = splitter.has_partial_document();
  return out;
}

// What the watch reader does with one document (src/etcd3/client_watch.cpp).
void handle_document(const std::string& document) {
  // A document always starts at '{' and ends at its matching closing bracket.
  DCS_FUZZ_CHECK(!document.empty() && document.front() == '{');
  DCS_FUZZ_CHECK(document.back() == '}' || document.back() == ']');
  const json message = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) return;  // MalformedResponse in the client
  if (message.contains("error")) {
    dcs::fuzz::only_typed_errors("throw_client_error", [&] { dcs::etcd3::throw_client_error(200, document); });
    return;
  }
  dcs::fuzz::only_typed_errors(
      "decode_watch_message",
      [&] {
        const auto response = dcs::codec::decode_watch_message(message);
        for (const auto& event : response.events) (void)event.kv.key.size();
      },
      /*allow_decode_error=*/true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Split whole = split({bytes});

  std::vector<std::string_view> single_bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) single_bytes.push_back(bytes.substr(i, 1));
  const Split bytewise = split(single_bytes);
  const Split random = split(dcs::fuzz::split_chunks(bytes, dcs::fuzz::hash_bytes(bytes)));

  for (const Split* other : {&bytewise, &random}) {
    DCS_FUZZ_CHECK(other->failed == whole.failed);
    DCS_FUZZ_CHECK(other->documents == whole.documents);
    DCS_FUZZ_CHECK(other->partial == whole.partial);
  }
  for (const auto& document : whole.documents) handle_document(document);
  return 0;
}
