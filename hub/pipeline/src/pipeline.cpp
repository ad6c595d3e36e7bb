#include "gridhub/pipeline/pipeline.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <unordered_map>

#include "gridhub/text/csv_reader.hpp"

namespace gridhub::pipeline {

namespace v1 = gridhub::v1;

config::Spec pipeline_config_spec() {
  using config::Type;
  return {
      {"pipeline.resolver", Type::kString, false, "resolver plugin name"},
      {"pipeline.classifier", Type::kString, false, "classifier plugin name"},
      {"pipeline.merger", Type::kString, false, "merger plugin name"},
      {"pipeline.router", Type::kString, false, "router plugin name"},
      {"pipeline.plugin_dir", Type::kString, false, "folder of extra plugin modules"},
      {"pipeline.opencc", Type::kString, false, "OpenCC config for Traditional -> Simplified"},
      {"pipeline.chat_groups", Type::kString, false, "CSV of chat groups' deployment context"},
      {"plugins", Type::kTable, false, "each plugin's own table, [plugins.<name>]"},
  };
}

PipelineOptions pipeline_options_from(const config::Config& cfg) {
  PipelineOptions o;
  o.resolver = cfg.get_string("pipeline.resolver", o.resolver);
  o.classifier = cfg.get_string("pipeline.classifier", o.classifier);
  o.merger = cfg.get_string("pipeline.merger", o.merger);
  o.router = cfg.get_string("pipeline.router", o.router);
  o.plugin_dir = cfg.get_path("pipeline.plugin_dir");
  o.opencc = cfg.get_string("pipeline.opencc", o.opencc);
  o.chat_groups = cfg.get_path("pipeline.chat_groups");
  o.base_dir = cfg.base_dir();
  o.source_name = cfg.source_name();
  for (const auto& name : {o.resolver, o.classifier, o.merger, o.router}) {
    if (!name.empty()) o.plugin_config[name] = cfg.get_table_toml("plugins." + name);
  }
  // A [plugins.x] table for a plugin the pipeline does not use is almost always a typo.
  const std::string all = cfg.get_table_toml("plugins");
  (void)all;
  return o;
}

namespace {

const char* channel_name(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_HOTLINE: return "hotline";
    case v1::CHANNEL_WECHAT: return "wechat";
    case v1::CHANNEL_WEBFORM: return "webform";
    default: return "unknown";
  }
}

plugin::Datum datum_of(v1::Datum d) {
  switch (d) {
    case v1::DATUM_WGS84: return plugin::Datum::kWgs84;
    case v1::DATUM_GCJ02: return plugin::Datum::kGcj02;
    case v1::DATUM_BD09: return plugin::Datum::kBd09;
    default: return plugin::Datum::kUnknown;
  }
}

struct StageHandle {
  const plugin::Descriptor* descriptor = nullptr;
  plugin::Stage* stage = nullptr;
  StageHandle() = default;
  StageHandle(const StageHandle&) = delete;
  StageHandle& operator=(const StageHandle&) = delete;
  StageHandle(StageHandle&& o) noexcept : descriptor(o.descriptor), stage(std::exchange(o.stage, nullptr)) {}
  ~StageHandle() {
    if (stage != nullptr) descriptor->destroy(stage);
  }
};

v1::Tier tier_of(std::string_view t) {
  if (t == "grid") return v1::TIER_GRID;
  if (t == "community") return v1::TIER_COMMUNITY;
  if (t == "county") return v1::TIER_COUNTY;
  if (t == "center") return v1::TIER_CENTER;
  return v1::TIER_UNSPECIFIED;
}

std::string basename_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

}  // namespace

plugin::Record Assessment::record() const {
  plugin::Record r;
  r.channel = channel;
  r.source_key = source_key;
  r.reported_at_us = reported_at_us;
  r.text = text;
  r.address_text = address_text;
  r.category_hint = category_hint;
  r.community_hint = community_hint;
  r.request_kind = request_kind;
  r.has_point = has_point;
  r.point = point;
  r.ctx_kind = context.kind;
  r.ctx_community_code = context.community_code;
  r.ctx_grid_code = context.grid_code;
  r.ctx_compound = context.compound;
  r.message_kind = message_kind;
  r.from_staff = from_staff;
  return r;
}

