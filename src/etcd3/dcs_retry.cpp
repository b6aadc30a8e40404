#include "etcd3/dcs_retry.hpp"

namespace dcs::etcd3::detail {

bool is_retried_later(const Etcd3ClientError& error) noexcept {
  return error.code() == GRPCCode::DeadlineExceeded || error.code() == GRPCCode::FailedPrecondition;
}

}  // namespace dcs::etcd3::detail
