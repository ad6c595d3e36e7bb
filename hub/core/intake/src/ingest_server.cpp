#include "gridhub/core/ingest_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/auth/entitlement.hpp"
#include "gridhub/core/hub_metrics.hpp"
#include "gridhub/core/routing.hpp"
#include "gridhub/log/wire_scan.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

zmq::socket_t make_router(zmq::context_t& zmq, const IngestOptions& o, const auth::Security* security,
                          std::vector<std::string>& bound) {
  zmq::socket_t s(zmq, zmq::socket_type::router);
  transport::apply_common_options(s, o.max_frame_bytes);
  if (security != nullptr) security->configure_server(s);
  // Unroutable acks (the adapter went away) must be reported, not silently dropped.
  s.set(zmq::sockopt::router_mandatory, 1);
  s.set(zmq::sockopt::sndhwm, 100000);
  s.set(zmq::sockopt::rcvhwm, 100000);
  for (const auto& ep : o.endpoints) {
    s.bind(ep);
    bound.push_back(s.get(zmq::sockopt::last_endpoint));
  }
  return s;
}

/// How much of a refused frame its dead letter keeps: enough to recognise it, never the frame's size.
constexpr std::size_t kExcerptBytes = 4096;

std::string excerpt(const zmq::message_t& payload) {
  return std::string(static_cast<const char*>(payload.data()), std::min<std::size_t>(payload.size(), kExcerptBytes));
}

/// A text field read off the wire, kept only if it could have been stored (valid UTF-8, short).
std::string readable(std::string_view bytes) {
  return bytes.size() <= 256 && text::is_valid_utf8(bytes) ? std::string(bytes) : std::string();
}

/// The stateless stages of one Submit: unknown fields dropped, its ticket built, then the pipeline's
/// assessment applied to it.
/// Touches nothing but `item` and the pipeline's const stages, so any thread may run it.
void assess_intake(const pipeline::Pipeline* pipeline, log::IntakeItem& item) {
  // Fields this hub version does not know could carry data past masking; they are not stored.
  item.body.mutable_event()->DiscardUnknownFields();
  const auto& ev = item.body.event();
  *item.body.mutable_ticket() = ticket_from_event(ev);
  if (pipeline == nullptr) return;
  auto a = std::make_shared<pipeline::Assessment>(pipeline->assess(ev));
  // The decisions move into the record rather than being copied: the assessment rides on to the
  // writer for the merge (which appends only its own decision), and whatever it still holds is
  // freed there, on the busiest thread.
  auto decisions = std::move(a->decisions);
  a->decisions.clear();
  apply_assessment(*a, item.body);
  for (auto& d : decisions) item.body.mutable_decisions()->Add(std::move(d));
  item.hook_state = std::move(a);
}

/// What an oversized Submit says about itself, read from its encoding without parsing the event (the
/// fields are length-delimited, so this skips over the bulk): its correlation, to answer the sender,
/// and its record key, to file the dead letter under it.
void scan_oversized(std::string_view frame, IngestServer::RefusedFrame& out) {
  namespace wire = log::wire;
  wire::Field f;
  while (!frame.empty() && wire::next(frame, f)) {
    if (f.number != 1 || f.type != 2) continue;  // AdapterToHub.submit
    std::string_view submit = f.bytes;
    wire::Field g;
    while (!submit.empty() && wire::next(submit, g)) {
      if (g.number == 1 && g.type == 0) out.correlation = g.value;  // Submit.correlation_id
      if (g.number != 2 || g.type != 2) continue;                   // Submit.event
      std::string_view event = g.bytes;
      wire::Field h;
      while (!event.empty() && wire::next(event, h)) {
        if (h.number == 1 && h.type == 0 && v1::Channel_IsValid(static_cast<int>(h.value))) out.channel = static_cast<int>(h.value);
        if (h.number == 2 && h.type == 2) out.adapter_id = readable(h.bytes);
        if (h.number == 3 && h.type == 2) out.source_key = readable(h.bytes);
      }
    }
  }
  if (out.source_key.empty()) out.channel = 0;   // the dead letter is keyed by both or by neither
}

}  // namespace

