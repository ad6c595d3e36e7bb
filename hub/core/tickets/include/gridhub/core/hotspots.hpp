#pragma once
/// Hotspots: N tickets of one category in one place within T hours are one incident. The hub opens one
/// incident ticket that links them, routes it one tier up from theirs (the lifecycle policy's tier-up
/// rule, as escalations use: grid -> community -> county department) and writes it as a `hotspot`
/// record right after the intake record of the ticket that reached the threshold. Later tickets of that
/// category and place join the open hotspot (a `hotspot` record, action JOINED) while they come within
/// T hours of its last ticket and it is not resolved or closed. See docs/hotspots.md.
///
/// The place is the ticket's grid; a ticket resolved to no grid but naming a road counts on that road
/// within its community ("<community>/<road>"). Tickets out of the area, without a category, and
/// reports merged into an existing ticket do not count. Times are the records' recorded_at, so the
/// decision is a function of the log alone: replaying it, or restarting the hub, decides the same.
///
/// Config keys ([hotspots]; off when the section is absent; it needs [sla], whose tier-up rule routes
/// the incident):
/// | key                 | type             | default | meaning |
/// |---------------------|------------------|---------|---------|
/// | hotspots.tickets    | int              | 5       | tickets of one category in one place that make a hotspot |
/// | hotspots.hours      | int              | 24      | ... within this many hours of each other (a sliding window) |
/// | hotspots.categories | table of strings | (none)  | per category code: "N/T" (N tickets within T hours), or "off" |

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "gridhub/common/config.hpp"
#include "gridhub/core/lifecycle.hpp"
#include "gridhub/core/sequencer.hpp"

namespace gridhub::core {

struct HotspotThreshold {
  std::uint32_t tickets = 0;   // 0: no hotspots for the category
  std::uint32_t hours = 0;
  bool on() const { return tickets > 0 && hours > 0; }
};

struct HotspotSettings {
  HotspotThreshold defaults{5, 24};
  std::map<std::string, HotspotThreshold> categories;   // category code -> its own threshold

  const HotspotThreshold& threshold(const std::string& category) const;
  /// The [hotspots] keys (for the hub's config spec).
  static config::Spec spec();
  /// Reads [hotspots]; throws config::ConfigError naming the key.
  static HotspotSettings from_config(const config::Config& cfg);
};

class HotspotRule final : public TicketHook {
 public:
  /// `policy` must outlive the rule.
  HotspotRule(HotspotSettings settings, const LifecyclePolicy& policy);

  Result<bool> follow(const gridhub::v1::LogRecord& made, const LoadTicket& load, gridhub::v1::LogRecord& next) override;
  void stored() override;
  void dropped() override;

  /// Start-up, before the first decide: rebuilds the memory from the log's records within the longest
  /// window of its head, so a restart never changes a decision. Returns how many records were read.
  Result<std::uint64_t> recall(log::LogReader& reader);
  /// One record of the log, in log order, as the rule remembers it when it did not decide it (recall).
  void remember(const gridhub::v1::LogRecord& record);

  /// Hotspots opened / tickets joined to one, in stored records (any thread).
  std::uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  std::uint64_t joined() const { return joined_.load(std::memory_order_relaxed); }

 private:
  struct Member {
    std::int64_t at = 0;
    std::string ticket_id;
  };
  struct Place {
    std::deque<Member> recent;      // tickets in no hotspot yet, oldest first
    std::string hotspot_id;         // the open hotspot's ticket (empty: none)
    std::int64_t hotspot_last = 0;  // when its last ticket came
  };
  struct Where {
    std::string kind;   // "grid" | "road"
    std::string code;
  };
  static std::optional<Where> place_of(const gridhub::v1::Ticket& t);
  Place& touch(const std::string& key);
  void settle_pending();

  HotspotSettings settings_;
  const LifecyclePolicy& policy_;
  std::unordered_map<std::string, Place> places_;                  // "<category>|<kind>:<code>"
  std::unordered_map<std::string, std::optional<Place>> undo_;     // this batch: places as they were
  std::uint64_t batch_opened_ = 0;
  std::uint64_t batch_joined_ = 0;
  std::atomic<std::uint64_t> opened_{0};
  std::atomic<std::uint64_t> joined_{0};
  // recall: a ticket that came while its place had a hotspot; the next record says whether it joined.
  std::optional<std::pair<std::string, Member>> pending_;
};

}  // namespace gridhub::core
