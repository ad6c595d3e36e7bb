#include "gridhub/plugins/classifier_ngram.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../../testing/temp_dir.hpp"

namespace gridhub::classifier_ngram {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = GRIDHUB_SOURCE_DIR;

std::vector<TrainingExample> load_sample() {
  std::ifstream in(kSource / "tests/unit/plugins/data/classifier/sample.tsv");
  std::vector<TrainingExample> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> c;
    std::size_t start = 0;
    while (true) {
      const auto tab = line.find('\t', start);
      c.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (c.size() != 7) continue;
    TrainingExample e;
    e.label = c[0];
    e.channel = c[1];
    e.message_kind = c[2];
    e.from_staff = c[3] == "1";
    e.request_kind = c[4];
    e.category_hint = c[5];
    e.text = c[6];
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<TrainingExample> priors() {
  auto p = category_examples(kSource / "examples/wugong/world/categories.csv");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  return p.ok() ? p.value() : std::vector<TrainingExample>{};
}

plugin::Record record_of(const TrainingExample& e) {
  plugin::Record r;
  r.channel = e.channel;
  r.text = e.text;
  r.category_hint = e.category_hint;
  r.message_kind = e.message_kind;
  r.from_staff = e.from_staff;
  r.request_kind = e.request_kind;
  return r;
}

plugin::Record chat(std::string_view text, std::string_view kind = "text", bool staff = false) {
  plugin::Record r;
  r.channel = "wechat";
  r.text = text;
  r.message_kind = kind;
  r.from_staff = staff;
  return r;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ClassifierNgram : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sample_ = new std::vector<TrainingExample>(load_sample());
    std::vector<TrainingExample> all = priors();
    all.insert(all.end(), sample_->begin(), sample_->end());
    model_ = new Model(train(all, TrainOptions{}));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete sample_;
  }

  // A fresh folder per test (mkdtemp): two runs of the suite at once (a sanitizer build beside the
  // normal one, two checkouts) must not write each other's model files.
  void SetUp() override { dir_ = tmp_.path(); }

  static std::vector<TrainingExample>* sample_;
  static Model* model_;
  gridhub::testing::TempDir tmp_;
  fs::path dir_;
};

std::vector<TrainingExample>* ClassifierNgram::sample_ = nullptr;
Model* ClassifierNgram::model_ = nullptr;

TEST_F(ClassifierNgram, SampleAndCategoryTableLoad) {
  ASSERT_GE(sample_->size(), 300U);
  const auto p = priors();
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p.front().channel, kPriorChannel);
  // 24 categories plus "not a ticket".
  EXPECT_EQ(model_->classes().size(), 25U);
  EXPECT_EQ(model_->classes().front(), "");
}

TEST_F(ClassifierNgram, TrainingIsDeterministic) {
  std::vector<TrainingExample> all = priors();
  all.insert(all.end(), sample_->begin(), sample_->end());
  ASSERT_TRUE(train(all, TrainOptions{}).save(dir_ / "a.model").ok());
  ASSERT_TRUE(train(all, TrainOptions{}).save(dir_ / "b.model").ok());
  const std::string a = read_bytes(dir_ / "a.model");
  EXPECT_GT(a.size(), 1000U);
  EXPECT_EQ(a, read_bytes(dir_ / "b.model"));

  // The data version follows the data: one label changed, another version.
  all.back().label = all.back().label.empty() ? "0102" : "";
  EXPECT_NE(train(all, TrainOptions{}).data_version(), model_->data_version());
}

TEST_F(ClassifierNgram, SaveLoadRoundTrip) {
  ASSERT_TRUE(model_->save(dir_ / "m.model").ok());
  auto loaded = Model::load(dir_ / "m.model");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->data_version(), model_->data_version());
  EXPECT_EQ(loaded->classes(), model_->classes());
  for (const auto& e : *sample_) {
    const auto a = model_->predict(record_of(e));
    const auto b = loaded->predict(record_of(e));
    ASSERT_EQ(a.is_ticket, b.is_ticket) << e.text;
    ASSERT_EQ(a.category, b.category) << e.text;
    ASSERT_DOUBLE_EQ(a.confidence, b.confidence) << e.text;
  }
  // Saving the loaded model gives the same bytes: nothing is lost in the artefact.
  ASSERT_TRUE(loaded->save(dir_ / "again.model").ok());
  EXPECT_EQ(read_bytes(dir_ / "m.model"), read_bytes(dir_ / "again.model"));
}

