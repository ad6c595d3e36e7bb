#pragma once
/// Text normalization before any plugin sees a record: Traditional -> Simplified (OpenCC),
/// full-width ASCII -> half-width, ideographic space -> space, whitespace collapsed and trimmed.
/// Input is valid UTF-8 (adapters decoded other encodings); invalid sequences are replaced.

#include <memory>
#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"

namespace gridhub::pipeline {

class Normalizer {
 public:
  /// opencc_config: an OpenCC config file name or path ("t2s.json" is found in OpenCC's data folder).
  static Result<Normalizer> create(const std::string& opencc_config = "t2s.json");

  Normalizer(Normalizer&&) noexcept;
  Normalizer& operator=(Normalizer&&) noexcept;
  ~Normalizer();

  std::string text(std::string_view in) const;

 private:
  struct Impl;
  explicit Normalizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Full-width -> half-width and whitespace folding only (no script conversion); exposed for tests.
std::string fold_width_and_space(std::string_view in);

}  // namespace gridhub::pipeline
