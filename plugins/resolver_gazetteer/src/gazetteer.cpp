#include "gridhub/plugins/resolver_gazetteer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "world.hpp"

namespace gridhub::plugins {

using namespace gazetteer;   // NOLINT(google-build-using-namespace): private implementation file

namespace {

constexpr int kLevelNone = 0;
constexpr int kLevelCommunity = 1;
constexpr int kLevelGrid = 2;

/// A location the text supports, with the evidence for it.
struct Candidate {
  int level = kLevelNone;
  std::uint32_t community = kNone;
  std::uint32_t grid = kNone;
  std::string rule;
  std::string detail;
  std::string compound;
  std::string building;
};

/// What one text field says about the location.
struct FieldResult {
  Candidate best;
  bool out_of_area = false;
  bool other_town = false;
  std::string foreign_detail;
  std::string compound_seen;   // a compound named but not resolvable (crosses a community boundary)
};

bool starts_with(std::u32string_view text, std::size_t pos, std::u32string_view what) {
  return text.size() >= pos + what.size() && text.compare(pos, what.size(), what) == 0;
}

std::size_t skip_spaces(std::u32string_view text, std::size_t pos) {
  while (pos < text.size() && text[pos] == U' ') ++pos;
  return pos;
}

bool is_dash(char32_t c) { return c == U'-' || c == U'—' || c == U'–' || c == U'－'; }

/// Markers that make a number a building number. Bare "楼" is left out on purpose: "3楼" is a floor.
constexpr std::array<std::u32string_view, 6> kBuildingMarkers = {U"号楼", U"#楼", U"栋", U"幢", U"座", U"#"};

/// Characters after "N-M" that make it a range of days, months, people... rather than building-unit.
bool is_quantity_unit(char32_t c) {
  static constexpr std::u32string_view kUnits = U"月天日点个年号次层岁元块分小周万人米斤";
  return kUnits.find(c) != std::u32string_view::npos;
}

/// `b-u-r` or `b-u` at pos (ASCII digits); returns the end and the building number, or 0.
std::size_t parse_bucr(std::u32string_view text, std::size_t pos, int& building) {
  if (pos > 0 && (is_ascii_digit(text[pos - 1]) || is_dash(text[pos - 1]))) return 0;
  std::size_t i = pos;
  int parts[3] = {0, 0, 0};
  int n = 0;
  while (n < 3) {
    const std::size_t start = i;
    int v = 0;
    while (i < text.size() && is_ascii_digit(text[i]) && i - start < 5) v = v * 10 + (text[i++] - U'0');
    if (i == start) return 0;
    parts[n++] = v;
    if (i < text.size() && is_dash(text[i]) && n < 3 && i + 1 < text.size() && is_ascii_digit(text[i + 1])) {
      ++i;
      continue;
    }
    break;
  }
  if (n < 2 || parts[0] < 1 || parts[0] > 99 || parts[1] > 99) return 0;
  if (i < text.size() && (is_ascii_digit(text[i]) || is_dash(text[i]))) return 0;
  if (n == 2 && i < text.size() && is_quantity_unit(text[i])) return 0;
  building = parts[0];
  return i - pos;
}

/// A building number right at pos: "3号楼", "十二栋", "7#", or the b-u-r shorthand. `bare_hao`
/// also accepts "3号" (only right after a compound name, where it cannot be a road number).
std::size_t parse_building(std::u32string_view text, std::size_t pos, bool bare_hao, int& building, bool& bucr) {
  if (pos >= text.size()) return 0;
  if (is_ascii_digit(text[pos])) {
    if (const std::size_t n = parse_bucr(text, pos, building)) {
      bucr = true;
      return n;
    }
  }
  int value = 0;
  const std::size_t len = parse_number(text, pos, value);
  if (len == 0 || value <= 0) return 0;
  const std::size_t after = skip_spaces(text, pos + len);
  for (auto marker : kBuildingMarkers) {
    if (starts_with(text, after, marker)) {
      building = value;
      bucr = false;
      return after + marker.size() - pos;
    }
  }
  if (bare_hao && starts_with(text, after, U"号") && !starts_with(text, after + 1, U"门")) {
    building = value;
    bucr = false;
    return after + 1 - pos;
  }
  return 0;
}

/// Words that may sit between a compound name and its building number ("锦绣花园小区3号楼").
std::size_t skip_compound_filler(std::u32string_view text, std::size_t pos) {
  static constexpr std::array<std::u32string_view, 15> kFillers = {
      U"小区", U"院内", U"东区", U"西区", U"南区", U"北区", U"一期", U"二期", U"三期", U"的", U"里", U"内", U"院", U"第",
      U"是"};
  for (int round = 0; round < 3; ++round) {
    pos = skip_spaces(text, pos);
    bool moved = false;
    for (auto f : kFillers) {
      if (starts_with(text, pos, f)) {
        pos += f.size();
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }
  return skip_spaces(text, pos);
}

/// The first building mention anywhere in the text (chat context: "咱们小区5栋", "10-2有户人家").
bool find_free_building(std::u32string_view text, int& building, bool& bucr) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (!is_ascii_digit(c) && !is_chinese_numeral(c)) continue;
    if (i > 0 && (is_ascii_digit(text[i - 1]) || is_chinese_numeral(text[i - 1]))) continue;
    if (parse_building(text, i, false, building, bucr) != 0) return true;
  }
  return false;
}

/// Characters that do not occur inside a county or city name but often precede 县/市/区 in speech.
bool is_function_char(char32_t c) {
  static constexpr std::u32string_view kChars = U"在到去住是的了和与从往个这那我你他她们该此本全各外里上下近旁边对";
  return kChars.find(c) != std::u32string_view::npos;
}

/// "X县/X市/X区/X省" shaped like an administrative unit at `i` (the suffix). Conservative: the two
/// name characters must be Han and not function words, the pair must not be a common word
/// (小区, 超市...), and an address must follow (a road, street, town or number).
bool looks_like_outside_admin(std::u32string_view text, std::size_t i) {
  const char32_t suffix = text[i];
  if (suffix != U'县' && suffix != U'市' && suffix != U'区' && suffix != U'省') return false;
  if (i < 2 || !is_han(text[i - 1]) || !is_han(text[i - 2])) return false;
  if (is_function_char(text[i - 1]) || is_function_char(text[i - 2])) return false;
  if (is_chinese_numeral(text[i - 1])) return false;   // 一区, 二区: sections of a compound
  static constexpr std::array<std::u32string_view, 34> kWords = {
      U"小区", U"社区", U"城区", U"园区", U"片区", U"市区", U"辖区", U"景区", U"校区", U"厂区", U"矿区",
      U"街区", U"库区", U"院区", U"新区", U"老区", U"东区", U"西区", U"南区", U"北区", U"中区", U"商区",
      U"超市", U"城市", U"夜市", U"菜市", U"门市", U"集市", U"早市", U"上市", U"县区", U"分区", U"灾区", U"郊区"};
  const std::u32string_view pair = text.substr(i - 1, 2);
  for (auto w : kWords) {
    if (pair == w) return false;
  }
  if (i + 1 >= text.size()) return false;
  const char32_t next = text[i + 1];
  if (suffix == U'县' && next == U'城' && !starts_with(text, i + 1, U"城关")) return false;   // "X县城" = its town
  static constexpr std::u32string_view kNotAfter = U"民场政容面价级内里中委长域别划医政场";
  if (kNotAfter.find(next) != std::u32string_view::npos) return false;
  // An address must follow within the clause.
  static constexpr std::u32string_view kAddressChars = U"路街道镇乡村巷号区县园苑院城";
  for (std::size_t k = i + 1; k < text.size() && k < i + 13; ++k) {
    if (is_clause_break(text[k])) break;
    if (kAddressChars.find(text[k]) != std::u32string_view::npos || is_ascii_digit(text[k])) return true;
  }
  return false;
}

class Resolver {
 public:
  explicit Resolver(const Gazetteer::Index& idx) : idx_(idx) {}

