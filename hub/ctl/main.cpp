// gridhubctl: the operator's and auditor's command line.
#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>

#include <signal.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <zmq.hpp>

#include "gridhub/audit/replay.hpp"
#include "gridhub/audit/report.hpp"
#include "gridhub/audit/reroute.hpp"
#include "gridhub/audit/state.hpp"
#include "gridhub/audit/verify.hpp"
#include "gridhub/auth/curve.hpp"
#include "gridhub/auth/directory.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/core/pii.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/heldout.hpp"
#include "gridhub/dryrun/train.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/wire.pb.h"
#include "stream_client.hpp"

namespace {

namespace v1 = gridhub::v1;

/// `--server-key Z85 --key FILE`: talk CURVE to a hub in [security] mode "curve" (both or neither).
struct CurveClient {
  std::string server_key;
  std::string key_file;
  std::optional<gridhub::auth::CurveKeyPair> keys;

  /// Loads the key file; false (with the reason on stderr) when the options are unusable.
  bool load() {
    if (server_key.empty() && key_file.empty()) return true;
    if (server_key.empty() || key_file.empty()) {
      std::cerr << "gridhubctl: --server-key and --key go together\n";
      return false;
    }
    if (!gridhub::auth::is_z85_key(server_key)) {
      std::cerr << "gridhubctl: --server-key: not a CURVE public key (40 characters of Z85)\n";
      return false;
    }
    auto k = gridhub::auth::load_curve_secret_key(key_file);
    if (!k) {
      std::cerr << "gridhubctl: --key: " << k.error().detail << "\n";
      return false;
    }
    keys = std::move(k.value());
    return true;
  }
  void apply(zmq::socket_t& s) const {
    if (keys) gridhub::auth::apply_curve_client(s, server_key, *keys);
  }
};

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string head_chars(const std::string& s, std::size_t n);
const char* tier_word(v1::Tier t);
std::string json_quote(std::string_view s);

/// One JSON line per log record: the seq and the ticket as the record left it.
bool print_record(std::uint64_t seq, std::string_view body, bool show_pii) {
  v1::LogRecord rec;
  if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    std::cerr << "gridhubctl: log record " << seq << " does not parse; skipped\n";
    return false;
  }
  if (!rec.has_intake_accepted() || !rec.intake_accepted().has_ticket()) return false;   // not a ticket
  const auto& intake = rec.intake_accepted();
  v1::Ticket t = intake.ticket();
  // The hub opened the personal fields if this identity may see them (masked them otherwise); tail
  // masks them again unless asked not to, so a terminal shows no phone number by accident.
  if (!show_pii) gridhub::core::mask_pii(t);
  // Each stage's decision, so a reader sees why the ticket went where it went.
  std::string decisions;
  for (const auto& d : intake.decisions()) decisions += (decisions.empty() ? "" : ",") + to_json(d);
  std::printf("{\"seq\":%llu,\"disposition\":\"%s\",\"ticket\":%s,\"decisions\":[%s]}\n",
              static_cast<unsigned long long>(seq), v1::Disposition_Name(intake.disposition()).c_str(), to_json(t).c_str(),
              decisions.c_str());
  return true;
}

int cmd_tail(const std::string& hub, std::uint64_t from_seq, std::uint64_t max, int idle_exit_ms, bool show_pii,
             const CurveClient& curve) {
  gridhub::ctl::StreamClientOptions o;
  o.endpoint = hub;
  o.configure = [&curve](zmq::socket_t& s) { curve.apply(s); };
  o.subscribe.set_from_seq(std::max<std::uint64_t>(from_seq, 1));
  o.max = max;
  o.idle_exit_ms = idle_exit_ms;
  return gridhub::ctl::run_stream(o, [&](const v1::Delivery& d) {
    const bool printed = print_record(d.seq(), d.record(), show_pii);
    std::fflush(stdout);
    return printed;
  });
}

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
    case v1::LogRecord::BODY_NOT_SET: break;
  }
  return "unknown";
}

std::string status_word(v1::TicketStatus s) {
  std::string n = v1::TicketStatus_Name(s);
  constexpr std::string_view kPrefix = "TICKET_STATUS_";
  if (n.rfind(kPrefix, 0) == 0) n = n.substr(kPrefix.size());
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

std::string action_word(v1::UpdateAction a) {
  std::string n = v1::UpdateAction_Name(a);
  constexpr std::string_view kPrefix = "UPDATE_ACTION_";
  if (n.rfind(kPrefix, 0) == 0) n = n.substr(kPrefix.size());
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
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
  }
  std::printf("%s}\n", line.c_str());
}

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
};

