// gridhubctl subscribe: stream as a named durable subscriber — print, acknowledge, resume after a restart.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "curve_client.hpp"
#include "gridhub/audit/replay.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/v1/log.pb.h"
#include "output.hpp"
#include "stream_client.hpp"

namespace gridhub::ctl {
namespace {

namespace v1 = gridhub::v1;

struct SubscribeArgs {
  std::string hub;
  std::string name;
  std::vector<std::string> assignees, communities, grids, categories, tiers;
  bool non_tickets = false;
  std::optional<std::uint64_t> from_seq;
  std::string since;
  bool from_head = false;
  std::uint32_t credit = 512;
  std::string format = "jsonl";
  std::uint64_t count = 0;
  bool no_ack = false;
  int idle_exit_ms = 0;
  CurveClient curve;
};

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

/// poll() returns EINTR whatever SA_RESTART says, so the stream loop sees the flag promptly; SA_RESTART
/// keeps a signal from failing a write to stdout halfway.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const char* record_kind(const v1::LogRecord& r) {
  switch (r.body_case()) {
    case v1::LogRecord::kIntakeAccepted: return r.intake_accepted().has_ticket() ? "intake" : "not_a_ticket";
    case v1::LogRecord::kTicketUpdate: return "ticket_update";
    case v1::LogRecord::kEscalation: return "escalation";
    case v1::LogRecord::kErasure: return "erasure";
    case v1::LogRecord::kHotspot: return "hotspot";
    case v1::LogRecord::BODY_NOT_SET: break;
  }
  return "unknown";
}

/// One line per delivered record: what happened and the ticket's key fields after it.
void print_delivery(const v1::Delivery& d, bool jsonl) {
  v1::LogRecord rec;
  if (!rec.ParseFromArray(d.record().data(), static_cast<int>(d.record().size()))) {
    std::cerr << "gridhubctl: log record " << d.seq() << " does not parse; acknowledged without printing\n";
    return;
  }
  const v1::Ticket* t = gridhub::log::record_ticket(rec);
  std::string action;
  std::string actor;
  if (rec.has_ticket_update()) {
    action = action_word(rec.ticket_update().action());
    actor = rec.ticket_update().actor();
  } else if (rec.has_escalation()) {
    action = rec.escalation().reason();
  } else if (rec.has_hotspot()) {
    action = rec.hotspot().action() == v1::HOTSPOT_ACTION_OPENED ? "opened" : "joined";
  }
  if (!jsonl) {
    std::printf("%llu%s %s%s%s %s %s %s %s %s\n", static_cast<unsigned long long>(d.seq()), d.redelivered() ? "*" : "",
                record_kind(rec), action.empty() ? "" : "/", action.c_str(), rec.ticket_id().empty() ? "-" : rec.ticket_id().c_str(),
                t != nullptr ? status_word(t->status()).c_str() : "-",
                t != nullptr && !t->assignee_code().empty() ? t->assignee_code().c_str() : "-",
                t != nullptr ? tier_word(t->tier()) : "-",
                t != nullptr && !t->category_code().empty() ? t->category_code().c_str() : "-");
    return;
  }
  std::string line = "{\"seq\":" + std::to_string(d.seq()) + ",\"redelivered\":" + (d.redelivered() ? "true" : "false") +
                     ",\"kind\":" + json_quote(record_kind(rec)) + ",\"recorded_at_us\":" +
                     std::to_string(rec.recorded_at().unix_micros()) + ",\"ticket_id\":" + json_quote(rec.ticket_id());
  if (!action.empty()) line += ",\"action\":" + json_quote(action);
  if (!actor.empty()) line += ",\"actor\":" + json_quote(actor);
  if (t != nullptr) {
    line += ",\"status\":" + json_quote(status_word(t->status())) + ",\"assignee\":" + json_quote(t->assignee_code()) +
            ",\"tier\":" + json_quote(tier_word(t->tier())) + ",\"category\":" + json_quote(t->category_code()) +
            ",\"community\":" + json_quote(t->community_code()) + ",\"grid\":" + json_quote(t->grid_code()) +
            ",\"incident_id\":" + json_quote(t->incident_id()) + ",\"text\":" + json_quote(head_chars(t->text(), 60));
    // A hotspot's incident ticket: the tickets it links, oldest first.
    if (t->linked_ticket_ids_size() > 0) {
      line += ",\"linked\":[";
      for (int i = 0; i < t->linked_ticket_ids_size(); ++i) line += std::string(i == 0 ? "" : ",") + json_quote(t->linked_ticket_ids(i));
      line += "]";
    }
    // The classifier abstained: what the 12345 centre's dispatcher chooses from, best first.
    if (t->suggestions_size() > 0) {
      line += ",\"suggestions\":[";
      for (int i = 0; i < t->suggestions_size(); ++i) {
        const auto& sg = t->suggestions(i);
        char confidence[32];
        std::snprintf(confidence, sizeof confidence, "%.3f", sg.confidence());
        line += std::string(i == 0 ? "" : ",") + "{\"category\":" + json_quote(sg.category_code()) +
                ",\"confidence\":" + confidence + ",\"tier\":" + json_quote(tier_word(sg.tier())) +
                ",\"assignee\":" + json_quote(sg.assignee_code()) + "}";
      }
      line += "]";
    }
  }
  std::printf("%s}\n", line.c_str());
}

int run_subscribe(SubscribeArgs& a) {
  if (!a.curve.load()) return 2;
  StreamClientOptions o;
  o.endpoint = a.hub;
  o.configure = [&a](zmq::socket_t& s) { a.curve.apply(s); };
  auto& sub = o.subscribe;
  sub.set_name(a.name);
  auto* f = sub.mutable_filter();
  for (const auto& x : a.assignees) f->add_assignees(x);
  for (const auto& x : a.communities) f->add_communities(x);
  for (const auto& x : a.grids) f->add_grids(x);
  for (const auto& x : a.categories) f->add_categories(x);
  for (const auto& x : a.tiers) {
    f->add_tiers(x == "grid" ? v1::TIER_GRID : x == "community" ? v1::TIER_COMMUNITY : x == "county" ? v1::TIER_COUNTY : v1::TIER_CENTER);
  }
  f->set_include_non_tickets(a.non_tickets);
  if (a.from_seq) {
    sub.set_start(v1::START_POINT_SEQ);
    sub.set_from_seq(*a.from_seq);
  } else if (!a.since.empty()) {
    auto t = gridhub::audit::parse_time(a.since);
    if (!t) {
      std::cerr << "gridhubctl: --since: " << t.error().detail << "\n";
      return 2;
    }
    sub.set_start(v1::START_POINT_TIME);
    sub.set_from_time_us(t.value());
  } else if (a.from_head) {
    sub.set_start(v1::START_POINT_HEAD);
  } else {
    sub.set_start(v1::START_POINT_RESUME);
  }
  o.window = std::max<std::uint32_t>(a.credit, 1);
  o.acknowledge = !a.no_ack;
  o.ack_every = std::max<std::uint32_t>(o.window / 4, 1);
  o.max = a.count;
  o.idle_exit_ms = a.idle_exit_ms;
  o.stop = &g_stop;
  install_stop_handlers();
  const bool jsonl = a.format == "jsonl";
  return run_stream(o, [&](const v1::Delivery& d) {
    print_delivery(d, jsonl);
    // Acknowledged only after the line left the process. If it cannot leave (stdout closed or
    // full disk), exit without acknowledging it: the cursor keeps it for the next run.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      std::cerr << "gridhubctl: cannot write record " << d.seq() << " to stdout; exiting without acknowledging it\n";
      std::_Exit(1);
    }
    return true;
  });
}

}  // namespace

