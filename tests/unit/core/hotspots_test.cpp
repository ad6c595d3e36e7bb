// The hotspot rule in the sequencer over a real log (SQLite in a temp dir): the threshold, the window's
// edges, places and categories kept apart, joins, a closed hotspot not joined, a dropped batch
// forgotten, and a restart deciding exactly what an uninterrupted hub decides.
#include "gridhub/core/hotspots.hpp"

#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "gridhub/auth/entitlement.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/common/config.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/log/event_log.hpp"
#include "../../testing/temp_dir.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

constexpr std::int64_t kHour = 3600LL * 1000000;
constexpr std::int64_t kStart = 1'800'000'000LL * 1000000;
constexpr const char* kGarbage = "0102";
constexpr const char* kNoise = "1502";
constexpr const char* kCommunity = "610431001001";
constexpr const char* kGrid1 = "610431001001001";
constexpr const char* kGrid2 = "610431001001002";

/// Wall-clock hours per tier; grid -> community -> county department -> nothing above.
class StepPolicy final : public LifecyclePolicy {
 public:
  std::int64_t due(const v1::Ticket&, v1::Tier tier, std::int64_t start) const override {
    switch (tier) {
      case v1::TIER_GRID: return start + 24 * kHour;
      case v1::TIER_COMMUNITY: return start + 48 * kHour;
      case v1::TIER_COUNTY: return start + 72 * kHour;
      default: return 0;
    }
  }
  std::int64_t extend(std::int64_t due, std::uint32_t hours) const override { return due + hours * kHour; }
  std::optional<Assignment> next_tier(const v1::Ticket& t, std::int64_t now) const override {
    if (t.tier() == v1::TIER_GRID) {
      return Assignment{v1::TIER_COMMUNITY, t.community_code(), "step.community", "up", due(t, v1::TIER_COMMUNITY, now)};
    }
    if (t.tier() == v1::TIER_COMMUNITY) return Assignment{v1::TIER_COUNTY, "CTY_CGJ", "step.county", "up", due(t, v1::TIER_COUNTY, now)};
    return std::nullopt;
  }
  const std::string& center_code() const override { return center_; }
  std::uint32_t max_returns() const override { return 3; }

 private:
  std::string center_ = "CTR_12345";
};

log::AppendItem report(const std::string& key, const std::string& category = kGarbage, const std::string& grid = kGrid1) {
  log::IntakeItem item;
  auto* ev = item.body.mutable_event();
  ev->set_channel(v1::CHANNEL_HOTLINE);
  ev->set_adapter_id("hotline-1");
  ev->set_source_key(key);
  auto* t = item.body.mutable_ticket();
  t->set_category_code(category);
  t->set_community_code(kCommunity);
  t->set_grid_code(grid);
  t->set_tier(v1::TIER_GRID);
  t->set_assignee_code(grid);
  t->set_status(v1::TICKET_STATUS_ASSIGNED);
  return item;
}

log::AppendItem resolve(const std::string& ticket_id) {
  log::ChangeItem item;
  item.ticket_id = ticket_id;
  item.apply = [](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
    auto* u = record.mutable_ticket_update();
    *u->mutable_ticket() = current;
    u->mutable_ticket()->set_status(v1::TICKET_STATUS_RESOLVED);
    u->set_action(v1::UPDATE_ACTION_RESOLVE);
    return log::Refusal::kNone;
  };
  return item;
}

class Hotspots : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.defaults = {3, 24};
    settings_.categories[kNoise] = {2, 6};
    open();
  }
  void open() {
    auto storage = log::open_event_log(db_, {}, clock_);
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    storage_ = std::move(storage.value());
    rule_ = std::make_unique<HotspotRule>(settings_, policy_);
    auto reader = log::LogReader::open(db_);
    ASSERT_TRUE(reader.ok());
    auto recalled = rule_->recall(reader.value());
    ASSERT_TRUE(recalled.ok()) << recalled.error().message();
    sequencer_ = std::make_unique<Sequencer>(*storage_, clock_);
    sequencer_->set_ticket_hook(rule_.get());
  }
  void restart() {
    sequencer_.reset();
    rule_.reset();
    storage_.reset();
    open();
  }
  std::vector<log::AppendOutcome> append(std::vector<log::AppendItem> items) {
    std::vector<log::AppendOutcome> out;
    auto s = sequencer_->append(items, out);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return out;
  }
  /// Every record in the log, in order.
  std::vector<v1::LogRecord> records() {
    auto reader = log::LogReader::open(db_);
    EXPECT_TRUE(reader.ok());
    std::vector<v1::LogRecord> out;
    auto n = reader->read(1, 100000, [&](std::uint64_t, std::string_view body) {
      out.emplace_back().ParseFromArray(body.data(), static_cast<int>(body.size()));
    });
    EXPECT_TRUE(n.ok());
    return out;
  }
  std::vector<v1::LogRecord> hotspots() {
    std::vector<v1::LogRecord> out;
    for (auto& r : records()) {
      if (r.has_hotspot()) out.push_back(std::move(r));
    }
    return out;
  }
  static std::vector<std::string> ids(const google::protobuf::RepeatedPtrField<std::string>& f) { return {f.begin(), f.end()}; }

  testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "log.db";
  ManualClock clock_{kStart};
  StepPolicy policy_;
  HotspotSettings settings_;
  std::unique_ptr<log::EventLog> storage_;
  std::unique_ptr<HotspotRule> rule_;
  std::unique_ptr<Sequencer> sequencer_;
};

