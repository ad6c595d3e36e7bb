#pragma once
/// Dictionary word segmentation (friso, Debian's libfriso + friso-dict) for word features beside
/// the character n-grams. The dictionary is loaded once and only read afterwards; every call to
/// `words` makes its own friso task, so one Segmenter serves concurrent stages without locks.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"

namespace gridhub::classifier_ngram::detail {

/// Where Debian's friso-dict puts the UTF-8 dictionary.
inline constexpr std::string_view kFrisoDictDir = "/usr/share/friso/dict/UTF-8";

struct Word {
  std::string text;      // the word as friso returns it (lower-cased Latin, half-width digits)
  std::uint32_t begin;   // byte span in the segmented text
  std::uint32_t end;
};

class Segmenter {
 public:
  /// Loads `dict_dir`/friso.lex.ini and the lexicons it lists; an error names the directory.
  static Result<std::shared_ptr<const Segmenter>> load(const std::filesystem::path& dict_dir);
  ~Segmenter();
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  /// The dictionary words of two or more characters in `text` (single characters are the n-grams'
  /// business), in order. `out` is cleared first.
  void words(std::string_view text, std::vector<Word>& out) const;

  const std::string& dict_dir() const noexcept { return dict_dir_; }

 private:
  Segmenter() = default;
  struct Friso;
  std::unique_ptr<Friso> friso_;
  std::string dict_dir_;
};

}  // namespace gridhub::classifier_ngram::detail