TEST_F(ClassifierNgram, WrongFormatVersionIsRefused) {
  ASSERT_TRUE(model_->save(dir_ / "m.model").ok());
  std::string bytes = read_bytes(dir_ / "m.model");
  const auto pos = bytes.find("format_version 1\n");
  ASSERT_NE(pos, std::string::npos);
  bytes.replace(pos, 17, "format_version 2\n");
  auto r = load_model(bytes, "future.model");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("future.model"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().detail.find("format version 2"), std::string::npos) << r.error().message();
}

TEST_F(ClassifierNgram, DamagedArtefactsAreRefused) {
  ASSERT_TRUE(model_->save(dir_ / "m.model").ok());
  const std::string bytes = read_bytes(dir_ / "m.model");
  EXPECT_FALSE(load_model(bytes.substr(0, bytes.size() - 7), "cut.model").ok());
  std::string flipped = bytes;
  flipped[flipped.size() - 3] ^= 0x40;
  EXPECT_FALSE(load_model(flipped, "flipped.model").ok());
  EXPECT_FALSE(load_model("hello\n\n", "other.model").ok());
  auto missing = Model::load(dir_ / "nope.model");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("nope.model"), std::string::npos);
}

TEST_F(ClassifierNgram, NonTextChatKindsAreNeverTickets) {
  // Even with complaint words in the text field, a picture or location is context, not a report.
  for (std::string_view kind : {"image", "voice", "sticker", "system", "location", "link"}) {
    const auto p = model_->predict(chat("楼道里贴满了小广告，垃圾桶满了没人清运", kind));
    EXPECT_FALSE(p.is_ticket) << kind;
    EXPECT_EQ(p.rule, "message_kind") << kind;
  }
  EXPECT_TRUE(model_->predict(chat("楼道里贴满了小广告,请相关部门管一管。", "text")).is_ticket);
}

TEST_F(ClassifierNgram, StaffMessagesAreNotTickets) {
  // Learned from the sample's staff notices and quote-replies.
  for (std::string_view text : {"明天上午社区有免费体检,请带好身份证。", "谢谢反映,已联系相关部门",
                                "已转物业处理,请耐心等待"}) {
    EXPECT_FALSE(model_->predict(chat(text, "text", true)).is_ticket) << text;
  }
  EXPECT_FALSE(model_->predict(chat("谢谢反映,已联系相关部门", "quote", true)).is_ticket);
}

TEST_F(ClassifierNgram, TestOrdersAndGreetingsAreNotTickets) {
  for (std::string_view text : {"测试工单,请忽略。", "测试", "test", "TEST", "测试工单"}) {
    const auto p = model_->predict(chat(text));
    EXPECT_FALSE(p.is_ticket) << text;
    EXPECT_EQ(p.rule, "test_order") << text;
  }
  for (std::string_view text : {"你好", "在吗", "收到", "好的谢谢", "/::)", "👍", "早上好", ""}) {
    EXPECT_FALSE(model_->predict(chat(text)).is_ticket) << text;
  }
}

TEST_F(ClassifierNgram, ExplainsTheDecision) {
  const auto p = model_->predict(chat("锦绣花园3号楼半个月没水了,也没有停水通知,请马上处理!"));
  ASSERT_TRUE(p.is_ticket);
  EXPECT_EQ(p.category, "1801");
  EXPECT_EQ(p.rule, "ngram_model");
  EXPECT_GT(p.confidence, 0.3);
  EXPECT_EQ(p.why.rfind("1801 p=", 0), 0U) << p.why;
  EXPECT_NE(p.why.find("水"), std::string::npos) << p.why;
}

TEST_F(ClassifierNgram, CategoryHintIsUsedButNotTrustedBlindly) {
  plugin::Record r = chat("来电称:该处的井盖丢了,下水道井盖破了,差点有人掉下去,请马上处理!");
  r.channel = "hotline";
  const double plain = model_->predict(r).confidence;
  EXPECT_EQ(model_->predict(r).category, "0402");
  r.category_hint = "城乡建设/市政设施";
  EXPECT_GT(model_->predict(r).confidence, plain);   // a fitting hint adds confidence
  r.category_hint = "水电气暖/供水";                  // a wrong one does not override a clear text
  EXPECT_EQ(model_->predict(r).category, "0402") << model_->predict(r).why;
}

