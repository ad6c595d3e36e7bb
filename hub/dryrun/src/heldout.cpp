#include "gridhub/dryrun/heldout.hpp"

#include <fmt/format.h>
#include <stdlib.h>   // mkdtemp

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <toml++/toml.h>
#include <unordered_map>

#include "gridhub/dryrun/train.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "labels_file.hpp"

namespace gridhub::dryrun {

using detail::ends_with_path;
using detail::read_labels_text;

namespace v1 = gridhub::v1;

namespace {

constexpr std::size_t kTail = 5;                 // characters of a clause's end that name its wording
constexpr std::size_t kBoilerplateLabels = 3;    // a clause under this many labels is boilerplate

// Code points of a UTF-8 string, each as its own byte string (malformed bytes pass through one by one).
std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    n = std::min(n, s.size() - i);
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool is_separator(const std::string& cp) {
  if (cp.size() == 1) {
    const auto c = static_cast<unsigned char>(cp[0]);
    return !(std::isalnum(c) || c == '-' || c == '#' || c == '/');
  }
  // CJK punctuation the normalizer leaves as is (full-width ASCII forms are already half-width).
  static const std::set<std::string> kCjk = {"。", "、", "，", "！", "？", "；", "：", "“", "”", "‘", "’",
                                             "（", "）", "《", "》", "【", "】", "…", "～", "　", "·", "—"};
  return kCjk.count(cp) > 0;
}

// Clauses of a normalized text as skeletons: code points without ASCII letters, digits and joiners.
std::vector<std::vector<std::string>> clause_skeletons(std::string_view text) {
  std::vector<std::vector<std::string>> out(1);
  for (auto& cp : code_points(text)) {
    if (is_separator(cp)) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    if (cp.size() == 1) continue;   // letters, digits, '-', '#', '/': slot fillers, not wording
    out.back().push_back(std::move(cp));
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

std::string join(const std::vector<std::string>& cps, std::size_t from, std::size_t n) {
  std::string s;
  for (std::size_t i = from; i < from + n; ++i) s += cps[i];
  return s;
}

std::string label_key(const RecordLabel& l) { return l.is_ticket ? l.category : std::string("-"); }

struct UnionFind {
  std::vector<std::size_t> parent;
  explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t find(std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(std::size_t a, std::size_t b) { parent[find(a)] = find(b); }
};

// Owns a temporary folder for the per-split models.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gridhub-heldout-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

Result<pipeline::PipelineOptions> with_classifier_model(pipeline::PipelineOptions o, const std::filesystem::path& model) {
  const std::string name = "classifier_ngram";
  toml::table t;
  try {
    t = toml::parse(o.plugin_config[name], o.source_name);
  } catch (const toml::parse_error& e) {
    return Error(Errc::bad_value, fmt::format("{}: [plugins.{}]: {}", o.source_name, name, e.description()));
  }
  t.insert_or_assign("model", model.string());
  std::ostringstream ss;
  ss << t;
  o.plugin_config[name] = ss.str();
  return o;
}

Result<std::vector<HeldoutScheme>> parse_heldout(std::string_view list) {
  std::vector<HeldoutScheme> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    const auto name = list.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    bool known = false;
    for (HeldoutScheme s : {HeldoutScheme::kInSample, HeldoutScheme::kFamilies, HeldoutScheme::kChannels}) {
      if (scheme_name(s) == name) {
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
        known = true;
      }
    }
    if (!known) {
      return Error(Errc::bad_value, fmt::format("--heldout: unknown scheme '{}' (families, channels, in-sample)", name));
    }
  }
  if (out.empty()) return Error(Errc::bad_value, "--heldout: give at least one scheme (families, channels, in-sample)");
  return out;
}

std::string_view scheme_name(HeldoutScheme s) {
  switch (s) {
    case HeldoutScheme::kInSample: return "in-sample";
    case HeldoutScheme::kFamilies: return "families";
    case HeldoutScheme::kChannels: return "channels";
  }
  return "?";
}

Result<std::vector<RecordLabel>> label_records(const std::vector<InputRecord>& records,
                                               const std::filesystem::path& labels) {
  auto text = read_labels_text(labels);
  if (!text) return text.error();
  text::CsvReader reader(text.value());
  text::CsvRecord rec;
  std::map<std::string, std::size_t> col;
  std::unordered_map<std::string, std::vector<std::pair<std::string, RecordLabel>>> by_key;   // key -> (file, label)
  while (reader.next(rec)) {
    if (col.empty()) {
      for (std::size_t i = 0; i < rec.fields.size(); ++i) col[rec.fields[i]] = i;
      for (const char* need : {"file", "record_key", "is_ticket", "malformed", "category_code"}) {
        if (!col.count(need)) return Error(Errc::missing_field, fmt::format("{}: column '{}' is missing", labels.string(), need));
      }
      continue;
    }
    if (rec.fields.size() < col.size()) continue;
    RecordLabel l;
    l.labelled = true;
    l.is_ticket = rec.fields[col["is_ticket"]] == "1";
    l.malformed = rec.fields[col["malformed"]] == "1";
    l.category = l.is_ticket ? rec.fields[col["category_code"]] : std::string{};
    by_key[rec.fields[col["record_key"]]].emplace_back(rec.fields[col["file"]], std::move(l));
  }
  std::vector<RecordLabel> out(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto it = by_key.find(records[i].record_key);
    if (it == by_key.end()) continue;
    for (const auto& [file, l] : it->second) {
      if (ends_with_path(records[i].file, file)) out[i] = l;
    }
  }
  return out;
}

std::vector<int> phrasing_families(const std::vector<std::string>& texts, const std::vector<RecordLabel>& labels) {
  const std::size_t n = texts.size();
  std::vector<std::vector<std::vector<std::string>>> clauses(n);
  std::unordered_map<std::string, std::set<std::string>> clause_labels;
  for (std::size_t i = 0; i < n; ++i) {
    if (!labels[i].labelled) continue;
    clauses[i] = clause_skeletons(texts[i]);
    for (const auto& c : clauses[i]) clause_labels[join(c, 0, c.size())].insert(label_key(labels[i]));
  }
  // Wording keys per record — each content clause's last kTail characters — and the labels each key
  // occurs under. The end, because places and times fill a clause's front ("3号楼门口垃圾桶早就满了");
  // not every shared n-gram, because slot words ("生活垃圾") would then chain a category's templates
  // into one family.
  std::vector<std::set<std::string>> grams(n);
  std::unordered_map<std::string, std::set<std::string>> gram_labels;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& c : clauses[i]) {
      if (c.size() < kTail || clause_labels[join(c, 0, c.size())].size() >= kBoilerplateLabels) continue;
      grams[i].insert(join(c, c.size() - kTail, kTail));
    }
    for (const auto& g : grams[i]) gram_labels[g].insert(label_key(labels[i]));
  }
  UnionFind uf(n);
  std::unordered_map<std::string, std::size_t> first;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& g : grams[i]) {
      if (gram_labels[g].size() != 1) continue;
      auto [it, inserted] = first.emplace(g, i);
      if (!inserted) uf.unite(i, it->second);
    }
  }
  // Number families by their smallest text, not by input order, so the folds (which break ties by
  // family id) do not change when the same files are given in another order.
  std::map<std::size_t, std::string> least;   // root -> smallest member text
  for (std::size_t i = 0; i < n; ++i) {
    if (!labels[i].labelled) continue;
    auto [it, inserted] = least.emplace(uf.find(i), texts[i]);
    if (!inserted && texts[i] < it->second) it->second = texts[i];
  }
  std::vector<std::pair<std::string, std::size_t>> order;
  for (const auto& [root, text] : least) order.emplace_back(text, root);
  std::sort(order.begin(), order.end());
  std::unordered_map<std::size_t, int> ids;
  for (const auto& [text, root] : order) ids.emplace(root, static_cast<int>(ids.size()));
  std::vector<int> family(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i].labelled) family[i] = ids.at(uf.find(i));
  }
  return family;
}