IngestServer::IngestServer(boost::asio::io_context& io, zmq::context_t& zmq, LogWriter& writer, IngestOptions options,
                           const pipeline::Pipeline* pipeline, const auth::Security* security)
    : io_(io),
      options_(std::move(options)),
      // Not owned: the caller keeps the first pipeline alive for the server's lifetime (an aliasing
      // shared_ptr with no control block).
      pipeline_(std::shared_ptr<const pipeline::Pipeline>(), pipeline),
      security_(security),
      socket_(io, make_router(zmq, options_, security, bound_)),
      writer_(&writer) {
  writer_->on_commit([this](const LogWriter::Commit& c) { on_batch_done(c); });
  stages_ = std::make_unique<StagePool>(io, options_.workers);
}

IngestServer::~IngestServer() = default;

std::uint64_t IngestServer::head_seq() const { return writer_->head_seq(); }

std::size_t IngestServer::in_stages() const { return stages_->in_flight(); }

std::size_t IngestServer::pending() const { return writer_->pending() + stages_->in_flight(); }

void IngestServer::start() {
  socket_.start([this] { on_readable(); });
}

void IngestServer::drain(std::function<void()> done) {
  draining_ = true;
  socket_.pause();
  drained_ = std::move(done);
  finish_drain_if_idle();
}

void IngestServer::finish_drain_if_idle() {
  // Events in the stage pool reach the writer and end in a commit, which calls this again.
  if (!draining_ || !drained_ || pending() != 0) return;
  socket_.stop();
  auto d = std::move(drained_);
  d();
}

void IngestServer::on_readable() {
  // Bounded per turn so acks and streams get the loop too.
  constexpr int kMaxPerTurn = 512;
  transport::RouterMessage msg;
  for (int i = 0; i < kMaxPerTurn; ++i) {
    if (pending() >= options_.max_pending) {
      // Backpressure: leave further messages in ZeroMQ's queue until a commit frees room.
      socket_.pause();
      return;
    }
    auto st = transport::recv_router(socket_.socket(), msg);
    if (st != transport::RecvStatus::kMessage) return;
    handle(msg);
  }
}