int cmd_subscribe(const SubscribeArgs& a, const CurveClient& curve) {
  gridhub::ctl::StreamClientOptions o;
  o.endpoint = a.hub;
  o.configure = [&curve](zmq::socket_t& s) { curve.apply(s); };
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
  return gridhub::ctl::run_stream(o, [&](const v1::Delivery& d) {
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

struct UpdateArgs {
  std::string hub;
  std::string ticket;
  std::string text;
  std::uint32_t hours = 0;
  std::string suggest;
  std::string request_id;
  int timeout_ms = 5000;
};

std::string random_request_id() {
  std::random_device rd;
  std::string id = "ctl-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    auto v = rd();
    for (int j = 0; j < 8; ++j, v >>= 4) id += kHex[v & 0xf];
  }
  return id;
}

/// Exit 0: done (the seq and the ticket's status on stdout); 3: refused (error and reason on
/// stderr); 1: no answer within --timeout-ms. A resend carries the same request_id, so a late
/// answer to the first attempt and the resend cannot both change the ticket.
int cmd_update(v1::UpdateAction action, const UpdateArgs& a, const CurveClient& curve) {
  v1::SubscriberToHub req;
  auto* u = req.mutable_update();
  u->set_request_id(a.request_id.empty() ? random_request_id() : a.request_id);
  u->set_ticket_id(a.ticket);
  u->set_action(action);
  u->set_text(a.text);
  u->set_extend_hours(a.hours);
  u->set_suggested_assignee(a.suggest);
  constexpr int kAttemptMs = 1000;
  zmq::context_t ctx(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.timeout_ms);
  v1::HubToSubscriber in;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    // A fresh socket per attempt: a hub that restarted meanwhile gets a clean connection.
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    gridhub::transport::apply_common_options(sock, 1 << 20);
    curve.apply(sock);
    sock.connect(a.hub);
    // Queued until the connection is up (no ZMQ_IMMEDIATE, so this never blocks); dropped at close.
    (void)gridhub::transport::send_dealer(sock, req, true);
    const auto attempt_end = std::chrono::steady_clock::now() + std::min(left, std::chrono::milliseconds(kAttemptMs));
    for (;;) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(attempt_end - std::chrono::steady_clock::now());
      if (wait.count() <= 0) break;
      zmq_pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
      if (zmq_poll(items, 1, static_cast<long>(wait.count())) <= 0) continue;
      zmq::message_t msg;
      if (!sock.recv(msg, zmq::recv_flags::dontwait)) continue;
      if (!in.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) continue;
      if (in.has_denied()) {
        std::cerr << "gridhubctl: refused: " << in.denied().reason() << "\n";
        return 3;
      }
      if (!in.has_update_result() || in.update_result().request_id() != u->request_id()) continue;
      const auto& r = in.update_result();
      if (!r.ok()) {
        std::cerr << "gridhubctl: " << a.ticket << ": refused: " << v1::UpdateError_Name(r.error()) << ": " << r.reason() << "\n";
        // UNAVAILABLE is the hub's "retry with the same request_id": do so while time is left.
        if (r.error() == v1::UPDATE_ERROR_UNAVAILABLE) break;
        return 3;
      }
      std::printf("seq %llu ticket %s status %s assignee %s tier %s request_id %s\n", static_cast<unsigned long long>(r.seq()),
                  a.ticket.c_str(), status_word(r.ticket().status()).c_str(),
                  r.ticket().assignee_code().empty() ? "-" : r.ticket().assignee_code().c_str(), tier_word(r.ticket().tier()),
                  r.request_id().c_str());
      return 0;
    }
  }
  std::cerr << "gridhubctl: no answer from " << a.hub << " within " << a.timeout_ms << " ms (is the hub running?); "
            << "resend with --request-id " << u->request_id() << " to stay idempotent\n";
  return 1;
}

/// One control request on the ingest endpoint and its answer, or nothing within the timeout.
std::optional<v1::HubToAdapter> request(const std::string& hub, const v1::AdapterToHub& req, int timeout_ms,
                                        const CurveClient& curve) {
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  gridhub::transport::apply_common_options(sock, 1 << 20);
  curve.apply(sock);
  sock.connect(hub);
  (void)gridhub::transport::send_dealer(sock, req, false);
  zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
  zmq::message_t msg;
  v1::HubToAdapter rep;
  if (!(items[0].revents & ZMQ_POLLIN) || !sock.recv(msg, zmq::recv_flags::dontwait) ||
      !rep.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) {
    std::cerr << "gridhubctl: no answer from " << hub << " within " << timeout_ms << " ms (is the hub running?"
              << (curve.keys ? " Is this key in its identities file, and --server-key the hub's public key?" : "")
              << ")\n";
    return std::nullopt;
  }
  if (rep.has_nack()) {
    std::cerr << "gridhubctl: refused by " << hub << ": " << rep.nack().reason() << "\n";
    return std::nullopt;
  }
  return rep;
}

int cmd_status(const std::string& hub, int timeout_ms, const CurveClient& curve) {
  v1::AdapterToHub req;
  req.mutable_status();
  auto rep = request(hub, req, timeout_ms, curve);
  if (!rep || !rep->has_status()) return 1;
  std::cout << "log_head_seq " << rep->status().log_head_seq() << "\n";
  for (const auto& c : rep->status().counters()) std::cout << c.name() << " " << c.value() << "\n";
  return 0;
}

/// The first `n` characters of UTF-8 text, with an ellipsis when cut.
std::string head_chars(const std::string& s, std::size_t n) {
  std::size_t i = 0;
  std::size_t chars = 0;
  while (i < s.size() && chars < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    ++chars;
  }
  std::string out = s.substr(0, std::min(i, s.size()));
  for (auto& ch : out) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return i < s.size() ? out + "…" : out;
}

const char* tier_word(v1::Tier t) {
  switch (t) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: return "-";
  }
}

int cmd_reload(const std::string& hub, int timeout_ms, const CurveClient& curve) {
  v1::AdapterToHub req;
  req.mutable_reload();
  auto rep = request(hub, req, timeout_ms, curve);
  if (!rep || !rep->has_reload()) return 1;
  std::cout << (rep->reload().ok() ? "reloaded: " : "refused: ") << rep->reload().message() << "\n";
  for (const auto& st : rep->reload().stages()) std::cout << "  " << st << "\n";
  return rep->reload().ok() ? 0 : 1;
}

