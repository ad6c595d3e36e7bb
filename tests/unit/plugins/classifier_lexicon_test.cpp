// The county's category lexicon: loading, its errors, and what it teaches the classifier.
#include "gridhub/plugins/classifier_ngram.hpp"
#include "../../testing/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace gridhub::classifier_ngram {
namespace {

namespace fs = std::filesystem;

const fs::path kWorld = fs::path(GRIDHUB_SOURCE_DIR) / "examples/wugong/world";

std::vector<TrainingExample> table_priors() {
  auto p = category_examples(kWorld / "categories.csv");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  return p.ok() ? p.value() : std::vector<TrainingExample>{};
}

std::vector<std::string> codes_of(const std::vector<TrainingExample>& examples) {
  std::set<std::string> codes;
  for (const auto& e : examples) codes.insert(e.label);
  return {codes.begin(), codes.end()};
}

class LexiconFile : public ::testing::Test {
 protected:
  fs::path write(const std::string& text) {
    dir_ = tmp_.path();   // mkdtemp: concurrent runs of the suite never share files
    const fs::path p = dir_ / "lexicon.csv";
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  gridhub::testing::TempDir tmp_;
  fs::path dir_;
};

TEST(Lexicon, ShippedLexiconNamesOnlyTableCategoriesAndCoversEveryOne) {
  const auto codes = codes_of(table_priors());
  auto lex = lexicon_examples(kWorld / std::string(kLexiconFile), codes);
  ASSERT_TRUE(lex.ok()) << lex.error().message();
  EXPECT_EQ(codes_of(lex.value()), codes);
  for (const auto& e : lex.value()) {
    EXPECT_EQ(e.channel, kPriorChannel);
    EXPECT_FALSE(e.text.empty());
  }
}

TEST_F(LexiconFile, CommentsAndBlankLinesAreSkippedAndEachRowIsOnePriorExample) {
  auto lex = lexicon_examples(write("# county words\n\ncategory_code,term\n0402, 窨井盖 \n0601,黑灯瞎火\n"));
  ASSERT_TRUE(lex.ok()) << lex.error().message();
  ASSERT_EQ(lex->size(), 2U);
  EXPECT_EQ(lex->at(0).label, "0402");
  EXPECT_EQ(lex->at(0).text, "窨井盖");
  EXPECT_EQ(lex->at(1).text, "黑灯瞎火");
}

TEST_F(LexiconFile, UnknownCategoryNamesFileLineAndField) {
  const fs::path p = write("category_code,term\n0402,窨井盖\n9999,飞碟\n");
  auto lex = lexicon_examples(p, {"0402"});
  ASSERT_FALSE(lex.ok());
  EXPECT_NE(lex.error().message().find(p.string() + ":3:"), std::string::npos) << lex.error().message();
  EXPECT_NE(lex.error().message().find("category_code '9999'"), std::string::npos) << lex.error().message();
}

TEST_F(LexiconFile, EmptyTermNamesFileLineAndField) {
  const fs::path p = write("category_code,term\n0402,  \n");
  auto lex = lexicon_examples(p);
  ASSERT_FALSE(lex.ok());
  EXPECT_NE(lex.error().message().find(p.string() + ":2: field term"), std::string::npos) << lex.error().message();
}

TEST_F(LexiconFile, WrongFieldCountAndMissingHeaderAreRefused) {
  const fs::path three = write("category_code,term\n0402,井盖,多余\n");
  auto a = lexicon_examples(three);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find(three.string() + ":2: expected 2 fields"), std::string::npos) << a.error().message();

  const fs::path headless = write("0402,井盖\n");
  auto b = lexicon_examples(headless);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message().find(headless.string() + ":1: header"), std::string::npos) << b.error().message();
}

TEST(Lexicon, MissingFileIsAnErrorNamingIt) {
  auto lex = lexicon_examples(kWorld / "no_such_lexicon.csv");
  ASSERT_FALSE(lex.ok());
  EXPECT_NE(lex.error().message().find("no_such_lexicon.csv"), std::string::npos);
}

TEST(Lexicon, ColloquialWordsAbsentFromTheTableReachTheirCategory) {
  auto examples = table_priors();
  const auto codes = codes_of(examples);
  auto lex = lexicon_examples(kWorld / std::string(kLexiconFile), codes);
  ASSERT_TRUE(lex.ok()) << lex.error().message();
  const Model table_only = train(examples, {});
  examples.insert(examples.end(), lex->begin(), lex->end());
  const Model with_lexicon = train(examples, {});
  // The lexicon is data: it must show in the data version every decision names.
  EXPECT_NE(table_only.data_version(), with_lexicon.data_version());

  struct Case {
    const char* text;
    const char* code;
  };
  // Wordings sharing no word with the category table's name or description.
  for (const Case& c : {Case{"电线杆上全是牛皮癣", "0201"}, Case{"老板跑了，工钱一直没给", "1201"},
                        Case{"窨井盖没了", "0402"}}) {
    plugin::Record r;
    r.channel = "hotline";
    r.text = c.text;
    EXPECT_EQ(with_lexicon.predict(r, 0.0).category, c.code) << c.text;
  }
}

}  // namespace
}  // namespace gridhub::classifier_ngram

