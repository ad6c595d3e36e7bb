#pragma once
/// Feature extraction shared by training and prediction: both must see exactly the same features,
/// so there is one function and the artefact's format version pins its behaviour.

#include <cstdint>
#include <string_view>
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

struct FeatureConfig {
  int ngram_min = 1;
  int ngram_max = 3;
  const Segmenter* words = nullptr;   // word features when set; owned by the model
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
