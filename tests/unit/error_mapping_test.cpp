// etcd error answers become exception classes that callers branch on (retry elsewhere? did the
// write happen?). Every class must come out of every body shape etcd's gateways produce:
// unary 3.3 {"error","code"}, 3.4/3.5 {"error","message","code"}, 3.6 {"code","message"}, and the
// streaming {"error":{"grpc_code","http_code","message","http_status"}} (<= 3.5) and
// {"error":{"code","message"}} (3.6).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <typeinfo>
#include <vector>

#include "dcs/etcd3/errors.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using nlohmann::json;
namespace rec = dcs::test::recorded;

// Asserts that `e` is exactly an E and is-a each of Parents, and that it sits where every etcd
// client error sits in the hierarchy.
template <typename Parent>
void expect_is_a(const Etcd3ClientError& e) {
  EXPECT_NE(dynamic_cast<const Parent*>(&e), nullptr) << "not a " << typeid(Parent).name();
}

template <typename E, typename... Parents>
void expect_class(const Etcd3ClientError& e) {
  EXPECT_EQ(typeid(e), typeid(E)) << "expected " << typeid(E).name() << ", got " << typeid(e).name();
  (expect_is_a<Parents>(e), ...);
  EXPECT_NE(dynamic_cast<const Etcd3Exception*>(&e), nullptr);
  EXPECT_NE(dynamic_cast<const EtcdException*>(&e), nullptr);
  EXPECT_NE(dynamic_cast<const dcs::Error*>(&e), nullptr);
  EXPECT_EQ(dynamic_cast<const dcs::DCSError*>(&e), nullptr) << "client errors are not DCS-layer errors";
  EXPECT_EQ(dynamic_cast<const EtcdConnectionFailed*>(&e), nullptr);
  EXPECT_EQ(dynamic_cast<const MalformedResponse*>(&e), nullptr);
  EXPECT_EQ(dynamic_cast<const Etcd3WatchCanceled*>(&e), nullptr);
}

// Rethrows what make_client_error built and hands it to `check` as the client error it must be.
void with_client_error(const std::exception_ptr& error, const std::function<void(const Etcd3ClientError&)>& check) {
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const Etcd3ClientError& e) {
    check(e);
  } catch (const std::exception& e) {
    FAIL() << "not an Etcd3ClientError: " << typeid(e).name() << ": " << e.what();
  }
}

struct ErrorCase {
  const char* name;
  std::string message;
  int code;     // in the body
  long status;  // HTTP status Debian's 3.4.23 uses for it
  void (*check)(const Etcd3ClientError&);
  GRPCCode expected_code;
  std::string_view expected_code_text;
  bool retry_on_other_endpoint;
  bool outcome_unknown;
};

