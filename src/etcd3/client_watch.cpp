// Etcd3Client::watch: one watch per HTTP stream. etcd's HTTP/1.1 gateway is half-duplex, so the
// create request is the whole request body and the stream is read until it ends or is
// cancelled; a later change needs a new stream.
#include "codec/fast_watch_decode.hpp"
#include "codec/json_stream.hpp"
#include "codec/watch_codec.hpp"
#include "etcd3/client_impl.hpp"
#include "etcd3/watch_canceller_state.hpp"

namespace dcs::etcd3 {

using codec::json;

namespace {

// Turns the byte stream into WatchResponses: splits documents, maps error objects, joins
// fragments and ends the watch on a cancel message.
class WatchStreamReader {
 public:
  explicit WatchStreamReader(const WatchCallback& on_response) : on_response_(on_response) {}

  void on_chunk(long status, std::string_view chunk) {
    if (status >= 400) {
      // An error before the first message: the whole body is one error object.
      error_body_.append(chunk);
      return;
    }
    documents_.clear();
    decode_answer("watch stream", [&] { splitter_.feed(chunk, documents_); });
    for (const auto& document : documents_) handle_document(status, document);
  }

  bool cut_inside_message() const noexcept { return splitter_.has_partial_document(); }
  const std::string& error_body() const noexcept { return error_body_; }

 private:
  void handle_document(long status, const std::string& document) {
    // The usual message is read straight into the response; anything unusual (an error object,
    // a malformed message) goes the general way, which raises the typed error.
    WatchResponse response;
    if (!codec::fast_decode_watch_message(document, response)) response = decode_general(status, document);
    if (response.canceled) throw Etcd3WatchCanceled(response.cancel_reason, response.compact_revision);
    if (response.fragment) {
      // Part of a response too big for one message: keep its events until the last part.
      std::move(response.events.begin(), response.events.end(), std::back_inserter(fragment_events_));
      return;
    }
    if (!fragment_events_.empty()) {
      std::move(response.events.begin(), response.events.end(), std::back_inserter(fragment_events_));
      response.events = std::move(fragment_events_);
      fragment_events_.clear();
    }
    on_response_(response);
  }

  static WatchResponse decode_general(long status, const std::string& document) {
    const json message = json::parse(document, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object()) {
      throw MalformedResponse("watch stream message is not valid JSON: " + document.substr(0, 200), status);
    }
    if (message.contains("error")) throw_client_error(status, document);
    return decode_answer("watch message", [&] { return codec::decode_watch_message(message); });
  }

  const WatchCallback& on_response_;
  codec::JsonStreamSplitter splitter_;
  std::vector<std::string> documents_;
  std::vector<Event> fragment_events_;
  std::string error_body_;
};

}  // namespace

void Etcd3Client::watch(const WatchCreateRequest& request, const WatchCallback& on_response, WatchCanceller& canceller,
                        std::chrono::milliseconds idle_timeout) {
  std::string url;
  // One watch stream on the preferred endpoint (`url` receives the stream's URL).
  const auto run = [&](const WatchCallback& callback) {
    detail::RetryPolicy policy(impl_->budget());
    url = impl_->endpoints.preferred() + impl_->ensure_prefix(policy) + "/watch";
    const std::string body = codec::encode(request).dump();
    http::HttpRequest http_request = impl_->make_request(url, body, /*send_token=*/true, impl_->budget());
    http_request.total_timeout = std::chrono::milliseconds{0};  // a watch lasts as long as it is wanted

    WatchStreamReader reader(callback);
    http::StreamOutcome outcome;
    try {
      outcome = http::run_stream(
          http_request, [&](long status, std::string_view chunk) { reader.on_chunk(status, chunk); },
          *canceller.state(), idle_timeout);
    } catch (const http::TransportError& e) {
      if (reader.cut_inside_message()) {
        throw MalformedResponse(std::string("watch stream cut inside a message: ") + e.what(), 200);
      }
      throw EtcdConnectionFailed("watch on " + url + " failed: " + e.what(), url, e.request_sent());
    }

    switch (outcome.end) {
      case http::StreamEnd::cancelled:
        return;
      case http::StreamEnd::idle:
        throw EtcdConnectionFailed(
            "watch on " + url + " received nothing for " + std::to_string(idle_timeout.count()) + " ms", url, true);
      case http::StreamEnd::finished:
        break;
    }
    if (outcome.status >= 400) throw_client_error(outcome.status, reader.error_body());
    if (reader.cut_inside_message()) throw MalformedResponse("watch stream ended inside a message", outcome.status);
    throw EtcdConnectionFailed("watch stream on " + url + " was closed by the server", url, true);
  };
  const auto& observer = impl_->options.metrics;
  if (!observer) return run(on_response);

  // The stream's opening is reported once: at its first message (etcd's "created" answer), or
  // with the failure that ended it before that. A stream cancelled before is not reported.
  bool reported = false;
  const auto started = std::chrono::steady_clock::now();
  const auto report = [&](RequestOutcome outcome, GRPCCode code) {
    reported = true;
    RequestEvent event;
    event.operation = Operation::watch_open;
    event.endpoint = url;
    event.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    event.outcome = outcome;
    event.code = code;
    event.attempts = 1;
    detail::deliver_request(*observer, event);
  };
  const WatchCallback observed = [&](const WatchResponse& response) {
    if (!reported) report(RequestOutcome::ok, GRPCCode::OK);
    on_response(response);
  };
  try {
    run(observed);
  } catch (...) {
    if (!reported) {
      RequestOutcome outcome{};
      GRPCCode code{};
      detail::classify_current_exception(outcome, code);
      report(outcome, code);
    }
    throw;
  }
}

}  // namespace dcs::etcd3
