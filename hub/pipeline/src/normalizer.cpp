#include "gridhub/pipeline/normalizer.hpp"

#include <opencc/opencc.h>

#include <fmt/format.h>

#include <vector>

namespace gridhub::pipeline {

namespace {

/// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes yield U+FFFD.
char32_t next_cp(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0 && cont(1)) {
    char32_t cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    i += 2;
    return cp;
  }
  if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    char32_t cp = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                  (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    i += 3;
    return cp;
  }
  if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    char32_t cp = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
                  ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
    i += 4;
    return cp;
  }
  ++i;
  return 0xFFFD;
}

void append_cp(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

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
