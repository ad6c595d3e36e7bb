#pragma once
/// Code-point text helpers and a multi-pattern matcher for the gazetteer's names.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gridhub::plugins::gazetteer {

/// Decodes UTF-8 into code points, folding full-width ASCII to ASCII on the way (the host already
/// does; doing it again keeps direct callers and tests honest). Invalid bytes become U+FFFD.
void decode_folded(std::string_view utf8, std::u32string& out);

std::u32string to_u32(std::string_view utf8);
std::string to_utf8(std::u32string_view cps);

inline bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
/// CJK unified ideographs (BMP blocks); enough to tell a name character from punctuation.
inline bool is_han(char32_t c) { return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF); }
bool is_chinese_numeral(char32_t c);
/// Ends an address clause: the place named after it is a new statement.
bool is_clause_break(char32_t c);

/// Reads a number at `pos`: ASCII digits or Chinese numerals (三, 十二, 二十一, 一百零五, 两).
/// Returns the number of code points consumed (0 when there is no number) and the value in `value`.
std::size_t parse_number(std::u32string_view text, std::size_t pos, int& value);

/// One name occurrence: [begin, end) in code points, plus what the name stands for.
struct Hit {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t payload = 0;
};

/// Aho-Corasick over code points. Built once from all names; a scan is one pass over the text,
/// independent of the number of names. Matches are reduced to leftmost-longest, non-overlapping.
class NameMatcher {
 public:
  /// Adds a pattern; false when the same pattern was added before with another payload.
  bool add(std::u32string_view pattern, std::uint32_t payload);
  void build();
  void scan(std::u32string_view text, std::vector<Hit>& out) const;

 private:
  struct Edge {
    std::uint32_t symbol;
    std::uint32_t target;
  };
  struct State {
    std::vector<Edge> edges;   // sorted by symbol after build()
    std::uint32_t fail = 0;
    std::uint32_t out_len = 0;       // length of the longest pattern ending here (0: none)
    std::uint32_t out_payload = 0;
    std::uint32_t dict_link = 0;     // next state on the fail chain that ends a pattern (0: none)
  };

  std::uint32_t symbol_of(char32_t c) const;   // 0 = not in any pattern
  std::uint32_t intern(char32_t c);
  std::uint32_t step(std::uint32_t state, std::uint32_t symbol) const;

  std::vector<State> states_{State{}};
  std::vector<std::uint16_t> bmp_symbols_ = std::vector<std::uint16_t>(0x10000, 0);
  std::unordered_map<char32_t, std::uint32_t> other_symbols_;
  std::uint32_t next_symbol_ = 1;
};

}  // namespace gridhub::plugins::gazetteer