void IngestServer::handle(transport::RouterMessage& msg) {
  const auto received = metrics_ != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const auto size = msg.payload.size();
  if (size > options_.max_frame_bytes) {
    ++counters_.received;
    RefusedFrame frame{.reason_code = "too_large",
                       .detail = fmt::format("frame of {} bytes exceeds max_frame_bytes {}", size, options_.max_frame_bytes),
                       .payload = excerpt(msg.payload)};
    scan_oversized(std::string_view(static_cast<const char*>(msg.payload.data()), size), frame);
    count_received(frame.channel);
    dead_letter_frame(msg, std::move(frame), v1::NACK_CODE_TOO_LARGE);
    return;
  }
  if (msg.extra_frames != 0 || !transport::parse_bounded(msg.payload.data(), size, options_.max_frame_bytes, in_)) {
    ++counters_.received;
    count_received(0);   // unreadable: no channel
    dead_letter_frame(msg,
                      {.reason_code = "malformed_frame",
                       .detail = msg.extra_frames != 0 ? fmt::format("{} unexpected extra frames", msg.extra_frames)
                                                       : std::string("frame is not a gridhub.v1.AdapterToHub message"),
                       .payload = excerpt(msg.payload)},
                      v1::NACK_CODE_MALFORMED_FRAME);
    return;
  }
  if (!allowed(msg, in_.msg_case())) return;
  switch (in_.msg_case()) {
    case v1::AdapterToHub::kStatus:
      reply_status(msg.routing_id);
      return;
    case v1::AdapterToHub::kHello:
      reply_hello(msg.routing_id);
      return;
    case v1::AdapterToHub::kReload: {
      out_.Clear();
      if (on_reload_) {
        *out_.mutable_reload() = on_reload_();
      } else {
        out_.mutable_reload()->set_message("this hub has no reloadable pipeline");
      }
      send(msg.routing_id, out_);
      socket_.poke();
      return;
    }
    case v1::AdapterToHub::kSubmit:
      ++counters_.received;
      break;
    case v1::AdapterToHub::MSG_NOT_SET:
      dead_letter_frame(msg, {.reason_code = "malformed_frame", .detail = "AdapterToHub carries no message"},
                        v1::NACK_CODE_MALFORMED_FRAME);
      return;
  }
  auto* submit = in_.mutable_submit();
  const std::uint64_t corr = submit->correlation_id();
  v1::Event* ev = submit->mutable_event();
  count_received(ev->channel());
  // Fields this hub version does not know could carry data past masking; they are not stored. Dropping
  // them walks the event by reflection, so an intake record drops them on its worker (assess_intake);
  // the refused and rejected ones here keep only known fields anyway.
  if (auto s = validate_event(*ev, options_.limits); !s) {
    ev->DiscardUnknownFields();
    std::string bytes = ev->SerializeAsString();
    bytes.resize(std::min(bytes.size(), kExcerptBytes));
    dead_letter_frame(msg,
                      {.correlation = corr, .reason_code = "invalid_event", .detail = s.error().detail,
                       .payload = std::move(bytes)},
                      v1::NACK_CODE_INVALID_EVENT);
    return;
  }
  if (ev->has_rejection()) {
    // The adapter could not read this record; keep it, findable, with the adapter's reason.
    const auto& rj = ev->rejection();
    auto dl = std::make_shared<log::AppendItem>(log::DeadLetterItem{
        ev->adapter_id(), static_cast<int>(ev->channel()), ev->source_key(), rj.reason_code(), rj.field(), rj.detail(),
        rj.location(), ev->original_payload()});
    // Behind the Submits received before it, like every write of intake (the order rule above).
    stages_->then([this, dl, to = msg.routing_id, corr, what = InWriter{received, ev->channel(), rj.reason_code()}] {
      to_writer(Pending{to, corr, {}}, std::move(*dl), what);
    });
    return;
  }
  if (pipeline_ == nullptr && stages_->in_flight() == 0) {
    // Without a pipeline only the ticket is built, which costs less than the hand-off to a worker
    // (measured: the io thread spent more per event with it); nothing is in flight to overtake.
    log::IntakeItem item;
    item.body.mutable_event()->Swap(ev);
    const int channel = item.body.event().channel();
    assess_intake(nullptr, item);
    to_writer(Pending{msg.routing_id, corr, {}}, std::move(item), {received, channel, {}});
    return;
  }
  auto item = std::make_shared<log::IntakeItem>();
  item->body.mutable_event()->Swap(ev);
  const int channel = item->body.event().channel();
  // The stateless stages, on a worker (or here when [ingest] workers = 0); the merge runs in log order
  // in the writer. The job holds the pipeline it was received under, across a reload.
  stages_->run([item, p = pipeline_] { assess_intake(p.get(), *item); },
               [this, item, to = msg.routing_id, corr, received, channel] {
                 if (metrics_ != nullptr) count_decisions(item->body);
                 to_writer(Pending{to, corr, {}}, std::move(*item), {received, channel, {}});
               });
}

bool IngestServer::allowed(const transport::RouterMessage& msg, v1::AdapterToHub::MsgCase what) {
  if (security_ == nullptr || !security_->curve() || what == v1::AdapterToHub::MSG_NOT_SET) return true;
  const auth::Identity* id = security_->identify(msg);
  const bool submit = what == v1::AdapterToHub::kSubmit;
  // Hello tells the log's id and head: what an adapter needs to resend after a restore.
  if (id != nullptr && what == v1::AdapterToHub::kHello && (auth::may_submit(*id) || auth::may_control(*id))) return true;
  if (id != nullptr && (submit ? auth::may_submit(*id) : auth::may_control(*id))) return true;
  std::uint64_t& denied = submit ? counters_.denied_submit : counters_.denied_control;
  ++denied;
  const std::string who = id != nullptr ? fmt::format("identity \"{}\" has role {}", id->name, auth::role_name(id->role))
                                        : fmt::format("identity \"{}\" is not in the identities file", msg.user_id);
  const std::string reason = fmt::format("{} requires role {}; {}", submit ? "submit" : "status and reload",
                                         auth::role_name(submit ? auth::Role::kAdapter : auth::Role::kOperator), who);
  // Not dead-lettered: what an identity may not send is not stored. Counted, and logged sparingly.
  if (denied <= 10 || denied % 1000 == 0) spdlog::warn("ingest: refused #{}: {}", denied, reason);
  nack(msg.routing_id, submit ? in_.submit().correlation_id() : 0, v1::NACK_CODE_FORBIDDEN, reason);
  socket_.poke();
  return false;
}

