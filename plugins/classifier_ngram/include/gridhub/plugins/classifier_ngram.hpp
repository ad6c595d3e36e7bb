#pragma once
/// classifier_ngram: is-a-ticket and category from a record's text, learned from labelled history.
///
/// A multinomial logistic regression over the classes {not a ticket} ∪ category codes. Features are
/// hashed character n-grams of the (host-normalized) text plus the channel's own signals: its category
/// hint (a token, because operators and citizens sometimes pick the wrong one), the chat message kind,
/// whether a chat message came from staff, the 诉求类型, the channel and a coarse text length.
/// The category table's names and descriptions can be added as training examples (`category_examples`),
/// so a phrasing never seen in the history still hits the category's own keywords.
/// The county's lexicon (`lexicon_examples`) adds the words people actually use, and friso
/// dictionary words (`TrainOptions::words`) can join the n-grams; docs/routing_knowledge.md measures
/// what each adds. Both are fixed at training time (data version, artefact header), so the plugin
/// has no key for them.
///
/// The model is an immutable value: train once, `save` a versioned artefact, `load` it in the hub.
/// Same examples + same options (seed included) give a byte-identical artefact.
///
/// Confidence: a ticket's confidence is the probability of its category among the categories (the
/// not-a-ticket class decided separately, by ticket_threshold), calibrated by temperature scaling.
/// The temperature is fitted at training time on held-out folds (`TrainOptions::calibration_folds`:
/// `gridhubctl train` holds out whole phrasing families) and stored in the artefact; a model without
/// one (older artefacts) loads with temperature 1, i.e. the plain softmax. docs/routing_knowledge.md
/// shows the reliability before and after.
///
/// Plugin config keys (the `[classifier]` table handed to create()):
///   model              string, required  path of the artefact written by Model::save
///   ticket_threshold   float, 0.5        P(ticket) at or above which a record is a ticket
///   min_confidence     float, 0.7        abstention threshold: below this (calibrated) category
///                                        confidence the ticket keeps an empty category and its top
///                                        three suggestions, and the router sends it to the 12345
///                                        centre's manual dispatch instead of a guess (0 = never)
///   staff_never_ticket bool,  true       chat messages from the exporting staff account are not tickets

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/plugin/api.hpp"

namespace gridhub::classifier_ngram {

namespace detail {
class Segmenter;
}

/// Artefact format written by this build; load() refuses any other.
inline constexpr std::uint32_t kFormatVersion = 1;

/// Channel value marking a prior-knowledge example (a category's name/description): such examples
/// contribute only their text n-grams, since they carry no real channel signals.
inline constexpr std::string_view kPriorChannel = "prior";

struct TrainingExample {
  std::string text;
  std::string category_hint;
  std::string message_kind;   // "" or "text" for non-chat channels
  bool from_staff = false;
  std::string request_kind;
  std::string channel;
  std::string label;          // category code, or "" for not a ticket
};

/// Defaults were chosen by leave-one-phrasing-template-out evaluation on the Wugong samples: bigrams
/// and firm L2 generalise to new phrasings better than longer n-grams, which memorise sentences.
struct TrainOptions {
  std::uint64_t seed = 1;        // shuffling order; the only source of randomness
  int epochs = 15;
  double learning_rate = 0.4;    // AdaGrad base step
  double l2 = 1e-3;              // applied to the weights an example touches (lazy L2)
  int ngram_min = 1;
  int ngram_max = 2;
  double prior_weight = 4.0;     // sample weight of kPriorChannel examples
  // Dictionary words (load_word_dictionary) as features beside the n-grams; null = none. Off by
  // default: see docs/routing_knowledge.md for what it adds and what it costs per record.
  std::shared_ptr<const detail::Segmenter> words;
  // The county's lexicon as features, (category code, term): a report naming a term of a category
  // gets one full-weight feature for it (detail::Lexicon). Empty = none. Enters the data version
  // and the artefact (`lexicon_features` header line).
  std::vector<std::pair<std::string, std::string>> lexicon_features;
  // The value of a lexicon feature. Chosen on held-out phrasing families (docs/routing_knowledge.md):
  // 1.0 lets a term shared by two categories (门禁: property or security) outvote the history; 0.1
  // is too faint to carry a new wording.
  double lexicon_weight = 0.3;
  // Confidence calibration: one fold id per example (same order as the examples; -1 = never held
  // out, e.g. prior examples). Per fold a model is trained on the rest and scores the fold's tickets;
  // the temperature minimising their negative log-likelihood is stored in the artefact. Empty = no
  // calibration (temperature 1). The folds enter the data version.
  std::vector<int> calibration_folds;
};

/// Abstention threshold of the plugin's `min_confidence` when the config does not set it: chosen on
/// the example county's held-out phrasing families (docs/routing_knowledge.md, "Confidence").
inline constexpr double kDefaultMinConfidence = 0.7;

struct Prediction {
  bool is_ticket = false;
  std::string category;          // "" when not a ticket
  double confidence = 0;         // probability of the decision: calibrated P(category | ticket) for
                                 // tickets, P(not) otherwise
  double ticket_probability = 0; // 1 - P(not a ticket); 0 when a rule decided
  std::string rule;              // "ngram_model", or the rule that decided before the model
  std::string why;               // "1801 p=0.93: 没水(+1.2) 停水(+0.8) hint:供水(+0.5)"
  std::vector<plugin::CategorySuggestion> suggestions;   // tickets: top three categories, best first
};

class Model {
 public:
  /// An empty model knows no classes and calls nothing a ticket; use train() or load().
  Model();

