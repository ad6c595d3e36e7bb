// Precision at coverage: what `gridhubctl route --labels` tells a county choosing its threshold.
#include "gridhub/dryrun/score.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../../testing/temp_dir.hpp"

namespace gridhub::dryrun {
namespace {

// Four labelled tickets; the output is right on K1, K2 and K4's first choice, wrong on K3.
class CoverageScore : public ::testing::Test {
 protected:
  void SetUp() override {
    labels_ = dir_.path() / "labels.csv";
    std::ofstream(labels_) << "channel,file,record_key,is_ticket,malformed,category_code,community_code,grid_code,tier,"
                              "assignee_code,incident_id,out_of_area\n"
                              "hotline,a.csv,K1,1,0,1801,C1,,county,CTY_SWJ,I1,0\n"
                              "hotline,a.csv,K2,1,0,0102,C1,G1,grid,G1,I2,0\n"
                              "hotline,a.csv,K3,1,0,0102,C1,G1,grid,G1,I3,0\n"
                              "hotline,a.csv,K4,1,0,1801,C1,,county,CTY_SWJ,I4,0\n";
  }
  static RouteRow row(const std::string& key, const std::string& category, const std::string& tier,
                      const std::string& assignee, double confidence) {
    RouteRow r;
    r.channel = "hotline";
    r.file = "in/a.csv";
    r.record_key = key;
    r.is_ticket = true;
    r.category_code = category;
    r.community_code = "C1";
    r.grid_code = tier == "grid" ? "G1" : "";
    r.tier = tier;
    r.assignee_code = assignee;
    r.incident_id = key;
    r.confidence = confidence;
    return r;
  }
  // As the dry run writes an abstained ticket: no category, the centre, the routed suggestions.
  static RouteRow abstained(const std::string& key, std::vector<RouteRow::Suggestion> suggestions) {
    RouteRow r = row(key, "", "center", "CTR_12345", suggestions.front().confidence);
    r.grid_code = "G1";
    r.abstained = true;
    r.suggestions = std::move(suggestions);
    return r;
  }
  testing::TempDir dir_;
  std::filesystem::path labels_;
};

TEST_F(CoverageScore, AbstainedTicketsAreLeftOutOfTheAutoDispatchedAccuracyAndScoredOnTheirFirstChoice) {
  const std::vector<RouteRow> rows = {
      row("K1", "1801", "county", "CTY_SWJ", 0.95),
      row("K2", "0102", "grid", "G1", 0.80),
      abstained("K3", {{"1801", "county", "CTY_SWJ", 0.45}, {"0102", "grid", "G1", 0.40}, {"1001", "community", "C1", 0.1}}),
      abstained("K4", {{"1801", "county", "CTY_SWJ", 0.55}, {"0102", "grid", "G1", 0.30}, {"1001", "community", "C1", 0.1}}),
  };
  auto s = score(rows, labels_);
  ASSERT_TRUE(s.ok()) << s.error().message();
  // The classifier's own accuracy: K3's first choice is wrong, K4's right.
  EXPECT_EQ(s->fields.at("category_code").right, 3U);
  EXPECT_EQ(s->fields.at("assignee_code").right, 3U);
  EXPECT_EQ(s->fields.at("tier").right, 3U);
  EXPECT_EQ(s->abstained, 2U);

  const Coverage c = s->configured_coverage();
  EXPECT_EQ(c.tickets, 4U);
  EXPECT_EQ(c.dispatched, 2U);
  EXPECT_DOUBLE_EQ(c.coverage(), 0.5);
  EXPECT_DOUBLE_EQ(c.assignee_accuracy(), 1.0);

  // Other thresholds, from the confidences: a ticket at the threshold exactly is dispatched.
  const Coverage all = s->coverage_at(0.0);
  EXPECT_EQ(all.dispatched, 4U);
  EXPECT_DOUBLE_EQ(all.category_accuracy(), 0.75);
  const Coverage at = s->coverage_at(0.55);
  EXPECT_EQ(at.dispatched, 3U);
  EXPECT_EQ(at.category_right, 3U);
  EXPECT_EQ(s->coverage_at(0.96).dispatched, 0U);

  const std::string text = report(s.value());
  EXPECT_NE(text.find("precision at coverage: auto-dispatched 50.00% of 4 tickets (2 to the 12345 centre with "
                      "suggestions), accuracy category 100.00% assignee 100.00% (configured threshold)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("       0.00   100.00%    75.00%    75.00%"), std::string::npos) << text;
  EXPECT_NE(text.find("       0.50    75.00%   100.00%   100.00%"), std::string::npos) << text;
}

TEST_F(CoverageScore, TheJsonLineCarriesTheConfidenceAndTheSuggestions) {
  const auto confident = to_json(row("K1", "1801", "county", "CTY_SWJ", 0.95));
  EXPECT_NE(confident.find(",\"out_of_area\":0,\"confidence\":0.950}"), std::string::npos) << confident;
  EXPECT_EQ(confident.find("suggestions"), std::string::npos) << confident;
  const auto left = to_json(
      abstained("K3", {{"1801", "county", "CTY_SWJ", 0.45}, {"0102", "grid", "G1", 0.40}, {"1001", "community", "C1", 0.1}}));
  EXPECT_NE(left.find("\"category_code\":\"\""), std::string::npos) << left;
  EXPECT_NE(left.find("\"assignee_code\":\"CTR_12345\""), std::string::npos) << left;
  EXPECT_NE(left.find("\"suggestions\":[{\"category_code\":\"1801\",\"tier\":\"county\",\"assignee_code\":\"CTY_SWJ\","
                      "\"confidence\":0.450},{\"category_code\":\"0102\""),
            std::string::npos)
      << left;
}

}  // namespace
}  // namespace gridhub::dryrun
