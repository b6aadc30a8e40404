// The classes a daemon constructs or derives from hold nothing but a vtable pointer and a pointer
// to their state, so that a daemon keeps working against a libdcs.so rebuilt with different
// internals (the soname says when the public surface itself changed). A daemon left built against
// an older AbstractDCS layout once corrupted its heap at every exit; new state goes behind the
// pointer (AbstractDCS::State, Etcd3::Impl, ...), not into the public headers.
#include <gtest/gtest.h>

#include <dcs/abstract_dcs.hpp>
#include <dcs/etcd3/client.hpp>
#include <dcs/etcd3/etcd3.hpp>
#include <dcs/etcd3/kv_cache.hpp>
#include <dcs/memory_dcs.hpp>

namespace dcs {
namespace {

constexpr std::size_t kPointer = sizeof(void*);

TEST(AbiLayout, DcsClassesHoldOnlyPointers) {
  EXPECT_EQ(sizeof(AbstractDCS), 2 * kPointer) << "vtable + state";
  EXPECT_EQ(sizeof(etcd3::Etcd3), 3 * kPointer) << "AbstractDCS + impl";
  EXPECT_EQ(sizeof(MemoryDCS), 3 * kPointer) << "AbstractDCS + impl";
}

TEST(AbiLayout, ClientAndCacheHoldOnlyTheirImplementation) {
  EXPECT_EQ(sizeof(etcd3::Etcd3Client), kPointer);
  EXPECT_EQ(sizeof(etcd3::KVCache), kPointer);
}

}  // namespace
}  // namespace dcs