int cmd_tickets(const std::string& db_file, bool show_pii, bool json) {
  auto db = gridhub::sqlite::Database::open(db_file, gridhub::sqlite::OpenMode::kReadOnly);
  if (!db) {
    std::cerr << "gridhubctl: " << db.error().message() << "\n";
    return 1;
  }
  std::optional<gridhub::log::PiiKeyStore> keys;
  if (auto k = gridhub::log::PiiKeyStore::open(db->handle()); k) keys.emplace(std::move(k.value()));   // none: nothing sealed
  auto st = db->prepare("SELECT last_seq, body FROM tickets ORDER BY created_seq");
  if (!st) {
    std::cerr << "gridhubctl: " << db_file << " is not a gridhub log: " << st.error().message() << "\n";
    return 1;
  }
  for (;;) {
    auto row = st->step();
    if (!row) {
      std::cerr << "gridhubctl: " << row.error().message() << "\n";
      return 1;
    }
    if (!row.value()) break;
    v1::Ticket t;
    auto body = st->column_blob(1);
    if (!t.ParseFromArray(body.data(), static_cast<int>(body.size()))) continue;
    // Sealed personal data opens with the ticket's key; once erased it reads "[erased]".
    if (keys) {
      if (auto s = gridhub::log::unseal_pii(t, *keys); !s) {
        std::cerr << "gridhubctl: " << s.error().message() << "\n";
        return 1;
      }
    }
    if (!show_pii) gridhub::core::mask_pii(t);
    if (json) {
      std::printf("%s\n", to_json(t).c_str());
      continue;
    }
    // One line a dispatcher can scan: who has it, at which tier, what and where.
    const std::string& place = t.grid_code().empty() ? t.community_code() : t.grid_code();
    std::printf("%s  %-9s %-16s %-4s %-15s %2d report(s)  %s\n", t.ticket_id().c_str(), tier_word(t.tier()),
                t.assignee_code().empty() ? "-" : t.assignee_code().c_str(),
                t.category_code().empty() ? "-" : t.category_code().c_str(), place.empty() ? "-" : place.c_str(),
                t.provenance_size(), head_chars(t.text(), 28).c_str());
  }
  return 0;
}

std::string json_quote(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
    } else {
      o += c;
    }
  }
  return o + "\"";
}

/// A dead letter's payload as an operator may see it: "[sealed]" (or "[erased]" once its key is gone)
/// unless `show_pii`; then opened. Rows from before sealing are shown as stored only with `show_pii`.
std::string dead_letter_payload(std::string_view stored, gridhub::log::PiiKeyStore* keys, bool show_pii) {
  using gridhub::log::PiiValueState;
  if (stored.empty()) return {};
  if (gridhub::log::pii_value_state(stored) != PiiValueState::kSealed) return show_pii ? std::string(stored) : "[sealed]";
  std::optional<gridhub::log::PiiKey> key;
  if (keys != nullptr) {
    if (auto k = keys->load(gridhub::log::sealed_key_id(stored)); k) key = k.value();
  }
  if (!key) return std::string(gridhub::log::kErasedText);
  if (!show_pii) return "[sealed]";
  auto plain = gridhub::log::open_sealed(stored, gridhub::v1::Event::descriptor()->FindFieldByName("original_payload")->full_name(), *key);
  return plain ? *plain : std::string(gridhub::log::kErasedText);
}

int cmd_dead_letters(const std::string& db_file, bool json, bool show_pii) {
  auto db = gridhub::sqlite::Database::open(db_file, gridhub::sqlite::OpenMode::kReadOnly);
  if (!db) {
    std::cerr << "gridhubctl: " << db.error().message() << "\n";
    return 1;
  }
  auto st = db->prepare(
      "SELECT id, recorded_at, coalesce(adapter_id,''), coalesce(channel,0), coalesce(source_key,''), reason_code,"
      " coalesce(field,''), coalesce(detail,''), coalesce(location,''), coalesce(payload,'') FROM dead_letters ORDER BY id");
  if (!st) {
    std::cerr << "gridhubctl: " << db_file << " is not a gridhub log: " << st.error().message() << "\n";
    return 1;
  }
  std::optional<gridhub::log::PiiKeyStore> keys;
  if (auto k = gridhub::log::PiiKeyStore::open(db->handle()); k) keys.emplace(std::move(k.value()));   // none: nothing sealed
  for (;;) {
    auto row = st->step();
    if (!row) {
      std::cerr << "gridhubctl: " << row.error().message() << "\n";
      return 1;
    }
    if (!row.value()) break;
    const std::string payload = dead_letter_payload(st->column_blob(9), keys ? &*keys : nullptr, show_pii);
    if (json) {
      std::printf("{\"id\":%lld,\"recorded_at_us\":%lld,\"adapter_id\":%s,\"channel\":%lld,\"source_key\":%s,"
                  "\"reason\":%s,\"field\":%s,\"detail\":%s,\"location\":%s,\"payload\":%s}\n",
                  static_cast<long long>(st->column_int(0)), static_cast<long long>(st->column_int(1)),
                  json_quote(st->column_text(2)).c_str(), static_cast<long long>(st->column_int(3)),
                  json_quote(st->column_text(4)).c_str(), json_quote(st->column_text(5)).c_str(),
                  json_quote(st->column_text(6)).c_str(), json_quote(st->column_text(7)).c_str(),
                  json_quote(st->column_text(8)).c_str(), json_quote(payload).c_str());
    } else {
      // One line an operator can read: where, which record, why.
      std::printf("%s  %s  %s%s%s: %s\n", std::string(st->column_text(8)).c_str(), std::string(st->column_text(4)).c_str(),
                  std::string(st->column_text(5)).c_str(), st->column_text(6).empty() ? "" : " in ",
                  std::string(st->column_text(6)).c_str(), std::string(st->column_text(7)).c_str());
      if (show_pii && !payload.empty()) std::printf("    row: %s\n", payload.c_str());
    }
  }
  return 0;
}

struct HeldoutArgs {
  std::string schemes;      // --heldout; "" = none
  std::string categories;   // --categories; default: the config's sla.categories
  int folds = 5;
};