  FieldResult scan(std::string_view utf8) {
    FieldResult r;
    if (utf8.empty()) return r;
    decode_folded(utf8, text_);
    idx_.matcher.scan(text_, hits_);
    if (idx_.options.detect_outside_admin) add_outside_admin();
    walk(r);
    return r;
  }

  const std::u32string& text() const { return text_; }

 private:
  /// Adds shape-recognised outside units as hits; they displace a "县城" they overlap.
  void add_outside_admin() {
    std::size_t h = 0;
    bool added = false;
    for (std::size_t i = 2; i < text_.size(); ++i) {
      while (h < hits_.size() && hits_[h].end <= i) ++h;
      const bool covered = h < hits_.size() && hits_[h].begin <= i && kind_of(hits_[h].payload) != NameKind::kSeat;
      if (covered || !looks_like_outside_admin(text_, i)) continue;
      const auto begin = static_cast<std::uint32_t>(i - 2);
      // A preceding name hit ending inside our window (e.g. the tail of a road) means the two
      // characters are not a unit name.
      if (h > 0 && hits_[h - 1].end > begin) continue;
      extra_.push_back({begin, static_cast<std::uint32_t>(i + 1), make_payload(NameKind::kOutsideAdmin, 0)});
      added = true;
    }
    if (!added) return;
    for (const Hit& e : extra_) {
      std::erase_if(hits_, [&](const Hit& x) { return x.begin < e.end && e.begin < x.end; });
      hits_.push_back(e);
    }
    extra_.clear();
    std::sort(hits_.begin(), hits_.end(), [](const Hit& a, const Hit& b) { return a.begin < b.begin; });
  }