  /// Decides one record. Never throws; cheap (a few µs for 100 characters).
  /// Rules come first (non-text chat kinds, empty text, test submissions), then the model: a ticket
  /// when P(ticket) >= ticket_threshold, with the most probable category.
  Prediction predict(const plugin::Record& record) const noexcept;
  Prediction predict(const plugin::Record& record, double ticket_threshold) const noexcept;

  Status save(const std::filesystem::path& path) const;
  static Result<Model> load(const std::filesystem::path& path);

  /// "ngram1-<16 hex>": a hash of the training examples and options; logged with every decision.
  const std::string& data_version() const noexcept;
  /// Class list: "" (not a ticket) first, then the category codes in ascending order.
  const std::vector<std::string>& classes() const noexcept;
  /// Calibration temperature of the category confidences (1 when the model was not calibrated).
  double temperature() const noexcept;

  struct Impl;

 private:
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  friend Model train(const std::vector<TrainingExample>& examples, const TrainOptions& options);
  friend Result<Model> load_model(std::string_view bytes, const std::string& source);

  std::shared_ptr<const Impl> impl_;   // immutable after construction: copies share it, threads may too
};

Model train(const std::vector<TrainingExample>& examples, const TrainOptions& options);

/// Parses an artefact held in memory (what Model::load does after reading the file).
Result<Model> load_model(std::string_view bytes, const std::string& source);

/// Prior-knowledge examples from world/categories.csv (category_code, category_name, description, ...):
/// per category its name, its description and each clause of the description, labelled with the code.
Result<std::vector<TrainingExample>> category_examples(const std::filesystem::path& categories_csv);

/// Loads friso's dictionary for word features (empty path: Debian's friso-dict, UTF-8). A model
/// trained with it names the directory in its artefact and loads it again in Model::load.
Result<std::shared_ptr<const detail::Segmenter>> load_word_dictionary(const std::filesystem::path& dict_dir = {});

/// File name of the county's category lexicon, looked for beside categories.csv.
inline constexpr std::string_view kLexiconFile = "lexicon.csv";

/// Prior-knowledge examples from a category lexicon: a CSV with the header `category_code,term`
/// (lines starting with '#' before it are comments), one synonym, colloquial or dialect form or
/// common typo per row. Each term becomes a prior example of its category, so the learned weights
/// combine the county's words with its history; the terms enter the training hash and thus the
/// model's data version. A code not in `known_codes` (when non-empty), an empty term or a row with
/// the wrong number of fields is an error naming the file, line and field.
Result<std::vector<TrainingExample>> lexicon_examples(const std::filesystem::path& lexicon_csv,
                                                      const std::vector<std::string>& known_codes = {});

}  // namespace gridhub::classifier_ngram

/// The plugin's descriptor (kind kClassifier, name "classifier_ngram").
const gridhub::plugin::Descriptor* classifier_ngram_descriptor() noexcept;