int cmd_route(const std::string& config_file, const std::vector<std::string>& inputs, const std::string& format,
              const std::string& chat_groups, const std::string& labels, const std::string& field_map,
              const HeldoutArgs& heldout) {
  gridhub::core::HubConfig cfg;
  try {
    cfg = gridhub::core::load_hub_config(config_file);
  } catch (const std::exception& e) {
    std::cerr << "gridhubctl: " << e.what() << "\n";
    return 2;
  }
  if (!cfg.pipeline) {
    std::cerr << "gridhubctl: " << config_file << " has no [pipeline] section: nothing to route with\n";
    return 2;
  }
  if (!chat_groups.empty()) cfg.pipeline->chat_groups = chat_groups;
  auto pipeline = gridhub::pipeline::Pipeline::create(*cfg.pipeline);
  if (!pipeline) {
    std::cerr << "gridhubctl: " << pipeline.error().message() << "\n";
    return 2;
  }
  gridhub::dryrun::ReadOptions ro;
  auto f = gridhub::dryrun::parse_format(format);
  if (!f) {
    std::cerr << "gridhubctl: " << f.error().detail << "\n";
    return 2;
  }
  ro.format = f.value();
  ro.field_map = field_map;
  std::vector<gridhub::dryrun::InputRecord> records;
  int rc = 0;
  for (const auto& in : inputs) {
    auto r = gridhub::dryrun::read_input(in, ro);
    if (!r) {
      std::cerr << "gridhubctl: " << r.error().message() << "\n";
      rc = 1;
      continue;
    }
    for (auto& x : r.value()) records.push_back(std::move(x));
  }
  records = gridhub::dryrun::pair_locations(std::move(records));
  auto rows = gridhub::dryrun::run(*pipeline.value(), records);
  for (const auto& row : rows) std::printf("%s\n", gridhub::dryrun::to_json(row).c_str());
  std::fflush(stdout);
  if (!labels.empty()) {
    auto sc = gridhub::dryrun::score(rows, labels);
    if (!sc) {
      std::cerr << "gridhubctl: " << sc.error().message() << "\n";
      return 1;
    }
    std::cerr << gridhub::dryrun::report(sc.value());
    if (!heldout.schemes.empty()) {
      auto schemes = gridhub::dryrun::parse_heldout(heldout.schemes);
      if (!schemes) {
        std::cerr << "gridhubctl: " << schemes.error().detail << "\n";
        return 2;
      }
      gridhub::dryrun::HeldoutOptions ho;
      ho.pipeline = *cfg.pipeline;
      ho.labels = labels;
      ho.folds = heldout.folds;
      if (!heldout.categories.empty()) {
        ho.categories = heldout.categories;
      } else if (cfg.sla) {
        ho.categories = cfg.sla->categories;
      } else {
        std::cerr << "gridhubctl: --heldout retrains the classifier and needs the category table: give --categories "
                     "(or an [sla] categories in " << config_file << ")\n";
        return 2;
      }
      // In-sample first: the gaps are measured from it, with the same training.
      std::vector<gridhub::dryrun::HeldoutScheme> order{gridhub::dryrun::HeldoutScheme::kInSample};
      for (auto s : schemes.value()) {
        if (s != gridhub::dryrun::HeldoutScheme::kInSample) order.push_back(s);
      }
      std::vector<gridhub::dryrun::HeldoutResult> results;
      for (auto s : order) {
        auto r = gridhub::dryrun::evaluate_heldout(records, s, ho);
        if (!r) {
          std::cerr << "gridhubctl: " << r.error().message() << "\n";
          return 1;
        }
        results.push_back(std::move(r).value());
      }
      std::cerr << gridhub::dryrun::heldout_report(sc.value(), results);
    }
  }
  return rc;
}

int cmd_train(const std::vector<std::string>& inputs, const std::string& labels, const std::string& categories,
              const std::string& out, const std::string& field_map) {
  gridhub::dryrun::ReadOptions ro;
  ro.field_map = field_map;
  std::vector<gridhub::dryrun::InputRecord> records;
  for (const auto& in : inputs) {
    auto r = gridhub::dryrun::read_input(in, ro);
    if (!r) {
      std::cerr << "gridhubctl: " << r.error().message() << "\n";
      return 1;
    }
    for (auto& x : r.value()) records.push_back(std::move(x));
  }
  records = gridhub::dryrun::pair_locations(std::move(records));
  auto rep = gridhub::dryrun::train_classifier(records, labels, categories, out);
  if (!rep) {
    std::cerr << "gridhubctl: " << rep.error().message() << "\n";
    return 1;
  }
  std::cout << "trained on " << rep->examples << " labelled records (" << rep->tickets << " tickets, "
            << rep->not_tickets << " not) + " << rep->prior_examples << " category-table examples; "
            << rep->unlabelled << " records had no label\nwrote " << out << " (" << rep->data_version << ")\n";
  return 0;
}

/// Exit 0: the log verifies; 1: it does not (the first bad seq and why on stdout); 2: could not verify.
int cmd_verify(const std::string& db_file, const std::string& checkpoints, const std::string& public_key,
               bool check_projection) {
  gridhub::audit::VerifyOptions opts;
  opts.check_projection = check_projection;
  if (!checkpoints.empty()) opts.checkpoints_dir = checkpoints;
  if (!public_key.empty()) opts.public_key = public_key;
  auto progress = gridhub::Progress::on_terminal(stderr, "verify");
  opts.progress = &progress;
  auto r = gridhub::audit::verify_log(db_file, opts);
  if (!r) {
    std::cerr << "gridhubctl: cannot verify: " << r.error().message() << "\n";
    return 2;
  }
  const auto& rep = r.value();
  if (!rep.ok()) {
    std::printf("FAIL seq %llu %s: %s\n", static_cast<unsigned long long>(rep.first_bad_seq),
                std::string(gridhub::audit::problem_name(rep.problem)).c_str(), rep.detail.c_str());
    if (rep.problem == gridhub::audit::Problem::kProjectionMismatch) {
      // The chain itself verified: the finding is about the tickets table derived from it.
      std::printf("the chain of %llu records verified, %llu checkpoint(s) matched; the tickets table does not match it\n",
                  static_cast<unsigned long long>(rep.records), static_cast<unsigned long long>(rep.checkpoints_matched));
    } else {
      std::printf("checked %llu records before it, %llu checkpoint(s) matched\n", static_cast<unsigned long long>(rep.records),
                  static_cast<unsigned long long>(rep.checkpoints_matched));
    }
    return 1;
  }
  std::printf("OK %llu records, head seq %llu hash %s\n", static_cast<unsigned long long>(rep.records),
              static_cast<unsigned long long>(rep.head_seq), gridhub::log::to_hex(rep.head_hash).c_str());
  if (opts.checkpoints_dir) {
    std::printf("checkpoints: %llu signed by %s, %llu matched the chain\n", static_cast<unsigned long long>(rep.checkpoints),
                opts.public_key->c_str(), static_cast<unsigned long long>(rep.checkpoints_matched));
  } else {
    std::printf("no checkpoints given: a truncated tail or a rewritten chain cannot be detected\n");
  }
  return 0;
}

