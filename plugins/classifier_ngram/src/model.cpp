#include "gridhub/plugins/classifier_ngram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "features.hpp"
#include "model_impl.hpp"
#include "segmenter.hpp"

namespace gridhub::classifier_ngram {

using detail::Feature;
using detail::FeatureKind;

namespace {

constexpr std::string_view kMagic = "gridhub-classifier-ngram";

// Kinds that carry no words to judge: a picture or a location is context for a ticket, never one.
bool is_textual(std::string_view kind) noexcept { return kind.empty() || kind == "text" || kind == "quote"; }

bool has_prefix(const std::vector<char32_t>& s, std::u32string_view p) noexcept {
  return s.size() >= p.size() && std::equal(p.begin(), p.end(), s.begin());
}

bool contains(const std::vector<char32_t>& s, std::u32string_view p) noexcept {
  return std::search(s.begin(), s.end(), p.begin(), p.end()) != s.end();
}

// Test submissions are a policy, not a pattern to learn: every channel sends a few ("测试工单，请忽略",
// "测试", "test") and a model that has seen none must still drop them. A real report that starts
// with 测试 and is longer than a short phrase is left to the model.
bool is_test_order(std::string_view text) {
  thread_local std::vector<char32_t> s;
  detail::content_symbols(text, s);
  if (contains(s, U"测试工单") || contains(s, U"测试请忽略") || contains(s, U"测试数据")) return true;
  if (has_prefix(s, U"测试") && s.size() <= 8) return true;
  return s == std::vector<char32_t>{U't', U'e', U's', U't'};
}

// splitmix64: a fixed, portable generator, so the shuffle (and hence the artefact) is the same on
// every standard library; std::shuffle's algorithm is unspecified.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

std::uint64_t hash_u64(std::uint64_t h, std::uint64_t v) noexcept {
  std::array<char, 8> b{};
  for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return detail::fnv1a(h, std::string_view(b.data(), b.size()));
}

std::uint64_t hash_str(std::uint64_t h, std::string_view s) noexcept {
  return detail::fnv1a(hash_u64(h, s.size()), s);   // length-prefixed: "ab"+"c" differs from "a"+"bc"
}

std::uint64_t hash_double(std::uint64_t h, double d) noexcept { return hash_u64(h, std::bit_cast<std::uint64_t>(d)); }

std::uint64_t training_hash(const std::vector<TrainingExample>& examples, const TrainOptions& o) {
  std::uint64_t h = hash_u64(detail::kFnvOffset, kFormatVersion);
  h = hash_u64(h, o.seed);
  h = hash_u64(h, static_cast<std::uint64_t>(o.epochs));
  h = hash_double(h, o.learning_rate);
  h = hash_double(h, o.l2);
  h = hash_u64(h, static_cast<std::uint64_t>(o.ngram_min));
  h = hash_u64(h, static_cast<std::uint64_t>(o.ngram_max));
  h = hash_double(h, o.prior_weight);
  if (o.words) h = hash_str(hash_str(h, "words"), o.words->dict_dir());
  if (!o.lexicon_features.empty()) {
    // Only when used: a model without lexicon features keeps the data version it always had.
    h = hash_str(h, "lexicon_features");
    h = hash_double(h, o.lexicon_weight);
    for (const auto& [code, term] : o.lexicon_features) h = hash_str(hash_str(h, code), term);
  }
  if (!o.calibration_folds.empty()) {
    // Only when calibrating: an uncalibrated model keeps the data version it always had.
    h = hash_str(h, "calibration");
    for (int f : o.calibration_folds) h = hash_u64(h, static_cast<std::uint64_t>(static_cast<std::int64_t>(f)));
  }
  for (const auto& e : examples) {
    h = hash_str(h, e.text);
    h = hash_str(h, e.category_hint);
    h = hash_str(h, e.message_kind);
    h = hash_u64(h, e.from_staff ? 1 : 0);
    h = hash_str(h, e.request_kind);
    h = hash_str(h, e.channel);
    h = hash_str(h, e.label);
  }
  return h;
}

detail::Signals signals_of(const TrainingExample& e) {
  return {e.text, e.category_hint, e.message_kind, e.from_staff, e.request_kind, e.channel};
}

detail::Signals signals_of(const plugin::Record& r) {
  return {r.text, r.category_hint, r.message_kind, r.from_staff, r.request_kind, r.channel};
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint32_t get_u32(const char* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

Error bad_artefact(const std::string& source, std::string_view what) {
  return Error(Errc::bad_value, fmt::format("{}: not a usable classifier_ngram model: {}", source, what));
}

// Label of a feature for explanations: the n-gram itself, or the signal it stands for.
std::string feature_label(const Feature& f, const plugin::Record& r) {
  auto span = [&](std::string_view field) {
    return f.end <= field.size() && f.begin <= f.end ? std::string(field.substr(f.begin, f.end - f.begin))
                                                      : std::string();
  };
  switch (f.kind) {
    case FeatureKind::kNgram: {
      std::string s = span(r.text);
      return s.empty() ? std::string("⟨edge⟩") : s;
    }
    case FeatureKind::kHint: return "hint:" + span(r.category_hint);
    case FeatureKind::kHintPart: return "hint:" + span(r.category_hint);
    case FeatureKind::kMessageKind: return "kind:" + (r.message_kind.empty() ? std::string("text") : std::string(r.message_kind));
    case FeatureKind::kStaff: return "staff";
    case FeatureKind::kRequestKind: return "request:" + span(r.request_kind);
    case FeatureKind::kChannel: return "channel:" + span(r.channel);
    case FeatureKind::kLength: return std::string(detail::length_bucket_name(f.begin));
    case FeatureKind::kBias: return "bias";
    case FeatureKind::kWord: return "word:" + span(r.text);
    case FeatureKind::kLexicon: return "lexicon:" + span(r.text);
  }
  return "?";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Impl

void Model::Impl::build_index() {
  std::size_t cap = 16;
  while (cap < ids.size() * 2) cap <<= 1;
  slot_ids.assign(cap, 0);
  slot_rows.assign(cap, 0);
  mask = cap - 1;
  for (std::size_t row = 0; row < ids.size(); ++row) {
    std::size_t slot = slot_of(ids[row]);
    while (slot_rows[slot] != 0) slot = (slot + 1) & mask;
    slot_ids[slot] = ids[row];
    slot_rows[slot] = static_cast<std::uint32_t>(row + 1);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Model

Model::Model() : impl_(std::make_shared<const Impl>(Impl::empty())) {}

Model::Impl Model::Impl::empty() {
  Impl impl;
  impl.data_version = "ngram1-untrained";
  impl.classes = {""};
  impl.stride = 1;
  impl.build_index();
  return impl;
}

const std::string& Model::data_version() const noexcept { return impl_->data_version; }
const std::vector<std::string>& Model::classes() const noexcept { return impl_->classes; }
double Model::temperature() const noexcept { return impl_->temperature; }

Prediction Model::predict(const plugin::Record& record) const noexcept {
  return predict(record, 0.5);
}

Prediction Model::predict(const plugin::Record& record, double ticket_threshold) const noexcept {
  Prediction p;
  try {
    if (!is_textual(record.message_kind)) {
      p.rule = "message_kind";
      p.confidence = 1;
      p.why = fmt::format("a {} message carries no report text", record.message_kind);
      return p;
    }
    if (detail::content_length(record.text) == 0) {
      p.rule = "empty_text";
      p.confidence = 1;
      p.why = "no text";
      return p;
    }
    if (is_test_order(record.text)) {
      p.rule = "test_order";
      p.confidence = 1;
      p.why = "test submission";
      return p;
    }

    const Impl& m = *impl_;
    const std::size_t nc = m.classes.size();
    thread_local std::vector<Feature> feats;
    thread_local std::vector<std::uint32_t> rows;   // row per feature, kNoRow when unseen in training
    thread_local std::vector<float> scores;
    detail::extract(signals_of(record), m.features, false, feats);
    rows.resize(feats.size());
    scores.assign(m.stride, 0.0F);
    for (std::size_t i = 0; i < feats.size(); ++i) {
      const std::uint32_t row = m.find(feats[i].id);
      rows[i] = row;
      if (row == Impl::kNoRow) continue;
      const float v = feats[i].value;
      const float* w = &m.weights[static_cast<std::size_t>(row) * m.stride];
      for (std::size_t c = 0; c < m.stride; ++c) scores[c] += w[c] * v;
    }

    float top = scores[0];
    for (std::size_t c = 1; c < nc; ++c) top = std::max(top, scores[c]);
    double sum = 0;
    std::array<double, 256> prob{};   // classes are categories: a county has tens, the artefact caps at 256
    for (std::size_t c = 0; c < nc; ++c) sum += prob[c] = std::exp(static_cast<double>(scores[c] - top));
    for (std::size_t c = 0; c < nc; ++c) prob[c] /= sum;

    std::size_t best_cat = 0;
    for (std::size_t c = 1; c < nc; ++c) {
      if (best_cat == 0 || prob[c] > prob[best_cat]) best_cat = c;
    }
    p.rule = "ngram_model";
    p.ticket_probability = 1.0 - prob[0];
    p.is_ticket = best_cat != 0 && p.ticket_probability >= ticket_threshold;
    const std::size_t decided = p.is_ticket ? best_cat : 0;
    p.confidence = prob[decided];
    if (p.is_ticket) {
      p.category = m.classes[best_cat];
      // Which category, given a ticket: the softmax over the categories alone at the calibrated
      // temperature (the ticket decision above keeps the raw probabilities, so calibration never
      // changes what is a ticket).
      std::array<double, 256> cat{};
      double cat_sum = 0;
      const double inv_t = 1.0 / m.temperature;
      for (std::size_t c = 1; c < nc; ++c) {
        cat_sum += cat[c] = std::exp(static_cast<double>(scores[c] - scores[best_cat]) * inv_t);
      }
      std::array<std::size_t, 3> top3{0, 0, 0};
      for (std::size_t c = 1; c < nc; ++c) {
        cat[c] /= cat_sum;
        for (std::size_t k = 0; k < top3.size(); ++k) {
          if (top3[k] == 0 || cat[c] > cat[top3[k]]) {
            for (std::size_t j = top3.size() - 1; j > k; --j) top3[j] = top3[j - 1];
            top3[k] = c;
            break;
          }
        }
      }
      p.confidence = cat[best_cat];
      p.suggestions.reserve(3);
      for (std::size_t c : top3) {
        if (c != 0) p.suggestions.push_back({m.classes[c], cat[c]});
      }
    }

    // Why: the three features that pushed the decided class up the most.
    std::array<std::pair<float, std::size_t>, 3> best{};
    for (auto& b : best) b = {0.0F, feats.size()};
    for (std::size_t i = 0; i < feats.size(); ++i) {
      if (rows[i] == Impl::kNoRow || feats[i].kind == FeatureKind::kBias) continue;
      const float contrib = m.weights[static_cast<std::size_t>(rows[i]) * m.stride + decided] * feats[i].value;
      if (contrib <= best[2].first) continue;
      bool dup = false;   // the same n-gram twice in a text is one reason, not two
      for (auto& b : best) {
        if (b.second < feats.size() && feats[b.second].id == feats[i].id) {
          b.first += contrib;
          dup = true;
        }
      }
      if (!dup) best[2] = {contrib, i};
      std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    }
    p.why = fmt::format("{} p={:.2f}:", p.is_ticket ? p.category : std::string("not_ticket"), p.confidence);
    for (const auto& b : best) {
      if (b.second >= feats.size()) break;
      p.why += fmt::format(" {}({:+.2f})", feature_label(feats[b.second], record), b.first);
    }
  } catch (...) {
    // Only allocation can throw here; a record we cannot score is not a ticket, and says so.
    p = Prediction{};
    p.rule = "internal_error";
    p.why = "classifier could not score the record";
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Training

namespace {

Model::Impl fit_weights(const std::vector<TrainingExample>& examples, const TrainOptions& options);

// Category scores (logits) of one example under a model, categories only (index c-1 for class c).
void category_logits(const Model::Impl& m, const TrainingExample& e, std::vector<Feature>& feats, std::vector<double>& out) {
  detail::extract(signals_of(e), m.features, false, feats);
  out.assign(m.stride, 0.0);
  for (const auto& f : feats) {
    const std::uint32_t row = m.find(f.id);
    if (row == Model::Impl::kNoRow) continue;
    const float* w = &m.weights[static_cast<std::size_t>(row) * m.stride];
    for (std::size_t c = 0; c < m.stride; ++c) out[c] += static_cast<double>(w[c]) * f.value;
  }
  out.erase(out.begin());
}

struct HeldOutScore {
  std::vector<double> logits;   // per category of the fold's model
  std::size_t truth;            // index into logits
};

double nll(const std::vector<HeldOutScore>& scores, double inv_t) {
  double total = 0;
  for (const auto& s : scores) {
    const double top = *std::max_element(s.logits.begin(), s.logits.end()) * inv_t;
    double sum = 0;
    for (double z : s.logits) sum += std::exp(z * inv_t - top);
    total += std::log(sum) + top - s.logits[s.truth] * inv_t;
  }
  return total;
}

// Temperature scaling (Guo et al. 2017): one scalar, so the ranking of categories never changes.
// The held-out NLL is convex in 1/T; golden-section search over [0.05, 20] is enough.
double fit_temperature(const std::vector<TrainingExample>& examples, const TrainOptions& options) {
  TrainOptions plain = options;
  plain.calibration_folds.clear();
  std::vector<int> folds;
  for (int f : options.calibration_folds) {
    if (f >= 0) folds.push_back(f);
  }
  std::sort(folds.begin(), folds.end());
  folds.erase(std::unique(folds.begin(), folds.end()), folds.end());
  std::vector<HeldOutScore> scores;
  std::vector<Feature> feats;
  std::vector<double> logits;
  for (int fold : folds) {
    std::vector<TrainingExample> rest;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (options.calibration_folds[i] != fold) rest.push_back(examples[i]);
    }
    const Model::Impl sub = fit_weights(rest, plain);
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const auto& e = examples[i];
      if (options.calibration_folds[i] != fold || e.label.empty() || e.channel == kPriorChannel) continue;
      const auto it = std::find(sub.classes.begin() + 1, sub.classes.end(), e.label);
      if (it == sub.classes.end() || sub.classes.size() < 3) continue;   // a category the fold's model never saw
      category_logits(sub, e, feats, logits);
      scores.push_back({logits, static_cast<std::size_t>(it - sub.classes.begin()) - 1});
    }
  }
  if (scores.empty()) return 1.0;
  double lo = 1.0 / 20, hi = 1.0 / 0.05;   // in 1/T
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
  double fa = nll(scores, a), fb = nll(scores, b);
  for (int i = 0; i < 60; ++i) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(scores, a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(scores, b);
    }
  }
  return 2.0 / (lo + hi);
}

}  // namespace

Model train(const std::vector<TrainingExample>& examples, const TrainOptions& options) {
  Model::Impl m = fit_weights(examples, options);
  if (!options.calibration_folds.empty() && options.calibration_folds.size() == examples.size()) {
    m.temperature = fit_temperature(examples, options);
    m.calibrated = true;
  }
  m.data_version = fmt::format("ngram1-{:016x}", training_hash(examples, options));
  return Model(std::make_shared<const Model::Impl>(std::move(m)));
}

namespace {

Model::Impl fit_weights(const std::vector<TrainingExample>& examples, const TrainOptions& options) {
  Model::Impl m;
  m.features.ngram_min = std::clamp(options.ngram_min, 1, 8);
  m.features.ngram_max = std::clamp(options.ngram_max, m.features.ngram_min, 8);
  m.words = options.words;
  m.features.words = m.words.get();
  if (!options.lexicon_features.empty()) {
    m.lexicon_weight = options.lexicon_weight;
    auto lex = std::make_shared<detail::Lexicon>(static_cast<float>(m.lexicon_weight));
    for (const auto& [code, term] : options.lexicon_features) {
      // The artefact writes a term on one header line, tab-separated: a term holding either cannot be kept.
      if (term.find_first_of("\t\n") != std::string::npos) continue;
      lex->add(term, code);
      m.lexicon_terms.emplace_back(code, term);
    }
    m.lexicon = std::move(lex);
    m.features.lexicon = m.lexicon.get();
  }

  std::vector<std::string> codes;
  for (const auto& e : examples) {
    if (!e.label.empty()) codes.push_back(e.label);
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  if (codes.size() > 255) codes.resize(255);   // predict's fixed probability buffer; see Impl
  m.classes.emplace_back();
  m.classes.insert(m.classes.end(), codes.begin(), codes.end());
  const std::size_t nc = m.classes.size();
  m.stride = nc;

  struct Sample {
    std::vector<std::pair<std::uint32_t, float>> x;   // (row, value)
    std::size_t y;
    double weight;
  };
  std::vector<Sample> samples;
  samples.reserve(examples.size());
  std::unordered_map<std::uint32_t, std::uint32_t> row_of;
  std::vector<std::uint32_t> ids;
  std::vector<Feature> feats;
  for (const auto& e : examples) {
    const auto it = std::lower_bound(codes.begin(), codes.end(), e.label);
    if (!e.label.empty() && (it == codes.end() || *it != e.label)) continue;
    const bool prior = e.channel == kPriorChannel;
    detail::extract(signals_of(e), m.features, prior, feats);
    Sample s;
    s.y = e.label.empty() ? 0 : static_cast<std::size_t>(it - codes.begin()) + 1;
    s.weight = prior ? options.prior_weight : 1.0;
    s.x.reserve(feats.size());
    for (const auto& f : feats) {
      auto [pos, inserted] = row_of.try_emplace(f.id, static_cast<std::uint32_t>(ids.size()));
      if (inserted) ids.push_back(f.id);
      s.x.emplace_back(pos->second, f.value);
    }
    samples.push_back(std::move(s));
  }

  const std::size_t rows = ids.size();
  std::vector<double> w(rows * nc, 0.0);
  std::vector<double> g2(rows * nc, 0.0);
  std::vector<double> score(nc);
  std::vector<std::size_t> order(samples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  SplitMix rng{options.seed};
  const double lr = options.learning_rate;
  const double l2 = options.l2;

  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
    for (std::size_t idx : order) {
      const Sample& s = samples[idx];
      std::fill(score.begin(), score.end(), 0.0);
      for (const auto& [row, v] : s.x) {
        const double* wr = &w[row * nc];
        for (std::size_t c = 0; c < nc; ++c) score[c] += wr[c] * v;
      }
      const double top = *std::max_element(score.begin(), score.end());
      double sum = 0;
      for (auto& sc : score) sum += sc = std::exp(sc - top);
      for (std::size_t c = 0; c < nc; ++c) score[c] = (score[c] / sum - (c == s.y ? 1.0 : 0.0)) * s.weight;
      for (const auto& [row, v] : s.x) {
        double* wr = &w[row * nc];
        double* gr = &g2[row * nc];
        for (std::size_t c = 0; c < nc; ++c) {
          const double g = score[c] * v + l2 * wr[c];
          gr[c] += g * g;
          wr[c] -= lr * g / (std::sqrt(gr[c]) + 1e-8);
        }
      }
    }
  }

  // Rows in ascending feature id: the artefact must not depend on the order features were first met.
  std::vector<std::uint32_t> perm(rows);
  for (std::uint32_t r = 0; r < rows; ++r) perm[r] = r;
  std::sort(perm.begin(), perm.end(), [&](std::uint32_t a, std::uint32_t b) { return ids[a] < ids[b]; });
  m.ids.resize(rows);
  m.weights.assign(rows * m.stride, 0.0F);
  for (std::size_t k = 0; k < rows; ++k) {
    m.ids[k] = ids[perm[k]];
    for (std::size_t c = 0; c < nc; ++c) m.weights[k * m.stride + c] = static_cast<float>(w[perm[k] * nc + c]);
  }
  m.build_index();
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Artefact: a short text header (readable with `head`), a blank line, then little-endian rows of
// (u32 feature id, float32 weight per class). The header carries a checksum of the body so a
// truncated copy is refused rather than half-loaded.

Status Model::save(const std::filesystem::path& path) const {
  const Impl& m = *impl_;
  std::string body;
  body.reserve(m.ids.size() * (4 + 4 * m.classes.size()));
  for (std::size_t r = 0; r < m.ids.size(); ++r) {
    put_u32(body, m.ids[r]);
    for (std::size_t c = 0; c < m.classes.size(); ++c) {
      put_u32(body, std::bit_cast<std::uint32_t>(m.weights[r * m.stride + c]));
    }
  }
  std::string classes;
  for (std::size_t c = 0; c < m.classes.size(); ++c) {
    if (c > 0) classes += ',';
    classes += m.classes[c];
  }
  // `words` only when the model uses them: artefacts without word features stay byte-identical.
  const std::string words = m.words ? fmt::format("words friso {}\n", m.words->dict_dir()) : std::string();
  // `temperature` only when calibrated, for the same reason; `{}` writes the shortest text that
  // reads back as the same double.
  const std::string temperature = m.calibrated ? fmt::format("temperature {}\n", m.temperature) : std::string();
  // `lexicon_weight` and `lexicon_features` only when used: code=term entries, tab-separated.
  std::string lexicon;
  if (!m.lexicon_terms.empty()) {
    lexicon = fmt::format("lexicon_weight {}\nlexicon_features ", m.lexicon_weight);
    for (std::size_t i = 0; i < m.lexicon_terms.size(); ++i) {
      lexicon += fmt::format("{}{}={}", i > 0 ? "\t" : "", m.lexicon_terms[i].first, m.lexicon_terms[i].second);
    }
    lexicon += '\n';
  }
  std::string out = fmt::format(
      "{}\nformat_version {}\ndata_version {}\nngram {} {}\n{}{}{}classes {} {}\nrows {}\nbody_fnv1a64 {:016x}\n\n",
      kMagic, kFormatVersion, m.data_version, m.features.ngram_min, m.features.ngram_max, words, temperature, lexicon, m.classes.size(),
      classes, m.ids.size(), detail::fnv1a(detail::kFnvOffset, body));
  out += body;

  // Write beside and rename, so a hub reloading the model never reads half a file.
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error(Errc::io_failed, fmt::format("{}: cannot open for writing", tmp.string()));
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    if (!f) return Error(Errc::io_failed, fmt::format("{}: write failed", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error(Errc::io_failed, fmt::format("{}: {}", path.string(), ec.message()));
  return Ok{};
}

Result<Model> Model::load(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(Errc::io_failed, fmt::format("{}: cannot open model file", path.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  return load_model(ss.str(), path.string());
}

Result<Model> load_model(std::string_view bytes, const std::string& source) {
  const std::size_t header_end = bytes.find("\n\n");
  if (header_end == std::string_view::npos) return bad_artefact(source, "no header");
  std::istringstream header{std::string(bytes.substr(0, header_end + 1))};
  std::string line;
  std::getline(header, line);
  if (line != kMagic) return bad_artefact(source, "missing the 'gridhub-classifier-ngram' header");

  std::map<std::string, std::string> kv;
  while (std::getline(header, line)) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos) return bad_artefact(source, fmt::format("bad header line '{}'", line));
    kv[line.substr(0, sp)] = line.substr(sp + 1);
  }
  // The version is checked before anything else is interpreted: later formats may change any of it.
  const auto version = kv.find("format_version");
  if (version == kv.end()) return bad_artefact(source, "no format_version");
  if (version->second != std::to_string(kFormatVersion)) {
    return bad_artefact(source, fmt::format("format version {} (this build reads version {}; retrain or "
                                            "use a matching gridhub)",
                                            version->second, kFormatVersion));
  }

  Model::Impl m;
  try {
    m.data_version = kv.at("data_version");
    std::istringstream ng(kv.at("ngram"));
    if (!(ng >> m.features.ngram_min >> m.features.ngram_max) || m.features.ngram_min < 1 ||
        m.features.ngram_max < m.features.ngram_min || m.features.ngram_max > 8) {
      return bad_artefact(source, "bad ngram range");
    }
    const std::string& cl = kv.at("classes");
    const auto sp = cl.find(' ');
    const std::size_t nc = std::stoul(cl.substr(0, sp));
    const std::string list = sp == std::string::npos ? std::string() : cl.substr(sp + 1);
    std::size_t start = 0;
    while (true) {
      const auto comma = list.find(',', start);
      m.classes.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (m.classes.size() != nc || nc == 0 || nc > 256 || !m.classes[0].empty()) {
      return bad_artefact(source, "class list does not match its count or lacks the not-a-ticket class");
    }
    m.stride = nc;
    const std::size_t rows = std::stoul(kv.at("rows"));
    const std::uint64_t checksum = std::stoull(kv.at("body_fnv1a64"), nullptr, 16);
    const std::string_view body = bytes.substr(header_end + 2);
    const std::size_t row_bytes = 4 + 4 * nc;
    if (body.size() != rows * row_bytes) {
      return bad_artefact(source, fmt::format("body is {} bytes, header promises {} (truncated copy?)", body.size(),
                                              rows * row_bytes));
    }
    if (detail::fnv1a(detail::kFnvOffset, body) != checksum) return bad_artefact(source, "body checksum mismatch");
    m.ids.resize(rows);
    m.weights.resize(rows * nc);
    for (std::size_t r = 0; r < rows; ++r) {
      const char* p = body.data() + r * row_bytes;
      m.ids[r] = get_u32(p);
      if (r > 0 && m.ids[r] <= m.ids[r - 1]) return bad_artefact(source, "feature ids not strictly ascending");
      for (std::size_t c = 0; c < nc; ++c) m.weights[r * nc + c] = std::bit_cast<float>(get_u32(p + 4 + 4 * c));
    }
  } catch (const std::out_of_range&) {
    return bad_artefact(source, "header lacks a required field or a number is out of range");
  } catch (const std::invalid_argument&) {
    return bad_artefact(source, "header holds a field that is not a number");
  }
  if (const auto t = kv.find("temperature"); t != kv.end()) {
    // Optional (older artefacts have none: temperature 1, the plain softmax).
    char* end = nullptr;
    const double v = std::strtod(t->second.c_str(), &end);
    if (end == t->second.c_str() || *end != '\0' || !(v > 0.01 && v < 100)) {
      return bad_artefact(source, fmt::format("temperature '{}' is not a number in (0.01, 100)", t->second));
    }
    m.temperature = v;
    m.calibrated = true;
  }
  if (const auto lex = kv.find("lexicon_features"); lex != kv.end()) {
    const auto w = kv.find("lexicon_weight");
    char* end = nullptr;
    const double weight = w == kv.end() ? 0 : std::strtod(w->second.c_str(), &end);
    if (w == kv.end() || end == w->second.c_str() || *end != '\0' || !(weight > 0 && weight <= 100)) {
      return bad_artefact(source, "lexicon_features without a lexicon_weight in (0, 100]");
    }
    m.lexicon_weight = weight;
    auto lexicon = std::make_shared<detail::Lexicon>(static_cast<float>(weight));
    std::size_t start = 0;
    const std::string& v = lex->second;
    while (start < v.size()) {
      std::size_t tab = v.find('\t', start);
      if (tab == std::string::npos) tab = v.size();
      const std::string entry = v.substr(start, tab - start);
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
        return bad_artefact(source, fmt::format("lexicon_features entry '{}' is not code=term", entry));
      }
      m.lexicon_terms.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
      lexicon->add(m.lexicon_terms.back().second, m.lexicon_terms.back().first);
      start = tab + 1;
    }
    m.lexicon = std::move(lexicon);
    m.features.lexicon = m.lexicon.get();
  }
  if (const auto words = kv.find("words"); words != kv.end()) {
    constexpr std::string_view kFriso = "friso ";
    if (words->second.rfind(kFriso, 0) != 0) return bad_artefact(source, fmt::format("unknown segmenter '{}'", words->second));
    auto seg = detail::Segmenter::load(words->second.substr(kFriso.size()));
    if (!seg) return bad_artefact(source, seg.error().message());
    m.words = std::move(seg).value();
    m.features.words = m.words.get();
  }
  m.build_index();
  return Model(std::make_shared<const Model::Impl>(std::move(m)));
}

Result<std::shared_ptr<const detail::Segmenter>> load_word_dictionary(const std::filesystem::path& dict_dir) {
  return detail::Segmenter::load(dict_dir.empty() ? std::filesystem::path(detail::kFrisoDictDir) : dict_dir);
}

}  // namespace gridhub::classifier_ngram
