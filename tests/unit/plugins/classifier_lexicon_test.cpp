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