int cmd_replay(const std::string& db_file, std::uint64_t from_seq, const std::string& since, const std::string& until,
               const std::string& format, bool show_pii) {
  gridhub::audit::ReplayOptions opts;
  opts.from_seq = from_seq;
  opts.format = format == "csv" ? gridhub::audit::ReplayFormat::kCsv : gridhub::audit::ReplayFormat::kJsonl;
  opts.show_pii = show_pii;
  for (auto [text, slot] : {std::pair{&since, &opts.since_micros}, std::pair{&until, &opts.until_micros}}) {
    if (text->empty()) continue;
    auto t = gridhub::audit::parse_time(*text);
    if (!t) {
      std::cerr << "gridhubctl: " << t.error().detail << "\n";
      return 2;
    }
    *slot = t.value();
  }
  auto progress = gridhub::Progress::on_terminal(stderr, "replay");
  opts.progress = &progress;
  auto n = gridhub::audit::replay(db_file, opts, stdout);
  std::fflush(stdout);
  if (!n) {
    std::cerr << "gridhubctl: " << n.error().message() << "\n";
    return 1;
  }
  return 0;
}

/// Exit 0 with one JSON line per ticket; 2 when the time does not parse; 1 when the log cannot be read.
int cmd_state(const std::string& db_file, const std::string& as_of, const std::vector<std::string>& ticket_ids, bool show_pii) {
  auto t = gridhub::audit::parse_time(as_of);
  if (!t) {
    std::cerr << "gridhubctl: --as-of: " << t.error().detail << "\n";
    return 2;
  }
  auto progress = gridhub::Progress::on_terminal(stderr, "state");
  auto n = gridhub::audit::write_state(db_file, t.value(), ticket_ids, show_pii, stdout, &progress);
  std::fflush(stdout);
  if (!n) {
    std::cerr << "gridhubctl: " << n.error().message() << "\n";
    return 1;
  }
  return 0;
}

/// Exit 0 whether or not decisions would change (the listing is the answer); 2 on a bad candidate
/// configuration; 1 when the log cannot be read.
int cmd_reroute(const std::string& db_file, const std::string& config_file, const std::string& format) {
  gridhub::core::HubConfig cfg;
  try {
    cfg = gridhub::core::load_hub_config(config_file);
  } catch (const std::exception& e) {
    std::cerr << "gridhubctl: " << e.what() << "\n";
    return 2;
  }
  if (!cfg.pipeline) {
    std::cerr << "gridhubctl: " << config_file << " has no [pipeline] section: nothing to route with\n";
    return 2;
  }
  auto pipeline = gridhub::pipeline::Pipeline::create(*cfg.pipeline);
  if (!pipeline) {
    std::cerr << "gridhubctl: " << pipeline.error().message() << "\n";
    return 2;
  }
  const bool json = format == "jsonl";
  auto progress = gridhub::Progress::on_terminal(stderr, "reroute");
  auto summary = gridhub::audit::reroute(
      db_file, *pipeline.value(),
      [&](const gridhub::audit::DecisionChange& c) { std::printf("%s\n", gridhub::audit::format_change(c, json).c_str()); },
      &progress);
  if (!summary) {
    std::fflush(stdout);
    std::cerr << "gridhubctl: " << summary.error().message() << "\n";
    return 1;
  }
  std::printf("%s\n", gridhub::audit::format_summary(summary.value(), json).c_str());
  std::fflush(stdout);
  return 0;
}

int cmd_report(const std::string& db_file, const std::string& since, const std::string& until, const std::string& format,
               const std::string& out_file, const std::string& categories) {
  gridhub::audit::ReportOptions opts;
  for (auto [text, slot] : {std::pair{&since, &opts.since_micros}, std::pair{&until, &opts.until_micros}}) {
    if (text->empty()) continue;
    auto t = gridhub::audit::parse_time(*text);
    if (!t) {
      std::cerr << "gridhubctl: " << t.error().detail << "\n";
      return 2;
    }
    *slot = t.value();
  }
  std::map<std::string, std::string> names;
  if (!categories.empty()) {
    auto n = gridhub::audit::load_category_names(categories);
    if (!n) {
      std::cerr << "gridhubctl: " << n.error().message() << "\n";
      return 2;
    }
    names = std::move(n.value());
  }
  auto progress = gridhub::Progress::on_terminal(stderr, "report");
  opts.progress = &progress;
  auto data = gridhub::audit::collect_report(db_file, opts);
  if (!data) {
    std::cerr << "gridhubctl: " << data.error().message() << "\n";
    return 1;
  }
  const std::string text = format == "html" ? gridhub::audit::render_report_html(data.value(), names)
                                            : gridhub::audit::render_report_csv(data.value(), names);
  if (out_file.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return 0;
  }
  std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "gridhubctl: " << out_file << ": cannot write\n";
    return 1;
  }
  return 0;
}

