#pragma once
/// The gridhub routing-plugin ABI, version 4 (2: Merger::recall; 3: Routing without sla_due_us;
/// 4: Classification::suggestions).
///
/// A plugin is one pipeline stage — resolver, classifier, merger or router — behind a small C++
/// interface, plus one `extern "C"` entry point returning a Descriptor. The host checks
/// `abi_version` and `struct_size` before touching anything else, and refuses a mismatch with a
/// clear error. No exception may cross the boundary: every entry point is `noexcept`, and `create`
/// reports failure through its error buffer.
///
/// The types here are plain C++ (strings, string_views, PODs) on purpose: no protobuf crosses the
/// boundary, so a module never carries a second copy of the schema descriptors. A module must be
/// built with the same compiler and standard library as the hub (it is C++, not C).
///
/// Text handed to plugins is already normalized by the host: valid UTF-8, Simplified Chinese,
/// full-width ASCII folded to half-width, whitespace collapsed, phone numbers in one form.
///
/// Threads: Resolver::resolve, Classifier::classify and Router::route may be called concurrently from
/// several threads on one instance (the hub's stage workers, [ingest] workers), each call with its own
/// record. They must not modify shared state: reference data is immutable after `create`, per-call
/// scratch lives on the stack or in thread_local storage, and a cache, if any, is guarded by the
/// stage. data_version() may be called concurrently too. A Merger is never called concurrently:
/// merge() and recall() run on one thread, in log order. `destroy` runs once no call is in progress.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gridhub::plugin {

/// 2: Merger gained recall() (a new virtual: a version-1 merger's vtable lacks it, so version-1 modules
/// are refused rather than called through a missing slot).
/// 3: Routing lost sla_due_us: deadlines are the hub's SLA policy's alone (working calendar, tier,
/// category), so a router cannot set one that the hub then contradicts. The struct's layout changed, so
/// version-2 modules are refused.
/// 4: Classification gained `suggestions` (the classifier's top categories, for the 12345 centre's
/// manual dispatch when it abstains); the struct's layout changed, so version-3 modules are refused.
inline constexpr std::uint32_t kAbiVersion = 4;

enum class Datum : std::uint32_t { kUnknown = 0, kWgs84 = 1, kGcj02 = 2, kBd09 = 3 };

struct GeoPoint {
  double lat = 0;
  double lon = 0;
  Datum datum = Datum::kUnknown;
};

/// One intake record as every stage sees it.
struct Record {
  std::string_view channel;          // "hotline" | "wechat" | "webform"
  std::string_view source_key;
  std::int64_t reported_at_us = 0;   // UTC microseconds; 0 = unknown
  std::string_view text;             // the report itself
  std::string_view address_text;     // a dedicated address field, if the channel has one
  std::string_view category_hint;    // the channel's own guess (operator's 问题分类, a form's 问题类型)
  std::string_view community_hint;   // a form's "which community" answer, as text
  std::string_view request_kind;     // 诉求类型 (咨询/求助/投诉/举报/建议) where known
  bool has_point = false;
  GeoPoint point;                    // valid when has_point
  // Deployment context: the chat group (or other channel) this record came through belongs to.
  std::string_view ctx_kind;         // "" | "compound" | "community" | "grid"
  std::string_view ctx_community_code;
  std::string_view ctx_grid_code;
  std::string_view ctx_compound;
  std::string_view message_kind;     // chats: "text", "location", "image", "voice", "sticker", "system", "link", "quote"
  bool from_staff = false;           // written by the exporting staff account (a grid worker)
};

/// Why a stage decided what it did: the rule that fired, in words an operator can audit.
struct Reason {
  std::string rule;     // stable id, e.g. "compound_alias+building", "ngram_model", "category_tier"
  std::string detail;   // human-readable specifics: "锦绣小区 12栋 -> 610431001003002"
};

struct Resolution {
  std::string community_code;   // empty: not resolvable
  std::string grid_code;        // empty: only the community (or nothing) is certain — never guessed
  bool out_of_area = false;     // the address is outside the county
  bool other_town = false;      // inside the county but outside this street's communities
  std::string compound;         // canonical compound name recognised, if any
  std::string building;         // building number recognised, if any
  Reason why;
};

/// One category the classifier considers, with its (calibrated) probability.
struct CategorySuggestion {
  std::string category_code;
  double confidence = 0;        // 0..1
};