  bool clause_break_between(std::size_t from, std::size_t to) const {
    for (std::size_t k = from; k < to && k < text_.size(); ++k) {
      if (is_clause_break(text_[k])) return true;
    }
    return false;
  }

  std::string name_at(const Hit& h) const { return to_utf8(std::u32string_view(text_).substr(h.begin, h.end - h.begin)); }

  /// Walks the names in order. An outside unit or another town puts the rest of its clause "abroad":
  /// a local road or compound name there belongs to that other place ("扶风县城关街道人民路213号").
  void walk(FieldResult& r) {
    enum class Zone { kUnknown, kLocal, kOutside, kTown } zone = Zone::kUnknown;
    std::size_t last = 0;
    std::uint32_t mentioned_community = kNone;
    std::vector<const Hit*> located;
    Candidate grid_named;
    for (const Hit& h : hits_) {
      if (clause_break_between(last, h.begin)) zone = Zone::kUnknown;
      last = h.end;
      const NameKind kind = kind_of(h.payload);
      const bool abroad = zone == Zone::kOutside || zone == Zone::kTown;
      switch (kind) {
        case NameKind::kLocal:
        case NameKind::kSeat:
          zone = Zone::kLocal;
          break;
        case NameKind::kParent:
          break;
        case NameKind::kOutside:
        case NameKind::kOutsideAdmin:
          zone = Zone::kOutside;
          if (!r.out_of_area) r.foreign_detail = name_at(h);
          r.out_of_area = true;
          break;
        case NameKind::kOtherTown:
          zone = Zone::kTown;
          if (!r.other_town) r.foreign_detail = name_at(h);
          r.other_town = true;
          break;
        case NameKind::kCommunity:
          if (abroad) break;
          zone = Zone::kLocal;
          if (mentioned_community == kNone) mentioned_community = index_of(h.payload);
          if (grid_named.level == kLevelNone) grid_named = from_grid_number(h);
          break;
        case NameKind::kCompound:
        case NameKind::kRoad:
          if (!abroad) located.push_back(&h);
          break;
      }
    }
    if (grid_named.level == kLevelGrid) {
      r.best = std::move(grid_named);
      return;
    }
    Candidate community_only;
    for (const Hit* h : located) {
      Candidate c = kind_of(h->payload) == NameKind::kCompound ? from_compound(*h, mentioned_community, r)
                                                                 : from_road(*h);
      if (c.level == kLevelGrid) {
        r.best = std::move(c);
        return;
      }
      if (c.level == kLevelCommunity && community_only.level == kLevelNone) community_only = std::move(c);
    }
    if (community_only.level != kLevelNone) {
      r.best = std::move(community_only);
    } else if (mentioned_community != kNone) {
      r.best.level = kLevelCommunity;
      r.best.community = mentioned_community;
      r.best.rule = "community_name";
      r.best.detail = idx_.communities[mentioned_community].name + " -> " + idx_.communities[mentioned_community].code;
    }
  }

