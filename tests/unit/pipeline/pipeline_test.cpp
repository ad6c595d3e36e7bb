#include "gridhub/pipeline/pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gridhub::pipeline {
namespace {

using ::testing::HasSubstr;
namespace v1 = gridhub::v1;

const std::string kWugong = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong";

PipelineOptions keyword_pipeline() {
  PipelineOptions o;
  o.resolver = "resolver_gazetteer";
  o.classifier = "classifier_keyword";   // docs/plugins.md's example, loaded as a module
  o.merger = "merger_window";
  o.router = "router_tiered";
  o.plugin_dir = GRIDHUB_EXAMPLE_PLUGIN_DIR;
  o.base_dir = kWugong;
  o.source_name = "test.toml";
  o.chat_groups = kWugong + "/wechat/groups.csv";
  o.plugin_config["resolver_gazetteer"] = "world_dir = \"world\"\n";
  o.plugin_config["classifier_keyword"] = "rules = [\"停水=1801\", \"垃圾=0102\"]\n";
  o.plugin_config["router_tiered"] = "categories = \"world/categories.csv\"\n";
  return o;
}

v1::Event event(const std::string& key, const std::string& text, std::int64_t at_us = 1714954320000000) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("t");
  ev.set_source_key(key);
  ev.mutable_fields()->set_text(text);
  ev.mutable_fields()->mutable_reported_at()->set_unix_micros(at_us);
  return ev;
}

TEST(Pipeline, AnExampleModulePluginRunsBesideTheBuiltInsAndEveryStageIsExplained) {
  auto p = Pipeline::create(keyword_pipeline());
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto a = p.value()->assess(event("K1", "書院社區清河新城14棟停水了"));   // Traditional on purpose
  EXPECT_EQ(a.text, "书院社区清河新城14栋停水了");
  EXPECT_TRUE(a.classification.is_ticket);
  EXPECT_EQ(a.classification.category_code, "1801");
  EXPECT_EQ(a.resolution.community_code, "610431001004");
  EXPECT_EQ(a.routing.tier, "county");
  EXPECT_EQ(a.routing.assignee_code, "CTY_SWJ");
  std::vector<std::string> stages;
  for (const auto& d : a.decisions) stages.push_back(d.stage() + ":" + d.plugin());
  EXPECT_THAT(stages, ::testing::ElementsAre("normalizer:normalizer", "resolver:resolver_gazetteer",
                                             "classifier:classifier_keyword", "router:router_tiered"));
}

PipelineOptions model_pipeline(const std::string& min_confidence) {
  auto o = keyword_pipeline();
  o.classifier = "classifier_ngram";
  o.plugin_config.erase("classifier_keyword");
  o.plugin_config["classifier_ngram"] = "model = \"model/classifier.ngram\"\nmin_confidence = " + min_confidence + "\n";
  return o;
}

