// The watch stream's messages read with simdjson straight into a WatchResponse, with no JSON tree
// in between: the watcher cache decodes one message per event, so this is on its per-event path.
//
// Like fast_decode.hpp it only takes the well-trodden road: it returns false for anything that is
// not a well-formed {"result":{...}} message of the expected shape (invalid JSON, an "error"
// member, no "result", a field of another type, bad base64, an unknown event type, a number out of
// range). The caller then decodes the same text with decode_watch_message (watch_codec.hpp), which
// raises the error it always raised, so this changes the speed of decoding, never its outcome.
#pragma once

#include <string_view>

#include "dcs/etcd3/watch.hpp"

namespace dcs::codec {

/// One document of the stream (as JsonStreamSplitter hands it out). `out` is only meaningful when
/// the answer is true.
bool fast_decode_watch_message(std::string_view document, etcd3::WatchResponse& out);

}  // namespace dcs::codec
