#pragma once
/// The ingest endpoint: adapters' DEALERs submit events to a ROUTER; each event is validated, turned
/// into its ticket, submitted to the hub's log writer (LogWriter, group commits), and acknowledged
/// only after the commit that holds it returned. Bad frames are nacked with a reason (and their correlation id
/// whenever it can be read, even off an oversized frame), counted, and dead-lettered with a bounded
/// excerpt — up to max_dead_letters_per_peer per peer, so one client cannot grow the table without end.
///
/// The stateless work of a Submit — its ticket and the pipeline's assessment (normalize, resolve,
/// classify, route) — runs on a StagePool of `workers` threads; parsing, validation, nacks and acks
/// stay on the io thread. The order rule: everything intake hands the writer (intake records, the
/// adapters' rejections, the hub's own dead letters) reaches it in the order the frames arrived,
/// whichever worker finished first, so one adapter's events are logged in its send order. Nacks of
/// refused frames are sent at once, as before: they answer a correlation that is never acked, so
/// sending them early changes no ack. Backpressure (max_pending) counts events in the pool and in the
/// writer; drain waits for both.
///
/// Config keys ([ingest]): endpoints, max_frame_bytes, max_batch, max_pending, max_dead_letters_per_peer,
/// workers (see hub_config.hpp).

#include <boost/asio/io_context.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <vector>

#include "gridhub/auth/security.hpp"
#include "gridhub/core/log_writer.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/stage_pool.hpp"
#include "gridhub/http/metrics.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/log_identity.hpp"
#include "gridhub/pipeline/pipeline.hpp"
#include "gridhub/transport/asio_zmq.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

struct IngestOptions {
  std::vector<std::string> endpoints;
  std::size_t max_frame_bytes = 1 << 20;
  std::size_t max_batch = 1000;       // events per commit at most
  std::size_t max_pending = 16384;    // events waiting for the writer before intake pauses
  /// Frames the hub itself refuses (malformed, too large, invalid) are dead-lettered up to this many
  /// per peer (per hub run); beyond it they are still nacked and counted, not stored.
  std::size_t max_dead_letters_per_peer = 1000;
  /// Threads for the stateless stages of a Submit (StagePool); 0 runs them on the io thread.
  std::size_t workers = StagePool::default_workers();
  EventLimits limits;
};

/// Counters an operator reads (gridhubctl status); names are stable.
struct IngestCounters {
  std::uint64_t received = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t nacked_malformed = 0;
  std::uint64_t nacked_too_large = 0;
  std::uint64_t nacked_invalid = 0;
  std::uint64_t nacked_unavailable = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;
  std::uint64_t acks_unroutable = 0;
  std::uint64_t dead_letters_dropped = 0;   // refused frames not stored: their peer was over max_dead_letters_per_peer
  std::uint64_t denied_submit = 0;    // Submit from an identity whose role is not adapter (curve mode)
  std::uint64_t denied_control = 0;   // status or reload from an identity whose role is not operator
};

class IngestServer {
 public:
  /// Who is waiting for an event's outcome (empty routing id: nobody, e.g. a dead letter of our own).
  using Pending = LogWriter::Waiter;

  /// A frame the hub refuses: what its nack says and its dead letter keeps.
  struct RefusedFrame {
    std::uint64_t correlation = 0;
    std::string reason_code{};
    std::string detail{};
    std::string payload{};     // a bounded excerpt, never the whole frame
    std::string adapter_id{};  // what could be read of the event, if anything
    int channel = 0;
    std::string source_key{};
  };

  /// Binds the endpoints; throws zmq::error_t at start-up if an endpoint cannot be bound.
  /// Submits to `writer` (the hub's; it must outlive the server) and answers its commits.
  /// `pipeline` may be null (no routing); when set, the sequencer must have been made with its PipelineHook,
  /// and it must outlive this server (a pipeline set later with set_pipeline() is shared instead).
  /// `security` (null: off) makes the endpoint a CURVE server and checks each frame's role: Submit
  /// only from adapters, status and reload only from operators.
  IngestServer(boost::asio::io_context& io, zmq::context_t& zmq, LogWriter& writer, IngestOptions options,
               const pipeline::Pipeline* pipeline = nullptr, const auth::Security* security = nullptr);
  ~IngestServer();

  /// The endpoints actually bound (tcp://127.0.0.1:* resolved to its port).
  const std::vector<std::string>& bound_endpoints() const { return bound_; }
  /// Answers ReloadRequest frames (io thread); null: reloads are refused.
  void on_reload(std::function<gridhub::v1::ReloadReply()> fn) { on_reload_ = std::move(fn); }
  /// Lets the hub add its other components' counters to status replies.
  void on_status(std::function<void(gridhub::v1::StatusReply&)> fn) { on_status_ = std::move(fn); }
  /// The log's id and timelines, for Hello replies and acks (the restore handshake, docs/wire-protocol.md).
  void set_log_identity(log::LogIdentity identity) { identity_ = std::move(identity); }
  /// Swaps the pipeline Submits are assessed with (io thread only): every Submit received after this
  /// call uses `p`. Submits still in the stage pool keep the pipeline they started with alive until
  /// they are done, so the caller may drop its reference to the old one at once.
  void set_pipeline(std::shared_ptr<const pipeline::Pipeline> p) { pipeline_ = std::move(p); }

