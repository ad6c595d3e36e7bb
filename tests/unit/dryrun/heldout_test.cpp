#include "gridhub/dryrun/heldout.hpp"
#include "gridhub/dryrun/train.hpp"
#include "../../testing/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

namespace gridhub::dryrun {
namespace {

namespace v1 = gridhub::v1;

const std::string kWugong = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong";

// A small labelled set: four phrasing families, each with its own wording, wrapped in openers and
// closers that every label shares. The "bubbling" family's wording appears nowhere else — not in the
// other water family, not in the category table — so only a model trained on it can know it.
struct Sample {
  std::string channel;
  std::string text;
  std::string category;   // "" = not a ticket
  std::string family;     // what the set was written as; the code must find it from the text alone
};

std::vector<Sample> samples() {
  const std::vector<std::string> openers = {"来电人反映：", "市民来电反映，", "来电称："};
  const std::vector<std::string> closers = {"请相关单位核实处理。", "希望尽快处理。", ""};
  std::vector<Sample> out;
  for (int i = 0; i < 6; ++i) {
    const auto& o = openers[static_cast<std::size_t>(i) % openers.size()];
    const auto& c = closers[static_cast<std::size_t>(i + 1) % closers.size()];
    const std::string n = std::to_string(3 + i);
    const std::string ch = i % 2 == 0 ? "hotline" : "webform";
    out.push_back({ch, o + n + "号楼那里咕嘟咕嘟冒个不停呀，" + c, "1801", "bubbling"});
    out.push_back({ch, o + n + "号楼从昨天开始停水，到现在还没来水，" + c, "1801", "no-water"});
    out.push_back({ch, o + n + "号楼门口垃圾桶早就满了，没人清运，" + c, "0102", "garbage"});
    out.push_back({ch, o + "上次" + n + "号楼的事情已经解决了，谢谢你们。" + c, "", "thanks"});
  }
  return out;
}

class Heldout : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();   // mkdtemp: concurrent runs of the suite never share files
    std::ofstream labels(dir_ / "labels.csv");
    labels << "channel,file,record_key,is_ticket,malformed,category_code,community_code,grid_code,tier,"
              "assignee_code,incident_id,out_of_area\n";
    std::int64_t at = 1714954320000000;
    int k = 0;
    for (const auto& s : samples()) {
      const std::string key = "K" + std::to_string(++k);
      v1::Event ev;
      ev.set_channel(s.channel == "hotline" ? v1::CHANNEL_HOTLINE : v1::CHANNEL_WEBFORM);
      ev.set_adapter_id("t");
      ev.set_source_key(key);
      ev.mutable_fields()->set_text(s.text);
      ev.mutable_fields()->mutable_reported_at()->set_unix_micros(at += 86400000000LL);
      records_.push_back(InputRecord{"t/" + s.channel + ".txt", key, std::move(ev)});
      family_.push_back(s.family);
      labels << s.channel << ",t/" << s.channel << ".txt," << key << "," << (s.category.empty() ? 0 : 1) << ",0,"
             << s.category << ",,,,,,0\n";
    }
  }

  HeldoutOptions options() const {
    HeldoutOptions o;
    o.pipeline.resolver = o.pipeline.merger = o.pipeline.router = "";
    o.pipeline.classifier = "classifier_ngram";
    o.pipeline.base_dir = dir_;
    o.pipeline.source_name = "test.toml";
    o.pipeline.plugin_config["classifier_ngram"] = "model = \"none-yet.ngram\"\n";
    o.labels = dir_ / "labels.csv";
    o.categories = kWugong + "/world/categories.csv";
    o.folds = 4;
    return o;
  }

  std::vector<std::string> normalized_texts() const {
    pipeline::PipelineOptions none;
    none.resolver = none.classifier = none.merger = none.router = "";
    auto norm = pipeline::Pipeline::create(none);
    EXPECT_TRUE(norm.ok());
    std::vector<std::string> texts;
    for (const auto& r : records_) texts.push_back(norm.value()->assess(r.event).text);
    return texts;
  }