const std::vector<ErrorCase>& error_cases() {
  static const std::vector<ErrorCase> cases = {
      {"InvalidArgument", "etcdserver: key is not provided", 3, 400, expect_class<InvalidArgument, Etcd3ClientError>,
       GRPCCode::InvalidArgument, "InvalidArgument", false, false},
      {"UserEmpty", "etcdserver: user name is empty", 3, 400,
       expect_class<UserEmpty, InvalidArgument, Etcd3ClientError>, GRPCCode::InvalidArgument, "InvalidArgument", false,
       false},
      {"AuthFailed", "etcdserver: authentication failed, invalid user ID or password", 3, 400,
       expect_class<AuthFailed, InvalidArgument, Etcd3ClientError>, GRPCCode::InvalidArgument, "InvalidArgument", false,
       false},
      {"AuthOldRevision", "etcdserver: revision of auth store is old", 3, 400,
       expect_class<AuthOldRevision, InvalidArgument, Etcd3ClientError>, GRPCCode::InvalidArgument, "InvalidArgument",
       false, false},
      {"DeadlineExceeded", "context deadline exceeded", 4, 504, expect_class<DeadlineExceeded, Etcd3ClientError>,
       GRPCCode::DeadlineExceeded, "DeadlineExceeded", false, true},
      {"NotFound", "etcdserver: member not found", 5, 404, expect_class<NotFound, Etcd3ClientError>, GRPCCode::NotFound,
       "NotFound", false, false},
      {"LeaseNotFound", "etcdserver: requested lease not found", 5, 404,
       expect_class<LeaseNotFound, NotFound, Etcd3ClientError>, GRPCCode::NotFound, "NotFound", false, false},
      {"PermissionDenied", "etcdserver: permission denied", 7, 403, expect_class<PermissionDenied, Etcd3ClientError>,
       GRPCCode::PermissionDenied, "PermissionDenied", false, false},
      {"FailedPrecondition", "etcdserver: lease already exists", 9, 412,
       expect_class<FailedPrecondition, Etcd3ClientError>, GRPCCode::FailedPrecondition, "FailedPrecondition", false,
       false},
      {"AuthNotEnabled", "etcdserver: authentication is not enabled", 9, 412,
       expect_class<AuthNotEnabled, FailedPrecondition, Etcd3ClientError>, GRPCCode::FailedPrecondition,
       "FailedPrecondition", false, false},
      {"Unavailable", "etcdserver: request timed out", 14, 503, expect_class<Unavailable, Etcd3ClientError>,
       GRPCCode::Unavailable, "Unavailable", true, true},
      // Refused before raft (the client sends hasleader): another member may take even a write.
      {"NoLeader", "etcdserver: no leader", 14, 503, expect_class<NoLeader, Unavailable, Etcd3ClientError>,
       GRPCCode::Unavailable, "Unavailable", true, false},
      {"InvalidAuthToken", "etcdserver: invalid auth token", 16, 401, expect_class<InvalidAuthToken, Etcd3ClientError>,
       GRPCCode::Unauthenticated, "Unauthenticated", false, false},
      {"Unknown", "etcdserver: something odd", 2, 500, expect_class<Unknown, Etcd3ClientError>, GRPCCode::Unknown,
       "Unknown", false, true},
      // Codes without a class of their own: the generic class carrying the code.
      {"ResourceExhausted", "etcdserver: mvcc: database space exceeded", 8, 429, expect_class<Etcd3ClientError>,
       GRPCCode::ResourceExhausted, "ResourceExhausted", false, false},
      {"OutOfRange", "etcdserver: mvcc: required revision has been compacted", 11, 400, expect_class<Etcd3ClientError>,
       GRPCCode::OutOfRange, "OutOfRange", false, false},
      {"AlreadyExists", "etcdserver: something exists", 6, 409, expect_class<Etcd3ClientError>, GRPCCode::AlreadyExists,
       "AlreadyExists", false, false},
  };
  return cases;
}

struct BodyShape {
  const char* name;
  // The body and the HTTP status it arrives with.
  std::function<std::pair<std::string, long>(const ErrorCase&)> make;
  // The HTTP status the error must report.
  std::function<long(const ErrorCase&)> expected_status;
};

const std::vector<BodyShape>& body_shapes() {
  static const std::vector<BodyShape> shapes = {
      {"Unary33",
       [](const ErrorCase& c) {
         return std::pair{json{{"error", c.message}, {"code", c.code}}.dump(), c.status};
       },
       [](const ErrorCase& c) { return c.status; }},
      {"Unary34",
       [](const ErrorCase& c) {
         return std::pair{json{{"error", c.message}, {"message", c.message}, {"code", c.code}}.dump(), c.status};
       },
       [](const ErrorCase& c) { return c.status; }},
      {"Unary36",
       [](const ErrorCase& c) {
         return std::pair{json{{"code", c.code}, {"message", c.message}}.dump(), c.status};
       },
       [](const ErrorCase& c) { return c.status; }},
      // Mid-stream error of gw v1: HTTP 200, the real status is in http_code.
      {"StreamV1",
       [](const ErrorCase& c) {
         const json body = {{"error",
                             {{"grpc_code", c.code},
                              {"http_code", c.status},
                              {"message", c.message},
                              {"http_status", "Some Status"}}}};
         return std::pair{body.dump(), 200L};
       },
       [](const ErrorCase& c) { return c.status; }},
      // Error of gw v2 before the first message: the HTTP status is set from the code.
      {"StreamV2",
       [](const ErrorCase& c) {
         return std::pair{json{{"error", {{"code", c.code}, {"message", c.message}}}}.dump(), c.status};
       },
       [](const ErrorCase& c) { return c.status; }},
      // Error of gw v2 after messages were sent: HTTP 200 and no status in the body.
      {"StreamV2MidStream",
       [](const ErrorCase& c) {
         return std::pair{json{{"error", {{"code", c.code}, {"message", c.message}}}}.dump() + "\n", 200L};
       },
       [](const ErrorCase&) { return 200L; }},
  };
  return shapes;
}

