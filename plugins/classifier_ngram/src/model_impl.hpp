#pragma once
/// The model's immutable state, shared by training, prediction and the artefact code.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "features.hpp"
#include "gridhub/plugins/classifier_ngram.hpp"

namespace gridhub::classifier_ngram {

struct Model::Impl {
  static constexpr std::uint32_t kNoRow = 0xFFFFFFFFU;

  std::string data_version;
  std::vector<std::string> classes;   // [0] = "" (not a ticket); at most 256
  std::shared_ptr<const detail::Segmenter> words;   // null: no word features
  std::shared_ptr<const detail::Lexicon> lexicon;   // null: no lexicon features
  std::vector<std::pair<std::string, std::string>> lexicon_terms;   // (code, term), as trained: the artefact keeps them
  double lexicon_weight = 0;
  detail::FeatureConfig features;                   // features.words / .lexicon point into `words` / `lexicon`
  std::size_t stride = 1;             // floats per row (= classes.size())
  std::vector<std::uint32_t> ids;     // feature id per row, strictly ascending
  std::vector<float> weights;         // rows x stride
  double temperature = 1.0;           // category confidences: softmax(scores / temperature)
  bool calibrated = false;            // temperature was fitted (and is written to the artefact)

  // Open-addressing index id -> row + 1 (0 = empty slot), at most half full so probes stay short.
  std::vector<std::uint32_t> slot_ids;
  std::vector<std::uint32_t> slot_rows;
  std::size_t mask = 0;

  static Impl empty();
  void build_index();

  std::size_t slot_of(std::uint32_t id) const noexcept {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
  }
  std::uint32_t find(std::uint32_t id) const noexcept {
    for (std::size_t slot = slot_of(id);; slot = (slot + 1) & mask) {
      const std::uint32_t row = slot_rows[slot];
      if (row == 0) return kNoRow;
      if (slot_ids[slot] == id) return row - 1;
    }
  }
};

}  // namespace gridhub::classifier_ngram