TEST_F(ClassifierNgram, SurvivesHostileInput) {
  const std::string bad = std::string("\xff\xfe\xe6\xb0", 4) + std::string(5000, 'a') + "\xe6";
  const auto p = model_->predict(chat(bad));
  EXPECT_GE(p.confidence, 0.0);
  EXPECT_LE(p.confidence, 1.0);
  const Model empty;
  EXPECT_FALSE(empty.predict(chat("楼道里贴满了小广告")).is_ticket);
}

TEST_F(ClassifierNgram, HeldOutAccuracyOnTheSample) {
  // Every fourth record held out; priors always in training, as in deployment.
  std::vector<TrainingExample> train_set = priors();
  std::vector<TrainingExample> test_set;
  for (std::size_t i = 0; i < sample_->size(); ++i) ((i % 4 == 3) ? test_set : train_set).push_back((*sample_)[i]);
  const Model m = train(train_set, TrainOptions{});
  int ok = 0;
  int tickets = 0;
  int cat_ok = 0;
  for (const auto& e : test_set) {
    const auto p = m.predict(record_of(e));
    ok += p.is_ticket == !e.label.empty();
    if (!e.label.empty()) {
      ++tickets;
      cat_ok += p.category == e.label;
    }
  }
  const double is_ticket_acc = static_cast<double>(ok) / static_cast<double>(test_set.size());
  const double category_acc = static_cast<double>(cat_ok) / static_cast<double>(tickets);
  RecordProperty("is_ticket_accuracy", std::to_string(is_ticket_acc));
  RecordProperty("category_accuracy", std::to_string(category_acc));
  EXPECT_GE(is_ticket_acc, 0.95);
  EXPECT_GE(category_acc, 0.80);
}

// --- the plugin ------------------------------------------------------------------------------------

struct StageDeleter {
  void operator()(plugin::Stage* s) const { classifier_ngram_descriptor()->destroy(s); }
};
using StagePtr = std::unique_ptr<plugin::Stage, StageDeleter>;

StagePtr create(const std::string& toml, const fs::path& base, std::string& error) {
  char buf[512] = {};
  const auto* d = classifier_ngram_descriptor();
  plugin::Stage* s = d->create(toml.c_str(), base.c_str(), buf, sizeof buf);
  error = buf;
  return StagePtr(s);
}

TEST_F(ClassifierNgram, DescriptorDeclaresAbiAndKind) {
  const auto* d = classifier_ngram_descriptor();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->abi_version, plugin::kAbiVersion);
  EXPECT_EQ(d->struct_size, sizeof(plugin::Descriptor));
  EXPECT_STREQ(d->name, "classifier_ngram");
  EXPECT_EQ(d->kind, plugin::Kind::kClassifier);
}

TEST_F(ClassifierNgram, PluginClassifiesWithTheLoadedModel) {
  ASSERT_TRUE(model_->save(dir_ / "clf.model").ok());
  std::string error;
  auto stage = create("model = \"clf.model\"\nmin_confidence = 0.2\n", dir_, error);
  ASSERT_NE(stage, nullptr) << error;
  auto* clf = dynamic_cast<plugin::Classifier*>(stage.get());
  ASSERT_NE(clf, nullptr);
  EXPECT_EQ(clf->data_version(), model_->data_version());

  const auto c = clf->classify(chat("锦绣花园3号楼半个月没水了,也没有停水通知,请马上处理!"));
  EXPECT_TRUE(c.is_ticket);
  EXPECT_EQ(c.category_code, "1801");
  EXPECT_EQ(c.why.rule, "ngram_model");

  const auto staff = clf->classify(chat("楼道里贴满了小广告,请相关部门管一管。", "text", true));
  EXPECT_FALSE(staff.is_ticket);
  EXPECT_EQ(staff.why.rule, "staff_message");
}

TEST_F(ClassifierNgram, PluginLeavesLowConfidenceCategoriesEmpty) {
  ASSERT_TRUE(model_->save(dir_ / "clf.model").ok());
  std::string error;
  auto stage = create("model = \"clf.model\"\nmin_confidence = 1.0\n", dir_, error);
  ASSERT_NE(stage, nullptr) << error;
  const auto c = dynamic_cast<plugin::Classifier&>(*stage).classify(chat("楼道里贴满了小广告,请相关部门管一管。"));
  EXPECT_TRUE(c.is_ticket);
  EXPECT_EQ(c.category_code, "");
}

TEST_F(ClassifierNgram, PluginRejectsAnUnknownKeyByName) {
  ASSERT_TRUE(model_->save(dir_ / "clf.model").ok());
  std::string error;
  auto stage = create("model = \"clf.model\"\nmin_confonfidence = 0.5\n", dir_, error);
  EXPECT_EQ(stage, nullptr);
  EXPECT_NE(error.find("min_confonfidence"), std::string::npos) << error;
}

