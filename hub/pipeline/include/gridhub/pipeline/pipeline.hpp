#pragma once
/// The routing pipeline: normalization, then the configured resolver, classifier, router and merger
/// plugins. Every stage's decision is recorded (plugin, version, data version, rule, detail) so the
/// log can say why a ticket went where it went.
///
/// Two phases, because merging depends on log order and routing does not:
///   assess()  — normalize, resolve, classify, route: no shared state; safe to call concurrently from
///               several threads (the hub runs it on its stage workers, ingest.workers).
///   merge()   — stateful, called in log order (the hub's writer thread, or the dry run's loop); never
///               concurrently, and never concurrently with recall().
///
/// Config keys (hub.toml):
/// | key                    | default            | meaning |
/// |------------------------|--------------------|---------|
/// | pipeline.resolver      | "resolver_gazetteer" | resolver plugin name ("" = none) |
/// | pipeline.classifier    | "classifier_ngram"   | classifier plugin name ("" = every record is a ticket) |
/// | pipeline.merger        | "merger_window"      | merger plugin name ("" = never merge) |
/// | pipeline.router        | "router_tiered"      | router plugin name ("" = leave unassigned) |
/// | pipeline.plugin_dir    | ""                 | folder of extra plugin modules (*.so) |
/// | pipeline.opencc        | "t2s.json"         | OpenCC conversion for Traditional -> Simplified |
/// | pipeline.chat_groups   | ""                 | CSV of chat groups' deployment context (file, chat_name, talker_id, chatroom, ..., context_kind, community_code, grid_code, compound_name) |
/// | plugins.<name>         | {}                 | each plugin's own table, validated by the plugin |

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gridhub/common/config.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/pipeline/normalizer.hpp"
#include "gridhub/pipeline/registry.hpp"
#include "gridhub/plugin/api.hpp"
#include "gridhub/v1/event.pb.h"
#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::pipeline {

/// The [pipeline] and [plugins.*] keys, for a host's config Spec.
config::Spec pipeline_config_spec();

struct PipelineOptions {
  std::string resolver = "resolver_gazetteer";
  std::string classifier = "classifier_ngram";
  std::string merger = "merger_window";
  std::string router = "router_tiered";
  std::filesystem::path plugin_dir;
  std::string opencc = "t2s.json";
  std::filesystem::path chat_groups;
  std::map<std::string, std::string> plugin_config;   // name -> TOML text of [plugins.<name>]
  std::filesystem::path base_dir;                      // relative paths in plugin configs resolve here
  std::string source_name;                             // the config file, for error messages
};

PipelineOptions pipeline_options_from(const config::Config& cfg);

/// Deployment context of one chat group.
struct ChatContext {
  std::string kind;   // compound | community | grid
  std::string community_code;
  std::string grid_code;
  std::string compound;
};

/// One record after the stateless stages.
struct Assessment {
  // Normalized copies the Record views point into (see record()).
  std::string channel, source_key, text, address_text, category_hint, community_hint, request_kind, message_kind;
  std::int64_t reported_at_us = 0;
  bool has_point = false;
  plugin::GeoPoint point;
  bool from_staff = false;
  ChatContext context;

  plugin::Resolution resolution;
  plugin::Classification classification;
  plugin::Routing routing;
  std::vector<gridhub::v1::StageDecision> decisions;
  // When the classifier abstained (a ticket without a category, with suggestions): each suggested
  // category as the router would route it, best first — what the 12345 centre's dispatcher sees.
  std::vector<gridhub::v1::DispatchSuggestion> suggestions;

  plugin::Record record() const;
};

class Pipeline {
 public:
  /// Loads modules, creates every configured stage; errors name the plugin and its config key.
  /// With `keep_merger_from`, the new pipeline shares that pipeline's merger (and its memory of open
  /// incidents) instead of creating one: a reload swaps reference data, not history.
  static Result<std::unique_ptr<Pipeline>> create(const PipelineOptions& options,
                                                  const Pipeline* keep_merger_from = nullptr);
  ~Pipeline();

  Assessment assess(const gridhub::v1::Event& event) const;
  /// Stateful; call in log order. Adds the merger's decision to `a`.
  plugin::MergeResult merge(Assessment& a, std::string_view ticket_id);
  /// At start, before any merge(): one intake record from the log, newest first, with the decision
  /// logged for it (`ticket_id`: the record's ticket — its own when new, the incident's when merged).
  /// The merger relearns it from the record's own text and time and its logged place and category;
  /// nothing is re-decided. Returns false when the merger needs no older records.
  bool recall(const gridhub::v1::IntakeAccepted& body, std::string_view ticket_id);

  /// "resolver_gazetteer@1.0 (data 3f2a…)" for each stage, for logs and `gridhubctl`.
  std::vector<std::string> describe() const;

 private:
  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Loads a chat-groups CSV (the columns of the example county's wechat/groups.csv).
Result<std::vector<std::pair<std::vector<std::string>, ChatContext>>> load_chat_groups(const std::filesystem::path& file);

}  // namespace gridhub::pipeline
