#include "gridhub/dryrun/score.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "gridhub/text/csv_reader.hpp"
#include "labels_file.hpp"

namespace gridhub::dryrun {

using detail::ends_with_path;
using detail::read_labels_text;

namespace {

std::string json_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
    } else {
      o += c;
    }
  }
  return o;
}

}  // namespace

std::string to_json(const RouteRow& r) {
  std::string out = fmt::format(
      "{{\"channel\":\"{}\",\"file\":\"{}\",\"record_key\":\"{}\",\"is_ticket\":{},\"malformed\":{},"
      "\"category_code\":\"{}\",\"community_code\":\"{}\",\"grid_code\":\"{}\",\"tier\":\"{}\",\"assignee_code\":\"{}\","
      "\"incident_id\":\"{}\",\"out_of_area\":{}",
      r.channel, json_escape(r.file), json_escape(r.record_key), r.is_ticket ? 1 : 0, r.malformed ? 1 : 0,
      r.category_code, r.community_code, r.grid_code, r.tier, r.assignee_code, r.incident_id, r.out_of_area ? 1 : 0);
  // After the labels' columns: the confidence, and what the centre's dispatcher is offered.
  if (r.is_ticket) out += fmt::format(",\"confidence\":{:.3f}", r.confidence);
  if (!r.suggestions.empty()) {
    out += ",\"suggestions\":[";
    for (std::size_t i = 0; i < r.suggestions.size(); ++i) {
      const auto& sg = r.suggestions[i];
      out += fmt::format("{}{{\"category_code\":\"{}\",\"tier\":\"{}\",\"assignee_code\":\"{}\",\"confidence\":{:.3f}}}",
                         i == 0 ? "" : ",", sg.category_code, sg.tier, sg.assignee_code, sg.confidence);
    }
    out += "]";
  }
  return out + "}";
}

Coverage Score::configured_coverage() const {
  Coverage c;
  for (const auto& d : dispatch) {
    ++c.tickets;
    if (d.abstained) continue;
    ++c.dispatched;
    c.category_right += d.category_right ? 1 : 0;
    c.assignee_right += d.assignee_right ? 1 : 0;
  }
  return c;
}

Coverage Score::coverage_at(double threshold) const {
  Coverage c;
  for (const auto& d : dispatch) {
    ++c.tickets;
    if (d.confidence < threshold) continue;
    ++c.dispatched;
    c.category_right += d.category_right ? 1 : 0;
    c.assignee_right += d.assignee_right ? 1 : 0;
  }
  return c;
}