TEST_F(ClassifierNgram, PluginRejectsBadValuesByKey) {
  ASSERT_TRUE(model_->save(dir_ / "clf.model").ok());
  std::string error;
  EXPECT_EQ(create("model = \"clf.model\"\nmin_confidence = \"high\"\n", dir_, error), nullptr);
  EXPECT_NE(error.find("min_confidence"), std::string::npos) << error;
  EXPECT_EQ(create("model = \"clf.model\"\nticket_threshold = 1.5\n", dir_, error), nullptr);
  EXPECT_NE(error.find("ticket_threshold"), std::string::npos) << error;
  EXPECT_EQ(create("min_confidence = 0.5\n", dir_, error), nullptr);
  EXPECT_NE(error.find("model"), std::string::npos) << error;
}

TEST_F(ClassifierNgram, PluginNamesAMissingModelFile) {
  std::string error;
  auto stage = create("model = \"models/absent.model\"\n", dir_, error);
  EXPECT_EQ(stage, nullptr);
  EXPECT_NE(error.find((dir_ / "models/absent.model").string()), std::string::npos) << error;
  EXPECT_NE(error.find("model"), std::string::npos) << error;
}

TEST_F(ClassifierNgram, PluginNamesAnArtefactOfAnotherVersion) {
  ASSERT_TRUE(model_->save(dir_ / "clf.model").ok());
  std::string bytes = read_bytes(dir_ / "clf.model");
  bytes.replace(bytes.find("format_version 1\n"), 17, "format_version 9\n");
  std::ofstream(dir_ / "old.model", std::ios::binary) << bytes;
  std::string error;
  EXPECT_EQ(create("model = \"old.model\"\n", dir_, error), nullptr);
  EXPECT_NE(error.find("old.model"), std::string::npos) << error;
  EXPECT_NE(error.find("format version 9"), std::string::npos) << error;
}

// --- confidence and abstention ----------------------------------------------------------------------

// The sample with calibration folds: every fourth sample record in one fold, priors never held out.
TrainOptions calibrated_options(std::vector<TrainingExample>& all, const std::vector<TrainingExample>& sample) {
  all = priors();
  TrainOptions o;
  o.calibration_folds.assign(all.size(), -1);
  for (std::size_t i = 0; i < sample.size(); ++i) {
    all.push_back(sample[i]);
    o.calibration_folds.push_back(static_cast<int>(i % 4));
  }
  return o;
}

TEST_F(ClassifierNgram, CalibrationFitsATemperatureOnHeldOutFoldsAndKeepsTheRanking) {
  std::vector<TrainingExample> all;
  const TrainOptions o = calibrated_options(all, *sample_);
  const Model calibrated = train(all, o);
  // Held-out folds decide the temperature: a fitted one, strictly inside the search range.
  EXPECT_NE(calibrated.temperature(), 1.0);
  EXPECT_GT(calibrated.temperature(), 0.05);
  EXPECT_LT(calibrated.temperature(), 20.0);
  EXPECT_EQ(model_->temperature(), 1.0);
  const bool sharper = calibrated.temperature() < 1.0;
  // Calibration is part of what the model is: its data version says so.
  EXPECT_NE(calibrated.data_version(), model_->data_version());
  std::size_t tickets = 0;
  for (const auto& e : *sample_) {
    const auto a = model_->predict(record_of(e));
    const auto b = calibrated.predict(record_of(e));
    ASSERT_EQ(a.is_ticket, b.is_ticket) << e.text;   // temperature never decides what is a ticket
    ASSERT_EQ(a.category, b.category) << e.text;     // nor the ranking of categories
    if (!b.is_ticket) continue;
    ++tickets;
    // One scalar: every confidence moves the same way (sharper: up, flatter: down).
    if (sharper) {
      EXPECT_GE(b.confidence, a.confidence - 1e-12) << e.text;
    } else {
      EXPECT_LE(b.confidence, a.confidence + 1e-12) << e.text;
    }
  }
  EXPECT_GT(tickets, 100U);
}