class ErrorMapping : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(ErrorMapping, BuildsTheClassWithItsBehaviour) {
  const ErrorCase& c = error_cases()[std::get<0>(GetParam())];
  const BodyShape& shape = body_shapes()[std::get<1>(GetParam())];
  const auto [body, status] = shape.make(c);
  SCOPED_TRACE(body);
  with_client_error(make_client_error(status, body), [&](const Etcd3ClientError& e) {
    c.check(e);
    EXPECT_EQ(e.code(), c.expected_code);
    EXPECT_EQ(e.code_text(), c.expected_code_text);
    EXPECT_EQ(e.http_status(), shape.expected_status(c));
    EXPECT_EQ(e.error(), c.message);
    EXPECT_EQ(e.retry_on_other_endpoint(), c.retry_on_other_endpoint);
    EXPECT_EQ(e.outcome_unknown(), c.outcome_unknown);
  });
}

INSTANTIATE_TEST_SUITE_P(AllClassesAllShapes, ErrorMapping,
                         ::testing::Combine(::testing::Range<std::size_t>(0, error_cases().size()),
                                            ::testing::Range<std::size_t>(0, body_shapes().size())),
                         [](const ::testing::TestParamInfo<ErrorMapping::ParamType>& param_info) {
                           return std::string(error_cases()[std::get<0>(param_info.param)].name) + "_" +
                                  body_shapes()[std::get<1>(param_info.param)].name;
                         });

TEST(ErrorMappingRecorded, ThrowsTheSpecificTypeForRecordedBodies) {
  EXPECT_THROW(throw_client_error(404, rec::kErrLeaseNotFound), LeaseNotFound);
  EXPECT_THROW(throw_client_error(404, rec::kErrLeaseNotFound), NotFound);
  EXPECT_THROW(throw_client_error(503, rec::kErrRequestTimedOut), Unavailable);
  EXPECT_THROW(throw_client_error(400, rec::kErrAuthFailed), AuthFailed);
  EXPECT_THROW(throw_client_error(400, rec::kErrAuthFailed), InvalidArgument);
  EXPECT_THROW(throw_client_error(401, rec::kErrInvalidToken), InvalidAuthToken);
  EXPECT_THROW(throw_client_error(400, rec::kErrUserEmpty), UserEmpty);
  EXPECT_THROW(throw_client_error(200, rec::kWatchShutdownError), Unavailable);
  EXPECT_THROW(throw_client_error(200, rec::kWatchShutdownError36), Unavailable);
  EXPECT_THROW(throw_client_error(400, rec::kErrCompacted), Etcd3ClientError);
  EXPECT_THROW(throw_client_error(429, rec::kErrNoSpace), Etcd3ClientError);
}

TEST(ErrorMappingRecorded, NoLeaderIsAnUnavailableWhoseOutcomeIsKnown) {
  // What etcd 3.4.23 answers a unary request and a watch that carry hasleader while it has no
  // leader, and how it ends such a watch once it lost its leader.
  for (const auto& [status, body] : {std::pair{503L, rec::kErrNoLeader}, std::pair{503L, rec::kWatchNoLeaderError},
                                     std::pair{200L, rec::kWatchNoLeaderError}}) {
    SCOPED_TRACE(body);
    with_client_error(make_client_error(status, body), [](const Etcd3ClientError& e) {
      expect_class<NoLeader, Unavailable, Etcd3ClientError>(e);
      EXPECT_EQ(e.code(), GRPCCode::Unavailable);
      EXPECT_EQ(e.http_status(), 503);
      EXPECT_EQ(e.error(), "etcdserver: no leader");
      EXPECT_TRUE(e.retry_on_other_endpoint());
      EXPECT_FALSE(e.outcome_unknown()) << "refused before it was proposed: not applied";
    });
  }
  // Any other Unavailable keeps an unknown outcome.
  with_client_error(make_client_error(503, rec::kErrRequestTimedOut), [](const Etcd3ClientError& e) {
    expect_class<Unavailable, Etcd3ClientError>(e);
    EXPECT_TRUE(e.outcome_unknown());
  });
}