Result<std::vector<std::pair<std::vector<std::string>, ChatContext>>> load_chat_groups(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open chat groups file", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  text::CsvReader reader(text);
  text::CsvRecord rec;
  std::vector<std::string> header;
  std::vector<std::pair<std::vector<std::string>, ChatContext>> out;
  auto col = [&](const char* name) -> int {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  while (reader.next(rec)) {
    if (header.empty()) {
      header = rec.fields;
      for (const char* need : {"context_kind", "community_code", "grid_code", "compound_name"}) {
        if (col(need) < 0) {
          return Error(Errc::missing_field, fmt::format("{}:{}: column '{}' is missing", file.string(), rec.line, need));
        }
      }
      continue;
    }
    if (rec.fields.size() != header.size()) {
      return Error(Errc::bad_value, fmt::format("{}:{}: {} fields, header has {}", file.string(), rec.line,
                                                rec.fields.size(), header.size()));
    }
    auto get = [&](const char* name) { int c = col(name); return c < 0 ? std::string{} : rec.fields[static_cast<std::size_t>(c)]; };
    ChatContext ctx{get("context_kind"), get("community_code"), get("grid_code"), get("compound_name")};
    if (ctx.kind != "compound" && ctx.kind != "community" && ctx.kind != "grid") {
      return Error(Errc::bad_value, fmt::format("{}:{}: context_kind '{}' is not compound, community or grid",
                                                file.string(), rec.line, ctx.kind));
    }
    std::vector<std::string> keys;
    for (const char* k : {"file", "chat_name", "talker_id", "chatroom"}) {
      auto v = get(k);
      if (v.empty()) continue;
      keys.push_back(std::string(k) == "file" ? basename_of(v) : v);
    }
    out.emplace_back(std::move(keys), std::move(ctx));
  }
  return out;
}

struct Pipeline::Impl {
  Impl(Registry r, Normalizer n, std::string cc) : registry(std::move(r)), normalizer(std::move(n)), opencc(std::move(cc)) {}
  Registry registry;
  Normalizer normalizer;
  std::string opencc;
  StageHandle resolver, classifier, router;
  std::shared_ptr<StageHandle> merger = std::make_shared<StageHandle>();
  std::unordered_map<std::string, ChatContext> contexts;

  void decide(Assessment& a, const char* stage, const StageHandle& h, const plugin::Reason& why) const {
    auto& d = a.decisions.emplace_back();
    d.set_stage(stage);
    d.set_plugin(h.descriptor->name);
    d.set_plugin_version(h.descriptor->version ? h.descriptor->version : "");
    d.set_data_version(std::string(h.stage->data_version()));
    d.set_rule(why.rule);
    d.set_detail(why.detail);
  }
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;

Result<std::unique_ptr<Pipeline>> Pipeline::create(const PipelineOptions& o, const Pipeline* keep_merger_from) {
  auto normalizer = Normalizer::create(o.opencc);
  if (!normalizer) return normalizer.error();
  auto impl = std::make_unique<Impl>(Registry::with_builtins(), std::move(normalizer.value()), o.opencc);
  if (keep_merger_from != nullptr) impl->merger = keep_merger_from->impl_->merger;
  if (!o.plugin_dir.empty()) {
    if (auto s = impl->registry.load_dir(o.plugin_dir); !s) return s.error();
  }
  auto make = [&](const std::string& name, plugin::Kind kind, StageHandle& out) -> Status {
    if (name.empty()) return Ok{};
    const PluginInfo* info = impl->registry.find(name);
    if (info == nullptr) {
      std::string known;
      for (const auto* p : impl->registry.all()) known += (known.empty() ? "" : ", ") + std::string(p->descriptor->name);
      return Error(Errc::config_invalid, fmt::format("{}: pipeline.{}: no plugin named '{}' (known: {})", o.source_name,
                                                    kind_name(kind), name, known));
    }
    if (info->descriptor->kind != kind) {
      return Error(Errc::config_invalid, fmt::format("{}: pipeline.{}: plugin '{}' is a {}, not a {}", o.source_name,
                                                    kind_name(kind), name, kind_name(info->descriptor->kind),
                                                    kind_name(kind)));
    }
    char err[1024] = {0};
    auto it = o.plugin_config.find(name);
    const std::string cfg = it == o.plugin_config.end() ? std::string{} : it->second;
    plugin::Stage* stage = info->descriptor->create(cfg.c_str(), o.base_dir.c_str(), err, sizeof err);
    if (stage == nullptr) {
      return Error(Errc::config_invalid, fmt::format("{}: [plugins.{}]: {}", o.source_name, name,
                                                    err[0] ? err : "the plugin could not start"));
    }
    out.descriptor = info->descriptor;
    out.stage = stage;
    return Ok{};
  };
  if (auto s = make(o.resolver, plugin::Kind::kResolver, impl->resolver); !s) return s.error();
  if (auto s = make(o.classifier, plugin::Kind::kClassifier, impl->classifier); !s) return s.error();
  if (keep_merger_from == nullptr) {
    if (auto s = make(o.merger, plugin::Kind::kMerger, *impl->merger); !s) return s.error();
  }
  if (auto s = make(o.router, plugin::Kind::kRouter, impl->router); !s) return s.error();
  if (!o.chat_groups.empty()) {
    auto groups = load_chat_groups(o.chat_groups);
    if (!groups) return groups.error();
    for (auto& [keys, ctx] : groups.value()) {
      for (const auto& k : keys) impl->contexts[k] = ctx;
    }
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

Assessment Pipeline::assess(const v1::Event& ev) const {
  const auto& n = impl_->normalizer;
  const auto& f = ev.fields();
  Assessment a;
  a.channel = channel_name(ev.channel());
  a.source_key = ev.source_key();
  a.text = n.text(f.text());
  a.address_text = n.text(f.address_text());
  a.category_hint = n.text(f.category_hint());
  a.community_hint = n.text(f.community_hint());
  a.request_kind = f.request_kind();
  a.message_kind = f.message_kind();
  a.from_staff = f.from_staff();
  a.reported_at_us = f.has_reported_at() ? f.reported_at().unix_micros()
                                         : (ev.has_received_at() ? ev.received_at().unix_micros() : 0);
  if (f.has_location()) {
    a.has_point = true;
    a.point = plugin::GeoPoint{f.location().lat(), f.location().lon(), datum_of(f.location().datum())};
  }
  if (!impl_->contexts.empty()) {
    auto it = impl_->contexts.find(f.conversation());
    if (it == impl_->contexts.end()) it = impl_->contexts.find(basename_of(ev.source_name()));
    if (it != impl_->contexts.end()) a.context = it->second;
  }
  if (a.text != f.text()) {
    auto& d = a.decisions.emplace_back();
    d.set_stage("normalizer");
    d.set_plugin("normalizer");
    d.set_data_version(impl_->opencc);
    d.set_rule("t2s+halfwidth+space");
    d.set_detail("text normalized");
  }
  const plugin::Record rec = a.record();
  if (impl_->resolver.stage != nullptr) {
    a.resolution = static_cast<plugin::Resolver*>(impl_->resolver.stage)->resolve(rec);
    impl_->decide(a, "resolver", impl_->resolver, a.resolution.why);
  }
  if (impl_->classifier.stage != nullptr) {
    a.classification = static_cast<plugin::Classifier*>(impl_->classifier.stage)->classify(rec);
    impl_->decide(a, "classifier", impl_->classifier, a.classification.why);
    if (a.classification.is_ticket) a.decisions.back().set_confidence(a.classification.confidence);
  } else {
    a.classification.is_ticket = true;
    a.classification.why = {"no_classifier", "no classifier configured: every record is a ticket"};
  }
  if (a.classification.is_ticket && impl_->router.stage != nullptr) {
    auto* router = static_cast<plugin::Router*>(impl_->router.stage);
    a.routing = router->route(rec, a.resolution, a.classification);
    if (a.classification.category_code.empty() && !a.classification.suggestions.empty()) {
      // The classifier abstained. The router is the one source of where a category goes, so each
      // suggestion is routed by it, as if the classifier had chosen it.
      plugin::Classification as_if = a.classification;
      as_if.suggestions.clear();
      std::string list;
      for (const auto& s : a.classification.suggestions) {
        as_if.category_code = s.category_code;
        as_if.confidence = s.confidence;
        const plugin::Routing r = router->route(rec, a.resolution, as_if);
        auto& out = a.suggestions.emplace_back();
        out.set_category_code(s.category_code);
        out.set_confidence(s.confidence);
        out.set_tier(tier_of(r.tier));
        out.set_assignee_code(r.assignee_code);
        list += fmt::format("{}{} -> {} {} ({:.2f})", list.empty() ? "" : "; ", s.category_code, r.tier,
                            r.assignee_code, s.confidence);
      }
      a.routing.why.detail += "; suggestions: " + list;
    }
    impl_->decide(a, "router", impl_->router, a.routing.why);
  }
  return a;
}

plugin::MergeResult Pipeline::merge(Assessment& a, std::string_view ticket_id) {
  plugin::MergeResult r;
  if (!a.classification.is_ticket || impl_->merger->stage == nullptr) {
    r.incident_id = a.classification.is_ticket ? std::string(ticket_id) : std::string{};
    return r;
  }
  const plugin::Record rec = a.record();
  plugin::MergeInput in{&rec, &a.resolution, &a.classification, ticket_id};
  r = static_cast<plugin::Merger*>(impl_->merger->stage)->merge(in);
  impl_->decide(a, "merger", *impl_->merger, r.why);
  return r;
}

bool Pipeline::recall(const v1::IntakeAccepted& body, std::string_view ticket_id) {
  if (impl_->merger->stage == nullptr) return false;
  if (body.disposition() != v1::DISPOSITION_NEW_TICKET && body.disposition() != v1::DISPOSITION_MERGED) return true;
  const bool merged = body.disposition() == v1::DISPOSITION_MERGED;
  // The record as merge() saw it: the same normalized text and time assess() derives from the event;
  // place and category as logged on the ticket it opened (never re-resolved: the reference data may
  // have changed since).
  const auto& ev = body.event();
  const auto& f = ev.fields();
  Assessment a;
  a.text = impl_->normalizer.text(f.text());
  a.reported_at_us = f.has_reported_at() ? f.reported_at().unix_micros()
                                         : (ev.has_received_at() ? ev.received_at().unix_micros() : 0);
  const auto& t = body.ticket();
  a.classification.is_ticket = true;
  a.classification.category_code = t.category_code();
  // An abstained ticket's suggestions (the log keeps no other's): the merger compares on them.
  for (const auto& s : t.suggestions()) a.classification.suggestions.push_back({s.category_code(), s.confidence()});
  a.resolution.community_code = t.community_code();
  a.resolution.grid_code = t.grid_code();
  a.resolution.out_of_area = t.location().out_of_area();
  a.resolution.compound = t.location().compound();
  a.resolution.building = t.location().building();
  const plugin::Record rec = a.record();
  plugin::MergeRecall past{plugin::MergeInput{&rec, &a.resolution, &a.classification, ticket_id}, ticket_id, merged};
  return static_cast<plugin::Merger*>(impl_->merger->stage)->recall(past);
}

std::vector<std::string> Pipeline::describe() const {
  std::vector<std::string> out;
  for (const auto* h : {&impl_->resolver, &impl_->classifier, impl_->merger.get(), &impl_->router}) {
    if (h->stage == nullptr) continue;
    out.push_back(fmt::format("{} {}@{} (data {})", kind_name(h->descriptor->kind), h->descriptor->name,
                              h->descriptor->version ? h->descriptor->version : "?", h->stage->data_version()));
  }
  return out;
}

}  // namespace gridhub::pipeline