/// Erases a ticket's personal data in a stopped hub's log (docs/audit.md, "Erasure"). Exit 0 done; 3 when
/// a running hub holds the log; 1 otherwise (no such ticket, storage error).
int cmd_erase(const std::string& db_file, const std::string& ticket_id, const std::string& request_ref,
              const std::string& requested_by) {
  const gridhub::SystemClock clock;
  // Opened as the hub's writer opens it: the single-writer lock, the schema, the chain head.
  auto log = gridhub::core::open_log(db_file, gridhub::log::LogOptions{}, clock);
  if (!log) {
    std::cerr << "gridhubctl: cannot erase: " << log.error().message() << "\n";
    return log.error().code == gridhub::make_error_code(gridhub::Errc::unavailable) ? 3 : 1;
  }
  std::vector<gridhub::log::AppendItem> items;
  items.emplace_back(gridhub::log::ErasureItem{ticket_id, request_ref, requested_by});
  std::vector<gridhub::log::AppendOutcome> out;
  if (auto s = log.value()->append(items, out); !s) {
    std::cerr << "gridhubctl: cannot erase: " << s.error().message() << "\n";
    return 1;
  }
  log.value().reset();
  if (out.front().duplicate) {
    std::printf("%s: personal data already erased (log record %llu); nothing written\n", ticket_id.c_str(),
                static_cast<unsigned long long>(out.front().seq));
    return 0;
  }
  // Old page images holding the key can sit in the WAL until a checkpoint: fold it into the database
  // (where secure_delete zeroed the key) and truncate it.
  auto db = gridhub::sqlite::Database::open(db_file, gridhub::sqlite::OpenMode::kReadWrite);
  if (!db || !db->exec("PRAGMA wal_checkpoint(TRUNCATE)")) {
    std::cerr << "gridhubctl: erased, but the write-ahead log could not be checkpointed; run it again when idle\n";
  }
  std::printf("erased personal data of %s: log record %llu, key %s destroyed\n", ticket_id.c_str(),
              static_cast<unsigned long long>(out.front().seq), ticket_id.c_str());
  return 0;
}

int cmd_keygen(const std::string& out) {
  auto pk = gridhub::log::generate_keypair(out);
  if (!pk) {
    std::cerr << "gridhubctl: " << pk.error().message() << "\n";
    return 1;
  }
  const auto dir = std::filesystem::path(out);
  std::cout << "wrote " << (dir / gridhub::log::kSecretKeyFile).string() << " (secret, mode 0600: the hub's [audit] signing_key)\n"
            << "wrote " << (dir / gridhub::log::kPublicKeyFile).string() << " (public: give it to auditors)\n"
            << "key id " << pk->key_id << "\n";
  return 0;
}