  Candidate from_compound(const Hit& h, std::uint32_t mentioned_community, FieldResult& r) const {
    const Compound& comp = idx_.compounds[index_of(h.payload)];
    const std::string said = name_at(h);
    const std::string as = said == comp.name ? comp.name : said + "(" + comp.name + ")";
    Candidate c;
    c.compound = comp.name;
    int building = 0;
    bool bucr = false;
    const std::size_t at = skip_compound_filler(text_, h.end);
    if (parse_building(text_, at, true, building, bucr) != 0) {
      c.building = std::to_string(building);
      for (const CompoundRow& row : comp.rows) {
        if (building >= row.building_from && building <= row.building_to) {
          c.level = kLevelGrid;
          c.grid = row.grid;
          c.community = row.community;
          c.rule = bucr ? "bucr" : "compound+building";
          c.detail = as + " " + c.building + (bucr ? "号楼(b-u-r)" : "号楼") + " -> " + idx_.grids[row.grid].code;
          return c;
        }
      }
      // A building the world does not list: only the compound's community, if it has one.
      if (const std::uint32_t comm = shared_community(comp.rows); comm != kNone) {
        c.level = kLevelCommunity;
        c.community = comm;
        c.rule = "compound_building_unknown";
        c.detail = as + " has no building " + c.building + " in the world; community " + idx_.communities[comm].code;
      } else {
        r.compound_seen = comp.name;
      }
      return c;
    }
    // No building: a grid only when the compound (narrowed to a community the text names) is one row.
    std::vector<const CompoundRow*> rows;
    for (const CompoundRow& row : comp.rows) {
      if (mentioned_community == kNone || row.community == mentioned_community) rows.push_back(&row);
    }
    if (rows.empty()) {
      for (const CompoundRow& row : comp.rows) rows.push_back(&row);
    }
    if (rows.size() == 1) {
      c.level = kLevelGrid;
      c.grid = rows[0]->grid;
      c.community = rows[0]->community;
      c.rule = "compound";
      c.detail = as + " (one grid) -> " + idx_.grids[c.grid].code;
      return c;
    }
    std::uint32_t comm = rows[0]->community;
    for (const CompoundRow* row : rows) {
      if (row->community != comm) comm = kNone;
    }
    if (comm != kNone) {
      c.level = kLevelCommunity;
      c.community = comm;
      c.rule = "compound_split";
      c.detail = as + " spans " + std::to_string(rows.size()) + " grids, no building named -> community " +
                 idx_.communities[comm].code;
    } else {
      r.compound_seen = comp.name;
    }
    return c;
  }

  /// "麦香社区第三网格" / "麦香社区3网格": grids are numbered from 001 inside each community.
  Candidate from_grid_number(const Hit& h) const {
    Candidate c;
    std::size_t at = skip_spaces(text_, h.end);
    if (starts_with(text_, at, U"第")) ++at;
    int number = 0;
    const std::size_t len = parse_number(text_, at, number);
    if (len == 0 || number <= 0 || number > 999 || !starts_with(text_, skip_spaces(text_, at + len), U"网格")) return c;
    char seq[8];
    std::snprintf(seq, sizeof seq, "%03d", number);
    const std::uint32_t comm = index_of(h.payload);
    const auto it = idx_.grid_by_code.find(idx_.communities[comm].code + seq);
    if (it == idx_.grid_by_code.end()) return c;
    c.level = kLevelGrid;
    c.grid = it->second;
    c.community = comm;
    c.rule = "grid_name";
    c.detail = idx_.communities[comm].name + " grid " + std::to_string(number) + " -> " + it->first;
    return c;
  }