  gridhub::testing::TempDir tmp_;
  std::filesystem::path dir_;
  std::vector<InputRecord> records_;
  std::vector<std::string> family_;
};

TEST_F(Heldout, FamiliesFollowTheWordingNotTheSharedOpenersClosersOrHouseNumbers) {
  auto labels = label_records(records_, dir_ / "labels.csv");
  ASSERT_TRUE(labels.ok()) << labels.error().message();
  const auto found = phrasing_families(normalized_texts(), labels.value());
  std::map<std::string, std::set<int>> ids_of_written;   // written family -> family ids found
  std::map<int, std::set<std::string>> written_of_id;
  for (std::size_t i = 0; i < found.size(); ++i) {
    ASSERT_GE(found[i], 0);
    ids_of_written[family_[i]].insert(found[i]);
    written_of_id[found[i]].insert(family_[i]);
  }
  for (const auto& [written, ids] : ids_of_written) EXPECT_EQ(ids.size(), 1u) << written << " was cut in pieces";
  for (const auto& [id, written] : written_of_id) EXPECT_EQ(written.size(), 1u) << "family " << id << " mixes wordings";
}

TEST(HeldoutFamilies, TwoTemplatesSharingASlotWordStayTwoFamilies) {
  // Both garbage templates mention 生活垃圾; chaining on shared words would make the whole category one
  // family, and holding it out would test a category the model never saw rather than a new wording.
  std::vector<std::string> texts;
  std::vector<RecordLabel> labels;
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(10 + i);
    texts.push_back("来电称:" + n + "号楼门口生活垃圾桶早就满了,希望尽快处理。");
    texts.push_back("来电称:" + n + "号楼有人乱倒生活垃圾,苍蝇蚊子特别多,希望尽快处理。");
    texts.push_back("来电称:" + n + "号楼停水了,到现在还没来水,希望尽快处理。");
    texts.push_back("来电称:" + n + "号楼的事情已经解决了,希望尽快处理。");
    labels.push_back({true, false, true, "0102"});
    labels.push_back({true, false, true, "0102"});
    labels.push_back({true, false, true, "1801"});
    labels.push_back({true, false, false, ""});
  }
  const auto family = phrasing_families(texts, labels);
  for (std::size_t i = 4; i < texts.size(); ++i) EXPECT_EQ(family[i], family[i % 4]) << texts[i];
  EXPECT_NE(family[0], family[1]);
}

TEST_F(Heldout, AFoldNeverPutsAFamilyInBothTrainAndTestAndEveryRecordIsHeldOutOnce) {
  auto labels = label_records(records_, dir_ / "labels.csv");
  ASSERT_TRUE(labels.ok());
  const auto family = phrasing_families(normalized_texts(), labels.value());
  const auto splits = family_folds(family, 3);
  ASSERT_EQ(splits.size(), 3u);
  std::vector<int> times_held(records_.size(), 0);
  for (const auto& s : splits) {
    std::map<int, std::set<bool>> sides;   // family -> {held out?}
    for (std::size_t i = 0; i < family.size(); ++i) {
      sides[family[i]].insert(s.held_out[i]);
      times_held[i] += s.held_out[i] ? 1 : 0;
    }
    for (const auto& [f, side] : sides) EXPECT_EQ(side.size(), 1u) << s.name << ": family " << f << " on both sides";
  }
  EXPECT_THAT(times_held, ::testing::Each(1));
}

TEST_F(Heldout, TheFoldsDoNotDependOnTheOrderTheFilesWereGivenIn) {
  auto labels = label_records(records_, dir_ / "labels.csv");
  ASSERT_TRUE(labels.ok());
  auto texts = normalized_texts();
  // Which texts each fold holds out, for the records in the given order and reversed.
  auto held_texts = [](const std::vector<std::string>& t, const std::vector<RecordLabel>& l) {
    std::vector<std::multiset<std::string>> out;
    for (const auto& s : family_folds(phrasing_families(t, l), 3)) {
      out.emplace_back();
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (s.held_out[i]) out.back().insert(t[i]);
      }
    }
    return out;
  };
  const auto forward = held_texts(texts, labels.value());
  std::reverse(texts.begin(), texts.end());
  std::reverse(labels.value().begin(), labels.value().end());
  EXPECT_EQ(held_texts(texts, labels.value()), forward);
}

