#include "gridhub/pipeline/normalizer.hpp"

#include <opencc/opencc.h>

#include "gridhub/text/utf8.hpp"

#include <fmt/format.h>

#include <vector>

namespace gridhub::pipeline {

namespace {

using text::append_utf8;

char32_t next_cp(std::string_view s, std::size_t& i) { return text::next_code_point(s, i); }
void append_cp(std::string& out, char32_t cp) { append_utf8(out, cp); }

bool is_space(char32_t cp) { return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x3000 || cp == 0xA0; }

}  // namespace

std::string fold_width_and_space(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < in.size();) {
    char32_t cp = next_cp(in, i);
    if (is_space(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;   // full-width ASCII block -> ASCII
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    append_cp(out, cp);
  }
  return out;
}

struct Normalizer::Impl {
  // Built in place: SimpleConverter owns a raw pointer and must never be copied or moved.
  explicit Impl(const std::string& config) : converter(config), changes(kPlanes, false) {
    // Which single characters the conversion changes. Most reports are already Simplified; checking
    // this bitmap first skips the converter (the pipeline's most expensive step) for them.
    std::string one;
    for (char32_t cp = kFirst; cp < kFirst + kPlanes; ++cp) {
      one.clear();
      append_cp(one, cp);
      try {
        if (converter.Convert(one) != one) changes[cp - kFirst] = true;
      } catch (const std::exception&) {
      }
    }
  }
  bool needs_conversion(std::string_view s) const {
    for (std::size_t i = 0; i < s.size();) {
      const char32_t cp = next_cp(s, i);
      if (cp >= kFirst && cp < kFirst + kPlanes && changes[cp - kFirst]) return true;
    }
    return false;
  }
  // CJK Extension A through the Unified Ideographs block, where Traditional forms live.
  static constexpr char32_t kFirst = 0x3400;
  static constexpr char32_t kPlanes = 0xA000 - 0x3400;
  opencc::SimpleConverter converter;
  std::vector<bool> changes;
};

Normalizer::Normalizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Normalizer::Normalizer(Normalizer&&) noexcept = default;
Normalizer& Normalizer::operator=(Normalizer&&) noexcept = default;
Normalizer::~Normalizer() = default;

Result<Normalizer> Normalizer::create(const std::string& opencc_config) {
  try {
    return Normalizer(std::make_unique<Impl>(opencc_config));
  } catch (const std::exception& e) {
    return Error(Errc::config_invalid, fmt::format("OpenCC config '{}': {} (is the opencc data package installed?)",
                                                  opencc_config, e.what()));
  }
}

std::string Normalizer::text(std::string_view in) const {
  std::string folded = fold_width_and_space(in);
  // Phrase-level conversions only matter where some character is itself Traditional.
  if (folded.empty() || !impl_->needs_conversion(folded)) return folded;
  try {
    return impl_->converter.Convert(folded);
  } catch (const std::exception&) {
    return folded;   // conversion is a refinement; never lose the text over it
  }
}

}  // namespace gridhub::pipeline
