#include "gridhub/core/stream_server.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <cstring>

#include "gridhub/core/pii.hpp"
#include "gridhub/core/record_cache.hpp"
#include "gridhub/log/pii_vault.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

constexpr std::size_t kChunk = 256;             // records read per session per turn: keeps the loop responsive
constexpr std::size_t kMaxName = 128;
constexpr std::size_t kCacheRecords = 4096;     // parsed records kept for fan-out (about 2 KB each)

zmq::socket_t make_router(zmq::context_t& zmq, const StreamOptions& o, std::vector<std::string>& bound,
                          const auth::Security* security) {
  zmq::socket_t s(zmq, zmq::socket_type::router);
  if (security != nullptr) security->configure_server(s);
  transport::apply_common_options(s, o.max_frame_bytes);
  s.set(zmq::sockopt::router_mandatory, 1);
  // Credit bounds what is in flight per session, so the HWM only has to exceed max_credit.
  s.set(zmq::sockopt::sndhwm, static_cast<int>(o.max_credit) * 2 + 100);
  for (const auto& ep : o.endpoints) {
    s.bind(ep);
    bound.push_back(s.get(zmq::sockopt::last_endpoint));
  }
  return s;
}

bool contains(const google::protobuf::RepeatedPtrField<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool filter_empty(const v1::Filter& f) {
  return f.assignees_size() == 0 && f.communities_size() == 0 && f.grids_size() == 0 && f.categories_size() == 0 &&
         f.tiers_size() == 0 && !f.include_non_tickets();
}

constexpr std::string_view kFilterFields[] = {"assignee_code", "assignee_history", "community_code",
                                              "grid_code",     "category_code",    "tier"};

/// The subscriber's own filter (entitlement is checked separately, by the gatekeeper). Reads only
/// kFilterFields.
bool matches(const v1::Filter& f, const v1::Ticket* t) {
  if (t == nullptr) return f.include_non_tickets() || filter_empty(f);
  if (f.assignees_size() > 0) {
    bool any = contains(f.assignees(), t->assignee_code());
    for (const auto& a : t->assignee_history()) any = any || contains(f.assignees(), a);
    if (!any) return false;
  }
  if (f.communities_size() > 0 && !contains(f.communities(), t->community_code())) return false;
  if (f.grids_size() > 0 && !contains(f.grids(), t->grid_code())) return false;
  if (f.categories_size() > 0 && !contains(f.categories(), t->category_code())) return false;
  if (f.tiers_size() > 0 && std::find(f.tiers().begin(), f.tiers().end(), t->tier()) == f.tiers().end()) return false;
  return true;
}

bool valid_name(const std::string& name) {
  if (name.size() > kMaxName) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

std::span<const std::string_view> filter_fields() { return kFilterFields; }

StreamServer::StreamServer(boost::asio::io_context& io, zmq::context_t& zmq, log::LogReader reader, StreamOptions options,
                           const Gatekeeper& gatekeeper, const LifecyclePolicy* policy, WriteFn write,
                           const auth::Security* security)
    : io_(io),
      options_(std::move(options)),
      gatekeeper_(gatekeeper),
      policy_(policy),
      write_(std::move(write)),
      socket_(io, make_router(zmq, options_, bound_, security)),
      reader_(std::move(reader)),
      cache_(std::make_unique<RecordCache>(reader_, kCacheRecords, [&] {
        auto fields = gatekeeper.decision_fields();
        fields.insert(fields.end(), filter_fields().begin(), filter_fields().end());
        return fields;
      }())),
      expiry_timer_(io) {
  auto head = reader_.head_seq();
  head_ = head ? head.value() : 0;
}

StreamServer::~StreamServer() = default;

std::size_t StreamServer::cached_records() const { return cache_->size(); }

void StreamServer::start() {
  socket_.start([this] { on_readable(); });
  expire();
}

void StreamServer::stop() {
  stopped_ = true;
  socket_.stop();
  expiry_timer_.cancel();
}

void StreamServer::on_commit(std::uint64_t head) {
  head_ = std::max(head_, head);
  schedule_pump();
}

void StreamServer::reply(const std::string& peer) {
  (void)transport::send_router(socket_.socket(), peer, out_, scratch_);
}

void StreamServer::deny(const std::string& peer, std::string reason) {
  ++counters_.denied;
  spdlog::warn("stream: refused: {}", reason);
  out_.Clear();
  out_.mutable_denied()->set_reason(std::move(reason));
  reply(peer);
}

void StreamServer::on_readable() {
  transport::RouterMessage msg;
  for (int i = 0; i < 256; ++i) {
    if (transport::recv_router(socket_.socket(), msg) != transport::RecvStatus::kMessage) break;
    if (msg.extra_frames != 0 ||
        !transport::parse_bounded(msg.payload.data(), msg.payload.size(), options_.max_frame_bytes, in_)) {
      ++counters_.bad_requests;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    switch (in_.msg_case()) {
      case v1::SubscriberToHub::kSubscribe:
        subscribe(msg.routing_id, msg);
        break;
      case v1::SubscriberToHub::kCredit: {
        auto it = sessions_.find(msg.routing_id);
        if (it == sessions_.end()) {
          // We restarted, or the session expired: tell the subscriber to subscribe again from its cursor.
          out_.Clear();
          out_.mutable_session_unknown();
          reply(msg.routing_id);
          break;
        }
        auto& s = it->second;
        if (s.unreachable) break;
        s.credit = static_cast<std::uint32_t>(std::min<std::uint64_t>(
            static_cast<std::uint64_t>(s.credit) + in_.credit().credit(), options_.max_credit));
        s.last_heard = now;
        break;
      }
      case v1::SubscriberToHub::kAcknowledge:
        acknowledge(msg.routing_id, in_.acknowledge().through_seq());
        break;
      case v1::SubscriberToHub::kUpdate:
        update(msg.routing_id, msg);
        break;
      case v1::SubscriberToHub::MSG_NOT_SET:
        ++counters_.bad_requests;
        break;
    }
  }
  schedule_pump();
}

void StreamServer::subscribe(const std::string& peer, const transport::RouterMessage& msg) {
  const v1::Subscribe& req = in_.subscribe();
  auto who = gatekeeper_.identify(msg, req.name());
  if (!who || !who->subscribe) {
    deny(peer, who ? fmt::format("{} ({}) may not subscribe", who->name, who->role) : std::string("unknown identity"));
    return;
  }
  if (!valid_name(req.name())) {
    deny(peer, fmt::format("subscribe.name: '{}' is not 1-{} letters, digits, '-', '_' or '.'", req.name().substr(0, kMaxName), kMaxName));
    return;
  }
  // from_seq names a record the log must hold, or the next one to be appended: a start further on
  // would skip whatever is appended in between (and, for a named subscription, store a cursor past
  // the head). Checked before anything changes, so a refused Subscribe leaves a running session be.
  const bool uses_from_seq = req.start() == v1::START_POINT_SEQ ||
                             (req.name().empty() && (req.start() == v1::START_POINT_UNSPECIFIED || req.start() == v1::START_POINT_RESUME));
  if (uses_from_seq && req.from_seq() > head_ + 1) {
    deny(peer, fmt::format("subscribe.from_seq: {} is beyond the log head {} (the next record is {}; START_POINT_HEAD waits for it)",
                           req.from_seq(), head_, head_ + 1));
    return;
  }
  Session s;
  s.who = who;
  s.name = req.name();
  s.filter = req.filter();
  s.credit = std::min(req.credit(), options_.max_credit);
  s.max_batch = std::clamp<std::uint32_t>(req.max_batch(), 1, options_.max_batch);
  s.last_heard = std::chrono::steady_clock::now();
  s.last_progress = s.last_heard;

  Cursor* cursor = nullptr;
  if (!s.name.empty()) {
    auto it = cursors_.find(s.name);
    if (it == cursors_.end()) {
      auto stored = reader_.cursor(s.name);
      if (!stored) {
        spdlog::error("stream: reading the cursor of '{}' failed: {}", s.name, stored.error().message());
        deny(peer, "the hub cannot read this subscription's cursor now; retry");
        return;
      }
      Cursor c;
      c.identity = stored->first.empty() ? who->name : stored->first;
      c.acked = c.written = stored->second;
      it = cursors_.emplace(s.name, std::move(c)).first;
    }
    if (it->second.identity != who->name) {
      deny(peer, fmt::format("subscription '{}' belongs to {}, not {}", s.name, it->second.identity, who->name));
      return;
    }
    cursor = &it->second;
    if (cursor->acked > head_) {
      // Stored past the head (by a hub before from_seq was checked, or in a log restored from an older
      // backup): resuming there would skip the records appended next. Back to the head.
      spdlog::warn("stream: subscription '{}': its cursor {} is beyond the log head {}; moved back to the head", s.name,
                   cursor->acked, head_);
      cursor->acked = head_;
      persist_cursor(s.name);
    }
    // One session per named subscription: a subscriber that reconnects takes over from its old session.
    if (auto o = owner_.find(s.name); o != owner_.end() && o->second != peer) sessions_.erase(o->second);
    owner_[s.name] = peer;
  }

  std::uint64_t start = std::max<std::uint64_t>(1, req.from_seq());
  bool rewind = false;
  switch (req.start()) {
    case v1::START_POINT_UNSPECIFIED:
      if (cursor != nullptr) start = cursor->acked + 1;
      break;
    case v1::START_POINT_RESUME:
      start = cursor != nullptr ? cursor->acked + 1 : start;
      break;
    case v1::START_POINT_SEQ:
      rewind = true;
      break;
    case v1::START_POINT_TIME: {
      auto at = reader_.seq_at_time(req.from_time_us());
      if (!at) {
        deny(peer, "the hub cannot search the log by time now; retry");
        return;
      }
      start = at.value();
      rewind = true;
      break;
    }
    case v1::START_POINT_HEAD:
      start = head_ + 1;
      rewind = true;
      break;
    default:
      deny(peer, "subscribe.start: unknown start point");
      return;
  }
  if (cursor != nullptr && rewind) {
    cursor->acked = start - 1;
    persist_cursor(s.name);
  }
  s.next_seq = start;
  s.acked = start - 1;
  ++counters_.sessions_opened;
  spdlog::info("stream: {} ({}) {} from seq {} (credit {}, {}), {} open", who->name, who->role,
               s.name.empty() ? std::string("session") : fmt::format("subscription '{}'", s.name), start, s.credit,
               filter_empty(s.filter) ? "no filter" : "filtered", sessions_.size() + 1);
  out_.Clear();
  auto* r = out_.mutable_subscribed();
  r->set_identity(who->name);
  r->set_role(who->role);
  r->set_start_seq(start);
  r->set_acked_seq(cursor != nullptr ? cursor->acked : 0);
  r->set_head_seq(head_);
  sessions_[peer] = std::move(s);
  reply(peer);
}

void StreamServer::acknowledge(const std::string& peer, std::uint64_t through) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) {
    out_.Clear();
    out_.mutable_session_unknown();
    reply(peer);
    return;
  }
  Session& s = it->second;
  s.last_heard = std::chrono::steady_clock::now();
  ++counters_.acks;
  // Only what was sent can be acknowledged: a subscriber cannot skip records it never received.
  through = std::min(through, s.high_sent);
  if (through <= s.acked) return;
  s.acked = through;
  s.last_progress = s.last_heard;
  while (!s.inflight.empty() && s.inflight.front().first <= through) s.inflight.pop_front();
  // An acknowledgement that arrives after the ack timeout rewound the session (or while the records
  // it covers are being sent again) still settles them: acknowledged records are never sent again.
  s.next_seq = std::max(s.next_seq, through + 1);
  if (s.name.empty()) return;
  auto c = cursors_.find(s.name);
  if (c == cursors_.end()) return;
  c->second.acked = std::max(c->second.acked, through);
  persist_cursor(s.name);
}

void StreamServer::persist_cursor(const std::string& name) {
  auto it = cursors_.find(name);
  if (it == cursors_.end()) return;
  Cursor& c = it->second;
  if (c.writing || c.acked == c.written) return;
  c.writing = true;
  const std::uint64_t target = c.acked;
  write_(log::CursorItem{name, c.identity, target}, [this, name, target](const Status& st, const log::AppendOutcome&) {
    auto it = cursors_.find(name);
    if (it == cursors_.end()) return;
    Cursor& c = it->second;
    c.writing = false;
    if (!st.ok()) {
      spdlog::error("stream: storing the cursor of '{}' failed (retried on the next ack): {}", name, st.error().message());
      return;
    }
    c.written = target;
    ++counters_.cursor_writes;
    if (c.acked != c.written) persist_cursor(name);
  });
}

void StreamServer::update(const std::string& peer, const transport::RouterMessage& msg) {
  const v1::UpdateTicket& req = in_.update();
  std::shared_ptr<const Principal> who;
  if (auto it = sessions_.find(peer); it != sessions_.end()) {
    who = it->second.who;
    it->second.last_heard = std::chrono::steady_clock::now();
  } else {
    who = gatekeeper_.identify(msg, {});
  }
  auto answer = [this, peer](const std::string& request_id, v1::UpdateError error, std::string reason, std::uint64_t seq,
                             const v1::Ticket* ticket, bool pii) {
    out_.Clear();
    auto* r = out_.mutable_update_result();
    r->set_request_id(request_id);
    r->set_ok(error == v1::UPDATE_ERROR_NONE);
    r->set_error(error);
    r->set_reason(std::move(reason));
    r->set_seq(seq);
    if (ticket != nullptr) {
      *r->mutable_ticket() = *ticket;
      if (!reader_.unseal(*r->mutable_ticket(), pii ? log::PiiPresentation{} : kMasked).ok()) {
        log::clear_pii(*r->mutable_ticket());
      }
    }
    if (error == v1::UPDATE_ERROR_NONE) {
      ++counters_.updates_ok;
    } else {
      ++counters_.updates_refused;
    }
    reply(peer);
  };
  if (!who) {
    ++counters_.denied;
    answer(req.request_id(), v1::UPDATE_ERROR_NOT_ENTITLED, "unknown identity", 0, nullptr, false);
    return;
  }
  if (auto bad = validate_update(req); !bad.empty()) {
    answer(req.request_id(), v1::UPDATE_ERROR_INVALID, std::move(bad), 0, nullptr, false);
    return;
  }
  write_(make_update(req, who, gatekeeper_, policy_),
         [this, answer, who, request_id = req.request_id(), ticket_id = req.ticket_id(), action = req.action()](
             const Status& st, const log::AppendOutcome& o) {
           if (!st.ok()) {
             answer(request_id, v1::UPDATE_ERROR_UNAVAILABLE, "the log could not commit; retry with the same request_id", 0,
                    nullptr, false);
             return;
           }
           if (o.refused != log::Refusal::kNone) {
             spdlog::info("stream: {} update {} on {} refused: {}", who->name, v1::UpdateAction_Name(action), ticket_id, o.reason);
             answer(request_id, update_error(o.refused), o.reason, 0, nullptr, false);
             return;
           }
           auto t = reader_.ticket(ticket_id);
           spdlog::info("stream: {} {} {} (seq {}{})", who->name, v1::UpdateAction_Name(action), ticket_id, o.seq,
                        o.duplicate ? ", repeated request" : "");
           answer(request_id, v1::UPDATE_ERROR_NONE, {}, o.seq, t ? &t.value() : nullptr, who->pii);
           schedule_pump();
         });
}

void StreamServer::schedule_pump() {
  if (pump_posted_ || stopped_) return;
  pump_posted_ = true;
  boost::asio::post(io_, [this] {
    pump_posted_ = false;
    pump();
  });
}

void StreamServer::pump() {
  // A Deliveries message is HubToSubscriber field 6 around a run of HubToSubscriber{delivery} frames:
  // Deliveries.deliveries and HubToSubscriber.delivery are both field 1, so each cached frame is
  // already the encoding of one list element and a batch costs a copy, not an encoding.
  static_assert(static_cast<int>(v1::Deliveries::kDeliveriesFieldNumber) == static_cast<int>(v1::HubToSubscriber::kDeliveryFieldNumber));
  // Live subscribers of one visibility class (personal data opened or masked) that are at the same
  // place and pass the same records get the same Deliveries message: it is built once, for the first
  // of them, and the others are sent that buffer (ZeroMQ holds a reference, no copy). A batch follows
  // an earlier one record by record; at the first record that differs it copies the common prefix out
  // and goes on alone.
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  constexpr std::size_t kMaxShared = 64;   // batches remembered per pump: bounds the search
  shared_.clear();
  bool more = false;
  std::vector<std::string> gone;
  for (auto& entry : sessions_) {
    const std::string& id = entry.first;
    Session& s = entry.second;
    if (s.unreachable || s.credit == 0 || s.next_seq > head_) continue;
    enum class Step { kNext, kBlocked, kGone };
    const bool pii = s.who->pii;
    batch_.assign(kBatchHeader, '\0');
    picked_.clear();
    ends_.clear();
    std::uint32_t batched = 0;
    std::size_t match = kNone;   // the shared batch this one is so far identical to
    bool shareable = true;       // false once it holds a redelivery (its own encoding)
    // Stops following `match`: its records so far, copied from it.
    auto part_ways = [&] {
      const SharedBatch& b = shared_[match];
      batch_.append(*b.bytes, kBatchHeader, b.ends[batched - 1] - kBatchHeader);
      picked_.assign(b.seqs.begin(), b.seqs.begin() + batched);
      ends_.assign(b.ends.begin(), b.ends.begin() + batched);
      match = kNone;
    };
    // Takes `seq` without a copy if it continues (or starts) an identical shared batch.
    auto follow = [&](std::uint64_t seq, bool again) {
      if (again) shareable = false;
      if (match != kNone) {
        const SharedBatch& b = shared_[match];
        if (shareable && batched < b.seqs.size() && b.seqs[batched] == seq) return true;
        part_ways();
        return false;
      }
      if (!shareable || batched != 0) return false;
      for (std::size_t i = 0; i < shared_.size(); ++i) {
        if (shared_[i].pii == pii && shared_[i].seqs.front() == seq) {
          match = i;
          return true;
        }
      }
      return false;
    };
    auto batch_bytes = [&] { return match != kNone ? shared_[match].ends[batched - 1] : batch_.size(); };
    auto flush = [&] {
      if (batched == 0) return true;
      transport::SendStatus st;
      if (match != kNone && batched == shared_[match].seqs.size()) {
        const SharedBatch& b = shared_[match];
        st = transport::send_router_shared(socket_.socket(), id, b.bytes, b.offset);
        ++counters_.batches_shared;
      } else {
        if (match != kNone) part_ways();   // a prefix of a longer one
        std::uint8_t head[kBatchHeader];
        head[0] = static_cast<std::uint8_t>((v1::HubToSubscriber::kDeliveriesFieldNumber << 3) | 2);
        const auto* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
            static_cast<std::uint32_t>(batch_.size() - kBatchHeader), head + 1);
        const auto n = static_cast<std::size_t>(end - head);
        std::memcpy(batch_.data() + kBatchHeader - n, head, n);
        const std::size_t offset = kBatchHeader - n;
        if (shareable && shared_.size() < kMaxShared) {
          auto bytes = std::make_shared<const std::string>(std::move(batch_));
          shared_.push_back(SharedBatch{pii, picked_, ends_, bytes, offset});
          st = transport::send_router_shared(socket_.socket(), id, std::move(bytes), offset);
        } else {
          st = transport::send_router_bytes(socket_.socket(), id, std::string_view(batch_).substr(offset));
        }
      }
      batch_.assign(kBatchHeader, '\0');
      picked_.clear();
      ends_.clear();
      batched = 0;
      match = kNone;
      shareable = true;
      ++counters_.batches;
      return st == transport::SendStatus::kSent;
    };
    // One record for this session: skipped (filter, entitlement), sent, or the session cannot take it.
    auto deliver = [&](std::uint64_t seq, RecordCache::Entry& e) {
      const v1::Ticket* t = e.ticket;
      if (!e.parsed || !gatekeeper_.may_see(*s.who, t) || !matches(s.filter, t)) {
        s.next_seq = seq + 1;
        ++counters_.filtered;
        return Step::kNext;
      }
      if (s.credit == 0) return Step::kBlocked;
      const bool again = seq <= s.high_sent;
      auto frame_of = [&]() -> const std::string* {
        const std::string* frame = &cache_->frame(e, pii);
        if (!again) return frame;
        // Rare (redelivery): its own encoding, with the flag set.
        if (!out_.ParseFromString(*frame)) return nullptr;
        out_.mutable_delivery()->set_redelivered(true);
        out_.SerializeToString(&scratch_);
        return &scratch_;
      };
      if (s.max_batch > 1) {
        if (follow(seq, again)) {
          ++batched;
        } else {
          const std::string* frame = frame_of();
          if (frame == nullptr) return Step::kGone;
          batch_ += *frame;
          picked_.push_back(seq);
          ends_.push_back(batch_.size());
          ++batched;
        }
        if ((batched >= s.max_batch || batch_bytes() >= options_.max_batch_bytes) && !flush()) return Step::kGone;
      } else {
        const std::string* frame = frame_of();
        if (frame == nullptr || transport::send_router_bytes(socket_.socket(), id, *frame) != transport::SendStatus::kSent) {
          return Step::kGone;
        }
      }
      s.next_seq = seq + 1;
      --s.credit;
      ++counters_.delivered;
      if (again) ++counters_.redelivered;
      s.high_sent = std::max(s.high_sent, seq);
      if (!s.name.empty()) s.inflight.emplace_back(seq, std::chrono::steady_clock::now());
      return Step::kNext;
    };
    Step step = Step::kNext;
    // Live subscribers find what was just committed in the cache: no second read of the log.
    while (step == Step::kNext && s.credit > 0 && s.next_seq <= head_) {
      auto* e = cache_->find(s.next_seq);
      if (e == nullptr) break;
      step = deliver(s.next_seq, *e);
    }
    if (step == Step::kNext && s.credit > 0 && s.next_seq <= head_) {
      auto n = reader_.read(s.next_seq, kChunk, [&](std::uint64_t seq, std::string_view body) {
        if (step != Step::kNext) return;
        step = deliver(seq, cache_->get(seq, body));
      });
      if (!n) spdlog::error("stream: reading the log failed: {}", n.error().message());
    }
    if (step != Step::kGone && !flush()) step = Step::kGone;
    if (step == Step::kGone) {
      gone.push_back(id);
      continue;
    }
    if (s.credit > 0 && s.next_seq <= head_) more = true;
  }
  shared_.clear();
  counters_.frames_encoded = cache_->frames_encoded();
  // Not erased yet: the peer's last Acknowledge may still be queued behind our failed send, and
  // dropping the session would lose it. The session stops sending and expires as usual.
  for (const auto& id : gone) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    it->second.unreachable = true;
    it->second.credit = 0;
  }
  if (more) schedule_pump();
  socket_.poke();
}