TEST_F(Hotspots, TheThirdTicketInOneGridOpensOneIncidentThatLinksThemAndGoesOneTierUp) {
  append({report("A")});
  clock_.advance(kHour);
  append({report("B")});
  EXPECT_TRUE(hotspots().empty()) << "two tickets are below the threshold of three";
  clock_.advance(kHour);
  auto out = append({report("C")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq, 3u);
  EXPECT_EQ(out[0].follow_up.ticket_id, "T00000004") << "the outcome carries the hotspot's ticket (for SLA clocks)";
  EXPECT_EQ(out[0].follow_up.sla_due, clock_.now_micros() + 48 * kHour);

  const auto all = records();
  ASSERT_EQ(all.size(), 4u);
  const auto& rec = all[3];
  ASSERT_TRUE(rec.has_hotspot());
  EXPECT_EQ(log::record_kind(rec), "hotspot");
  EXPECT_EQ(rec.ticket_id(), "T00000004");
  EXPECT_EQ(rec.prior_seq(), 0u);
  const auto& h = rec.hotspot();
  EXPECT_EQ(h.action(), v1::HOTSPOT_ACTION_OPENED);
  EXPECT_EQ(h.category_code(), kGarbage);
  EXPECT_EQ(h.place_kind(), "grid");
  EXPECT_EQ(h.place_code(), kGrid1);
  EXPECT_EQ(h.threshold_tickets(), 3u);
  EXPECT_EQ(h.window_hours(), 24u);
  EXPECT_EQ(ids(h.linked_ticket_ids()), (std::vector<std::string>{"T00000001", "T00000002", "T00000003"}));
  const auto& t = h.ticket();
  EXPECT_TRUE(t.hotspot());
  EXPECT_EQ(ids(t.linked_ticket_ids()), ids(h.linked_ticket_ids()));
  EXPECT_EQ(t.tier(), v1::TIER_COMMUNITY) << "one tier up from the grid";
  EXPECT_EQ(t.assignee_code(), kCommunity);
  EXPECT_EQ(ids(t.assignee_history()), (std::vector<std::string>{kCommunity}));
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_ASSIGNED);
  EXPECT_EQ(t.version(), 4u);
  EXPECT_EQ(t.sla_due().unix_micros(), clock_.now_micros() + 48 * kHour);
  EXPECT_EQ(t.reported_at().unix_micros(), kStart) << "the first linked ticket's time";
  // Explainable: the rule, its threshold and the linked tickets, then who is one tier up.
  ASSERT_EQ(h.decisions_size(), 2);
  EXPECT_EQ(h.decisions(0).stage(), "hotspot");
  EXPECT_EQ(h.decisions(0).rule(), "hotspot.default_threshold");
  EXPECT_NE(h.decisions(0).detail().find("threshold of 3"), std::string::npos) << h.decisions(0).detail();
  EXPECT_NE(h.decisions(0).detail().find("T00000001, T00000002, T00000003"), std::string::npos) << h.decisions(0).detail();
  EXPECT_EQ(h.decisions(1).rule(), "hotspot.grid_to_community");

  // The projection holds the incident as a ticket of its own, created by the hotspot record.
  auto stored = storage_->load_ticket("T00000004");
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->ticket.hotspot());
  EXPECT_EQ(stored->seq, 4u);
}

