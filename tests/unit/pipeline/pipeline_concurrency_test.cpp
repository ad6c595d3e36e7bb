// The hub runs assess() on several worker threads at once (ingest.workers). These tests run the
// example county's real pipeline that way over every sample file and hold each result to the
// single-threaded one; under the sanitizer build (CI) they also catch a stage that shares scratch.
#include "gridhub/pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <thread>
#include <vector>

#include "gridhub/core/hub_config.hpp"
#include "gridhub/dryrun/dry_run.hpp"

namespace gridhub::pipeline {
namespace {

const std::filesystem::path kWugong = std::filesystem::path(GRIDHUB_SOURCE_DIR) / "examples/wugong";

std::vector<v1::Event> sample_events() {
  std::vector<std::string> files = {"hotline/export_20240506-20240516.csv", "hotline/export_20240517-20240526.csv",
                                    "hotline/export_20240527-20240605.csv", "hotline/export_20240606-20240616.xlsx",
                                    "wechat/owners_group_A_utf8.csv",       "wechat/residents_group_B_utf8.csv",
                                    "wechat/grid_group_C.txt",              "webform/jinshuju_push.jsonl",
                                    "webform/h5_form_posts.txt"};
  for (const auto& e : std::filesystem::directory_iterator(kWugong / "wechat/oa")) {
    files.push_back(std::filesystem::relative(e.path(), kWugong).string());
  }
  std::vector<v1::Event> out;
  for (const auto& f : files) {
    auto r = dryrun::read_input((kWugong / f).string(), {});
    EXPECT_TRUE(r.ok()) << f << ": " << (r.ok() ? "" : r.error().message());
    if (!r.ok()) continue;
    for (auto& x : r.value()) {
      if (!x.event.has_rejection()) out.push_back(std::move(x.event));
    }
  }
  return out;
}

/// Everything an assessment decided, as one comparable string.
std::string summary(const Assessment& a) {
  std::string s = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{:.9f}|{}|{}|{}", a.text, a.address_text, a.resolution.community_code,
                              a.resolution.grid_code, a.resolution.out_of_area, a.resolution.compound, a.resolution.building,
                              a.classification.category_code, a.classification.confidence, a.classification.is_ticket,
                              a.routing.tier, a.routing.assignee_code);
  for (const auto& d : a.decisions) s += "|" + d.SerializeAsString();
  return s;
}

TEST(PipelineConcurrency, TheExamplePipelineAssessesFromSeveralThreadsExactlyAsFromOne) {
  auto cfg = core::load_hub_config(kWugong / "hub.toml");
  ASSERT_TRUE(cfg.pipeline.has_value());
  auto p = Pipeline::create(*cfg.pipeline);
  ASSERT_TRUE(p.ok()) << p.error().message();
  const Pipeline& pipeline = *p.value();
  const auto events = sample_events();
  ASSERT_GT(events.size(), 500u);

  std::vector<std::string> expected;
  expected.reserve(events.size());
  for (const auto& ev : events) expected.push_back(summary(pipeline.assess(ev)));

  // Every thread walks all records from a different starting point, so different records meet in
  // the stages at the same moment; each keeps its own results and compares after the join.
  constexpr std::size_t kThreads = 4;
  std::vector<std::vector<std::string>> got(kThreads, std::vector<std::string>(events.size()));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::size_t n = events.size();
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = (k + t * n / kThreads) % n;
        got[t][i] = summary(pipeline.assess(events[i]));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(got[t][i], expected[i]) << "thread " << t << ", record " << events[i].source_key();
    }
  }
}

TEST(PipelineConcurrency, TraditionalTextIsConvertedTheSameFromSeveralThreads) {
  // The OpenCC converter is the one stage object every record may reach; Traditional text makes it run.
  auto n = Normalizer::create("t2s.json");
  ASSERT_TRUE(n.ok()) << n.error().message();
  const std::vector<std::string> inputs = {"書院社區清河新城14棟停水了", "樓道裡的燈壞了三天，沒人來修", "垃圾堆積發臭，請盡快處理",
                                           "路燈不亮了　請處理"};
  std::vector<std::string> expected;
  for (const auto& s : inputs) expected.push_back(n.value().text(s));
  ASSERT_EQ(expected[0], "书院社区清河新城14栋停水了");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 500; ++round) {
        const std::size_t i = static_cast<std::size_t>(round + t) % inputs.size();
        if (n.value().text(inputs[i]) != expected[i]) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace gridhub::pipeline