  static std::uint32_t shared_community(const std::vector<CompoundRow>& rows) {
    std::uint32_t comm = rows.empty() ? kNone : rows[0].community;
    for (const CompoundRow& row : rows) {
      if (row.community != comm) return kNone;
    }
    return comm;
  }

  Candidate from_road(const Hit& h) const {
    const Road& road = idx_.roads[index_of(h.payload)];
    Candidate c;
    const std::size_t at = skip_spaces(text_, h.end);
    int number = 0;
    const std::size_t len = parse_number(text_, at, number);
    if (len == 0 || number <= 0) return c;
    const std::size_t after = skip_spaces(text_, at + len);
    // "迎宾路17号"; a number not followed by 号 is accepted unless it continues as something else
    // ("迎宾路3栋" is a building of an unnamed compound, not a house number).
    if (after < text_.size() && is_dash(text_[after])) {
      // "17-1号": a sub-number of house 17.
      std::size_t k = after + 1;
      while (k < text_.size() && is_ascii_digit(text_[k])) ++k;
      if (k == after + 1 || !starts_with(text_, k, U"号")) return c;
    } else if (!starts_with(text_, after, U"号")) {
      for (auto marker : kBuildingMarkers) {
        if (starts_with(text_, after, marker)) return c;
      }
      if (after < text_.size() && (is_dash(text_[after]) || is_han(text_[after]))) {
        if (!starts_with(text_, after, U"门") && !starts_with(text_, after, U"旁") && !starts_with(text_, after, U"附")) {
          return c;
        }
      }
    }
    // "311号楼上" is a house number followed by "upstairs": roads carry no buildings of their own.
    for (const RoadRow& row : road.rows) {
      if (number < row.no_from || number > row.no_to) continue;
      if (row.parity == Parity::kOdd && number % 2 == 0) continue;
      if (row.parity == Parity::kEven && number % 2 != 0) continue;
      c.level = kLevelGrid;
      c.grid = row.grid;
      c.community = idx_.grids[row.grid].community;
      c.rule = row.parity == Parity::kAll ? "road_number" : "road_parity";
      c.detail = road.name + std::to_string(number) + "号" +
                 (row.parity == Parity::kAll ? std::string() : (row.parity == Parity::kOdd ? " (odd side)" : " (even side)")) +
                 " -> " + idx_.grids[row.grid].code;
      return c;
    }
    return c;
  }