TEST_F(Hotspots, ATicketExactlyTheWindowAfterAnotherDoesNotCountWithItOneJustInsideDoes) {
  // kNoise: 2 tickets within 6 hours.
  append({report("A", kNoise)});
  clock_.advance(6 * kHour);
  append({report("B", kNoise)});
  EXPECT_TRUE(hotspots().empty()) << "6 hours apart is outside a 6-hour window";
  clock_.advance(6 * kHour - 1);
  append({report("C", kNoise)});
  const auto h = hotspots();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(ids(h[0].hotspot().linked_ticket_ids()), (std::vector<std::string>{"T00000002", "T00000003"}));
  EXPECT_EQ(h[0].hotspot().decisions(0).rule(), "hotspot.category_threshold");
  EXPECT_EQ(h[0].hotspot().window_hours(), 6u);
}

TEST_F(Hotspots, DifferentCategoriesOrGridsNeverCombine) {
  append({report("A", kGarbage, kGrid1), report("B", kGarbage, kGrid2), report("C", kNoise, kGrid1)});
  append({report("D", kGarbage, kGrid2), report("E", "0601", kGrid1)});
  EXPECT_TRUE(hotspots().empty());
  append({report("F", kGarbage, kGrid1)});
  EXPECT_TRUE(hotspots().empty()) << "two in grid 1, two in grid 2: neither reaches three";
  append({report("G", kGarbage, kGrid2)});
  const auto h = hotspots();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].hotspot().place_code(), kGrid2);
  EXPECT_EQ(ids(h[0].hotspot().linked_ticket_ids()), (std::vector<std::string>{"T00000002", "T00000004", "T00000007"}));
}

TEST_F(Hotspots, LaterTicketsJoinTheOpenHotspotUntilItsWindowRunsOut) {
  append({report("A"), report("B"), report("C")});
  clock_.advance(20 * kHour);
  auto out = append({report("D")});
  EXPECT_EQ(out[0].follow_up.ticket_id, "T00000004");
  auto h = hotspots();
  ASSERT_EQ(h.size(), 2u) << "one opened, one joined; never a second hotspot";
  const auto& join = h[1];
  EXPECT_EQ(join.hotspot().action(), v1::HOTSPOT_ACTION_JOINED);
  EXPECT_EQ(join.ticket_id(), "T00000004");
  EXPECT_EQ(join.prior_seq(), 4u);
  EXPECT_EQ(ids(join.hotspot().linked_ticket_ids()), (std::vector<std::string>{"T00000005"}));
  EXPECT_EQ(ids(join.hotspot().ticket().linked_ticket_ids()),
            (std::vector<std::string>{"T00000001", "T00000002", "T00000003", "T00000005"}));
  EXPECT_EQ(join.hotspot().ticket().assignee_code(), kCommunity);
  EXPECT_EQ(join.hotspot().decisions(0).rule(), "hotspot.join");

  // The window runs from the hotspot's last ticket: 24 hours after D, E counts anew.
  clock_.advance(24 * kHour);
  append({report("E"), report("F")});
  EXPECT_EQ(hotspots().size(), 2u);
  append({report("G")});
  h = hotspots();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].hotspot().action(), v1::HOTSPOT_ACTION_OPENED);
  EXPECT_EQ(ids(h[2].hotspot().linked_ticket_ids()), (std::vector<std::string>{"T00000007", "T00000008", "T00000009"}));
}

TEST_F(Hotspots, AResolvedHotspotIsNotJoined) {
  append({report("A"), report("B"), report("C")});
  append({resolve("T00000004")});
  append({report("D")});
  EXPECT_EQ(hotspots().size(), 1u) << "D does not join a resolved incident";
  append({report("E"), report("F")});
  const auto h = hotspots();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].hotspot().action(), v1::HOTSPOT_ACTION_OPENED);
  EXPECT_EQ(ids(h[1].hotspot().linked_ticket_ids()), (std::vector<std::string>{"T00000006", "T00000007", "T00000008"}));
}

TEST_F(Hotspots, ABatchStorageDidNotStoreIsForgotten) {
  std::vector<log::AppendItem> items;
  items.push_back(report("A"));
  items.push_back(report("B"));
  std::vector<log::Write> writes;
  std::vector<log::AppendOutcome> out;
  ASSERT_TRUE(sequencer_->decide(items, writes, out).ok());
  sequencer_->dropped();
  append({report("C")});
  EXPECT_TRUE(hotspots().empty()) << "A and B were never stored: C is the first ticket";
  EXPECT_EQ(rule_->opened(), 0u);
  append({report("D"), report("E")});
  EXPECT_EQ(hotspots().size(), 1u);
  EXPECT_EQ(rule_->opened(), 1u);
}

