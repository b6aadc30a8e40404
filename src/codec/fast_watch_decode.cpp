#include "codec/fast_watch_decode.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <type_traits>

#include "codec/base64.hpp"
#include "codec/simdjson_readers.hpp"

namespace dcs::codec {

using namespace dcs::etcd3;
// Its own namespace: a unity build puts this file beside fast_decode.cpp, whose readers have the
// same names in an anonymous namespace of dcs::codec.
namespace fast_watch_detail {

using namespace simdjson_readers;

namespace {

// The field readers are codec/simdjson_readers.hpp's (shared with fast_decode.cpp). Fields are
// read in document order and a repeated field overwrites the earlier one, as the general
// decoder's JSON object keeps the last duplicate.

// Only the watcher thread decodes watch messages: one parser and one padded copy per thread,
// kept between messages so a steady stream allocates nothing here. Grown by a huge message
// (a big replay), they are dropped afterwards rather than kept.
constexpr std::size_t kKeptCapacity = 1 << 20;

struct ThreadState {
  simdjson::dom::parser parser;
  std::string padded;  // the document plus simdjson's padding (it reads past the text's end)
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

void text(element value, std::string& out) {
  out.clear();
  if (value.type() == element_type::NULL_VALUE) return;
  if (value.type() != element_type::STRING) off_road();
  out = value.get_string().value_unsafe();
}

void key_value(element value, KeyValue& out) {
  out = KeyValue{};
  if (value.type() == element_type::NULL_VALUE) return;
  for (const auto field : object_of(value)) {
    const std::string_view key = field.key;
    if (key == "key") {
      bytes(field.value, out.key);
    } else if (key == "value") {
      bytes(field.value, out.value);
    } else if (key == "create_revision") {
      out.create_revision = integer<std::int64_t>(field.value);
    } else if (key == "mod_revision") {
      out.mod_revision = integer<std::int64_t>(field.value);
    } else if (key == "version") {
      out.version = integer<std::int64_t>(field.value);
    } else if (key == "lease") {
      out.lease = integer<std::int64_t>(field.value);
    }
  }
}

// etcd prints the enum's name and omits it for PUT (the zero value); numbers are accepted too.
Event::Type event_type(element value) {
  switch (value.type()) {
    case element_type::NULL_VALUE:
      return Event::Type::put;
    case element_type::STRING: {
      const std::string_view name = value.get_string().value_unsafe();
      if (name == "PUT") return Event::Type::put;
      if (name == "DELETE") return Event::Type::del;
      off_road();
    }
    case element_type::INT64: {
      const std::int64_t number = value.get_int64().value_unsafe();
      if (number == 0) return Event::Type::put;
      if (number == 1) return Event::Type::del;
      off_road();
    }
    default:
      off_road();  // the general decoder names the unknown type in its error
  }
}

void event(element value, Event& out) {
  for (const auto field : object_of(value)) {
    const std::string_view key = field.key;
    if (key == "type") {
      out.type = event_type(field.value);
    } else if (key == "kv") {
      key_value(field.value, out.kv);
    } else if (key == "prev_kv") {
      if (field.value.type() == element_type::NULL_VALUE) {
        out.prev_kv.reset();
      } else {
        key_value(field.value, out.prev_kv.emplace());
      }
    }
  }
}

void events(element value, std::vector<Event>& out) {
  out.clear();
  if (value.type() == element_type::NULL_VALUE) return;
  simdjson::dom::array array;
  if (value.get_array().get(array)) off_road();
  out.resize(array.size());
  std::size_t i = 0;
  for (const auto e : array) event(e, out[i++]);
}

void result(simdjson::dom::object object, WatchResponse& out) {
  for (const auto field : object) {
    const std::string_view key = field.key;
    if (key == "header") {
      out.header = header(field.value);
    } else if (key == "watch_id") {
      out.watch_id = integer<std::int64_t>(field.value);
    } else if (key == "created") {
      out.created = boolean(field.value);
    } else if (key == "canceled") {
      out.canceled = boolean(field.value);
    } else if (key == "compact_revision") {
      out.compact_revision = integer<std::int64_t>(field.value);
    } else if (key == "cancel_reason") {
      text(field.value, out.cancel_reason);
    } else if (key == "fragment") {
      out.fragment = boolean(field.value);
    } else if (key == "events") {
      events(field.value, out.events);
    }
  }
}

void message(simdjson::dom::object root, WatchResponse& out) {
  bool has_result = false;
  element found;
  for (const auto field : root) {
    if (field.key == "error") off_road();  // the general path maps it to its typed error
    if (field.key == "result") {
      has_result = field.value.type() != element_type::NULL_VALUE;
      found = field.value;
    }
  }
  if (!has_result) off_road();
  result(object_of(found), out);
}

}  // namespace
}  // namespace fast_watch_detail

bool fast_decode_watch_message(std::string_view document, WatchResponse& out) {
  namespace fw = fast_watch_detail;
  auto& state = fw::thread_state();
  state.padded.reserve(document.size() + simdjson::SIMDJSON_PADDING);
  state.padded.assign(document);
  out = WatchResponse{};
  bool ok = true;
  try {
    simdjson::dom::object root;
    if (state.parser.parse(state.padded.data(), state.padded.size(), /*realloc_if_needed=*/false)
            .get_object()
            .get(root)) {
      fw::off_road();
    }
    fw::message(root, out);
  } catch (const fw::OffRoad&) {
    ok = false;
  }
  if (state.parser.capacity() > fw::kKeptCapacity) state.parser = simdjson::dom::parser();
  if (state.padded.capacity() > fw::kKeptCapacity) std::string().swap(state.padded);
  return ok;
}

}  // namespace dcs::codec