TEST(ErrorMappingRecorded, StreamingShutdownErrorTakesItsStatusFromTheBody) {
  with_client_error(make_client_error(200, rec::kWatchShutdownError), [](const Etcd3ClientError& e) {
    expect_class<Unavailable, Etcd3ClientError>(e);
    EXPECT_EQ(e.code(), GRPCCode::Unavailable);
    EXPECT_EQ(e.http_status(), 503);
    EXPECT_EQ(e.error(), "transport is closing");
    EXPECT_EQ(e.code_text(), "Unavailable");
    EXPECT_TRUE(e.retry_on_other_endpoint());
  });
}

TEST(ErrorMappingPrecedence, MessageDecidesBeforeCode) {
  // No quorum on 3.4: lease grant answers code 2 / HTTP 500 "context deadline exceeded".
  with_client_error(make_client_error(500, rec::kErrContextDeadline), [](const Etcd3ClientError& e) {
    expect_class<DeadlineExceeded, Etcd3ClientError>(e);
    EXPECT_EQ(e.code(), GRPCCode::DeadlineExceeded) << "the class's code";
    EXPECT_EQ(e.code_text(), "Unknown") << "the name of the code in the body";
    EXPECT_EQ(e.http_status(), 500);
    EXPECT_TRUE(e.outcome_unknown());
    EXPECT_FALSE(e.retry_on_other_endpoint());
    EXPECT_STREQ(e.what(), "<Unknown error: 'context deadline exceeded', code: 4>");
  });
  // Same message in the 3.6 shape and in a stream.
  EXPECT_THROW(throw_client_error(500, R"({"code":2,"message":"context deadline exceeded"})"), DeadlineExceeded);
  EXPECT_THROW(
      throw_client_error(200, R"({"error":{"grpc_code":2,"http_code":500,"message":"context deadline exceeded"}})"),
      DeadlineExceeded);
  // A message from table A with an unexpected code still selects its class.
  with_client_error(make_client_error(500, R"({"error":"etcdserver: requested lease not found","code":2})"),
                    [](const Etcd3ClientError& e) {
                      expect_class<LeaseNotFound, NotFound, Etcd3ClientError>(e);
                      EXPECT_EQ(e.code(), GRPCCode::NotFound);
                      EXPECT_EQ(e.code_text(), "Unknown");
                    });
}

TEST(ErrorMappingPrecedence, NotAPrimaryLessorIsUnavailable) {
  for (const char* body :
       {R"({"error":"not a primary lessor","message":"not a primary lessor","code":2})",
        R"({"code":2,"message":"not a primary lessor"})", R"({"error":{"code":2,"message":"not a primary lessor"}})",
        R"({"error":{"grpc_code":2,"http_code":500,"message":"not a primary lessor"}})"}) {
    SCOPED_TRACE(body);
    with_client_error(make_client_error(500, body), [](const Etcd3ClientError& e) {
      expect_class<Unavailable, Etcd3ClientError>(e);
      EXPECT_EQ(e.code(), GRPCCode::Unavailable);
      EXPECT_EQ(e.code_text(), "Unknown") << "the code found in the body";
      EXPECT_EQ(e.http_status(), 500);
      EXPECT_TRUE(e.retry_on_other_endpoint()) << "another member may be the primary lessor";
      EXPECT_TRUE(e.outcome_unknown());
    });
  }
  // Only with code 2: the same text with another code follows the code.
  EXPECT_THROW(throw_client_error(400, R"({"code":3,"message":"not a primary lessor"})"), InvalidArgument);
}