TEST_F(Hotspots, ARestartDecidesExactlyWhatAnUninterruptedHubDecides) {
  // The same reports, once straight through and once with a restart after each: the same log.
  auto script = [&](bool restarts) {
    clock_.set(kStart);
    const std::vector<std::pair<std::string, std::int64_t>> steps = {
        {"A", 0}, {"B", 1}, {"C", 1}, {"D", 5}, {"E", 30}, {"F", 1}, {"G", 1}, {"H", 1}};
    for (const auto& [key, hours] : steps) {
      clock_.advance(hours * kHour);
      append({report(key)});
      append({report(key + "-noise", kNoise)});
      if (key == "F") append({resolve("T00000018")});   // the kNoise hotspot F's noise report opened
      if (restarts) restart();
    }
    return records();
  };
  const auto straight = script(false);
  sequencer_.reset();
  rule_.reset();
  storage_.reset();
  db_ = dir_ / "again.db";
  open();
  const auto restarted = script(true);
  ASSERT_EQ(straight.size(), restarted.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < straight.size(); ++i) {
    if (straight[i].has_hotspot()) ++n;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(straight[i], restarted[i]))
        << "record " << i + 1 << ":\n" << straight[i].DebugString() << "\nvs\n" << restarted[i].DebugString();
  }
  EXPECT_GE(n, 4u) << "the script opens and joins hotspots of both categories";
}

TEST_F(Hotspots, StreamsFindTheIncidentTicketInTheRecordAndEntitleWhoItWentTo) {
  append({report("A"), report("B"), report("C")});
  const auto rec = hotspots().at(0);
  // The stream server reads a record's ticket from the bytes, by the schema's `ticket` fields.
  v1::Ticket t;
  bool has_ticket = false;
  ASSERT_TRUE(log::parse_record_ticket(rec.SerializeAsString(), t, has_ticket, {}));
  ASSERT_TRUE(has_ticket);
  EXPECT_EQ(t.ticket_id(), rec.ticket_id());
  const auth::Identity community{"shuyuan", auth::Role::kCommunity, {kCommunity}, false, {}};
  const auth::Identity grid{"grid-1", auth::Role::kGridWorker, {kGrid1}, false, {}};
  const auth::Identity other_grid{"grid-2", auth::Role::kGridWorker, {kGrid2}, false, {}};
  const auth::Identity department{"cgj", auth::Role::kDepartment, {"CTY_CGJ"}, false, {}};
  EXPECT_TRUE(auth::entitled(community, t)) << "the community it went to";
  EXPECT_TRUE(auth::entitled(grid, t)) << "the grid's worker sees what happens in the grid";
  EXPECT_FALSE(auth::entitled(other_grid, t));
  EXPECT_FALSE(auth::entitled(department, t)) << "never assigned to the department";
}

TEST(HotspotSettings, ReadsDefaultsAndPerCategoryThresholdsAndNamesABadOne) {
  config::Spec spec = HotspotSettings::spec();
  auto cfg = config::Config::parse("[hotspots]\ntickets = 4\nhours = 12\n[hotspots.categories]\n\"0102\" = \"3/6\"\n\"1802\" = \"off\"\n",
                                   "hub.toml", ".", spec);
  auto s = HotspotSettings::from_config(cfg);
  EXPECT_EQ(s.threshold("0601").tickets, 4u);
  EXPECT_EQ(s.threshold("0601").hours, 12u);
  EXPECT_EQ(s.threshold("0102").tickets, 3u);
  EXPECT_EQ(s.threshold("0102").hours, 6u);
  EXPECT_FALSE(s.threshold("1802").on());
  auto bad = config::Config::parse("[hotspots.categories]\n\"0102\" = \"three\"\n", "hub.toml", ".", spec);
  try {
    HotspotSettings::from_config(bad);
    FAIL() << "a threshold that is not N/T is refused";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("hub.toml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0102"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("three"), std::string::npos) << e.what();
  }
}

TEST(HotspotSettings, AHubConfigWithHotspotsButNoSlaIsRefusedNamingBoth) {
  const std::string base = "[hub]\nlog_db = \"log.db\"\n[ingest]\nendpoints = [\"ipc://in\"]\n[stream]\nendpoints = [\"ipc://out\"]\n";
  auto cfg = config::Config::parse(base + "[hotspots]\ntickets = 3\n", "hub.toml", ".", hub_config_spec());
  try {
    hub_config_from(cfg);
    FAIL() << "[hotspots] routes one tier up by the [sla] policy; without it the hub must not start";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[hotspots] needs [sla]"), std::string::npos) << e.what();
  }
  auto off = hub_config_from(config::Config::parse(base, "hub.toml", ".", hub_config_spec()));
  EXPECT_FALSE(off.hotspots.has_value()) << "off without the section";
}

}  // namespace
}  // namespace gridhub::core
