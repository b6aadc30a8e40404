#include "codec/watch_codec.hpp"

#include "codec/base64.hpp"

namespace dcs::codec {

using namespace dcs::etcd3;

json encode(const WatchCreateRequest& request) {
  json create = {{"key", base64_encode(request.key)}};
  if (!request.range_end.empty()) create["range_end"] = base64_encode(request.range_end);
  if (request.start_revision != 0) create["start_revision"] = int64_field(request.start_revision);
  if (request.progress_notify) create["progress_notify"] = true;
  if (!request.filters.empty()) {
    json filters = json::array();
    for (auto f : request.filters) filters.push_back(f == WatchFilter::no_put ? "NOPUT" : "NODELETE");
    create["filters"] = std::move(filters);
  }
  if (request.prev_kv) create["prev_kv"] = true;
  if (request.watch_id != 0) create["watch_id"] = int64_field(request.watch_id);
  if (request.fragment) create["fragment"] = true;
  return {{"create_request", std::move(create)}};
}

WatchResponse decode_watch_message(const json& message) {
  const json* result = find_field(message, "result");
  if (!result) throw DecodeError("watch message has neither 'result' nor 'error'");
  WatchResponse out;
  out.header = decode_header(*result);
  out.watch_id = get_int64(*result, "watch_id");
  out.created = get_bool(*result, "created");
  out.canceled = get_bool(*result, "canceled");
  out.compact_revision = get_int64(*result, "compact_revision");
  out.cancel_reason = get_string(*result, "cancel_reason");
  out.fragment = get_bool(*result, "fragment");
  for (const auto& e : get_array(*result, "events")) {
    Event event;
    // etcd prints the enum's name and omits it for PUT (the zero value); numbers are accepted too.
    if (const json* type = find_field(e, "type")) {
      if (*type == "DELETE" || *type == 1) {
        event.type = Event::Type::del;
      } else if (*type != "PUT" && *type != 0) {
        throw DecodeError("watch event of unknown type " + type->dump());
      }
    }
    if (const json* kv = find_field(e, "kv")) event.kv = decode_key_value(*kv);
    if (const json* prev = find_field(e, "prev_kv")) event.prev_kv = decode_key_value(*prev);
    out.events.push_back(std::move(event));
  }
  return out;
}

}  // namespace dcs::codec
