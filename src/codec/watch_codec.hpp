// JSON codecs of the Watch service.
#pragma once

#include "codec/json_fields.hpp"
#include "dcs/etcd3/watch.hpp"

namespace dcs::codec {

/// The request body: {"create_request":{...}}.
json encode(const etcd3::WatchCreateRequest& request);

/// One message of the stream: {"result":{...}}. A message with a top-level "error" is not a
/// WatchResponse; the caller checks for it first.
etcd3::WatchResponse decode_watch_message(const json& message);

}  // namespace dcs::codec