TEST(Pipeline, AnAbstainedTicketGoesToTheCentreWithEachSuggestionRoutedByTheRouter) {
  auto p = Pipeline::create(model_pipeline("1.0"));   // every ticket below the threshold
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto a = p.value()->assess(event("K1", "书院社区清河新城14栋停水了，到现在还没来水"));
  ASSERT_TRUE(a.classification.is_ticket);
  EXPECT_EQ(a.classification.category_code, "");
  EXPECT_EQ(a.routing.tier, "center");
  EXPECT_EQ(a.routing.assignee_code, "CTR_12345");
  ASSERT_EQ(a.suggestions.size(), 3U);
  EXPECT_EQ(a.suggestions[0].category_code(), "1801");   // 供水故障: the county water bureau
  EXPECT_EQ(a.suggestions[0].tier(), v1::TIER_COUNTY);
  EXPECT_EQ(a.suggestions[0].assignee_code(), "CTY_SWJ");
  EXPECT_DOUBLE_EQ(a.suggestions[0].confidence(), a.classification.confidence);
  for (const auto& s : a.suggestions) EXPECT_FALSE(s.assignee_code().empty()) << s.category_code();
  // The log's explanation: the classifier's decision carries its confidence, the router's the suggestions.
  const auto& clf = a.decisions[a.decisions.size() - 2];
  EXPECT_EQ(clf.stage(), "classifier");
  EXPECT_EQ(clf.rule(), "low_confidence");
  EXPECT_DOUBLE_EQ(clf.confidence(), a.classification.confidence);
  EXPECT_EQ(a.decisions.back().rule(), "low_confidence");
  EXPECT_THAT(a.decisions.back().detail(), HasSubstr("1801 -> county CTY_SWJ"));

  // Confident enough: dispatched as before, nothing suggested.
  auto q = Pipeline::create(model_pipeline("0.0"));
  ASSERT_TRUE(q.ok()) << q.error().message();
  auto b = q.value()->assess(event("K1", "书院社区清河新城14栋停水了，到现在还没来水"));
  EXPECT_EQ(b.classification.category_code, "1801");
  EXPECT_EQ(b.routing.assignee_code, "CTY_SWJ");
  EXPECT_TRUE(b.suggestions.empty());
  EXPECT_GT(b.decisions[b.decisions.size() - 2].confidence(), 0.0);
}

TEST(Pipeline, MergingHappensInCallOrderAndIsLogged) {
  auto p = Pipeline::create(keyword_pipeline());
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto a = p.value()->assess(event("K1", "锦绣名居3号楼门口垃圾堆了好几天"));
  auto b = p.value()->assess(event("K2", "锦绣小区三号楼那里的垃圾没人清理", 1714954320000000 + 3600000000LL));
  EXPECT_FALSE(p.value()->merge(a, "T00000001").merged);
  auto m = p.value()->merge(b, "T00000002");
  EXPECT_TRUE(m.merged);
  EXPECT_EQ(m.incident_id, "T00000001");
  EXPECT_EQ(b.decisions.back().stage(), "merger");
}

TEST(Pipeline, UnknownPluginNameListsTheKnownOnes) {
  auto o = keyword_pipeline();
  o.router = "router_tierd";
  auto p = Pipeline::create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().detail, HasSubstr("no plugin named 'router_tierd'"));
  EXPECT_THAT(p.error().detail, HasSubstr("router_tiered"));
}

TEST(Pipeline, APluginOfTheWrongKindIsRefused) {
  auto o = keyword_pipeline();
  o.router = "merger_window";
  auto p = Pipeline::create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().detail, HasSubstr("is a merger, not a router"));
}

TEST(Pipeline, APluginConfigErrorNamesThePluginSection) {
  auto o = keyword_pipeline();
  o.plugin_config["router_tiered"] = "categories = \"world/nope.csv\"\n";
  auto p = Pipeline::create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().detail, HasSubstr("[plugins.router_tiered]"));
  EXPECT_THAT(p.error().detail, HasSubstr("nope.csv"));
  o = keyword_pipeline();
  o.plugin_config["classifier_keyword"] = "ruels = []\n";
  auto q = Pipeline::create(o);
  ASSERT_FALSE(q.ok());
  EXPECT_THAT(q.error().detail, HasSubstr("unknown key"));
}

TEST(Pipeline, ChatContextComesFromTheGroupsFile) {
  auto p = Pipeline::create(keyword_pipeline());
  ASSERT_TRUE(p.ok());
  auto ev = event("C1", "5号楼楼道堆满垃圾了");
  ev.set_channel(v1::CHANNEL_WECHAT);
  ev.set_source_name("examples/wugong/wechat/owners_group_A_utf8.csv");
  auto a = p.value()->assess(ev);
  EXPECT_EQ(a.context.kind, "compound");
  EXPECT_EQ(a.context.compound, "清河新城");
  EXPECT_EQ(a.resolution.community_code, "610431001004");
}

}  // namespace
}  // namespace gridhub::pipeline