  const Gazetteer::Index& idx_;
  std::u32string text_;
  std::vector<Hit> hits_;
  std::vector<Hit> extra_;
};

std::uint32_t locate(const Gazetteer::Index& idx, LonLat wgs) {
  for (std::uint32_t g = 0; g < idx.grids.size(); ++g) {
    if (contains(idx.grids[g].polygon, wgs)) return g;
  }
  return kNone;
}

plugin::Resolution to_resolution(const Gazetteer::Index& idx, const Candidate& c) {
  plugin::Resolution out;
  if (c.community != kNone) out.community_code = idx.communities[c.community].code;
  if (c.level == kLevelGrid && c.grid != kNone) out.grid_code = idx.grids[c.grid].code;
  out.compound = c.compound;
  out.building = c.building;
  out.why.rule = c.rule;
  out.why.detail = c.detail;
  return out;
}

std::string format_point(LonLat p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f,%.6f", p.lat, p.lon);
  return buf;
}

plugin::Resolution resolve_impl(const Gazetteer::Index& idx, const plugin::Record& record) {
  Resolver resolver(idx);
  FieldResult addr = resolver.scan(record.address_text);
  FieldResult body = resolver.scan(record.text);

  // The dedicated address field wins at equal specificity; a grid from the report text may refine a
  // community-only address field only when they agree on the community.
  Candidate best;
  if (addr.best.level == kLevelGrid) {
    best = addr.best;
  } else if (body.best.level == kLevelGrid &&
             (addr.best.level == kLevelNone || addr.best.community == body.best.community)) {
    best = body.best;
  } else if (addr.best.level != kLevelNone) {
    best = addr.best;
  } else {
    best = body.best;
  }
  if (best.compound.empty()) best.compound = !addr.compound_seen.empty() ? addr.compound_seen : body.compound_seen;

  const bool out_of_area = best.level == kLevelNone && (addr.out_of_area || body.out_of_area);
  const bool other_town = best.level == kLevelNone && !out_of_area && (addr.other_town || body.other_town);
  if (out_of_area || other_town) {
    plugin::Resolution out;
    out.out_of_area = out_of_area;
    out.other_town = other_town;
    const std::string& where = (addr.out_of_area || addr.other_town) ? addr.foreign_detail : body.foreign_detail;
    out.why.rule = out_of_area ? "out_of_area" : "other_town";
    out.why.detail = out_of_area ? "address in " + where + ", outside " + idx.options.county
                                 : "address in " + where + ", outside " + idx.options.street;
    return out;
  }

  // Coordinates: explicit like the text, but the text wins when both give a grid (people pin
  // where they stand, not where the problem is; the labels agree).
  if (record.has_point) {
    LonLat p{record.point.lon, record.point.lat};
    if (record.point.datum == plugin::Datum::kBd09) p = bd09_to_gcj02(p);
    if (record.point.datum == plugin::Datum::kGcj02 || record.point.datum == plugin::Datum::kBd09) {
      p = gcj02_to_wgs84(p);
    }
    const std::uint32_t g = locate(idx, p);
    const std::string where = g == kNone ? "no grid" : idx.grids[g].code;
    if (best.level == kLevelGrid) {
      best.detail += "; point " + format_point(p) + " in " + where;
    } else if (g != kNone && (best.level == kLevelNone || idx.grids[g].community == best.community)) {
      const bool refined = best.level == kLevelCommunity;
      best.level = kLevelGrid;
      best.grid = g;
      best.community = idx.grids[g].community;
      best.rule = refined ? best.rule + "+gps" : "gps";
      best.detail = (refined ? best.detail + "; " : std::string()) + "WGS-84 " + format_point(p) + " in " + where;
    } else if (best.level == kLevelNone) {
      best.detail = "WGS-84 " + format_point(p) + " is outside every grid";
    }
  }

  // Weak evidence, only when the record itself names nothing: the form's community answer, then
  // the chat group the record came through.
  if (best.level == kLevelNone && !record.community_hint.empty()) {
    const std::string hint(record.community_hint);
    auto it = idx.community_by_name.find(hint);
    std::uint32_t comm = it != idx.community_by_name.end() ? it->second : kNone;
    if (comm == kNone) {
      if (auto c = idx.community_by_code.find(hint); c != idx.community_by_code.end()) comm = c->second;
    }
    if (comm != kNone) {
      best.level = kLevelCommunity;
      best.community = comm;
      best.rule = "community_hint";
      best.detail = "form answer " + hint + " -> " + idx.communities[comm].code;
    }
  }
  if (best.level == kLevelNone && !record.ctx_kind.empty()) {
    const auto comm_of = [&](std::string_view code) {
      const auto it = idx.community_by_code.find(std::string(code));
      return it == idx.community_by_code.end() ? kNone : it->second;
    };
    if (record.ctx_kind == "grid") {
      if (const auto it = idx.grid_by_code.find(std::string(record.ctx_grid_code)); it != idx.grid_by_code.end()) {
        best.level = kLevelGrid;
        best.grid = it->second;
        best.community = idx.grids[it->second].community;
        best.rule = "ctx_grid";
        best.detail = "grid chat group -> " + idx.grids[it->second].code;
      }
    } else if (record.ctx_kind == "compound") {
      const auto it = idx.compound_by_name.find(std::string(record.ctx_compound));
      if (it != idx.compound_by_name.end()) {
        const Compound& comp = idx.compounds[it->second];
        best.compound = comp.name;
        int building = 0;
        bool bucr = false;
        const bool has_building = find_free_building(resolver.text(), building, bucr);
        const CompoundRow* row = nullptr;
        if (has_building) {
          best.building = std::to_string(building);
          for (const CompoundRow& r : comp.rows) {
            if (building >= r.building_from && building <= r.building_to) row = &r;
          }
        } else if (comp.rows.size() == 1) {
          row = &comp.rows[0];
        }
        if (row != nullptr) {
          best.level = kLevelGrid;
          best.grid = row->grid;
          best.community = row->community;
          best.rule = has_building ? (bucr ? "ctx_compound+bucr" : "ctx_compound+building") : "ctx_compound";
          best.detail = "compound chat group " + comp.name + (has_building ? " " + best.building + "号楼" : "") +
                        " -> " + idx.grids[row->grid].code;
        } else {
          std::uint32_t comm = comp.rows[0].community;
          for (const CompoundRow& r : comp.rows) {
            if (r.community != comm) comm = kNone;
          }
          if (comm == kNone) comm = comm_of(record.ctx_community_code);
          if (comm != kNone) {
            best.level = kLevelCommunity;
            best.community = comm;
            best.rule = "ctx_compound";
            best.detail = "compound chat group " + comp.name + ", no grid-certain building -> community " +
                          idx.communities[comm].code;
          }
        }
      } else if (const auto comm = comm_of(record.ctx_community_code); comm != kNone) {
        best.level = kLevelCommunity;
        best.community = comm;
        best.rule = "ctx_community";
        best.detail = "chat group of unknown compound '" + std::string(record.ctx_compound) + "' -> community";
      }
    } else if (record.ctx_kind == "community") {
      if (const auto comm = comm_of(record.ctx_community_code); comm != kNone) {
        best.level = kLevelCommunity;
        best.community = comm;
        best.rule = "ctx_community";
        best.detail = "community chat group -> " + idx.communities[comm].code;
      }
    }
  }

  if (best.level == kLevelNone) {
    plugin::Resolution out;
    out.compound = best.compound;
    out.why.rule = "none";
    out.why.detail = best.detail.empty() ? (best.compound.empty() ? "no address found"
                                                                  : best.compound + " spans communities; no building named")
                                         : best.detail;
    return out;
  }
  return to_resolution(idx, best);
}

}  // namespace

Gazetteer::Gazetteer(std::unique_ptr<const Index> index) : index_(std::move(index)) {}
Gazetteer::Gazetteer(Gazetteer&&) noexcept = default;
Gazetteer& Gazetteer::operator=(Gazetteer&&) noexcept = default;
Gazetteer::~Gazetteer() = default;

Result<Gazetteer> Gazetteer::load(const GazetteerOptions& options) {
  try {
    auto idx = load_index(options);
    if (!idx) return idx.error();
    return Gazetteer(std::move(idx).value());
  } catch (const std::exception& e) {
    return Error(Errc::io_failed, options.world_dir.string() + ": " + e.what());
  }
}

Result<Gazetteer> Gazetteer::load(const std::filesystem::path& world_dir) {
  GazetteerOptions options;
  options.world_dir = world_dir;
  return load(options);
}

plugin::Resolution Gazetteer::resolve(const plugin::Record& record) const noexcept {
  try {
    return resolve_impl(*index_, record);
  } catch (const std::exception& e) {
    // Only allocation can throw here; the record still gets an answer the router can act on.
    plugin::Resolution out;
    out.why.rule = "error";
    out.why.detail = e.what();
    return out;
  }
}

std::string_view Gazetteer::version() const noexcept { return index_->version; }

}  // namespace gridhub::plugins