Result<Score> score(const std::vector<RouteRow>& rows, const std::filesystem::path& labels) {
  auto text = read_labels_text(labels);
  if (!text) return text.error();
  text::CsvReader reader(text.value());
  text::CsvRecord rec;
  std::vector<std::string> header;
  std::map<std::string, std::size_t> col;
  // (file, record_key) -> label row
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> truth;
  while (reader.next(rec)) {
    if (header.empty()) {
      header = rec.fields;
      for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
      for (const char* need : {"channel", "file", "record_key", "is_ticket", "malformed", "category_code", "community_code",
                               "grid_code", "tier", "assignee_code", "incident_id", "out_of_area"}) {
        if (!col.count(need)) return Error(Errc::missing_field, fmt::format("{}: column '{}' is missing", labels.string(), need));
      }
      continue;
    }
    if (rec.fields.size() != header.size()) continue;
    truth[{rec.fields[col["file"]], rec.fields[col["record_key"]]}] = rec.fields;
  }

  Score s;
  std::set<std::string> files_seen;
  // Pairwise merge scoring over rows that are tickets in truth and prediction.
  struct Pair {
    std::string truth, predicted;
    int run;
  };
  std::vector<Pair> incidents;   // tickets in truth and output
  std::vector<Pair> reports;     // every labelled, well-formed report
  for (const auto& r : rows) {
    const std::vector<std::string>* t = nullptr;
    for (const auto& [key, fields] : truth) {
      (void)fields;
      if (key.second == r.record_key && ends_with_path(r.file, key.first)) {
        t = &truth[key];
        files_seen.insert(key.first);
        break;
      }
    }
    if (t == nullptr) {
      ++s.unlabelled;
      continue;
    }
    ++s.matched;
    auto get = [&](const char* c) { return (*t)[col[c]]; };
    auto field = [&](const char* name, const std::string& want, const std::string& got) {
      auto& f = s.fields[name];
      ++f.total;
      if (want == got) {
        ++f.right;
      } else {
        ++f.confused[{want, got}];
      }
    };
    const bool truth_ticket = get("is_ticket") == "1";
    const bool truth_malformed = get("malformed") == "1";
    field("malformed", get("malformed"), r.malformed ? "1" : "0");
    // A malformed record is quarantined, not classified: its other columns are only informative.
    if (truth_malformed) continue;
    reports.push_back(Pair{get("incident_id"), r.incident_id, r.run});
    field("is_ticket", get("is_ticket"), r.is_ticket ? "1" : "0");
    if (truth_ticket) {
      // An abstained ticket is scored on its first suggestion: these fields measure the classifier
      // and router; precision at coverage (dispatch) measures what was left to the centre.
      const bool first = r.abstained && !r.suggestions.empty();
      const std::string& category = first ? r.suggestions[0].category_code : r.category_code;
      const std::string& tier = first ? r.suggestions[0].tier : r.tier;
      const std::string& assignee = first ? r.suggestions[0].assignee_code : r.assignee_code;
      field("category_code", get("category_code"), category);
      field("community_code", get("community_code"), r.community_code);
      if (!get("grid_code").empty()) field("grid_code", get("grid_code"), r.grid_code);
      field("tier", get("tier"), tier);
      field("assignee_code", get("assignee_code"), assignee);
      if (r.is_ticket && !r.out_of_area && get("out_of_area") != "1") {
        s.dispatch.push_back({r.confidence, r.abstained, category == get("category_code"), assignee == get("assignee_code")});
        s.abstained += r.abstained ? 1 : 0;
      }
      if (get("out_of_area") == "1") {
        ++s.out_of_area_truth;
        if (r.out_of_area) ++s.out_of_area_found;
      }
      if (r.is_ticket) incidents.push_back(Pair{get("incident_id"), r.incident_id, r.run});
    }
  }
  for (const auto& [key, fields] : truth) {
    (void)fields;
    if (files_seen.count(key.first) == 0) continue;
    bool found = std::any_of(rows.begin(), rows.end(), [&](const RouteRow& r) {
      return r.record_key == key.second && ends_with_path(r.file, key.first);
    });
    if (!found) ++s.missing;
  }
  // Pairs in the same true incident vs pairs in the same predicted incident (within one run).
  struct Counts {
    std::size_t tp = 0, fp = 0, fn = 0;
  };
  auto count_pairs = [](const std::vector<Pair>& v) {
    Counts c;
    for (std::size_t i = 0; i < v.size(); ++i) {
      for (std::size_t j = i + 1; j < v.size(); ++j) {
        if (v[i].run != v[j].run) continue;
        const bool same_true = !v[i].truth.empty() && v[i].truth == v[j].truth;
        const bool same_pred = !v[i].predicted.empty() && v[i].predicted == v[j].predicted;
        if (same_true && same_pred) ++c.tp;
        else if (same_pred) ++c.fp;
        else if (same_true) ++c.fn;
      }
    }
    return c;
  };
  const Counts all = count_pairs(reports);
  s.pairs_tp = all.tp;
  s.pairs_fp = all.fp;
  s.pairs_fn = all.fn;
  const auto [tp, fp, fn] = count_pairs(incidents);
  s.merge_precision = tp + fp == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
  s.merge_recall = tp + fn == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
  s.merge_f1 = s.merge_precision + s.merge_recall == 0
                   ? 0
                   : 2 * s.merge_precision * s.merge_recall / (s.merge_precision + s.merge_recall);
  return s;
}