TEST(ErrorMappingPrecedence, MessagesMatchExactlyButAreStoredTrimmed) {
  with_client_error(make_client_error(503, R"({"error":"  etcdserver: request timed out\n","code":14})"),
                    [](const Etcd3ClientError& e) {
                      expect_class<Unavailable, Etcd3ClientError>(e);
                      EXPECT_EQ(e.error(), "etcdserver: request timed out");
                    });
  // A near miss of a table-A message does not select the message's class.
  with_client_error(make_client_error(400, R"({"error":"etcdserver: user name is empty ","code":3})"),
                    [](const Etcd3ClientError& e) {
                      expect_class<InvalidArgument, Etcd3ClientError>(e);
                      EXPECT_EQ(e.error(), "etcdserver: user name is empty");
                    });
}

TEST(ErrorMappingGeneric, UnknownCodesKeepTheirCode) {
  for (int code : {8, 11, 1, 10, 12, 13, 15}) {
    const std::string body = json{{"error", "etcdserver: odd"}, {"message", "etcdserver: odd"}, {"code", code}}.dump();
    with_client_error(make_client_error(400, body), [&](const Etcd3ClientError& e) {
      expect_class<Etcd3ClientError>(e);
      EXPECT_EQ(static_cast<int>(e.code()), code);
      EXPECT_EQ(e.code_text(), grpc_code_name(static_cast<GRPCCode>(code)));
      EXPECT_EQ(e.http_status(), 400);
      EXPECT_FALSE(e.retry_on_other_endpoint());
      EXPECT_FALSE(e.outcome_unknown());
    });
  }
}

TEST(ErrorMappingGeneric, StreamingCodeZeroIsAGenericErrorWithCodeOk) {
  with_client_error(make_client_error(200, R"({"error":{"grpc_code":0,"message":"","http_code":400}})"),
                    [](const Etcd3ClientError& e) {
                      expect_class<Etcd3ClientError>(e);
                      EXPECT_EQ(e.code(), GRPCCode::OK);
                      EXPECT_EQ(e.code_text(), "OK");
                      EXPECT_EQ(e.error(), "");
                      EXPECT_EQ(e.http_status(), 400);
                    });
}

TEST(ErrorMappingGeneric, CodeOutsideTheGrpcRangeIsKeptWithoutAName) {
  with_client_error(make_client_error(500, R"({"error":"weird","code":99})"), [](const Etcd3ClientError& e) {
    expect_class<Etcd3ClientError>(e);
    EXPECT_EQ(static_cast<int>(e.code()), 99);
    EXPECT_EQ(e.code_text(), "");
  });
}

TEST(ErrorMappingUnparsable, NonJsonBodiesAreUnknownWithTheRawText) {
  struct Raw {
    long status;
    const char* body;
    const char* text;
  };
  for (const Raw& raw : {Raw{404, "404 page not found\n", "404 page not found"}, Raw{404, "Not Found\n", "Not Found"},
                         Raw{405, "Method Not Allowed\n", "Method Not Allowed"},
                         Raw{400,
                             "CommonName of client sending a request against gateway will be ignored and not used as "
                             "expected\n",
                             "CommonName of client sending a request against gateway will be ignored and not used as "
                             "expected"},
                         Raw{400, "{\"error\":\"etcdserv", "{\"error\":\"etcdserv"},
                         Raw{503, "{\"error\":{\"grpc_code\":14,\"http_co", "{\"error\":{\"grpc_code\":14,\"http_co"},
                         Raw{502, "", ""}}) {
    SCOPED_TRACE(raw.body);
    with_client_error(make_client_error(raw.status, raw.body), [&](const Etcd3ClientError& e) {
      expect_class<Unknown, Etcd3ClientError>(e);
      EXPECT_EQ(e.code(), GRPCCode::Unknown);
      EXPECT_EQ(e.code_text(), "") << "no code in the body";
      EXPECT_EQ(e.error(), raw.text);
      EXPECT_EQ(e.http_status(), raw.status);
      EXPECT_TRUE(e.outcome_unknown());
      EXPECT_FALSE(e.retry_on_other_endpoint());
    });
  }
}