void IngestServer::dead_letter_frame(const transport::RouterMessage& msg, RefusedFrame frame, v1::NackCode code) {
  switch (code) {
    case v1::NACK_CODE_TOO_LARGE: ++counters_.nacked_too_large; break;
    case v1::NACK_CODE_MALFORMED_FRAME: ++counters_.nacked_malformed; break;
    case v1::NACK_CODE_INVALID_EVENT: ++counters_.nacked_invalid; break;
    default: ++counters_.nacked_unavailable; break;
  }
  const std::uint64_t rejected = counters_.nacked_too_large + counters_.nacked_malformed + counters_.nacked_invalid;
  const bool keep = dead_letter_allowed(msg);
  // A flood of bad frames must not flood the log: the first ones, then every 1000th (counters have them all).
  if (rejected <= 10 || rejected % 1000 == 0) {
    spdlog::warn("ingest: rejected frame #{} (correlation {}): {}: {} — {}", rejected, frame.correlation,
                 frame.reason_code, frame.detail,
                 keep ? "dead-lettered; see gridhubctl dead-letters" : "counted, not stored (its peer is over its allowance)");
  }
  nack(msg.routing_id, frame.correlation, code, frame.detail);
  if (!keep) return;
  // Keep it findable. No seq, no ack: the nack already told the sender.
  log::DeadLetterItem dl{std::move(frame.adapter_id), frame.channel,          std::move(frame.source_key),
                         std::move(frame.reason_code), {},                    std::move(frame.detail),
                         "ingest frame",               std::move(frame.payload)};
  // In its place behind the Submits received before it (the order rule in ingest_server.hpp).
  InWriter what{metrics_ != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{},
                dl.channel, dl.reason_code};
  stages_->then([this, dl = std::make_shared<log::AppendItem>(std::move(dl)), what = std::move(what)] {
    to_writer(Pending{{}, 0, {}}, std::move(*dl), what);
  });
}

bool IngestServer::dead_letter_allowed(const transport::RouterMessage& msg) {
  // Bounded however many peers there are: past this many, the rest share one allowance.
  constexpr std::size_t kMaxPeers = 10000;
  std::string peer = transport::peer_of(msg);
  auto it = dead_letters_by_peer_.find(peer);
  if (it == dead_letters_by_peer_.end()) {
    if (dead_letters_by_peer_.size() >= kMaxPeers) peer = "(other peers)";
    it = dead_letters_by_peer_.try_emplace(std::move(peer), 0).first;
  }
  if (it->second < options_.max_dead_letters_per_peer) {
    ++it->second;
    return true;
  }
  ++counters_.dead_letters_dropped;
  if (counters_.dead_letters_dropped <= 10 || counters_.dead_letters_dropped % 1000 == 0) {
    spdlog::warn("ingest: {} has sent {} refused frames that were dead-lettered (ingest.max_dead_letters_per_peer); "
                 "further ones are nacked and counted, not stored ({} so far, ingest_dead_letters_dropped_total)",
                 it->first, it->second, counters_.dead_letters_dropped);
  }
  return false;
}

void IngestServer::nack(const std::string& routing_id, std::uint64_t correlation, v1::NackCode code, std::string reason) {
  out_.Clear();
  auto* n = out_.mutable_nack();
  n->set_correlation_id(correlation);
  n->set_code(code);
  n->set_reason(std::move(reason));
  send(routing_id, out_);
}

void IngestServer::send(const std::string& routing_id, const v1::HubToAdapter& msg) {
  auto st = transport::send_router(socket_.socket(), routing_id, msg, scratch_);
  if (st != transport::SendStatus::kSent) {
    // The adapter left or is not reading; it will resend and be acked as a duplicate.
    ++counters_.acks_unroutable;
  }
}

