#include "gridhub/pipeline/normalizer.hpp"

#include <gtest/gtest.h>

namespace gridhub::pipeline {
namespace {

TEST(Normalizer, TraditionalBecomesSimplified) {
  auto n = Normalizer::create();
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(n->text("錦繡花園噪音擾民"), "锦绣花园噪音扰民");
}

TEST(Normalizer, FullWidthAsciiAndSpacesAreFolded) {
  auto n = Normalizer::create();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->text("  迎宾路１７号\u3000\u3000３＃楼 \n"), "迎宾路17号 3#楼");
}

TEST(Normalizer, InvalidUtf8IsReplacedNotDropped) {
  EXPECT_EQ(fold_width_and_space("a\xff" "b"), "a\xEF\xBF\xBD" "b");
}

TEST(Normalizer, UnknownOpenccConfigIsAClearError) {
  auto n = Normalizer::create("no_such_config.json");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().detail.find("no_such_config.json"), std::string::npos);
}

}  // namespace
}  // namespace gridhub::pipeline