TEST_F(ClassifierNgram, CalibrationTravelsInTheArtefactAndOldArtefactsStillLoad) {
  std::vector<TrainingExample> all;
  const TrainOptions o = calibrated_options(all, *sample_);
  const Model calibrated = train(all, o);
  ASSERT_TRUE(calibrated.save(dir_ / "cal.model").ok());
  const std::string bytes = read_bytes(dir_ / "cal.model");
  EXPECT_NE(bytes.find("\ntemperature "), std::string::npos);
  auto loaded = Model::load(dir_ / "cal.model");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->temperature(), calibrated.temperature());   // the shortest text that reads back exactly
  const auto r = record_of(sample_->back());
  EXPECT_EQ(loaded->predict(r).confidence, calibrated.predict(r).confidence);

  // An artefact without the line (every model trained before calibration existed) loads, uncalibrated.
  ASSERT_TRUE(model_->save(dir_ / "old.model").ok());
  EXPECT_EQ(read_bytes(dir_ / "old.model").find("temperature"), std::string::npos);
  auto old = Model::load(dir_ / "old.model");
  ASSERT_TRUE(old.ok()) << old.error().message();
  EXPECT_EQ(old->temperature(), 1.0);

  // A damaged temperature is refused, naming it.
  std::string bad = bytes;
  const auto pos = bad.find("\ntemperature ");
  bad.replace(pos, bad.find('\n', pos + 1) - pos, "\ntemperature hot");
  auto r2 = load_model(bad, "bad.model");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().detail.find("temperature 'hot'"), std::string::npos) << r2.error().message();
}

TEST_F(ClassifierNgram, ATicketCarriesItsTopThreeCategoriesBestFirst) {
  const auto p = model_->predict(chat("锦绣花园3号楼半个月没水了,也没有停水通知,请马上处理!"));
  ASSERT_TRUE(p.is_ticket);
  ASSERT_EQ(p.suggestions.size(), 3U);
  EXPECT_EQ(p.suggestions[0].category_code, p.category);
  EXPECT_EQ(p.suggestions[0].confidence, p.confidence);
  double sum = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    sum += p.suggestions[i].confidence;
    EXPECT_FALSE(p.suggestions[i].category_code.empty());
    if (i > 0) {
      EXPECT_GE(p.suggestions[i - 1].confidence, p.suggestions[i].confidence);
      EXPECT_NE(p.suggestions[i - 1].category_code, p.suggestions[i].category_code);
    }
  }
  EXPECT_LE(sum, 1.0 + 1e-9);   // probabilities over the categories
  // Not a ticket: nothing to suggest.
  EXPECT_TRUE(model_->predict(chat("收到")).suggestions.empty());
}

TEST_F(ClassifierNgram, PluginAbstainsStrictlyBelowItsThresholdWithThreeSuggestions) {
  ASSERT_TRUE(model_->save(dir_ / "clf.model").ok());
  const auto r = chat("楼道里贴满了小广告,请相关部门管一管。");
  const auto p = model_->predict(r);
  ASSERT_TRUE(p.is_ticket);
  std::string error;
  // At the threshold exactly: dispatched.
  auto at = create(fmt::format("model = \"clf.model\"\nmin_confidence = {}\n", p.confidence), dir_, error);
  ASSERT_NE(at, nullptr) << error;
  const auto kept = dynamic_cast<plugin::Classifier&>(*at).classify(r);
  EXPECT_EQ(kept.category_code, p.category);
  EXPECT_EQ(kept.why.rule, "ngram_model");
  EXPECT_EQ(kept.suggestions.size(), 3U);
  // Just above the confidence: abstains, keeps the suggestions and says why.
  auto above = create(fmt::format("model = \"clf.model\"\nmin_confidence = {}\n", std::nextafter(p.confidence, 2.0)),
                      dir_, error);
  ASSERT_NE(above, nullptr) << error;
  const auto left = dynamic_cast<plugin::Classifier&>(*above).classify(r);
  EXPECT_TRUE(left.is_ticket);
  EXPECT_EQ(left.category_code, "");
  EXPECT_EQ(left.confidence, p.confidence);
  EXPECT_EQ(left.why.rule, "low_confidence");
  EXPECT_NE(left.why.detail.find("below min_confidence"), std::string::npos) << left.why.detail;
  ASSERT_EQ(left.suggestions.size(), 3U);
  EXPECT_EQ(left.suggestions[0].category_code, p.category);
  // min_confidence = 0 never abstains.
  auto never = create("model = \"clf.model\"\nmin_confidence = 0.0\n", dir_, error);
  ASSERT_NE(never, nullptr) << error;
  EXPECT_EQ(dynamic_cast<plugin::Classifier&>(*never).classify(r).category_code, p.category);
}

}  // namespace
}  // namespace gridhub::classifier_ngram
