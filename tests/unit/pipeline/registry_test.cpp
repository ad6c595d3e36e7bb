#include "gridhub/pipeline/registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gridhub::pipeline {
namespace {

using ::testing::HasSubstr;

TEST(Registry, BuiltInsAreRegisteredWithTheirKinds) {
  auto r = Registry::with_builtins();
  const auto* router = r.find("router_tiered");
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->descriptor->kind, plugin::Kind::kRouter);
  EXPECT_EQ(router->origin, "built-in");
  ASSERT_NE(r.find("merger_window"), nullptr);
  EXPECT_EQ(r.find("no_such_plugin"), nullptr);
}

TEST(Registry, LoadsTheSamePluginBuiltAsAModule) {
  Registry r;
  auto s = r.load_module(std::string(GRIDHUB_PLUGIN_DIR) + "/router_tiered.so");
  ASSERT_TRUE(s.ok()) << s.error().message();
  const auto* p = r.find("router_tiered");
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(p->origin, HasSubstr("router_tiered.so"));
}

TEST(Registry, RefusesAModuleWithAnotherAbiVersionNamingBothVersions) {
  Registry r;
  auto s = r.load_module(std::string(GRIDHUB_TEST_PLUGIN_DIR) + "/test_plugin_wrong_abi.so");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().detail, HasSubstr("test_plugin_wrong_abi.so"));
  // The fixture is built one version ahead of the hub, whatever the hub's version is.
  EXPECT_THAT(s.error().detail, HasSubstr("ABI version " + std::to_string(plugin::kAbiVersion + 1)));
  EXPECT_THAT(s.error().detail, HasSubstr("speaks version " + std::to_string(plugin::kAbiVersion)));
  EXPECT_EQ(r.find("wrong_abi"), nullptr);
}

TEST(Registry, RefusesALibraryThatIsNotAPlugin) {
  Registry r;
  auto s = r.load_module(std::string(GRIDHUB_TEST_PLUGIN_DIR) + "/test_plugin_not_a_plugin.so");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().detail, HasSubstr("not a gridhub plugin"));
}

TEST(Registry, RefusesADescriptorTooSmallForThisHub) {
  plugin::Descriptor d{plugin::kAbiVersion, 8, "tiny", plugin::Kind::kRouter, "1", nullptr, nullptr};
  auto s = check_descriptor(&d, "tiny.so");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().detail, HasSubstr("8 bytes"));
}

TEST(Registry, MissingModuleNamesTheFile) {
  Registry r;
  auto s = r.load_module("/nonexistent/plugin.so");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().detail, HasSubstr("/nonexistent/plugin.so"));
}

}  // namespace
}  // namespace gridhub::pipeline
