#include "gridhub/wechat/replay_guard.hpp"

#include <gtest/gtest.h>

namespace gridhub::wechat {
namespace {

using V = ReplayGuard::Verdict;

TEST(ReplayGuard, AReusedNonceWithAnotherBodyIsAReplayWithTheSameBodyARetry) {
  ReplayGuard g(300, 100);
  EXPECT_EQ(g.admit("1000", "n1", "body-a", 1000), V::kFresh);
  EXPECT_EQ(g.admit("1000", "n1", "body-a", 1001), V::kRetry);
  EXPECT_EQ(g.admit("1000", "n1", "body-b", 1002), V::kReplayed);
  EXPECT_EQ(g.admit("1000", "n2", "body-b", 1002), V::kFresh);   // another nonce: another request
}

TEST(ReplayGuard, TimestampsOutsideTheWindowOrNotNumbersAreStale) {
  ReplayGuard g(300, 100);
  EXPECT_EQ(g.admit("699", "n", "b", 1000), V::kStale);
  EXPECT_EQ(g.admit("700", "n", "b", 1000), V::kFresh);
  EXPECT_EQ(g.admit("1301", "n", "b", 1000), V::kStale);   // from the future, too
  EXPECT_EQ(g.admit("", "n", "b", 1000), V::kStale);
  EXPECT_EQ(g.admit("1000x", "n", "b", 1000), V::kStale);
  EXPECT_EQ(g.admit("-5", "n", "b", 1000), V::kStale);
}

TEST(ReplayGuard, MemoryIsBoundedByTheWindowAndTheCapacity) {
  ReplayGuard g(10, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(g.admit("100", "n" + std::to_string(i), "b", 100), V::kFresh);
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(g.admit("101", "n3", "b", 101), V::kFresh);   // capacity: the oldest goes
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(g.evicted(), 1u);
  EXPECT_EQ(g.admit("200", "x", "b", 200), V::kFresh);    // the window: everything older goes
  EXPECT_EQ(g.size(), 1u);
}

TEST(ReplayGuard, AForgottenRequestIsFreshAgain) {
  ReplayGuard g(300, 100);
  EXPECT_EQ(g.admit("1000", "n1", "body-a", 1000), V::kFresh);
  g.forget("1000", "n1");   // not stored (outbox full): the sender's resend must be taken
  EXPECT_EQ(g.admit("1000", "n1", "body-a", 1000), V::kFresh);
  EXPECT_EQ(g.size(), 1u);
}

}  // namespace
}  // namespace gridhub::wechat