TEST(ErrorMappingUnparsable, JsonWithoutACodeIsUnknown) {
  // /health without quorum.
  with_client_error(make_client_error(503, R"({"health":"false"})"), [](const Etcd3ClientError& e) {
    expect_class<Unknown, Etcd3ClientError>(e);
    EXPECT_EQ(e.http_status(), 503);
    EXPECT_NE(e.error().find("health"), std::string::npos) << e.error();
  });
  EXPECT_THROW(throw_client_error(500, "[1,2]"), Unknown);
  EXPECT_THROW(throw_client_error(500, R"({"error":"no code here"})"), Unknown);
}

TEST(ErrorText, FollowsPatronisFormat) {
  with_client_error(make_client_error(503, rec::kErrRequestTimedOut), [](const Etcd3ClientError& e) {
    EXPECT_STREQ(e.what(), "<Unavailable error: 'etcdserver: request timed out', code: 14>");
  });
  with_client_error(make_client_error(404, rec::kErrLeaseNotFound), [](const Etcd3ClientError& e) {
    EXPECT_STREQ(e.what(), "<NotFound error: 'etcdserver: requested lease not found', code: 5>");
  });
}

TEST(GrpcCodeName, NamesEveryCodeAndNothingElse) {
  const char* names[] = {"OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
                         "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
                         "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
                         "DataLoss", "Unauthenticated"};
  for (int code = 0; code <= 16; ++code) EXPECT_EQ(grpc_code_name(static_cast<GRPCCode>(code)), names[code]);
  EXPECT_EQ(grpc_code_name(static_cast<GRPCCode>(17)), "");
  EXPECT_EQ(grpc_code_name(static_cast<GRPCCode>(-1)), "");
}

// Checks through the root type, as a caller's catch clause would.
template <typename T>
bool is_a(const std::exception& e) {
  return dynamic_cast<const T*>(&e) != nullptr;
}

TEST(ErrorHierarchy, NonClientErrorsSitWherePatroniPutsThem) {
  const EtcdConnectionFailed unsent("refused", "http://127.0.0.1:1", false);
  EXPECT_TRUE(unsent.retry_on_other_endpoint());
  EXPECT_FALSE(unsent.outcome_unknown()) << "a request never sent cannot have been applied";
  EXPECT_EQ(unsent.endpoint(), "http://127.0.0.1:1");
  EXPECT_TRUE(is_a<EtcdException>(unsent));
  EXPECT_FALSE(is_a<Etcd3Exception>(unsent));
  const EtcdConnectionFailed sent("reset", "http://127.0.0.1:1", true);
  EXPECT_TRUE(sent.outcome_unknown());

  const MalformedResponse malformed("garbage", 200);
  EXPECT_TRUE(malformed.retry_on_other_endpoint());
  EXPECT_TRUE(malformed.outcome_unknown());
  EXPECT_EQ(malformed.http_status(), 200);
  EXPECT_TRUE(is_a<Etcd3Exception>(malformed));
  EXPECT_FALSE(is_a<Etcd3ClientError>(malformed));

  const Etcd3WatchCanceled canceled("", 17);
  EXPECT_EQ(canceled.compact_revision(), 17);
  EXPECT_TRUE(is_a<Etcd3Exception>(canceled));
  EXPECT_FALSE(canceled.retry_on_other_endpoint());

  const UnsupportedEtcdVersion old("Detected Etcd version 3.0.3 is lower than 3.0.4");
  EXPECT_TRUE(is_a<dcs::Error>(old));
  EXPECT_FALSE(is_a<EtcdException>(old));
  EXPECT_FALSE(is_a<dcs::DCSError>(old));

  const Etcd3Error dcs_failed("Etcd is not responding properly");
  EXPECT_TRUE(is_a<dcs::DCSError>(dcs_failed));
  EXPECT_FALSE(is_a<EtcdException>(dcs_failed));

  const RetryFailedError retry("Exceeded retry deadline");
  EXPECT_TRUE(is_a<dcs::Error>(retry));
  EXPECT_FALSE(is_a<dcs::DCSError>(retry));
}

}  // namespace
}  // namespace dcs::etcd3