/// A CURVE key pair for a hub, adapter or subscriber: PREFIX.key (secret) and PREFIX.pub; the public
/// key is printed for the identities file (or, for the hub's own key, for its clients).
int cmd_keygen_curve(const std::string& prefix) {
  auto k = gridhub::auth::generate_curve_keypair();
  if (!k) {
    std::cerr << "gridhubctl: " << k.error().message() << "\n";
    return 1;
  }
  if (auto s = gridhub::auth::write_curve_key_files(prefix, k.value()); !s) {
    std::cerr << "gridhubctl: " << s.error().message() << "\n";
    return 1;
  }
  std::cerr << "wrote " << prefix << ".key (secret, mode 0600) and " << prefix << ".pub\n";
  std::cout << k->public_key << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhubctl: operate and audit a gridhub"};
  app.require_subcommand(1);

  std::string hub;
  std::string db;
  std::uint64_t from_seq = 1;
  std::uint64_t max = 0;
  int idle_exit_ms = 0;
  bool show_pii = false;
  int timeout_ms = 3000;

  auto* tail = app.add_subcommand("tail", "stream tickets as JSON lines: the log from --from-seq, then live");
  tail->add_option("--hub", hub, "the hub's stream endpoint, e.g. tcp://127.0.0.1:5571")->required();
  tail->add_option("--from-seq", from_seq, "first log seq to print (default 1: everything)");
  tail->add_option("--max", max, "exit after this many tickets");
  tail->add_option("--idle-exit-ms", idle_exit_ms, "exit when nothing arrived for this long");
  tail->add_flag("--show-pii", show_pii, "print reporters' names and phone numbers unmasked (if the hub lets this identity see them)");

  CurveClient curve;
  auto add_curve = [&](CLI::App* cmd) {
    cmd->add_option("--server-key", curve.server_key, "the hub's CURVE public key (Z85), when it runs [security] mode \"curve\"");
    cmd->add_option("--key", curve.key_file, "this client's CURVE secret key file (gridhubctl keygen --curve)")
        ->check(CLI::ExistingFile);
  };
  add_curve(tail);

  SubscribeArgs sa;
  auto* subscribe = app.add_subcommand("subscribe", "stream as a named durable subscriber: print, acknowledge, resume after a restart");
  subscribe->add_option("--stream", sa.hub, "the hub's stream endpoint, e.g. tcp://127.0.0.1:5571")->required();
  subscribe->add_option("--as", sa.name, "the subscription's name; the hub keeps its cursor")->required();
  subscribe->add_option("--assignee", sa.assignees, "only tickets assigned (now or before) to this code; repeatable");
  subscribe->add_option("--community", sa.communities, "only tickets of this community; repeatable");
  subscribe->add_option("--grid", sa.grids, "only tickets of this grid; repeatable");
  subscribe->add_option("--category", sa.categories, "only tickets of this category code; repeatable");
  subscribe->add_option("--tier", sa.tiers, "only tickets at this tier; repeatable")
      ->check(CLI::IsMember({"grid", "community", "county", "center"}));
  subscribe->add_flag("--non-tickets", sa.non_tickets, "also intake records that made no ticket");
  add_curve(subscribe);
  auto* sub_from = subscribe->add_option("--from-seq", sa.from_seq, "start at this seq (rewinds the cursor)");
  auto* sub_since = subscribe->add_option("--since", sa.since, "start at the first record at or after this time (RFC 3339 or YYYY-MM-DD, UTC; rewinds)");
  auto* sub_head = subscribe->add_flag("--from-head", sa.from_head, "only records appended from now on (moves the cursor)");
  sub_from->excludes(sub_since, sub_head);
  sub_since->excludes(sub_head);
  subscribe->add_option("--credit", sa.credit, "records in flight (the hub caps it at stream.max_credit)")->check(CLI::Range(1, 100000));
  subscribe->add_option("--format", sa.format, "jsonl or text")->check(CLI::IsMember({"jsonl", "text"}));
  subscribe->add_option("--count", sa.count, "exit after printing this many records");
  subscribe->add_option("--idle-exit-ms", sa.idle_exit_ms, "exit when nothing arrived for this long");
  subscribe->add_flag("--no-ack", sa.no_ack, "never acknowledge (the cursor stays; records come again)");

  UpdateArgs ua;
  struct UpdateCmd {
    const char* name;
    v1::UpdateAction action;
    const char* help;
    CLI::App* app = nullptr;
  };
  std::vector<UpdateCmd> update_cmds = {
      {"accept", v1::UPDATE_ACTION_ACCEPT, "take a ticket on (status accepted)"},
      {"note", v1::UPDATE_ACTION_NOTE, "add a progress note (--text)"},
      {"resolve", v1::UPDATE_ACTION_RESOLVE, "report a ticket done, with the result (--text)"},
      {"return", v1::UPDATE_ACTION_RETURN, "return a ticket as not ours, with the reason (--text); the hub re-routes it"},
      {"extend", v1::UPDATE_ACTION_EXTEND, "ask for more time (--hours, --text why)"},
  };
  for (auto& uc : update_cmds) {
    uc.app = app.add_subcommand(uc.name, uc.help);
    uc.app->add_option("ticket", ua.ticket, "ticket id")->required();
    uc.app->add_option("--stream", ua.hub, "the hub's stream endpoint")->required();
    auto* text = uc.app->add_option("--text", ua.text, "the note, result or reason");
    if (uc.action != v1::UPDATE_ACTION_ACCEPT) text->required();
    if (uc.action == v1::UPDATE_ACTION_EXTEND) uc.app->add_option("--hours", ua.hours, "working hours more")->required()->check(CLI::Range(1, 720));
    if (uc.action == v1::UPDATE_ACTION_RETURN) uc.app->add_option("--suggest", ua.suggest, "who you think it belongs to (assignee code)");
    uc.app->add_option("--request-id", ua.request_id, "idempotency key (default: a random one); reuse it to resend");
    add_curve(uc.app);
    uc.app->add_option("--timeout-ms", ua.timeout_ms, "give up (exit 1) when the hub has not answered by then");
  }

  auto* status = app.add_subcommand("status", "the hub's log head and counters");
  status->add_option("--hub", hub, "the hub's ingest endpoint")->required();
  status->add_option("--timeout-ms", timeout_ms, "how long to wait for the answer");
  add_curve(status);

  bool tickets_json = false;
  auto* reload = app.add_subcommand("reload", "make the hub re-read its pipeline config and reference data (like SIGHUP)");
  reload->add_option("--hub", hub, "the hub's ingest endpoint")->required();
  reload->add_option("--timeout-ms", timeout_ms, "how long to wait for the answer");
  add_curve(reload);

  auto* tickets = app.add_subcommand("tickets", "current state of every ticket (the projection), one line each");
  tickets->add_option("--db", db, "the hub's log database")->required()->check(CLI::ExistingFile);
  tickets->add_flag("--show-pii", show_pii, "print reporters' names and phone numbers unmasked");
  tickets->add_flag("--json", tickets_json, "one JSON object per ticket");

  bool json = false;
  auto* dead = app.add_subcommand("dead-letters", "every rejected record: where it came from and why");
  dead->add_option("--db", db, "the hub's log database")->required()->check(CLI::ExistingFile);
  dead->add_flag("--json", json, "one JSON object per line");
  dead->add_flag("--show-pii", show_pii, "also the rejected rows as received (sealed: they hold names and numbers)");

  auto* rebuild = app.add_subcommand("rebuild-projection", "recompute the tickets table from the log (hub stopped)");
  rebuild->add_option("--db", db, "the hub's log database")->required()->check(CLI::ExistingFile);

  std::string config_file;
  std::vector<std::string> inputs;
  std::string format = "auto";
  std::string chat_groups;
  std::string labels;
  std::string field_map;
  auto* route = app.add_subcommand("route", "run the routing pipeline offline over intake files; one JSON line per record");
  route->add_option("-c,--config", config_file, "hub configuration with the [pipeline] to try")->required()->check(CLI::ExistingFile);
  route->add_option("inputs", inputs, "intake files of any channel")->required();
  route->add_option("--format", format, "auto, hotline-csv, hotline-xlsx, memotrace-csv, memotrace-txt, oa-xml, jinshuju-jsonl, urlencoded");
  route->add_option("--chat-groups", chat_groups, "chat groups' deployment context (CSV), overriding pipeline.chat_groups");
  route->add_option("--labels", labels, "labelled truth (labels.csv): print per-field accuracy and confusions to stderr");
  route->add_option("--field-map", field_map, "form-builder field map (JSON) for jinshuju-jsonl inputs");
  HeldoutArgs heldout;
  route->add_option("--heldout", heldout.schemes,
                    "with --labels: also score held-out splits, retraining the classifier per split "
                    "(families, channels; comma-separated)")->needs("--labels");
  route->add_option("--folds", heldout.folds, "folds of phrasing families for --heldout families")
      ->check(CLI::Range(2, 100));
  route->add_option("--categories", heldout.categories,
                    "category table for retraining under --heldout (default: the config's sla.categories)")
      ->check(CLI::ExistingFile);

  std::string categories;
  std::string model_out;
  auto* train = app.add_subcommand("train", "learn the classifier model from labelled intake files");
  train->add_option("inputs", inputs, "labelled intake files of any channel")->required();
  train->add_option("--labels", labels, "labels CSV (file, record_key, is_ticket, malformed, category_code)")->required()->check(CLI::ExistingFile);
  train->add_option("--categories", categories, "the county's categories.csv")->required()->check(CLI::ExistingFile);
  train->add_option("-o,--out", model_out, "model artefact to write")->required();
  train->add_option("--field-map", field_map, "form-builder field map (JSON) for jinshuju-jsonl inputs");

  std::string checkpoints_dir;
  std::string public_key;
  auto* verify = app.add_subcommand("verify", "check the log's hash chain and signed checkpoints (read-only); exit 1 on tampering");
  verify->add_option("--db", db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  auto* cp_opt = verify->add_option("--checkpoints", checkpoints_dir, "folder of checkpoint files kept off the machine")
                     ->check(CLI::ExistingDirectory);
  auto* pk_opt = verify->add_option("--public-key", public_key, "the signer's public key file (checkpoint.pub)")
                     ->check(CLI::ExistingFile);
  cp_opt->needs(pk_opt);
  pk_opt->needs(cp_opt);
  bool no_projection = false;
  verify->add_flag("--no-projection", no_projection,
                   "skip comparing the tickets table with the state the log derives (chain and checkpoints only)");

  std::string since;
  std::string until;
  std::string replay_format = "jsonl";
  auto* replay = app.add_subcommand("replay", "print the log read-only, one line per record");
  replay->add_option("--db", db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  replay->add_option("--from-seq", from_seq, "first seq (default 1)");
  replay->add_option("--since", since, "records at or after this time (RFC 3339 or YYYY-MM-DD, UTC)");
  replay->add_option("--until", until, "records before this time (exclusive)");
  replay->add_option("--format", replay_format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  replay->add_flag("--show-pii", show_pii, "print reporters' names and phone numbers unmasked");

  std::string as_of;
  std::vector<std::string> ticket_ids;
  auto* state = app.add_subcommand("state", "every ticket (or the named ones) as it stood at a past time, from the log alone (read-only)");
  state->add_option("--db", db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  state->add_option("--as-of", as_of, "RFC 3339 or YYYY-MM-DD (UTC); records at or before it count")->required();
  state->add_option("tickets", ticket_ids, "ticket ids (default: every ticket)");
  state->add_flag("--show-pii", show_pii, "print reporters' names and phone numbers unmasked");

  std::string reroute_format = "text";
  auto* reroute = app.add_subcommand("reroute", "replay the logged intake through a candidate configuration; list decisions that would change");
  reroute->add_option("--db", db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  reroute->add_option("-c,--config", config_file, "hub configuration with the candidate [pipeline]")->required()->check(CLI::ExistingFile);
  reroute->add_option("--format", reroute_format, "text or jsonl")->check(CLI::IsMember({"text", "jsonl"}));

  std::string report_format = "csv";
  std::string report_out;
  auto* report = app.add_subcommand("report", "the published figures: tickets by channel, category, community, grid and tier");
  report->add_option("--db", db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  report->add_option("--since", since, "records at or after this time (RFC 3339 or YYYY-MM-DD, UTC)");
  report->add_option("--until", until, "records before this time (exclusive)");
  report->add_option("--format", report_format, "csv or html")->check(CLI::IsMember({"csv", "html"}));
  report->add_option("--out", report_out, "write here instead of stdout");
  report->add_option("--categories", categories, "the county's categories.csv, for category names")->check(CLI::ExistingFile);

  std::string erase_ticket;
  std::string erase_ref;
  std::string erase_by;
  auto* erase = app.add_subcommand("erase", "erase a ticket's personal data on lawful request (hub stopped): a logged, chained erasure");
  erase->add_option("--db", db, "the hub's log database")->required()->check(CLI::ExistingFile);
  erase->add_option("--ticket", erase_ticket, "the ticket, e.g. T00000042 (its merged reports go with it)")->required();
  erase->add_option("--ref", erase_ref, "the lawful request's reference (case number)")->required();
  erase->add_option("--by", erase_by, "who ordered the erasure")->required();

  std::string key_out;
  bool keygen_curve = false;
  auto* keygen = app.add_subcommand("keygen", "make an Ed25519 key pair for signed checkpoints, or (--curve) a CURVE key pair");
  keygen->add_option("--out", key_out,
                     "folder for checkpoint.key (secret) and checkpoint.pub; with --curve: PREFIX for PREFIX.key and PREFIX.pub")
      ->required();
  keygen->add_flag("--curve", keygen_curve,
                   "a CurveZMQ key pair for the hub, an adapter or a subscriber; prints the public key (Z85)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;   // usage errors exit 2, like every gridhubctl refusal to start
  }
  const bool update_cmd = std::any_of(update_cmds.begin(), update_cmds.end(), [](const auto& uc) { return bool(*uc.app); });
  if ((*tail || *status || *reload || *subscribe || update_cmd) && !curve.load()) return 2;
  if (*subscribe) return cmd_subscribe(sa, curve);
  for (const auto& uc : update_cmds) {
    if (*uc.app) return cmd_update(uc.action, ua, curve);
  }
  if (*verify) return cmd_verify(db, checkpoints_dir, public_key, !no_projection);
  if (*replay) return cmd_replay(db, from_seq, since, until, replay_format, show_pii);
  if (*keygen) return keygen_curve ? cmd_keygen_curve(key_out) : cmd_keygen(key_out);
  if (*erase) return cmd_erase(db, erase_ticket, erase_ref, erase_by);
  if (*state) return cmd_state(db, as_of, ticket_ids, show_pii);
  if (*reroute) return cmd_reroute(db, config_file, reroute_format);
  if (*report) return cmd_report(db, since, until, report_format, report_out, categories);
  if (*train) return cmd_train(inputs, labels, categories, model_out, field_map);
  if (*route) return cmd_route(config_file, inputs, format, chat_groups, labels, field_map, heldout);

  if (*tail) return cmd_tail(hub, from_seq, max, idle_exit_ms, show_pii, curve);
  if (*status) return cmd_status(hub, timeout_ms, curve);
  if (*reload) return cmd_reload(hub, timeout_ms, curve);
  if (*tickets) return cmd_tickets(db, show_pii, tickets_json);
  if (*dead) return cmd_dead_letters(db, json, show_pii);
  if (*rebuild) {
    auto progress = gridhub::Progress::on_terminal(stderr, "rebuild-projection");
    auto n = gridhub::log::rebuild_projection(db, &progress);
    if (!n) {
      std::cerr << "gridhubctl: " << n.error().message() << "\n";
      return 1;
    }
    std::cout << "rebuilt " << n.value() << " tickets from the log\n";
    return 0;
  }
  return 0;
}
