#include "gridhub/audit/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "gridhub/audit/replay.hpp"
#include "gridhub/categories/categories.hpp"
#include "gridhub/text/html.hpp"
#include "log_scan.hpp"
#include "text_out.hpp"

namespace gridhub::audit {

namespace v1 = gridhub::v1;

namespace {

std::string channel_key(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_HOTLINE: return "hotline";
    case v1::CHANNEL_WECHAT: return "wechat";
    case v1::CHANNEL_WEBFORM: return "webform";
    case v1::CHANNEL_UNSPECIFIED: return "unspecified";
    default: break;   // protobuf's sentinel values
  }
  return std::to_string(static_cast<int>(c));
}

std::string tier_key(v1::Tier t) {
  switch (t) {
    case v1::TIER_UNSPECIFIED: return "";
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: break;
  }
  return std::to_string(static_cast<int>(t));
}

/// One ticket's figures, kept while the log is read: a few short strings per ticket.
struct TicketAgg {
  std::string channel;   // of the record that created it
  std::string category, community, grid, tier;
  bool created_in_period = false;
  std::uint64_t reports = 0;   // records in the period that created or joined it
  std::set<std::string> channels;
  // Lifecycle, followed through the change records (docs/audit.md, "Report measures").
  std::string assignee;          // current
  std::string tier_now;          // current tier
  int max_tier = 0;              // highest gridhub.v1.Tier it ever had
  std::int64_t created_at = 0;
  std::int64_t due = 0;          // sla_due in force; 0: none
  std::int64_t resolved_at = 0;  // 0: open
  bool had_due = false;
  bool breached = false;         // escalated, or resolved after its due time
};

std::int64_t micros_of(const v1::Timestamp& t) { return t.unix_micros(); }

/// Moves `t` to the state `tk` (a ticket after a record), counting a hand-over to a new assignee.
void follow(TicketAgg& t, const v1::Ticket& tk, ReportData& data) {
  if (!tk.assignee_code().empty() && tk.assignee_code() != t.assignee) ++data.by_assignee[tk.assignee_code()].assigned;
  t.assignee = tk.assignee_code();
  t.tier_now = tier_key(tk.tier());
  t.max_tier = std::max(t.max_tier, static_cast<int>(tk.tier()));
  t.due = tk.has_sla_due() ? micros_of(tk.sla_due()) : 0;
  if (t.due != 0) t.had_due = true;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "0.0";
  return fmt::format("{:.1f}", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string period_text(const ReportOptions& p, const char* open) {
  return fmt::format("{} .. {}", p.since_micros ? format_time(*p.since_micros) : open,
                     p.until_micros ? format_time(*p.until_micros) : open);
}

std::string join(const std::set<std::string>& s, const char* sep) {
  std::string out;
  for (const auto& v : s) out += (out.empty() ? "" : sep) + v;
  return out;
}

/// Tables sorted for publication: most tickets first, then by key.
template <class Map, class Count>
std::vector<typename Map::const_iterator> by_count(const Map& m, Count count) {
  std::vector<typename Map::const_iterator> v;
  for (auto it = m.begin(); it != m.end(); ++it) v.push_back(it);
  std::stable_sort(v.begin(), v.end(), [&](auto a, auto b) { return count(*a) > count(*b); });
  return v;
}

std::string hours(std::int64_t micros) { return fmt::format("{:.1f}", static_cast<double>(micros) / 3.6e9); }

const char* const kTierOrder[] = {"grid", "community", "county", "center", ""};

// --- CSV ---------------------------------------------------------------------------------------

class CsvOut {
 public:
  void section(const char* name, std::initializer_list<const char*> header) {
    if (!out_.empty()) out_ += '\n';
    out_ += fmt::format("# {}\n", name);
    bool first = true;
    for (const char* h : header) {
      out_ += first ? "" : ",";
      out_ += h;
      first = false;
    }
    out_ += '\n';
  }
  template <class... T>
  void row(const T&... cells) {
    bool first = true;
    ((out_ += first ? "" : ",", first = false, cell(cells)), ...);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  void cell(std::string_view s) { detail::append_csv(out_, s); }
  void cell(const std::string& s) { detail::append_csv(out_, s); }
  void cell(const char* s) { detail::append_csv(out_, s); }
  void cell(std::uint64_t n) { out_ += std::to_string(n); }
  std::string out_;
};

// --- HTML --------------------------------------------------------------------------------------

std::string esc(std::string_view s) { return text::html_escape(s); }

const char* channel_label(const std::string& c) {
  if (c == "hotline") return "12345热线";
  if (c == "wechat") return "微信";
  if (c == "webform") return "网页表单";
  return "其他";
}

const char* tier_label(const std::string& t) {
  if (t == "grid") return "网格";
  if (t == "community") return "社区";
  if (t == "county") return "县级部门";
  if (t == "center") return "12345中心";
  return "未分派";
}

std::string code_or_none(const std::string& code) { return code.empty() ? std::string("(未定位)") : code; }

/// A horizontal bar chart, drawn here as inline SVG (no script, no font or image fetched).
std::string svg_bars(const std::vector<std::pair<std::string, std::uint64_t>>& rows, const char* title) {
  constexpr int kLabelW = 220, kBarW = 640, kRowH = 24, kTop = 8;
  const std::uint64_t max = rows.empty() ? 1 : std::max<std::uint64_t>(1, std::max_element(rows.begin(), rows.end(), [](auto& a, auto& b) {
                                                                         return a.second < b.second;
                                                                       })->second);
  const int height = kTop * 2 + static_cast<int>(rows.size()) * kRowH;
  std::string out = fmt::format("<svg class=\"chart\" role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n",
                                esc(title), kLabelW + kBarW + 60, height, kLabelW + kBarW + 60, height);
  int y = kTop;
  for (const auto& [label, n] : rows) {
    const int w = static_cast<int>(static_cast<double>(kBarW) * static_cast<double>(n) / static_cast<double>(max));
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"lbl\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"bar\"/>"
        "<text x=\"{}\" y=\"{}\" class=\"num\">{}</text>\n",
        kLabelW - 8, y + 16, esc(label), kLabelW, y + 4, std::max(w, 1), kRowH - 8, kLabelW + std::max(w, 1) + 6, y + 16, n);
    y += kRowH;
  }
  out += "</svg>\n";
  return out;
}

class HtmlTable {
 public:
  HtmlTable(std::string& out, std::initializer_list<const char*> header) : out_(out) {
    out_ += "<table>\n<thead><tr>";
    for (const char* h : header) out_ += fmt::format("<th>{}</th>", h);
    out_ += "</tr></thead>\n<tbody>\n";
  }
  ~HtmlTable() { out_ += "</tbody>\n</table>\n"; }
  HtmlTable(const HtmlTable&) = delete;
  HtmlTable& operator=(const HtmlTable&) = delete;
  template <class... T>
  void row(const T&... cells) {
    out_ += "<tr>";
    (cell(cells), ...);
    out_ += "</tr>\n";
  }

 private:
  void cell(std::string_view s) { out_ += "<td>" + esc(s) + "</td>"; }
  void cell(const std::string& s) { cell(std::string_view(s)); }
  void cell(const char* s) { cell(std::string_view(s)); }
  void cell(std::uint64_t n) { out_ += fmt::format("<td class=\"n\">{}</td>", n); }
  std::string& out_;
};

constexpr const char* kCss = R"(body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;margin:24px 40px;color:#1d2733;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #c8102e;padding-bottom:4px}
p.meta{color:#5a6673;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 12px;min-width:480px}
th,td{border:1px solid #cfd6dd;padding:4px 10px;text-align:left;font-size:14px}
th{background:#eef2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.kpi{display:inline-block;border:1px solid #cfd6dd;border-radius:6px;padding:10px 18px;margin:0 12px 12px 0;min-width:150px}
.kpi b{display:block;font-size:26px;color:#c8102e}.kpi span{color:#5a6673;font-size:13px}
svg.chart .bar{fill:#c8102e}svg.chart .lbl,svg.chart .num{font-size:13px;fill:#1d2733}
p.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;max-width:900px}
)";

}  // namespace

namespace {
std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}
}  // namespace

std::int64_t ResolveTimes::median() const { return nearest_rank(micros, 0.5); }
std::int64_t ResolveTimes::p90() const { return nearest_rank(micros, 0.9); }

Result<ReportData> collect_report(const std::filesystem::path& db_file, const ReportOptions& options) {
  ReportData data;
  data.period = options;
  data.period.progress = nullptr;   // the report outlives the run it was collected with
  detail::ScanRange range;
  if (options.since_micros) range.since = *options.since_micros;
  if (options.until_micros) {
    if (*options.until_micros == std::numeric_limits<std::int64_t>::min()) return data;
    range.until = *options.until_micros - 1;   // --until is exclusive
  }
  std::unordered_map<std::string, TicketAgg> tickets;
  std::int64_t last_at = 0;
  auto n = detail::scan_log(db_file, range, [&](std::uint64_t, std::int64_t recorded_at, v1::LogRecord& rec) -> Status {
    last_at = std::max(last_at, recorded_at);
    if (rec.has_ticket_update()) {
      const auto& u = rec.ticket_update();
      auto it = tickets.find(rec.ticket_id());
      TicketAgg* t = it == tickets.end() ? nullptr : &it->second;
      if (u.action() == v1::UPDATE_ACTION_RETURN) {
        // The returner is the assignee before the update; for a ticket from before the period, the
        // sender's identity is all the record has.
        ++data.returns;
        ++data.by_assignee[t != nullptr && !t->assignee.empty() ? t->assignee : u.actor()].returns;
      }
      if (t == nullptr) return Ok{};
      if (u.action() == v1::UPDATE_ACTION_RESOLVE && u.ticket().has_resolved_at()) {
        t->resolved_at = micros_of(u.ticket().resolved_at());
        if (t->due != 0 && t->resolved_at > t->due) t->breached = true;
      }
      follow(*t, u.ticket(), data);
      return Ok{};
    }
    if (rec.has_escalation()) {
      const auto& e = rec.escalation();
      ++data.escalations;
      ++data.by_assignee[e.from_assignee()].escalations;
      auto it = tickets.find(rec.ticket_id());
      if (it == tickets.end()) return Ok{};
      it->second.breached = true;
      follow(it->second, e.ticket(), data);
      return Ok{};
    }
    if (!rec.has_intake_accepted()) {
      ++data.other_records;
      return Ok{};
    }
    const auto& intake = rec.intake_accepted();
    ++data.intake_records;
    const std::string channel = channel_key(intake.event().channel());
    auto& ch = data.by_channel[channel];
    ++ch.reports;
    if (intake.disposition() == v1::DISPOSITION_NOT_A_TICKET || !intake.has_ticket() || rec.ticket_id().empty()) {
      ++ch.not_tickets;
      ++data.not_tickets;
      return Ok{};
    }
    auto& t = tickets[rec.ticket_id()];
    const auto& tk = intake.ticket();
    if (intake.disposition() == v1::DISPOSITION_MERGED) {
      ++ch.merged;
      ++data.merged_reports;
    } else {
      ++ch.tickets;
      t.created_in_period = true;
      t.channel = channel;
      t.created_at = tk.has_created_at() ? micros_of(tk.created_at()) : recorded_at;
      follow(t, tk, data);
    }
    t.category = tk.category_code();
    t.community = tk.community_code();
    t.grid = tk.grid_code();
    t.tier = tier_key(tk.tier());
    ++t.reports;
    t.channels.insert(channel);
    return Ok{};
  }, options.progress);
  if (!n) return n.error();
  data.as_of_micros = options.until_micros ? *options.until_micros : last_at;
  for (const auto& [id, t] : tickets) {
    if (t.reports >= 2) {
      data.incidents.push_back(IncidentRow{id, t.category, t.community, t.grid, t.reports, t.channels});
    }
    if (!t.created_in_period) continue;   // merged into an incident from before the period: counted above
    ++data.tickets;
    ++data.by_category[t.category];
    auto& c = data.by_community[t.community];
    ++c.tickets;
    if (t.tier == "grid") ++c.grid_tier;
    if (t.tier == "community") ++c.community_tier;
    ++data.by_grid[{t.grid, t.community}];
    ++data.by_tier[t.tier];

    auto count_sla = [&](SlaCounts& c) {
      ++c.tickets;
      const bool resolved = t.resolved_at != 0;
      if (!t.had_due) {
        ++c.no_sla;
      } else if (resolved) {
        ++(t.breached ? c.late : c.on_time);
      } else if (t.due == 0 || t.due < data.as_of_micros) {
        ++c.open_overdue;   // past due, or its clock stopped after a breach at the top tier
      } else if (t.breached) {
        ++c.open_escalated;
      }
    };
    count_sla(data.sla);
    count_sla(data.sla_by_tier[t.tier_now]);
    count_sla(data.sla_by_category[t.category]);
    if (t.resolved_at != 0) {
      ++data.resolved;
      if (t.max_tier == v1::TIER_GRID) ++data.resolved_within_grid;
      if (t.max_tier == v1::TIER_GRID || t.max_tier == v1::TIER_COMMUNITY) ++data.resolved_within_community;
      const std::int64_t d = std::max<std::int64_t>(0, t.resolved_at - t.created_at);
      data.resolve_all.micros.push_back(d);
      data.resolve_by_tier[t.tier_now].micros.push_back(d);
    }
  }
  std::sort(data.resolve_all.micros.begin(), data.resolve_all.micros.end());
  for (auto& [tier, r] : data.resolve_by_tier) std::sort(r.micros.begin(), r.micros.end());
  std::sort(data.incidents.begin(), data.incidents.end(), [](const IncidentRow& a, const IncidentRow& b) {
    return a.reports != b.reports ? a.reports > b.reports : a.incident_id < b.incident_id;
  });
  return data;
}

Result<std::map<std::string, std::string>> load_category_names(const std::filesystem::path& file) {
  auto table = categories::load_categories(file);   // the hub's own reader: one set of rules
  if (!table) return table.error();
  std::map<std::string, std::string> out;
  for (const auto& [code, c] : table.value()) out.emplace(code, c.name);
  return out;
}

std::string render_report_csv(const ReportData& d, const std::map<std::string, std::string>& names) {
  CsvOut csv;
  auto name_of = [&](const std::string& code) {
    auto it = names.find(code);
    return it == names.end() ? std::string{} : it->second;
  };
  csv.section("summary", {"since", "until", "intake_records", "tickets", "merged_reports", "not_a_ticket"});
  csv.row(d.period.since_micros ? format_time(*d.period.since_micros) : std::string{},
          d.period.until_micros ? format_time(*d.period.until_micros) : std::string{}, d.intake_records, d.tickets,
          d.merged_reports, d.not_tickets);

  csv.section("by_channel", {"channel", "reports", "tickets", "merged_reports", "not_a_ticket"});
  for (const auto& [c, n] : d.by_channel) csv.row(c, n.reports, n.tickets, n.merged, n.not_tickets);

  csv.section("by_category", {"category_code", "category_name", "tickets", "share_percent"});
  for (auto it : by_count(d.by_category, [](const auto& kv) { return kv.second; })) {
    csv.row(it->first, name_of(it->first), it->second, percent(it->second, d.tickets));
  }

  csv.section("by_community", {"community_code", "tickets", "grid_tier", "community_tier", "kept_local_percent"});
  for (auto it : by_count(d.by_community, [](const auto& kv) { return kv.second.tickets; })) {
    const auto& c = it->second;
    csv.row(it->first, c.tickets, c.grid_tier, c.community_tier, percent(c.grid_tier + c.community_tier, c.tickets));
  }

  csv.section("by_grid", {"grid_code", "community_code", "tickets"});
  for (auto it : by_count(d.by_grid, [](const auto& kv) { return kv.second; })) {
    csv.row(it->first.first, it->first.second, it->second);
  }

  csv.section("by_tier", {"tier", "tickets", "share_percent"});
  for (const char* t : {"grid", "community", "county", "center", ""}) {
    auto it = d.by_tier.find(t);
    const std::uint64_t n = it == d.by_tier.end() ? 0 : it->second;
    csv.row(std::string_view(t), n, percent(n, d.tickets));
  }

  // Routing tier at intake; the lifecycle measures below say where tickets were resolved.
  auto tier_n = [&](const char* t) {
    auto it = d.by_tier.find(t);
    return it == d.by_tier.end() ? std::uint64_t{0} : it->second;
  };
  csv.section("kept_local", {"level", "tickets", "share_percent", "basis"});
  csv.row("grid", tier_n("grid"), percent(tier_n("grid"), d.tickets), "routing tier at intake");
  csv.row("community", tier_n("community"), percent(tier_n("community"), d.tickets), "routing tier at intake");
  const std::uint64_t local = tier_n("grid") + tier_n("community");
  csv.row("grid_or_community", local, percent(local, d.tickets), "routing tier at intake");
  csv.row("grid", d.resolved_within_grid, percent(d.resolved_within_grid, d.tickets), "resolved, never above grid");
  csv.row("grid_or_community", d.resolved_within_community, percent(d.resolved_within_community, d.tickets),
          "resolved, never above community");

  auto sla_row = [&](std::string_view key, std::string_view name, const SlaCounts& c) {
    csv.row(key, name, c.tickets, c.no_sla, c.on_time, c.late, c.open_overdue, c.open_escalated, percent(c.on_time, c.decided()));
  };
  csv.section("sla_compliance", {"by", "key", "tickets", "no_sla", "resolved_on_time", "resolved_late", "open_overdue",
                                 "open_escalated", "compliance_percent"});
  csv.row("as_of", format_time(d.as_of_micros), "", "", "", "", "", "", "");
  sla_row("all", "", d.sla);
  for (const char* t : kTierOrder) {
    if (auto it = d.sla_by_tier.find(t); it != d.sla_by_tier.end()) sla_row("tier", t, it->second);
  }
  for (const auto& [cat, c] : d.sla_by_category) sla_row("category", cat, c);

  csv.section("returns_escalations", {"assignee", "assigned", "returns", "escalations"});
  for (auto it : by_count(d.by_assignee, [](const auto& kv) { return kv.second.returns + kv.second.escalations; })) {
    csv.row(it->first, it->second.assigned, it->second.returns, it->second.escalations);
  }

  csv.section("time_to_resolve", {"tier", "resolved", "median_hours", "p90_hours"});
  csv.row("all", static_cast<std::uint64_t>(d.resolve_all.micros.size()), hours(d.resolve_all.median()), hours(d.resolve_all.p90()));
  for (const char* t : kTierOrder) {
    if (auto it = d.resolve_by_tier.find(t); it != d.resolve_by_tier.end()) {
      csv.row(std::string_view(t), static_cast<std::uint64_t>(it->second.micros.size()), hours(it->second.median()), hours(it->second.p90()));
    }
  }

  csv.section("merged_incidents", {"incident_id", "category_code", "category_name", "community_code", "grid_code", "reports", "channels"});
  for (const auto& i : d.incidents) {
    csv.row(i.incident_id, i.category_code, name_of(i.category_code), i.community_code, i.grid_code, i.reports, join(i.channels, " "));
  }

  return csv.take();
}

std::string render_report_html(const ReportData& d, const std::map<std::string, std::string>& names) {
  auto name_of = [&](const std::string& code) {
    auto it = names.find(code);
    if (code.empty()) return std::string("(未分类)");
    return it == names.end() ? code : it->second;
  };
  auto tier_n = [&](const char* t) {
    auto it = d.by_tier.find(t);
    return it == d.by_tier.end() ? std::uint64_t{0} : it->second;
  };
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<title>诉求办理统计报告</title>\n<style>\n";
  h += kCss;
  h += "</style>\n</head>\n<body>\n<h1>诉求办理统计报告</h1>\n";
  h += fmt::format("<p class=\"meta\">统计期间（UTC）：{}；依据：事件日志（gridhub），共 {} 条受理记录。</p>\n",
                   esc(period_text(d.period, "不限")), d.intake_records);

  const std::uint64_t local = tier_n("grid") + tier_n("community");
  h += "<div>\n";
  h += fmt::format("<div class=\"kpi\"><b>{}</b><span>工单（新立）</span></div>\n", d.tickets);
  h += fmt::format("<div class=\"kpi\"><b>{}</b><span>合并到已有事件的诉求</span></div>\n", d.merged_reports);
  h += fmt::format("<div class=\"kpi\"><b>{}</b><span>非诉求记录（留档）</span></div>\n", d.not_tickets);
  h += fmt::format("<div class=\"kpi\"><b>{}%</b><span>分派在网格</span></div>\n", percent(tier_n("grid"), d.tickets));
  h += fmt::format("<div class=\"kpi\"><b>{}%</b><span>分派在网格或社区</span></div>\n", percent(local, d.tickets));
  h += "</div>\n";

  std::vector<std::pair<std::string, std::uint64_t>> bars;
  h += "<h2>按渠道</h2>\n";
  bars.clear();
  {
    HtmlTable t(h, {"渠道", "受理记录", "新立工单", "合并", "非诉求"});
    for (const auto& [c, n] : d.by_channel) {
      t.row(channel_label(c), n.reports, n.tickets, n.merged, n.not_tickets);
      bars.emplace_back(channel_label(c), n.reports);
    }
  }
  h += svg_bars(bars, "按渠道的受理记录");

  h += "<h2>按类别</h2>\n";
  bars.clear();
  {
    HtmlTable t(h, {"类别", "代码", "工单", "占比"});
    for (auto it : by_count(d.by_category, [](const auto& kv) { return kv.second; })) {
      t.row(name_of(it->first), it->first, it->second, percent(it->second, d.tickets) + "%");
      bars.emplace_back(name_of(it->first), it->second);
    }
  }
  h += svg_bars(bars, "按类别的工单");

  h += "<h2>按分派层级</h2>\n";
  bars.clear();
  {
    HtmlTable t(h, {"层级", "工单", "占比"});
    for (const char* tier : {"grid", "community", "county", "center", ""}) {
      t.row(tier_label(tier), tier_n(tier), percent(tier_n(tier), d.tickets) + "%");
      bars.emplace_back(tier_label(tier), tier_n(tier));
    }
  }
  h += svg_bars(bars, "按分派层级的工单");
  h += "<p class=\"note\">“小事不出网格”：上表按受理时的分派层级统计；办结层级见下文“办理情况”。</p>\n";

  h += "<h2>按社区</h2>\n";
  bars.clear();
  {
    HtmlTable t(h, {"社区代码", "工单", "分派网格", "分派社区", "留在社区内"});
    for (auto it : by_count(d.by_community, [](const auto& kv) { return kv.second.tickets; })) {
      const auto& c = it->second;
      t.row(code_or_none(it->first), c.tickets, c.grid_tier, c.community_tier, percent(c.grid_tier + c.community_tier, c.tickets) + "%");
      bars.emplace_back(code_or_none(it->first), c.tickets);
    }
  }
  h += svg_bars(bars, "按社区的工单");

  h += "<h2>按网格</h2>\n";
  {
    HtmlTable t(h, {"网格代码", "社区代码", "工单"});
    for (auto it : by_count(d.by_grid, [](const auto& kv) { return kv.second; })) {
      t.row(code_or_none(it->first.first), code_or_none(it->first.second), it->second);
    }
  }

  h += "<h2>同一事件的多次诉求（已合并）</h2>\n";
  if (d.incidents.empty()) {
    h += "<p>本期没有合并的诉求。</p>\n";
  } else {
    HtmlTable t(h, {"事件", "类别", "社区代码", "网格代码", "诉求次数", "渠道"});
    for (const auto& i : d.incidents) {
      std::string chans;
      for (const auto& c : i.channels) chans += (chans.empty() ? "" : "、") + std::string(channel_label(c));
      t.row(i.incident_id, name_of(i.category_code), code_or_none(i.community_code), code_or_none(i.grid_code), i.reports, chans);
    }
  }

  h += "<h2>办理情况</h2>\n";
  h += fmt::format("<p class=\"meta\">截至 {}（UTC），本期新立工单中已办结 {} 件。</p>\n", esc(format_time(d.as_of_micros)), d.resolved);
  h += "<div>\n";
  h += fmt::format("<div class=\"kpi\"><b>{}%</b><span>网格内办结</span></div>\n", percent(d.resolved_within_grid, d.tickets));
  h += fmt::format("<div class=\"kpi\"><b>{}%</b><span>社区内办结（含网格）</span></div>\n", percent(d.resolved_within_community, d.tickets));
  h += fmt::format("<div class=\"kpi\"><b>{}%</b><span>按时办结率</span></div>\n", percent(d.sla.on_time, d.sla.decided()));
  h += fmt::format("<div class=\"kpi\"><b>{}</b><span>超时未办结</span></div>\n", d.sla.open_overdue);
  h += "</div>\n";

  h += "<h2>按时办结率</h2>\n";
  bars.clear();
  {
    HtmlTable t(h, {"分组", "工单", "无时限", "按时办结", "超时办结", "超时未办结", "已升级未办结", "按时办结率"});
    auto row = [&](const std::string& label, const SlaCounts& c) {
      t.row(label, c.tickets, c.no_sla, c.on_time, c.late, c.open_overdue, c.open_escalated, percent(c.on_time, c.decided()) + "%");
    };
    row("全部", d.sla);
    for (const char* tier : kTierOrder) {
      if (auto it = d.sla_by_tier.find(tier); it != d.sla_by_tier.end()) {
        row(std::string("层级：") + tier_label(tier), it->second);
        bars.emplace_back(tier_label(tier), it->second.on_time);
      }
    }
    for (const auto& [cat, c] : d.sla_by_category) row("类别：" + name_of(cat), c);
  }
  h += svg_bars(bars, "各层级按时办结的工单");

  h += "<h2>各部门退回与升级</h2>\n";
  bars.clear();
  if (d.by_assignee.empty()) {
    h += "<p>本期没有分派记录。</p>\n";
  } else {
    HtmlTable t(h, {"承办单位", "分派次数", "退回", "超时升级"});
    for (auto it : by_count(d.by_assignee, [](const auto& kv) { return kv.second.returns + kv.second.escalations; })) {
      t.row(code_or_none(it->first), it->second.assigned, it->second.returns, it->second.escalations);
      if (it->second.returns + it->second.escalations > 0) {
        bars.emplace_back(code_or_none(it->first), it->second.returns + it->second.escalations);
      }
    }
  }
  if (!bars.empty()) h += svg_bars(bars, "各部门退回与超时升级次数");

  h += "<h2>办理时长（小时，自立单至办结）</h2>\n";
  {
    HtmlTable t(h, {"层级", "已办结", "中位数", "90% 分位"});
    t.row("全部", static_cast<std::uint64_t>(d.resolve_all.micros.size()), hours(d.resolve_all.median()), hours(d.resolve_all.p90()));
    for (const char* tier : kTierOrder) {
      if (auto it = d.resolve_by_tier.find(tier); it != d.resolve_by_tier.end()) {
        t.row(tier_label(tier), static_cast<std::uint64_t>(it->second.micros.size()), hours(it->second.median()), hours(it->second.p90()));
      }
    }
  }
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace gridhub::audit