TEST_F(Heldout, InSampleScoresHigherThanHeldOutFamiliesBecauseTheUniqueWordingIsReallyHeldOut) {
  auto in_sample = evaluate_heldout(records_, HeldoutScheme::kInSample, options());
  ASSERT_TRUE(in_sample.ok()) << in_sample.error().message();
  auto families = evaluate_heldout(records_, HeldoutScheme::kFamilies, options());
  ASSERT_TRUE(families.ok()) << families.error().message();
  EXPECT_EQ(families->splits, 4u);
  EXPECT_EQ(families->families, 4u);
  EXPECT_EQ(in_sample->score.matched, records_.size());
  EXPECT_EQ(families->score.matched, records_.size());   // every record scored once, held out
  const double in = in_sample->score.fields.at("category_code").accuracy();
  const double out = families->score.fields.at("category_code").accuracy();
  EXPECT_DOUBLE_EQ(in, 1.0);
  EXPECT_LT(out, in);
  // The bubbling family is what the held-out model cannot know.
  bool bubbling_missed = false;
  for (const auto& [pair, n] : families->score.fields.at("category_code").confused) bubbling_missed |= pair.first == "1801";
  EXPECT_TRUE(bubbling_missed);

  const auto text = heldout_report(in_sample->score, {in_sample.value(), families.value()});
  EXPECT_THAT(text, ::testing::HasSubstr("category"));
  EXPECT_THAT(text, ::testing::HasSubstr("gap families"));
}

TEST_F(Heldout, LeaveOneChannelOutHoldsOutEachChannelPresent) {
  auto labels = label_records(records_, dir_ / "labels.csv");
  ASSERT_TRUE(labels.ok());
  const auto splits = channel_splits(records_, labels.value());
  ASSERT_EQ(splits.size(), 2u);
  for (const auto& s : splits) {
    const auto held = s.name == "without hotline" ? v1::CHANNEL_HOTLINE : v1::CHANNEL_WEBFORM;
    for (std::size_t i = 0; i < records_.size(); ++i) EXPECT_EQ(s.held_out[i], records_[i].event.channel() == held) << s.name;
  }
  auto r = evaluate_heldout(records_, HeldoutScheme::kChannels, options());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->score.matched, records_.size());
}

TEST(HeldoutSchemes, ParseKnownNamesAndRefuseOthersNamingThem) {
  auto ok = parse_heldout("families,channels");
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT(ok.value(), ::testing::ElementsAre(HeldoutScheme::kFamilies, HeldoutScheme::kChannels));
  auto bad = parse_heldout("families,templates");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().detail, ::testing::HasSubstr("templates"));
}

}  // namespace
}  // namespace gridhub::dryrun

namespace gridhub::dryrun {
namespace {

TEST(Knowledge, AnUnknownOrEmptyItemIsRefusedNamingTheFlagAndTheItem) {
  auto ok = parse_knowledge("lexicon,words");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->descriptions);
  EXPECT_TRUE(ok->lexicon);
  EXPECT_TRUE(ok->words);
  auto none = parse_knowledge("none");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->descriptions || none->lexicon || none->words);
  auto bad = parse_knowledge("descriptions,lexcon");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().detail, ::testing::HasSubstr("--knowledge"));
  EXPECT_THAT(bad.error().detail, ::testing::HasSubstr("'lexcon'"));
  EXPECT_FALSE(parse_knowledge("lexicon,").ok());   // a trailing comma is an empty item, not ignored
}

}  // namespace
}  // namespace gridhub::dryrun
