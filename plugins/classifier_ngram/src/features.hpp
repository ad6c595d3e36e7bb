#pragma once
/// Feature extraction shared by training and prediction: both must see exactly the same features,
/// so there is one function and the artefact's format version pins its behaviour.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gridhub::classifier_ngram::detail {

class Segmenter;

// Bounds the work per record on the data path; reports longer than this are rare and their head
// carries the complaint.
inline constexpr std::size_t kMaxSymbols = 1024;

enum class FeatureKind : std::uint8_t {
  kNgram,
  kHint,
  kHintPart,
  kMessageKind,
  kStaff,
  kRequestKind,
  kChannel,
  kLength,
  kBias,
  kWord,   // a dictionary word (Segmenter), beside the n-grams that spell it
  kLexicon,   // the text names a term of a category's lexicon (Lexicon)
};

struct Feature {
  std::uint32_t id;
  float value;
  FeatureKind kind;
  // Byte span of what the feature stands for in its source field (text for n-grams, the hint for
  // hint features, ...), so explanations can quote it without storing strings. kLength keeps its
  // bucket number in `begin` instead.
  std::uint32_t begin;
  std::uint32_t end;
};

struct Signals {
  std::string_view text;
  std::string_view category_hint;
  std::string_view message_kind;
  bool from_staff = false;
  std::string_view request_kind;
  std::string_view channel;
};

/// The county's lexicon as features: a report that says any term of a category gets one feature
/// naming that category, at a fixed value whatever the report's length. The n-grams that spell a term
/// are diluted by every template word around them (1/sqrt(#n-grams)); this feature is not, so a new
/// wording that says 停水 still says "water" as loudly as the wordings the history holds. Terms are
/// matched on the same folded symbols as the n-grams (case, digits, punctuation), never across a
/// separator.
class Lexicon {
 public:
  explicit Lexicon(float weight) : weight_(weight) {}
  float weight() const noexcept { return weight_; }
  /// A term of `code`'s lexicon; a term with no symbols is ignored.
  void add(std::string_view term, std::string_view code);
  bool empty() const noexcept { return terms_.empty(); }
  std::size_t max_len() const noexcept { return max_len_; }
  std::size_t categories() const noexcept { return codes_.size(); }
  std::uint32_t feature_id(std::uint16_t category) const noexcept { return code_ids_[category]; }
  /// The hash of a term one folded symbol longer: kFnvOffset, then step() per symbol.
  static std::uint64_t step(std::uint64_t h, char32_t cp) noexcept { return (h ^ cp) * 0x100000001b3ULL; }
  /// Categories of the term with hash `h`, or null.
  const std::vector<std::uint16_t>* find(std::uint64_t h) const noexcept {
    const auto bit = static_cast<std::size_t>(h >> 48);
    if (((filter_[bit >> 6] >> (bit & 63)) & 1U) == 0) return nullptr;   // most probes end here
    const auto it = terms_.find(h);
    return it == terms_.end() ? nullptr : &it->second;
  }

 private:
  std::unordered_map<std::uint64_t, std::vector<std::uint16_t>> terms_;   // term hash -> category indices
  std::vector<std::uint32_t> code_ids_;                                    // feature id per category index
  std::vector<std::string> codes_;
  std::array<std::uint64_t, 1024> filter_{};                               // 65,536-bit prefilter of term hashes
  std::size_t max_len_ = 0;                                                // symbols in the longest term
  float weight_;
};

struct FeatureConfig {
  int ngram_min = 1;
  int ngram_max = 3;
  const Segmenter* words = nullptr;   // word features when set; owned by the model
  const Lexicon* lexicon = nullptr;   // lexicon features when set; owned by the model
};

/// Appends the features of one record to `out` (cleared first). A prior example gets only its
/// n-grams and the bias: it has no real channel, length or hint.
void extract(const Signals& s, const FeatureConfig& config, bool prior, std::vector<Feature>& out);

/// Number of symbols (letters, digits, CJK, emoji) in the text once punctuation and spaces are dropped.
std::size_t content_length(std::string_view text) noexcept;

/// The canonical, punctuation-free text (for rules that must not depend on punctuation or case).
void content_symbols(std::string_view text, std::vector<char32_t>& out);

/// Human-readable label of a length bucket, for explanations.
std::string_view length_bucket_name(std::uint32_t bucket) noexcept;

/// The 64-bit FNV-1a step, also used for the training-set hash.
inline std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) noexcept {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
inline constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;

}  // namespace gridhub::classifier_ngram::detail
