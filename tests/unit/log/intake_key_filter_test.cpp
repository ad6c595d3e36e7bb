// The writer's negative-lookup filter: never "absent" for a key it was given, and "absent" for nearly
// every key it was not (which is what saves the index lookup).
#include "intake_key_filter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gridhub::log::detail {
namespace {

TEST(IntakeKeyFilter, EveryAddedKeyMayBeContainedAcrossGrowthAndOthersAreAbsent) {
  IntakeKeyFilter filter;
  EXPECT_FALSE(filter.may_contain(1, "A")) << "an empty filter holds nothing";
  for (int i = 0; i < 100'000; ++i) filter.add(1 + i % 3, "key-" + std::to_string(i));
  EXPECT_EQ(filter.size(), 100'000u);
  EXPECT_LE(filter.memory_bytes(), 100'000u * 22) << "at most 3/4 full, doubled: under 22 bytes a key";
  int absent = 0;
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(filter.may_contain(1 + i % 3, "key-" + std::to_string(i))) << i;
    absent += filter.may_contain(1 + i % 3, "new-" + std::to_string(i)) ? 0 : 1;
    absent += filter.may_contain(1 + (i + 1) % 3, "key-" + std::to_string(i)) ? 0 : 1;   // another channel
  }
  EXPECT_EQ(absent, 200'000) << "64-bit fingerprints: a false 'maybe' among these is not expected";
}

TEST(IntakeKeyFilter, CollidingFingerprintsAnswerMaybeNeverAbsent) {
  IntakeKeyFilter filter([](int, std::string_view key) -> std::uint64_t { return key.size(); });
  filter.add(1, "abc");
  EXPECT_TRUE(filter.may_contain(1, "abc"));
  EXPECT_TRUE(filter.may_contain(1, "xyz")) << "same fingerprint: only a lookup can tell";
  EXPECT_FALSE(filter.may_contain(1, "ab"));
  filter.add(1, "xyz");
  EXPECT_EQ(filter.size(), 1u) << "one fingerprint, kept once";
}

}  // namespace
}  // namespace gridhub::log::detail