void add_subscribe(CLI::App& app, Context& ctx) {
  auto sa = std::make_shared<SubscribeArgs>();
  auto* subscribe = app.add_subcommand("subscribe", "stream as a named durable subscriber: print, acknowledge, resume after a restart");
  subscribe->add_option("--stream", sa->hub, "the hub's stream endpoint, e.g. tcp://127.0.0.1:5571")->required();
  subscribe->add_option("--as", sa->name, "the subscription's name; the hub keeps its cursor")->required();
  subscribe->add_option("--assignee", sa->assignees, "only tickets assigned (now or before) to this code; repeatable");
  subscribe->add_option("--community", sa->communities, "only tickets of this community; repeatable");
  subscribe->add_option("--grid", sa->grids, "only tickets of this grid; repeatable");
  subscribe->add_option("--category", sa->categories, "only tickets of this category code; repeatable");
  subscribe->add_option("--tier", sa->tiers, "only tickets at this tier; repeatable")
      ->check(CLI::IsMember({"grid", "community", "county", "center"}));
  subscribe->add_flag("--non-tickets", sa->non_tickets, "also intake records that made no ticket");
  add_curve_options(subscribe, sa->curve);
  auto* sub_from = subscribe->add_option("--from-seq", sa->from_seq, "start at this seq (rewinds the cursor)");
  auto* sub_since = subscribe->add_option("--since", sa->since, "start at the first record at or after this time (RFC 3339 or YYYY-MM-DD, UTC; rewinds)");
  auto* sub_head = subscribe->add_flag("--from-head", sa->from_head, "only records appended from now on (moves the cursor)");
  sub_from->excludes(sub_since, sub_head);
  sub_since->excludes(sub_head);
  subscribe->add_option("--credit", sa->credit, "records in flight (the hub caps it at stream.max_credit)")->check(CLI::Range(1, 100000));
  subscribe->add_option("--format", sa->format, "jsonl or text")->check(CLI::IsMember({"jsonl", "text"}));
  subscribe->add_option("--count", sa->count, "exit after printing this many records");
  subscribe->add_option("--idle-exit-ms", sa->idle_exit_ms, "exit when nothing arrived for this long");
  subscribe->add_flag("--no-ack", sa->no_ack, "never acknowledge (the cursor stays; records come again)");
  ctx.on_run(subscribe, [sa] { return run_subscribe(*sa); });
}

}  // namespace gridhub::ctl
