#include "features.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "gridhub/common/fingerprint.hpp"

#include "segmenter.hpp"

namespace gridhub::classifier_ngram::detail {
namespace {

constexpr char32_t kSep = U' ';
constexpr char32_t kEmoji = 0x1F600;   // every pictograph folds to one symbol: 👍 and 👏 mean the same here
constexpr char32_t kInvalid = 0xFFFD;

struct Symbol {
  char32_t cp;
  std::uint32_t begin;   // byte span in the text
  std::uint32_t end;
};

// Decodes one UTF-8 sequence at text[i]; never reads past the end. The host hands over valid UTF-8,
// but a bad byte must cost one U+FFFD, not a crash.
char32_t decode(std::string_view text, std::size_t& i) noexcept {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return kInvalid;
  }
  if (i + static_cast<std::size_t>(len) > text.size()) {
    ++i;
    return kInvalid;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

// Folds what should not distinguish two reports: case, which digits (12栋 and 15栋 are the same
// pattern), which punctuation, which emoji.
char32_t canonical(char32_t cp) noexcept {
  if (cp < 0x80) {
    if (cp >= 'A' && cp <= 'Z') return cp + ('a' - 'A');
    if ((cp >= 'a' && cp <= 'z')) return cp;
    if (cp >= '0' && cp <= '9') return U'0';
    return kSep;
  }
  if (cp >= 0xFF10 && cp <= 0xFF19) return U'0';   // in case the host left full-width digits
  if (cp <= 0xBF) return kSep;                       // Latin-1 punctuation and NBSP
  if ((cp >= 0x2000 && cp <= 0x206F) ||              // general punctuation: “”‘’…—
      (cp >= 0x3000 && cp <= 0x303F) ||              // CJK punctuation: 。、「」【】
      (cp >= 0xFE30 && cp <= 0xFE4F) ||              // CJK compatibility forms
      (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
      (cp >= 0xFF5B && cp <= 0xFF65)) {
    return kSep;
  }
  if (cp >= 0x1F000 || (cp >= 0x2600 && cp <= 0x27BF)) return kEmoji;
  if (cp == 0xFE0F || cp == 0x200D) return kSep;     // emoji presentation selectors and joiners
  return cp;
}

// Canonical symbols with a separator at both ends, runs of separators collapsed.
void symbols(std::string_view text, std::vector<Symbol>& out) {
  out.clear();
  out.push_back({kSep, 0, 0});
  std::size_t i = 0;
  while (i < text.size() && out.size() < kMaxSymbols) {
    const std::size_t b = i;
    const char32_t cp = canonical(decode(text, i));
    if (cp == kSep && out.back().cp == kSep) continue;
    out.push_back({cp, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(i)});
  }
  if (out.back().cp != kSep) {
    const auto e = static_cast<std::uint32_t>(i);
    out.push_back({kSep, e, e});
  }
}

std::uint32_t ngram_id(const Symbol* s, int n) noexcept {
  std::uint64_t h = kFnvOffset ^ static_cast<std::uint64_t>(n);
  for (int k = 0; k < n; ++k) {
    h ^= static_cast<std::uint64_t>(s[k].cp);
    h *= 0x100000001b3ULL;
  }
  return static_cast<std::uint32_t>(mix64(h));
}

std::uint32_t token_id(FeatureKind kind, std::string_view value) noexcept {
  std::uint64_t h = kFnvOffset;
  const char tag = static_cast<char>(0x10 + static_cast<int>(kind));   // namespaces apart from n-grams
  h = fnv1a(h, std::string_view(&tag, 1));
  h = fnv1a(h, value);
  return static_cast<std::uint32_t>(mix64(h));
}

std::uint32_t length_bucket(std::size_t n) noexcept {
  constexpr std::array<std::size_t, 5> kUpper{2, 5, 10, 20, 40};
  std::uint32_t b = 0;
  while (b < kUpper.size() && n > kUpper[b]) ++b;
  return b;
}

void add_token(std::vector<Feature>& out, FeatureKind kind, std::string_view value, std::string_view field,
               float weight = 1.0F) {
  // The span is relative to `field`: value is always a subview of it.
  const auto begin = static_cast<std::uint32_t>(value.data() - field.data());
  out.push_back({token_id(kind, value), weight, kind, begin, begin + static_cast<std::uint32_t>(value.size())});
}

}  // namespace

void Lexicon::add(std::string_view term, std::string_view code) {
  std::uint64_t h = kFnvOffset;
  std::size_t len = 0;
  std::size_t i = 0;
  while (i < term.size()) {
    const char32_t cp = canonical(decode(term, i));
    if (cp == kSep) continue;   // 井 盖 and 井盖 are one term
    h = step(h, cp);
    ++len;
  }
  if (len == 0) return;
  std::uint16_t idx = 0;
  while (idx < codes_.size() && codes_[idx] != code) ++idx;
  if (idx == codes_.size()) {
    codes_.emplace_back(code);
    code_ids_.push_back(token_id(FeatureKind::kLexicon, code));
  }
  auto& cats = terms_[h];
  if (std::find(cats.begin(), cats.end(), idx) == cats.end()) cats.push_back(idx);
  const auto bit = static_cast<std::size_t>(h >> 48);
  filter_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
  max_len_ = std::max(max_len_, len);
}

std::string_view length_bucket_name(std::uint32_t bucket) noexcept {
  constexpr std::array<std::string_view, 6> kNames{"len:0-2", "len:3-5", "len:6-10", "len:11-20", "len:21-40",
                                                   "len:41+"};
  return bucket < kNames.size() ? kNames[bucket] : "len:?";
}

std::size_t content_length(std::string_view text) noexcept {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (canonical(decode(text, i)) != kSep) ++n;
  }
  return n;
}

void content_symbols(std::string_view text, std::vector<char32_t>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < text.size() && out.size() < kMaxSymbols) {
    const char32_t cp = canonical(decode(text, i));
    if (cp != kSep) out.push_back(cp);
  }
}

void extract(const Signals& s, const FeatureConfig& config, bool prior, std::vector<Feature>& out) {
  out.clear();
  thread_local std::vector<Symbol> syms;
  symbols(s.text, syms);

  const int lo = config.ngram_min;
  const int hi = config.ngram_max;
  const auto m = static_cast<int>(syms.size());
  std::size_t grams = 0;
  for (int n = lo; n <= hi; ++n) grams += static_cast<std::size_t>(m >= n ? m - n + 1 : 0);
  out.reserve(grams + 12);
  // Term counts scaled by 1/sqrt(#grams): long and short reports weigh alike without a second pass.
  const float value = grams > 0 ? 1.0F / std::sqrt(static_cast<float>(grams)) : 0.0F;
  for (int n = lo; n <= hi; ++n) {
    for (int i = 0; i + n <= m; ++i) {
      if (n == 1 && syms[static_cast<std::size_t>(i)].cp == kSep) continue;   // carries nothing alone
      const Symbol* g = &syms[static_cast<std::size_t>(i)];
      out.push_back({ngram_id(g, n), value, FeatureKind::kNgram, g[0].begin, g[n - 1].end});
    }
  }

  if (config.words != nullptr) {
    // Words name what the n-grams only spell ("窨井" is one thing, not 窨+井); scaled like the
    // n-grams so a long report's words do not outweigh a short one's.
    thread_local std::vector<Word> words;
    config.words->words(s.text.substr(0, syms.back().end), words);
    const float wv = words.empty() ? 0.0F : 1.0F / std::sqrt(static_cast<float>(words.size()));
    for (const auto& w : words) out.push_back({token_id(FeatureKind::kWord, w.text), wv, FeatureKind::kWord, w.begin, w.end});
  }

  if (config.lexicon != nullptr && !config.lexicon->empty()) {
    // One feature per category named, at the lexicon's weight whatever the report's length.
    const Lexicon& lex = *config.lexicon;
    thread_local std::vector<bool> seen;
    seen.assign(lex.categories(), false);
    for (std::size_t i = 0; i < syms.size(); ++i) {
      std::uint64_t h = kFnvOffset;
      for (std::size_t k = 0; k < lex.max_len() && i + k < syms.size() && syms[i + k].cp != kSep; ++k) {
        h = Lexicon::step(h, syms[i + k].cp);
        const auto* cats = lex.find(h);
        if (cats == nullptr) continue;
        for (std::uint16_t c : *cats) {
          if (seen[c]) continue;
          seen[c] = true;
          out.push_back({lex.feature_id(c), lex.weight(), FeatureKind::kLexicon, syms[i].begin, syms[i + k].end});
        }
      }
    }
  }

  out.push_back({token_id(FeatureKind::kBias, {}), 1.0F, FeatureKind::kBias, 0, 0});
  if (prior) return;

  // Hints and 诉求类型 are single strong tokens: at full weight they outvote the whole text when
  // a phrasing is new (a 咨询 about inheritance drifting to 政策咨询); half weight held out better.
  constexpr float kSoft = 0.5F;

  if (!s.category_hint.empty()) {
    add_token(out, FeatureKind::kHint, s.category_hint, s.category_hint, kSoft);
    // "水电气暖/供水": each level also alone, so "供水" from one taxonomy helps another's "水电".
    std::size_t start = 0;
    while (start <= s.category_hint.size()) {
      std::size_t slash = s.category_hint.find('/', start);
      if (slash == std::string_view::npos) slash = s.category_hint.size();
      if (slash > start && !(start == 0 && slash == s.category_hint.size())) {
        add_token(out, FeatureKind::kHintPart, s.category_hint.substr(start, slash - start), s.category_hint, kSoft);
      }
      start = slash + 1;
    }
  }
  const std::string_view kind = s.message_kind.empty() ? std::string_view("text") : s.message_kind;
  out.push_back({token_id(FeatureKind::kMessageKind, kind), 1.0F, FeatureKind::kMessageKind, 0,
                 static_cast<std::uint32_t>(s.message_kind.size())});
  if (s.from_staff) out.push_back({token_id(FeatureKind::kStaff, {}), 1.0F, FeatureKind::kStaff, 0, 0});
  if (!s.request_kind.empty()) add_token(out, FeatureKind::kRequestKind, s.request_kind, s.request_kind, kSoft);
  if (!s.channel.empty()) add_token(out, FeatureKind::kChannel, s.channel, s.channel);
  const std::uint32_t bucket = length_bucket(content_length(s.text));
  const std::string_view name = length_bucket_name(bucket);
  out.push_back({token_id(FeatureKind::kLength, name), 1.0F, FeatureKind::kLength, bucket, bucket});
}

}  // namespace gridhub::classifier_ngram::detail