std::string confusions(const FieldScore& f, std::size_t top) {
  std::vector<std::pair<std::size_t, std::pair<std::string, std::string>>> conf;
  for (const auto& [k, n] : f.confused) conf.emplace_back(n, k);
  // Most frequent first; ties in (truth, predicted) order so the line is the same on every run.
  std::stable_sort(conf.begin(), conf.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (std::size_t i = 0; i < std::min(top, conf.size()); ++i) {
    out += fmt::format("{} {}->{} x{}", i == 0 ? "  confused:" : ",", conf[i].second.first.empty() ? "''" : conf[i].second.first,
                       conf[i].second.second.empty() ? "''" : conf[i].second.second, conf[i].first);
  }
  return out;
}

std::string report(const Score& s, std::size_t top) {
  std::string out = fmt::format("records scored {} (unlabelled {}, labelled but missing {})\n", s.matched, s.unlabelled, s.missing);
  for (const char* name : {"is_ticket", "malformed", "category_code", "community_code", "grid_code", "tier", "assignee_code"}) {
    auto it = s.fields.find(name);
    if (it == s.fields.end()) continue;
    const auto& f = it->second;
    out += fmt::format("{:<15} {:6.2f}%  ({}/{})", name, 100 * f.accuracy(), f.right, f.total);
    out += confusions(f, top);
    out += "\n";
  }
  out += fmt::format("merge           P {:.3f} R {:.3f} F1 {:.3f}\n", s.merge_precision, s.merge_recall, s.merge_f1);
  out += fmt::format("merge pairs     P {:.3f} R {:.3f} F1 {:.3f}  (every pair of labelled reports: one incident vs one ticket)\n",
                     s.pairs_precision(), s.pairs_recall(), s.pairs_f1());
  out += fmt::format("out_of_area     recall {:.2f}% ({}/{})\n", 100 * s.out_of_area_recall(), s.out_of_area_found, s.out_of_area_truth);
  out += coverage_report(s);
  return out;
}

std::string coverage_report(const Score& s, std::string_view indent) {
  const Coverage c = s.configured_coverage();
  std::string out = fmt::format(
      "{}precision at coverage: auto-dispatched {:.2f}% of {} tickets ({} to the 12345 centre with suggestions), "
      "accuracy category {:.2f}% assignee {:.2f}% (configured threshold)\n",
      indent, 100 * c.coverage(), c.tickets, c.tickets - c.dispatched, 100 * c.category_accuracy(), 100 * c.assignee_accuracy());
  out += fmt::format("{}  threshold  coverage  category  assignee\n", indent);
  for (double t : {0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95}) {
    const Coverage x = s.coverage_at(t);
    out += fmt::format("{}  {:9.2f}  {:7.2f}%  {:7.2f}%  {:7.2f}%\n", indent, t, 100 * x.coverage(), 100 * x.category_accuracy(),
                       100 * x.assignee_accuracy());
  }
  return out;
}

std::string reliability_report(const Score& s) {
  constexpr int kBins = 10;
  std::array<double, kBins> conf{};
  std::array<std::size_t, kBins> right{}, count{};
  for (const auto& d : s.dispatch) {
    const int b = std::clamp(static_cast<int>(d.confidence * kBins), 0, kBins - 1);
    conf[b] += d.confidence;
    right[b] += d.category_right ? 1 : 0;
    ++count[b];
  }
  double ece = 0;
  std::string bins;
  for (int b = 0; b < kBins; ++b) {
    if (count[b] == 0) continue;
    const double n = static_cast<double>(count[b]);
    const double mean = conf[b] / n, acc = static_cast<double>(right[b]) / n;
    ece += n / static_cast<double>(s.dispatch.size()) * std::abs(mean - acc);
    bins += fmt::format(" {:.1f}-{:.1f}:{:.2f}/{:.2f}/{}", b / 10.0, (b + 1) / 10.0, mean, acc, count[b]);
  }
  return fmt::format("calibration error (ECE) {:.2f} points over {} tickets; bins conf/acc/n:{}\n", 100 * ece,
                     s.dispatch.size(), bins);
}

}  // namespace gridhub::dryrun