struct Classification {
  bool is_ticket = false;
  std::string category_code;    // empty when not a ticket, unknown, or the classifier abstained
  double confidence = 0;        // 0..1; for a ticket: the (calibrated) probability of its category
  Reason why;
  /// For tickets: the most probable categories, best first, at most three. When the classifier
  /// abstains (category_code empty, confidence below its threshold) the hub routes each of them so
  /// the 12345 centre's dispatcher sees where the ticket would have gone.
  std::vector<CategorySuggestion> suggestions;
};

/// What the merger knows of a record after resolution and classification.
struct MergeInput {
  const Record* record = nullptr;
  const Resolution* resolution = nullptr;
  const Classification* classification = nullptr;
  std::string_view ticket_id;   // the ticket this record would create
};

struct MergeResult {
  std::string incident_id;      // the incident this record belongs to (its own ticket id when new)
  bool merged = false;          // joined an existing incident
  Reason why;
};

/// A record the merger decided on before this start, and what the log says was decided (Merger::recall).
struct MergeRecall {
  MergeInput input;             // as merge() saw it: the record's own text and time, its logged place and category
  std::string_view incident_id; // the incident the log put it in
  bool merged = false;          // it joined incident_id (false: it opened incident_id)
};

struct Routing {
  std::string tier;             // "grid" | "community" | "county" | "center"
  std::string assignee_code;    // grid code, community code, county dept code or "CTR_12345"
                                // (the deadline is not the router's: the hub's [sla] policy sets it)
  Reason why;
};

enum class Kind : std::uint32_t { kResolver = 1, kClassifier = 2, kMerger = 3, kRouter = 4 };

/// Common base of every stage instance.
class Stage {
 public:
  virtual ~Stage() = default;
  /// Version of the reference data / model this instance decides with (logged with every decision).
  virtual std::string_view data_version() const noexcept = 0;
};

class Resolver : public Stage {
 public:
  virtual Resolution resolve(const Record& record) noexcept = 0;
};

class Classifier : public Stage {
 public:
  virtual Classification classify(const Record& record) noexcept = 0;
};

/// Stateful: remembers recent incidents. Must decide from the records' own times (reported_at_us),
/// never the wall clock, so replaying the log reproduces its decisions.
class Merger : public Stage {
 public:
  virtual MergeResult merge(const MergeInput& input) noexcept = 0;
  /// At start, before any merge(): the host hands back the records already in the log, newest first,
  /// with the decisions logged for them, so the merger's memory is what it was before the restart (a
  /// restart never changes a decision). Returns false when older records can no longer matter (the
  /// host stops there). For a merged record only incident_id is meaningful.
  virtual bool recall(const MergeRecall& past) noexcept = 0;
};

class Router : public Stage {
 public:
  virtual Routing route(const Record& record, const Resolution& resolution,
                        const Classification& classification) noexcept = 0;
};

/// What a plugin exports. Field order and meaning are fixed for abi_version 1; later versions only
/// append fields (struct_size tells the host how much is there).
struct Descriptor {
  std::uint32_t abi_version;   // kAbiVersion the plugin was built against
  std::uint32_t struct_size;   // sizeof(Descriptor) as the plugin saw it
  const char* name;            // "resolver_gazetteer"
  Kind kind;
  const char* version;         // the plugin's own version
  /// Creates an instance from the plugin's config table (TOML text; relative paths resolve against
  /// base_dir). On failure returns nullptr and writes a message naming the key into `error`.
  Stage* (*create)(const char* config_toml, const char* base_dir, char* error, std::size_t error_size) noexcept;
  void (*destroy)(Stage* stage) noexcept;
};

/// The entry symbol a loadable module exports.
inline constexpr const char* kEntrySymbol = "gridhub_plugin_descriptor";
using EntryFn = const Descriptor* (*)() noexcept;

}  // namespace gridhub::plugin

/// Defines the module entry point for a plugin built as a shared library:
///   GRIDHUB_PLUGIN_MODULE(my_descriptor_function)
#define GRIDHUB_PLUGIN_MODULE(descriptor_fn)                                            \
  extern "C" __attribute__((visibility("default"))) const ::gridhub::plugin::Descriptor* \
  gridhub_plugin_descriptor() noexcept {                                                 \
    return descriptor_fn();                                                              \
  }