void StreamServer::expire() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  bool rewound = false;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& s = it->second;
    if (now - s.last_heard > options_.session_timeout) {
      ++counters_.sessions_expired;
      if (auto o = owner_.find(s.name); !s.name.empty() && o != owner_.end() && o->second == it->first) owner_.erase(o);
      it = sessions_.erase(it);
      continue;
    }
    // The clock runs from the later of the oldest unacknowledged send and the last acknowledgement
    // that made progress: a slow subscriber that keeps acknowledging, however many records it holds,
    // is not sent them again; one that stops acknowledging (or lost a record) is.
    if (!s.inflight.empty() && now - std::max(s.inflight.front().second, s.last_progress) > options_.ack_timeout) {
      // Not acknowledged in time: send again from the cursor, marked as redelivered.
      spdlog::warn("stream: {} subscription '{}': seq {} not acknowledged within {} ms, sending again from {}", s.who->name,
                   s.name, s.inflight.front().first, options_.ack_timeout.count(), s.acked + 1);
      s.inflight.clear();
      s.next_seq = s.acked + 1;
      rewound = true;
    }
    ++it;
  }
  if (rewound) schedule_pump();
  expiry_timer_.expires_after(std::min(options_.session_timeout, options_.ack_timeout) / 2);
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) expire();
  });
}

}  // namespace gridhub::core