  void start();
  /// Stops taking new events, lets the writer finish and acks what it committed; then `done`.
  void drain(std::function<void()> done);

  /// Counts outcomes by channel (and dead letters by reason) and observes each acknowledged event's
  /// time from receipt to ack, in `metrics` (which must outlive the server); io thread, before start().
  /// Families: gridhub_hub_ingest_events_total{channel,outcome}, gridhub_hub_ingest_dead_letters_total
  /// {channel,reason}, gridhub_hub_ack_latency_seconds (histogram), gridhub_hub_plugin_decisions_total
  /// {stage,plugin,rule} (the stateless stages' decisions; the merger decides in the writer).
  void set_metrics(http::Metrics& metrics);
  /// The counters gridhubctl status shows (and the hub's on_status additions): io thread.
  void fill_status(gridhub::v1::StatusReply& status);

  const IngestCounters& counters() const { return counters_; }
  /// Events received and not yet handed to the writer or answered (in the stage pool).
  std::size_t in_stages() const;
  std::uint64_t head_seq() const;

 private:
  void on_readable();
  void handle(transport::RouterMessage& msg);
  void nack(const std::string& routing_id, std::uint64_t correlation, gridhub::v1::NackCode code, std::string reason);
  /// Nacks a frame the hub refuses and keeps it as a dead letter (within its peer's allowance).
  void dead_letter_frame(const transport::RouterMessage& msg, RefusedFrame frame, gridhub::v1::NackCode code);
  /// False when `msg`'s peer has used up its dead-letter allowance (then counts the drop).
  bool dead_letter_allowed(const transport::RouterMessage& msg);
  void send(const std::string& routing_id, const gridhub::v1::HubToAdapter& msg);
  /// What metrics need of an item intake handed the writer, until its commit returns.
  struct InWriter {
    std::chrono::steady_clock::time_point received;
    int channel = 0;
    std::string reason;   // a dead letter's reason code; empty for intake records
  };
  /// Every write of intake goes through here, so `in_writer_` stays in the writer's order.
  void to_writer(Pending pending, log::AppendItem item, InWriter what);
  void count_decisions(const gridhub::v1::IntakeAccepted& intake);
  /// The counter of `labels` in `series` (made on first use); bounded, see kMaxLabelSets.
  using LabelViews = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  http::Counter& labelled(std::unordered_map<std::string, http::Counter*>& series, LabelViews labels,
                          std::size_t free_from, std::string_view name, std::string_view help);
  void count_outcome(const InWriter& what, const log::AppendOutcome& o, std::chrono::steady_clock::time_point now);
  /// Events anywhere between receipt and their ack: in the stage pool or in the writer.
  std::size_t pending() const;
  /// Once draining and nothing is pending: stops the socket and tells whoever waits.
  void finish_drain_if_idle();
  void on_batch_done(const LogWriter::Commit& commit);
  void reply_status(const std::string& routing_id);
  void reply_hello(const std::string& routing_id);
  bool allowed(const transport::RouterMessage& msg, gridhub::v1::AdapterToHub::MsgCase what);

  boost::asio::io_context& io_;
  IngestOptions options_;
  std::shared_ptr<const pipeline::Pipeline> pipeline_;
  const auth::Security* security_;
  std::vector<std::string> bound_;   // before socket_: filled while the socket is made
  transport::AsioZmqSocket socket_;
  LogWriter* writer_;   // the hub's; a pointer so that submitting reads the same as before it moved out
  // Its jobs hand their results to the writer on the io thread only (StagePool::then), which does not
  // run once the hub is being destroyed; so the hub's writer may stop before the pool does.
  std::unique_ptr<StagePool> stages_;
  IngestCounters counters_;
  // Intake's items in the writer, oldest first, while metrics are on: the commits return them in this
  // order (the writer's other submitters always pass a `done`, intake never does).
  std::deque<InWriter> in_writer_;
  http::Metrics* metrics_ = nullptr;
  http::Histogram* ack_latency_ = nullptr;
  std::array<std::array<http::Counter*, 3>, 4> outcome_counters_{};   // [channel][accepted, duplicate, dead_lettered]
  std::array<http::Counter*, 4> received_counters_{};                 // [channel]: Submits and refused frames received
  void count_received(int channel);
  std::unordered_map<std::string, http::Counter*> dead_letter_counters_;   // by "channel\0reason\0"
  std::unordered_map<std::string, http::Counter*> decision_counters_;      // by "stage\0plugin\0rule\0"
  std::string key_;   // scratch for the lookups above
  std::unordered_map<std::string, std::size_t> dead_letters_by_peer_;
  std::function<gridhub::v1::ReloadReply()> on_reload_;
  std::function<void(gridhub::v1::StatusReply&)> on_status_;
  std::function<void()> drained_;
  bool draining_ = false;
  std::string scratch_;
  log::LogIdentity identity_;
  gridhub::v1::AdapterToHub in_;
  gridhub::v1::HubToAdapter out_;
};

}  // namespace gridhub::core