void IngestServer::on_batch_done(const LogWriter::Commit& commit) {
  // Every commit of the hub's writer, whoever submitted to it: the waiters with a `done` were told by
  // the writer; adapters' events are acked here.
  const Status& status = commit.status;
  const auto& batch = commit.waiters;
  const auto& outcomes = commit.outcomes;
  if (!status.ok()) {
    ++counters_.commit_failures;
    spdlog::error("ingest: commit of {} events failed, nacking them as unavailable: {}", batch.size(),
                  status.error().message());
    for (const auto& p : batch) {
      if (p.done) continue;
      if (!in_writer_.empty()) in_writer_.pop_front();
      if (p.routing_id.empty()) continue;
      ++counters_.nacked_unavailable;
      nack(p.routing_id, p.correlation_id, v1::NACK_CODE_UNAVAILABLE, "log append failed; retry later");
    }
  } else {
    ++counters_.commits;
    const auto now = metrics_ != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& p = batch[i];
      const auto& o = outcomes[i];
      if (p.done) continue;
      if (!in_writer_.empty()) {
        // Dead letters of our own (no routing id) were nacked, not acked: no ack latency.
        if (metrics_ != nullptr) count_outcome(in_writer_.front(), o, p.routing_id.empty() ? decltype(now){} : now);
        in_writer_.pop_front();
      }
      if (o.dead_lettered) {
        if (!o.duplicate) ++counters_.dead_lettered;
      } else if (o.duplicate) {
        ++counters_.duplicates;
      } else {
        ++counters_.accepted;
      }
      if (p.routing_id.empty()) continue;  // a dead letter of our own, already nacked
      out_.Clear();
      auto* a = out_.mutable_ack();
      a->set_correlation_id(p.correlation_id);
      a->set_log_seq(o.seq);
      a->set_duplicate(o.duplicate);
      a->set_dead_lettered(o.dead_lettered);
      if (!o.dead_lettered) {
        a->set_log_id(identity_.log_id);
        a->set_timeline(identity_.current());
      }
      send(p.routing_id, out_);
    }
  }
  if (draining_) {
    finish_drain_if_idle();
    return;
  }
  socket_.resume();  // also re-checks readiness that our sends may have consumed
}

void IngestServer::reply_hello(const std::string& routing_id) {
  out_.Clear();
  auto* h = out_.mutable_hello();
  h->set_log_id(identity_.log_id);
  h->set_head_seq(writer_->head_seq());
  for (const auto& t : identity_.timelines) {
    auto* lt = h->add_timelines();
    lt->set_id(t.id);
    lt->set_first_seq(t.first_seq);
  }
  send(routing_id, out_);
  socket_.poke();
}

namespace {
// Label sets made from what peers and plugins say are capped per family; the rest is counted as "(other)".
constexpr std::size_t kMaxLabelSets = 1000;
const std::string kOtherLabel = "(other)";
}  // namespace

void IngestServer::to_writer(Pending pending, log::AppendItem item, InWriter what) {
  if (metrics_ != nullptr) in_writer_.push_back(std::move(what));
  writer_->submit(std::move(pending), std::move(item));
}