std::vector<Split> family_folds(const std::vector<int>& family, int folds) {
  folds = std::max(folds, 2);
  std::map<int, std::size_t> size;
  for (int f : family) {
    if (f >= 0) ++size[f];
  }
  std::vector<std::pair<std::size_t, int>> order;   // (size, family), largest first, then by id
  for (const auto& [f, s] : size) order.emplace_back(s, f);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::size_t> load(static_cast<std::size_t>(folds), 0);
  std::map<int, std::size_t> fold_of;
  for (const auto& [s, f] : order) {
    const auto k = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    fold_of[f] = k;
    load[k] += s;
  }
  std::vector<Split> out;
  for (std::size_t k = 0; k < load.size(); ++k) {
    if (load[k] == 0) continue;   // fewer families than folds
    Split s{fmt::format("families fold {}/{}", k + 1, folds), std::vector<bool>(family.size(), false)};
    for (std::size_t i = 0; i < family.size(); ++i) s.held_out[i] = family[i] >= 0 && fold_of[family[i]] == k;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Split> channel_splits(const std::vector<InputRecord>& records, const std::vector<RecordLabel>& labels) {
  std::vector<Split> out;
  for (const auto& [c, name] : {std::pair{v1::CHANNEL_HOTLINE, "hotline"}, std::pair{v1::CHANNEL_WECHAT, "wechat"},
                                 std::pair{v1::CHANNEL_WEBFORM, "webform"}}) {
    Split s{fmt::format("without {}", name), std::vector<bool>(records.size(), false)};
    bool any = false;
    for (std::size_t i = 0; i < records.size(); ++i) {
      s.held_out[i] = labels[i].labelled && records[i].event.channel() == c;
      any = any || s.held_out[i];
    }
    if (any) out.push_back(std::move(s));
  }
  return out;
}

Result<HeldoutResult> evaluate_heldout(const std::vector<InputRecord>& records, HeldoutScheme scheme,
                                       const HeldoutOptions& options) {
  if (options.pipeline.classifier != "classifier_ngram") {
    return Error(Errc::bad_value, fmt::format("{}: held-out evaluation retrains classifier_ngram; pipeline.classifier is '{}'",
                                              options.pipeline.source_name, options.pipeline.classifier));
  }
  auto labels = label_records(records, options.labels);
  if (!labels) return labels.error();

  HeldoutResult result;
  result.scheme = scheme;
  std::vector<Split> splits;
  switch (scheme) {
    case HeldoutScheme::kInSample: {
      Split all{"in-sample", std::vector<bool>(records.size(), false)};
      for (std::size_t i = 0; i < records.size(); ++i) all.held_out[i] = labels.value()[i].labelled;
      splits.push_back(std::move(all));
      break;
    }
    case HeldoutScheme::kFamilies: {
      // Families come from the text the classifier sees: the hub's normalization, nothing else.
      pipeline::PipelineOptions none;
      none.resolver = none.classifier = none.merger = none.router = "";
      none.opencc = options.pipeline.opencc;
      auto norm = pipeline::Pipeline::create(none);
      if (!norm) return norm.error();
      std::vector<std::string> texts;
      texts.reserve(records.size());
      for (const auto& r : records) texts.push_back(r.event.has_rejection() ? std::string{} : norm.value()->assess(r.event).text);
      const auto family = phrasing_families(texts, labels.value());
      result.families = family.empty() ? 0 : static_cast<std::size_t>(*std::max_element(family.begin(), family.end()) + 1);
      splits = family_folds(family, options.folds);
      break;
    }
    case HeldoutScheme::kChannels:
      splits = channel_splits(records, labels.value());
      break;
  }
  result.splits = splits.size();

  TempDir tmp;
  if (tmp.path.empty()) return Error(Errc::io_failed, "held-out evaluation: cannot create a temporary folder for models");
  std::vector<RouteRow> held_rows;
  for (std::size_t k = 0; k < splits.size(); ++k) {
    const auto& split = splits[k];
    const bool trains_on_all = scheme == HeldoutScheme::kInSample;
    std::vector<InputRecord> train;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (trains_on_all || !split.held_out[i]) train.push_back(records[i]);
    }
    const auto model = tmp.path / fmt::format("split-{}.ngram", k);
    auto trained = train_classifier(train, options.labels, options.categories, model, options.seed, options.knowledge);
    if (!trained) return Error(trained.error().code, fmt::format("{}: {}", split.name, trained.error().detail));
    auto po = with_classifier_model(options.pipeline, model);
    if (!po) return po.error();
    auto p = pipeline::Pipeline::create(po.value());
    if (!p) return p.error();
    auto rows = run(*p.value(), records);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!split.held_out[i]) continue;
      // Incident ids restart in every run: keep them apart across splits.
      if (!rows[i].incident_id.empty()) rows[i].incident_id = fmt::format("{}:{}", k, rows[i].incident_id);
      rows[i].run = static_cast<int>(k);   // and pairs are counted within a split only
      held_rows.push_back(std::move(rows[i]));
    }
  }
  auto s = score(held_rows, options.labels);
  if (!s) return s.error();
  result.score = std::move(s).value();
  return result;
}

