#include "text_index.hpp"

#include "gridhub/text/utf8.hpp"

#include <algorithm>
#include <deque>

namespace gridhub::plugins::gazetteer {

namespace {

char32_t next_cp(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char b0 = b(0);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0 && cont(1)) {
    const char32_t cp = ((b0 & 0x1Fu) << 6) | (b(1) & 0x3Fu);
    i += 2;
    return cp;
  }
  if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    const char32_t cp = ((b0 & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    i += 3;
    return cp;
  }
  if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    const char32_t cp = ((b0 & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    i += 4;
    return cp;
  }
  ++i;
  return 0xFFFD;
}

int numeral_digit(char32_t c) {
  switch (c) {
    case U'零': case U'〇': return 0;
    case U'一': return 1;
    case U'二': case U'两': return 2;
    case U'三': return 3;
    case U'四': return 4;
    case U'五': return 5;
    case U'六': return 6;
    case U'七': return 7;
    case U'八': return 8;
    case U'九': return 9;
    default: return -1;
  }
}

}  // namespace

void decode_folded(std::string_view utf8, std::u32string& out) {
  out.clear();
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = next_cp(utf8, i);
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
    if (cp == 0x3000) cp = U' ';
    out.push_back(cp);
  }
}

std::u32string to_u32(std::string_view utf8) {
  std::u32string out;
  decode_folded(utf8, out);
  return out;
}

std::string to_utf8(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size() * 3);
  for (char32_t cp : cps) text::append_utf8(out, cp);
  return out;
}

bool is_chinese_numeral(char32_t c) { return numeral_digit(c) >= 0 || c == U'十' || c == U'百'; }

bool is_clause_break(char32_t c) {
  switch (c) {
    case U',': case U'.': case U';': case U'!': case U'?': case U'\n': case U'\r':
    case U'，': case U'。': case U'；': case U'！': case U'？': case U'、':
      return true;
    default:
      return false;
  }
}

std::size_t parse_number(std::u32string_view text, std::size_t pos, int& value) {
  std::size_t i = pos;
  if (i < text.size() && is_ascii_digit(text[i])) {
    long v = 0;
    while (i < text.size() && is_ascii_digit(text[i])) {
      if (v < 100000) v = v * 10 + (text[i] - U'0');
      ++i;
    }
    value = static_cast<int>(v);
    return i - pos;
  }
  // Chinese numerals: 十二 = 12, 二十一 = 21, 一百零五 = 105; a bare digit run (一二〇) reads positionally.
  int total = 0;
  int current = -1;   // pending digit
  bool any = false;
  bool positional = true;
  int positional_value = 0;
  while (i < text.size() && is_chinese_numeral(text[i])) {
    const char32_t c = text[i];
    const int d = numeral_digit(c);
    if (d >= 0) {
      current = d;
      positional_value = positional_value * 10 + d;
    } else {
      positional = false;
      const int unit = c == U'十' ? 10 : 100;
      total += (current < 0 ? 1 : current) * unit;
      current = -1;
    }
    any = true;
    ++i;
  }
  if (!any) return 0;
  value = positional ? positional_value : total + (current < 0 ? 0 : current);
  return i - pos;
}

std::uint32_t NameMatcher::symbol_of(char32_t c) const {
  if (c < 0x10000) return bmp_symbols_[c];
  const auto it = other_symbols_.find(c);
  return it == other_symbols_.end() ? 0 : it->second;
}

std::uint32_t NameMatcher::intern(char32_t c) {
  if (const std::uint32_t s = symbol_of(c)) return s;
  const std::uint32_t s = next_symbol_++;
  if (c < 0x10000) {
    bmp_symbols_[c] = static_cast<std::uint16_t>(s);
  } else {
    other_symbols_.emplace(c, s);
  }
  return s;
}

bool NameMatcher::add(std::u32string_view pattern, std::uint32_t payload) {
  if (pattern.empty()) return true;
  std::uint32_t state = 0;
  for (char32_t c : pattern) {
    const std::uint32_t sym = intern(c);
    auto& edges = states_[state].edges;
    const auto it = std::find_if(edges.begin(), edges.end(), [&](const Edge& e) { return e.symbol == sym; });
    if (it != edges.end()) {
      state = it->target;
    } else {
      const auto target = static_cast<std::uint32_t>(states_.size());
      states_[state].edges.push_back({sym, target});
      states_.emplace_back();
      state = target;
    }
  }
  State& end = states_[state];
  if (end.out_len != 0 && end.out_payload != payload) return false;
  end.out_len = static_cast<std::uint32_t>(pattern.size());
  end.out_payload = payload;
  return true;
}

std::uint32_t NameMatcher::step(std::uint32_t state, std::uint32_t symbol) const {
  while (true) {
    const auto& edges = states_[state].edges;
    const auto it = std::lower_bound(edges.begin(), edges.end(), symbol,
                                     [](const Edge& e, std::uint32_t s) { return e.symbol < s; });
    if (it != edges.end() && it->symbol == symbol) return it->target;
    if (state == 0) return 0;
    state = states_[state].fail;
  }
}

void NameMatcher::build() {
  for (auto& s : states_) {
    std::sort(s.edges.begin(), s.edges.end(), [](const Edge& a, const Edge& b) { return a.symbol < b.symbol; });
  }
  std::deque<std::uint32_t> queue;
  for (const Edge& e : states_[0].edges) {
    states_[e.target].fail = 0;
    queue.push_back(e.target);
  }
  while (!queue.empty()) {
    const std::uint32_t s = queue.front();
    queue.pop_front();
    for (const Edge& e : states_[s].edges) {
      const std::uint32_t f = step(states_[s].fail, e.symbol);
      states_[e.target].fail = f;
      states_[e.target].dict_link = states_[f].out_len != 0 ? f : states_[f].dict_link;
      queue.push_back(e.target);
    }
  }
}

void NameMatcher::scan(std::u32string_view text, std::vector<Hit>& out) const {
  out.clear();
  std::uint32_t state = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::uint32_t sym = symbol_of(text[i]);
    state = sym == 0 ? 0 : step(state, sym);
    for (std::uint32_t s = states_[state].out_len != 0 ? state : states_[state].dict_link; s != 0;
         s = states_[s].dict_link) {
      const auto end = static_cast<std::uint32_t>(i + 1);
      out.push_back({end - states_[s].out_len, end, states_[s].out_payload});
    }
  }
  // Leftmost-longest, non-overlapping: names in the world do not nest, but "县城" inside
  // "扶风县城关" or a county name inside a longer outside name must yield to the longer match.
  std::sort(out.begin(), out.end(), [](const Hit& a, const Hit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::size_t kept = 0;
  std::uint32_t covered_to = 0;
  for (const Hit& h : out) {
    if (kept != 0 && h.begin < covered_to) continue;
    out[kept++] = h;
    covered_to = h.end;
  }
  out.resize(kept);
}

}  // namespace gridhub::plugins::gazetteer