namespace gridhub::classifier_ngram {
namespace {

TEST(WordFeatures, MissingDictionaryIsAnErrorNamingIt) {
  auto words = load_word_dictionary("/nonexistent/friso");
  ASSERT_FALSE(words.ok());
  EXPECT_NE(words.error().message().find("/nonexistent/friso/friso.lex.ini"), std::string::npos)
      << words.error().message();
}

TEST(WordFeatures, DictionaryWordsExplainDecisionsAndSurviveTheArtefact) {
  auto words = load_word_dictionary();
  ASSERT_TRUE(words.ok()) << words.error().message();
  auto examples = table_priors();
  TrainOptions with_words;
  with_words.words = words.value();
  const Model plain = train(examples, {});
  const Model model = train(examples, with_words);
  // Segmentation changes the features, so it must change the version every decision names.
  EXPECT_NE(plain.data_version(), model.data_version());

  plugin::Record r;
  r.channel = "hotline";
  r.text = "路灯坏了";
  const Prediction p = model.predict(r, 0.0);
  EXPECT_EQ(p.category, "0601");

  const gridhub::testing::TempDir tmp;
  const fs::path path = tmp / "words.ngram";
  ASSERT_TRUE(model.save(path).ok());
  auto loaded = Model::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->data_version(), model.data_version());
  const Prediction q = loaded->predict(r, 0.0);
  EXPECT_EQ(q.category, p.category);
  EXPECT_DOUBLE_EQ(q.confidence, p.confidence);   // the loaded model segments exactly as training did
}

}  // namespace
}  // namespace gridhub::classifier_ngram

namespace gridhub::classifier_ngram {
namespace {

// History that says 停水 and 停电 only inside long template sentences whose other words belong to
// the other category's history: the n-grams of the term are a few among many.
std::vector<TrainingExample> template_history() {
  std::vector<TrainingExample> out;
  const char* kWater = "从今天早上开始停水，到现在还没有恢复，家里老人孩子都等着用，请尽快派人处理";
  const char* kPower = "楼道里的灯一直不亮，物业说是线路老化，晚上走路摔了好几次，请尽快派人处理";
  for (int i = 0; i < 6; ++i) {
    out.push_back({kWater, "", "", false, "", "hotline", "1801"});
    out.push_back({kPower, "", "", false, "", "hotline", "0601"});
  }
  // The lexicon as prior examples, as gridhubctl train adds it (with or without its terms as features).
  for (const auto& [code, term] : std::vector<std::pair<std::string, std::string>>{
           {"1801", "停水"}, {"1801", "没水"}, {"0601", "路灯"}, {"0601", "灯不亮"}}) {
    out.push_back({term, "", "", false, "", std::string(kPriorChannel), code});
  }
  return out;
}

TrainOptions with_terms(double weight = 0.3) {
  TrainOptions o;
  o.lexicon_features = {{"1801", "停水"}, {"1801", "没水"}, {"0601", "路灯"}, {"0601", "灯不亮"}};
  o.lexicon_weight = weight;
  return o;
}

plugin::Record hotline(const char* text) {   // a literal: Record holds views
  plugin::Record r;
  r.channel = "hotline";
  r.text = text;
  return r;
}

TEST(LexiconFeatures, ATermInALongNewWordingCountsWhateverTheTemplateWordsAroundIt) {
  const auto history = template_history();
  const Model plain = train(history, {});
  const Model terms = train(history, with_terms());
  // A new wording: the water term among words of the power history's template.
  const auto r = hotline("物业说是老化了，又没水了，请尽快派人处理");
  EXPECT_EQ(plain.predict(r, 0.0).category, "0601") << plain.predict(r, 0.0).why;
  const Prediction p = terms.predict(r, 0.0);
  EXPECT_EQ(p.category, "1801") << p.why;
  EXPECT_NE(p.why.find("lexicon:没水"), std::string::npos) << p.why;   // the term explains it
}

TEST(LexiconFeatures, TermsEnterTheDataVersionAndTravelInTheArtefact) {
  const auto history = template_history();
  const Model plain = train(history, {});
  const Model terms = train(history, with_terms());
  const Model heavier = train(history, with_terms(1.0));
  EXPECT_NE(plain.data_version(), terms.data_version());
  EXPECT_NE(terms.data_version(), heavier.data_version());
  EXPECT_EQ(train(history, with_terms()).data_version(), terms.data_version());   // deterministic

  const gridhub::testing::TempDir tmp;
  ASSERT_TRUE(terms.save(tmp / "a.ngram").ok());
  ASSERT_TRUE(train(history, with_terms()).save(tmp / "b.ngram").ok());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(slurp(tmp / "a.ngram"), slurp(tmp / "b.ngram"));   // byte-identical artefacts
  auto loaded = Model::load(tmp / "a.ngram");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  const auto r = hotline("楼道里的线路老化，现在又没水了");
  EXPECT_EQ(loaded->predict(r, 0.0).category, terms.predict(r, 0.0).category);
  EXPECT_DOUBLE_EQ(loaded->predict(r, 0.0).confidence, terms.predict(r, 0.0).confidence);

  // A model without terms writes no lexicon lines: artefacts trained before stay as they were.
  ASSERT_TRUE(plain.save(tmp / "plain.ngram").ok());
  EXPECT_EQ(slurp(tmp / "plain.ngram").find("lexicon_"), std::string::npos);
}

TEST(LexiconFeatures, AnArtefactWithTermsButNoWeightIsRefused) {
  const gridhub::testing::TempDir tmp;
  ASSERT_TRUE(train(template_history(), with_terms()).save(tmp / "m.ngram").ok());
  std::ifstream in(tmp / "m.ngram", std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  const auto at = bytes.find("lexicon_weight ");
  ASSERT_NE(at, std::string::npos);
  bytes.erase(at, bytes.find('\n', at) + 1 - at);
  auto m = load_model(bytes, "m.ngram");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("m.ngram"), std::string::npos);
  EXPECT_NE(m.error().message().find("lexicon_weight"), std::string::npos) << m.error().message();
}

}  // namespace
}  // namespace gridhub::classifier_ngram