std::string heldout_report(const Score& baseline, const std::vector<HeldoutResult>& results) {
  static constexpr std::pair<const char*, const char*> kFields[] = {{"is_ticket", "is-ticket"},
                                                                    {"community_code", "community"},
                                                                    {"grid_code", "grid"},
                                                                    {"category_code", "category"},
                                                                    {"assignee_code", "assignee"}};
  auto acc = [](const Score& s, const char* field) -> double {
    auto it = s.fields.find(field);
    return it == s.fields.end() ? 1.0 : it->second.accuracy();
  };
  // Gaps are taken from the retrained in-sample figures when present (same training, only the split
  // differs), else from the configured model.
  const Score* in_sample = &baseline;
  for (const auto& r : results) {
    if (r.scheme == HeldoutScheme::kInSample) in_sample = &r.score;
  }
  std::string out = "held-out evaluation: per split the classifier is retrained on the rest (as `gridhubctl train`)\n";
  for (const auto& r : results) {
    out += fmt::format("  {:<10} {} split(s){}, {} records scored\n", scheme_name(r.scheme), r.splits,
                       r.scheme == HeldoutScheme::kFamilies ? fmt::format(" over {} phrasing families", r.families) : "",
                       r.score.matched);
  }
  out += fmt::format("{:<11} {:>10}", "field", "configured");
  for (const auto& r : results) out += fmt::format(" {:>10}", scheme_name(r.scheme));
  for (const auto& r : results) {
    if (&r.score != in_sample) out += fmt::format(" {:>14}", fmt::format("gap {}", scheme_name(r.scheme)));
  }
  out += "\n";
  for (const auto& [field, label] : kFields) {
    out += fmt::format("{:<11} {:>9.2f}%", label, 100 * acc(baseline, field));
    for (const auto& r : results) out += fmt::format(" {:>9.2f}%", 100 * acc(r.score, field));
    for (const auto& r : results) {
      if (&r.score != in_sample) out += fmt::format(" {:>+14.2f}", 100 * (acc(*in_sample, field) - acc(r.score, field)));
    }
    out += "\n";
  }
  out += "(gap = in-sample minus held-out, in points)\n";
  // What the model misses on wordings it has not seen: the causes to fix are read from these.
  for (const auto& r : results) {
    if (&r.score == in_sample) continue;
    for (const char* field : {"category_code", "assignee_code"}) {
      auto it = r.score.fields.find(field);
      if (it == r.score.fields.end() || it->second.confused.empty()) continue;
      out += fmt::format("{} {}{}\n", scheme_name(r.scheme), field, confusions(it->second, 8));
    }
  }
  // Merging learns nothing, but it follows the category: pairs of held-out reports within one split.
  out += fmt::format("merge pairs F1: configured {:.3f}", baseline.pairs_f1());
  for (const auto& r : results) {
    out += fmt::format(", {} {:.3f} (P {:.3f} R {:.3f})", scheme_name(r.scheme), r.score.pairs_f1(),
                       r.score.pairs_precision(), r.score.pairs_recall());
  }
  out += fmt::format("; out-of-area recall: configured {:.1f}%", 100 * baseline.out_of_area_recall());
  for (const auto& r : results) out += fmt::format(", {} {:.1f}%", scheme_name(r.scheme), 100 * r.score.out_of_area_recall());
  out += "\n";
  for (const auto& r : results) {
    out += fmt::format("{}: {}", scheme_name(r.scheme), reliability_report(r.score));
    out += coverage_report(r.score, "  ");
  }
  return out;
}

}  // namespace gridhub::dryrun