void IngestServer::set_metrics(http::Metrics& metrics) {
  metrics_ = &metrics;
  ack_latency_ = &metrics.histogram(
      "gridhub_hub_ack_latency_seconds", "time from an event's receipt to its acknowledgement (after its commit)",
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  static constexpr std::array<const char*, 3> kOutcomes = {"accepted", "duplicate", "dead_lettered"};
  for (std::size_t c = 0; c < received_counters_.size(); ++c) {
    received_counters_[c] = &metrics.counter(
        "gridhub_hub_ingest_received_total",
        "events received from adapters, by channel (refused frames included; unreadable ones as unspecified)",
        http::Labels{{"channel", channel_label(static_cast<int>(c))}});
  }
  for (std::size_t c = 0; c < outcome_counters_.size(); ++c) {
    for (std::size_t k = 0; k < kOutcomes.size(); ++k) {
      outcome_counters_[c][k] = &metrics.counter(
          "gridhub_hub_ingest_events_total", "events committed by the hub, by channel and outcome",
          http::Labels{{"channel", channel_label(static_cast<int>(c))}, {"outcome", kOutcomes[k]}});
    }
  }
}

void IngestServer::count_received(int channel) {
  if (metrics_ == nullptr) return;
  const std::size_t c = channel >= 0 && static_cast<std::size_t>(channel) < received_counters_.size() ? static_cast<std::size_t>(channel) : 0;
  received_counters_[c]->inc();
}

void IngestServer::count_outcome(const InWriter& what, const log::AppendOutcome& o,
                                 std::chrono::steady_clock::time_point now) {
  const std::size_t c = what.channel >= 0 && static_cast<std::size_t>(what.channel) < outcome_counters_.size()
                            ? static_cast<std::size_t>(what.channel)
                            : 0;
  // A resent dead letter is a duplicate like any other resend: each stored thing is counted once.
  const std::size_t k = o.duplicate ? 1 : (o.dead_lettered ? 2 : 0);
  outcome_counters_[c][k]->inc();
  if (o.dead_lettered && !o.duplicate) {
    const std::string channel = channel_label(what.channel);
    labelled(dead_letter_counters_, {{"channel", channel}, {"reason", what.reason}}, 1, "gridhub_hub_ingest_dead_letters_total",
             "dead letters stored: the adapters' rejections and the frames the hub refused, by channel and reason")
        .inc();
  }
  if (what.received != std::chrono::steady_clock::time_point{} && now != std::chrono::steady_clock::time_point{}) {
    ack_latency_->observe(std::chrono::duration<double>(now - what.received).count());
  }
}

http::Counter& IngestServer::labelled(std::unordered_map<std::string, http::Counter*>& series, LabelViews labels,
                                     std::size_t free_from, std::string_view name, std::string_view help) {
  // Found without allocating (key_ keeps its capacity): this runs per event.
  key_.clear();
  for (const auto& [k, v] : labels) key_.append(v).append(1, '\0');
  if (auto it = series.find(key_); it != series.end()) return *it->second;
  http::Labels made;
  for (const auto& [k, v] : labels) made.emplace_back(std::string(k), std::string(v));
  if (series.size() >= kMaxLabelSets) {
    // The values from `free_from` on come from peers or plugins: past the cap they share one series.
    for (std::size_t i = free_from; i < made.size(); ++i) made[i].second = kOtherLabel;
    key_.clear();
    for (const auto& [k, v] : made) key_.append(v).append(1, '\0');
    if (auto it = series.find(key_); it != series.end()) return *it->second;
  }
  auto* c = &metrics_->counter(name, help, made);
  series.emplace(key_, c);
  return *c;
}

void IngestServer::count_decisions(const v1::IntakeAccepted& intake) {
  for (const auto& d : intake.decisions()) {
    // Rules are stable ids, a fixed set per plugin; a loadable plugin that invents them anyway is capped.
    labelled(decision_counters_, {{"stage", d.stage()}, {"plugin", d.plugin()}, {"rule", d.rule()}}, 1,
             "gridhub_hub_plugin_decisions_total", "decisions the pipeline's stateless stages made, by stage, plugin and rule")
        .inc();
  }
}

void IngestServer::fill_status(v1::StatusReply& status) {
  auto* s = &status;
  s->set_log_head_seq(writer_->head_seq());
  auto add = [&](const char* name, std::uint64_t v) {
    auto* c = s->add_counters();
    c->set_name(name);
    c->set_value(v);
  };
  add("ingest_received_total", counters_.received);
  add("ingest_accepted_total", counters_.accepted);
  add("ingest_duplicates_total", counters_.duplicates);
  add("ingest_dead_lettered_total", counters_.dead_lettered);
  add("ingest_nacked_malformed_total", counters_.nacked_malformed);
  add("ingest_nacked_too_large_total", counters_.nacked_too_large);
  add("ingest_nacked_invalid_total", counters_.nacked_invalid);
  add("ingest_nacked_unavailable_total", counters_.nacked_unavailable);
  add("ingest_commits_total", counters_.commits);
  add("ingest_commit_failures_total", counters_.commit_failures);
  add("ingest_acks_unroutable_total", counters_.acks_unroutable);
  add("ingest_dead_letters_dropped_total", counters_.dead_letters_dropped);
  add("ingest_pending", pending());
  if (security_ != nullptr && security_->curve()) {
    add("ingest_denied_submit_total", counters_.denied_submit);
    add("ingest_denied_control_total", counters_.denied_control);
  }
  if (on_status_) on_status_(*s);
}

void IngestServer::reply_status(const std::string& routing_id) {
  out_.Clear();
  fill_status(*out_.mutable_status());
  send(routing_id, out_);
  socket_.poke();
}

}  // namespace gridhub::core
