// gridhubctl: the operator's and auditor's command line.
#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
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
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/train.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/wire.pb.h"

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

/// One JSON line per log record: the seq and the ticket as the record left it. Sealed personal data
/// opens with `keys` (from --db) or shows "[sealed]"; "[erased]" once its key is destroyed.
bool print_record(std::uint64_t seq, std::string_view body, bool show_pii, gridhub::log::PiiKeyStore* keys) {
  v1::LogRecord rec;
  if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    std::cerr << "gridhubctl: log record " << seq << " does not parse; skipped\n";
    return false;
  }
  if (!rec.has_intake_accepted() || !rec.intake_accepted().has_ticket()) return false;   // not a ticket
  const auto& intake = rec.intake_accepted();
  v1::Ticket t = intake.ticket();
  if (keys != nullptr) (void)gridhub::log::unseal_pii(t, *keys);   // a key table it cannot read: left sealed
  // Without the keys --show-pii has nothing to show: sealed values print as "[sealed]".
  if (!show_pii || keys == nullptr) gridhub::core::mask_pii(t);
  // Each stage's decision, so a reader sees why the ticket went where it went.
  std::string decisions;
  for (const auto& d : intake.decisions()) decisions += (decisions.empty() ? "" : ",") + to_json(d);
  std::printf("{\"seq\":%llu,\"disposition\":\"%s\",\"ticket\":%s,\"decisions\":[%s]}\n",
              static_cast<unsigned long long>(seq), v1::Disposition_Name(intake.disposition()).c_str(), to_json(t).c_str(),
              decisions.c_str());
  return true;
}

int cmd_tail(const std::string& hub, std::uint64_t from_seq, std::uint64_t max, int idle_exit_ms, bool show_pii,
             const CurveClient& curve, const std::string& db_file) {
  std::optional<gridhub::sqlite::Database> keys_db;
  std::optional<gridhub::log::PiiKeyStore> keys;
  if (!db_file.empty()) {
    auto db = gridhub::sqlite::Database::open(db_file, gridhub::sqlite::OpenMode::kReadOnly);
    if (!db) {
      std::cerr << "gridhubctl: " << db.error().message() << "\n";
      return 1;
    }
    keys_db.emplace(std::move(db.value()));
    auto k = gridhub::log::PiiKeyStore::open(keys_db->handle());
    if (!k) {
      std::cerr << "gridhubctl: " << k.error().message() << "\n";
      return 1;
    }
    keys.emplace(std::move(k.value()));
  }
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  gridhub::transport::apply_common_options(sock, 64 << 20);
  curve.apply(sock);
  sock.connect(hub);
  constexpr std::uint32_t kWindow = 512;
  std::uint64_t next = std::max<std::uint64_t>(from_seq, 1);
  std::uint64_t printed = 0;
  std::uint32_t consumed = 0;
  auto subscribe = [&] {
    v1::SubscriberToHub m;
    m.mutable_subscribe()->set_from_seq(next);
    m.mutable_subscribe()->set_credit(kWindow);
    consumed = 0;
    (void)gridhub::transport::send_dealer(sock, m, false);
  };
  subscribe();
  auto last_data = std::chrono::steady_clock::now();
  v1::HubToSubscriber in;
  for (;;) {
    zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(idle_exit_ms > 0 ? std::min(idle_exit_ms, 1000) : 1000));
    if ((items[0].revents & ZMQ_POLLIN) == 0) {
      if (idle_exit_ms > 0 && std::chrono::steady_clock::now() - last_data > std::chrono::milliseconds(idle_exit_ms)) {
        return 0;
      }
      v1::SubscriberToHub k;  // keepalive; a restarted hub answers SessionUnknown
      k.mutable_credit()->set_credit(0);
      (void)gridhub::transport::send_dealer(sock, k, false);
      continue;
    }
    zmq::message_t msg;
    while (sock.recv(msg, zmq::recv_flags::dontwait)) {
      if (!in.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) continue;
      if (in.has_session_unknown()) {
        subscribe();
        continue;
      }
      if (!in.has_delivery()) continue;
      const auto seq = in.delivery().seq();
      last_data = std::chrono::steady_clock::now();
      ++consumed;
      if (seq < next) continue;  // a redelivery after resubscribing; already printed
      next = seq + 1;
      if (print_record(seq, in.delivery().record(), show_pii, keys ? &*keys : nullptr)) ++printed;
      std::fflush(stdout);
      if (max > 0 && printed >= max) return 0;
    }
    if (consumed >= kWindow / 2) {
      v1::SubscriberToHub c;
      c.mutable_credit()->set_credit(consumed);
      consumed = 0;
      (void)gridhub::transport::send_dealer(sock, c, false);
    }
  }
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

int cmd_dead_letters(const std::string& db_file, bool json) {
  auto db = gridhub::sqlite::Database::open(db_file, gridhub::sqlite::OpenMode::kReadOnly);
  if (!db) {
    std::cerr << "gridhubctl: " << db.error().message() << "\n";
    return 1;
  }
  auto st = db->prepare(
      "SELECT id, recorded_at, coalesce(adapter_id,''), coalesce(channel,0), coalesce(source_key,''), reason_code,"
      " coalesce(field,''), coalesce(detail,''), coalesce(location,'') FROM dead_letters ORDER BY id");
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
    if (json) {
      std::printf("{\"id\":%lld,\"recorded_at_us\":%lld,\"adapter_id\":%s,\"channel\":%lld,\"source_key\":%s,"
                  "\"reason\":%s,\"field\":%s,\"detail\":%s,\"location\":%s}\n",
                  static_cast<long long>(st->column_int(0)), static_cast<long long>(st->column_int(1)),
                  json_quote(st->column_text(2)).c_str(), static_cast<long long>(st->column_int(3)),
                  json_quote(st->column_text(4)).c_str(), json_quote(st->column_text(5)).c_str(),
                  json_quote(st->column_text(6)).c_str(), json_quote(st->column_text(7)).c_str(),
                  json_quote(st->column_text(8)).c_str());
    } else {
      // One line an operator can read: where, which record, why.
      std::printf("%s  %s  %s%s%s: %s\n", std::string(st->column_text(8)).c_str(), std::string(st->column_text(4)).c_str(),
                  std::string(st->column_text(5)).c_str(), st->column_text(6).empty() ? "" : " in ",
                  std::string(st->column_text(6)).c_str(), std::string(st->column_text(7)).c_str());
    }
  }
  return 0;
}

int cmd_route(const std::string& config_file, const std::vector<std::string>& inputs, const std::string& format,
              const std::string& chat_groups, const std::string& labels, const std::string& field_map) {
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
int cmd_verify(const std::string& db_file, const std::string& checkpoints, const std::string& public_key) {
  gridhub::audit::VerifyOptions opts;
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
    std::printf("checked %llu records before it, %llu checkpoint(s) matched\n", static_cast<unsigned long long>(rep.records),
                static_cast<unsigned long long>(rep.checkpoints_matched));
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
  auto log = gridhub::log::open_event_log(db_file, gridhub::log::LogOptions{}, clock);
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
  tail->add_flag("--show-pii", show_pii, "print reporters' names and phone numbers unmasked (needs --db)");
  tail->add_option("--db", db, "the hub's log database, for the keys that open sealed personal data")->check(CLI::ExistingFile);

  CurveClient curve;
  auto add_curve = [&](CLI::App* cmd) {
    cmd->add_option("--server-key", curve.server_key, "the hub's CURVE public key (Z85), when it runs [security] mode \"curve\"");
    cmd->add_option("--key", curve.key_file, "this client's CURVE secret key file (gridhubctl keygen --curve)")
        ->check(CLI::ExistingFile);
  };
  add_curve(tail);

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

  CLI11_PARSE(app, argc, argv);
  if (*verify) return cmd_verify(db, checkpoints_dir, public_key);
  if (*replay) return cmd_replay(db, from_seq, since, until, replay_format, show_pii);
  if (*keygen) return keygen_curve ? cmd_keygen_curve(key_out) : cmd_keygen(key_out);
  if (*erase) return cmd_erase(db, erase_ticket, erase_ref, erase_by);
  if (*state) return cmd_state(db, as_of, ticket_ids, show_pii);
  if (*reroute) return cmd_reroute(db, config_file, reroute_format);
  if (*report) return cmd_report(db, since, until, report_format, report_out, categories);
  if (*train) return cmd_train(inputs, labels, categories, model_out, field_map);
  if (*route) return cmd_route(config_file, inputs, format, chat_groups, labels, field_map);

  if ((*tail || *status || *reload) && !curve.load()) return 2;
  if (*tail) return cmd_tail(hub, from_seq, max, idle_exit_ms, show_pii, curve, db);
  if (*status) return cmd_status(hub, timeout_ms, curve);
  if (*reload) return cmd_reload(hub, timeout_ms, curve);
  if (*tickets) return cmd_tickets(db, show_pii, tickets_json);
  if (*dead) return cmd_dead_letters(db, json);
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
