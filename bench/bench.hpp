#pragma once
/// gridhub-bench: the hub's durable ingest measured next to the raw parts it is built from, in one
/// invocation, so the ratios hold on a shared machine whose absolute figures drift
/// (docs/performance.md).
///
/// A measurement that cannot run (a child dies, a peer never answers) throws BenchError; main reports
/// it and exits non-zero. Missed performance targets are not errors.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gridhub::bench {

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// How big each measurement is. `--quick` shrinks all of them to a few seconds in total.
struct Sizes {
  int reps = 3;
  std::size_t payload_bytes = 300;
  std::size_t zmq_messages = 1'000'000;
  double sqlite_seconds = 2.0;
  std::size_t sqlite_batch = 1000;
  std::size_t nats_messages = 300'000;
  std::int64_t nats_max_pending = 4096;
  std::size_t hub_events = 300'000;
  std::size_t hub_window = 1000;
  double latency_rate = 5000;          // events/s, paced
  double latency_seconds = 3.0;        // measured part
  double latency_warmup_seconds = 0.5; // sent and acked, not recorded
  double pipeline_seconds = 2.0;       // routing pipeline throughput run
  std::size_t memory_events = 1'000'000;
  std::size_t importer_records = 100'000;  // per file importer, fixtures replicated

  static Sizes quick();
};

struct Paths {
  std::filesystem::path work_dir;     // SQLite files, hub folders, the JetStream store; one sub-folder per run
  std::filesystem::path hub_bin;
  std::filesystem::path nats_server;  // empty: not installed, JetStream is skipped
  std::filesystem::path self_exe;     // re-executed as the ZeroMQ sender process
  std::string hub_extra_toml;         // appended to the hub's config (e.g. a [pipeline]) when set
  std::string hub_ingest_toml;        // added to the hub's [ingest] when set (e.g. "workers = 0")
};

// ---- figures ----

/// Every rep's value of every figure, in first-measured order; printed as median, min and max.
class Figures {
 public:
  void add(const std::string& name, const std::string& unit, double value);
  std::optional<double> median(const std::string& name) const;
  void print() const;

 private:
  struct Series {
    std::string unit;
    std::vector<double> values;
  };
  std::vector<std::string> order_;
  std::map<std::string, Series> series_;
};

double median_of(std::vector<double> v);
/// q in [0, 1]; nearest-rank on a sorted copy.
double percentile_of(std::vector<double> v, double q);
/// 1234567 -> "1.23M", 98400 -> "98.4k": three significant digits, as in the baselines page.
std::string si(double v);

// ---- processes and files ----

/// A child process started with posix_spawn (never a bare fork: by the time children start, this process
/// runs ZeroMQ and NATS library threads). stderr goes to `log_file`; stdout either there too or to a pipe
/// read by wait_for_line (the way gridhub and nats-server announce readiness).
class Child {
 public:
  enum class Output { kToLog, kStdoutPiped, kStderrPiped };

  Child(const std::vector<std::string>& argv, const std::filesystem::path& log_file, Output output);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // SIGKILL and reap if still running

  pid_t pid() const { return pid_; }
  /// Reads piped lines until `pred` accepts one and returns it; throws if the child exits or `timeout` passes.
  /// Lines read are copied to the log file; after a match the rest of the pipe keeps being copied there
  /// by a drain thread, so a chatty child never blocks on a full pipe.
  std::string wait_for_line(const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout);
  /// Sends `sig` (SIGTERM unless given), then waits; returns the exit code (128 + signal if killed by one).
  int terminate(int sig = SIGTERM);
  /// Waits for a child that exits by itself; returns the exit code as terminate() does.
  int wait();
  bool running();

 private:
  void start_drain();
  std::string name_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  int pipe_fd_ = -1;
  int log_fd_ = -1;
  std::string buffered_;
  std::thread drain_;
};

/// A fresh folder under `parent`, named after `what`.
std::filesystem::path make_run_dir(const std::filesystem::path& parent, const std::string& what);
/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
int free_tcp_port();
/// VmRSS and VmHWM of a process in MiB, from /proc/<pid>/status.
struct Memory {
  double rss_mb = 0;
  double hwm_mb = 0;
};
Memory read_memory(pid_t pid);
/// CPU seconds (user + system) each thread of a process has used, by thread id, with its name.
struct ThreadCpu {
  pid_t tid = 0;
  std::string name;
  double seconds = 0;
};
std::vector<ThreadCpu> read_thread_cpu(pid_t pid);
/// First executable named `name` on PATH, or in /usr/sbin and /sbin (Debian puts nats-server there).
std::filesystem::path find_program(const std::string& name);

// ---- measurements (baselines.cpp) ----

/// ZeroMQ DEALER -> ROUTER over tcp loopback, sender in another process; msgs/s first-to-last at the receiver.
double zmq_dealer_router_rate(const Paths& paths, const Sizes& sizes);
/// The hidden `--zmq-sender` mode of gridhub-bench: connects and sends `count` messages of `bytes`.
int run_zmq_sender(const std::string& endpoint, std::size_t count, std::size_t bytes);
/// SQLite WAL inserts of `payload_bytes` blobs in transactions of `batch` rows for `seconds`; rows/s.
double sqlite_insert_rate(const std::filesystem::path& dir, bool full_sync, std::size_t batch, double seconds,
                          std::size_t payload_bytes);
/// JetStream async publish into a fresh R1 file stream on a nats-server started here; msgs/s until
/// js_PublishAsyncComplete returned.
double jetstream_async_rate(const Paths& paths, const Sizes& sizes, const std::filesystem::path& dir);

/// Three nats-server nodes on loopback with cluster routes and JetStream file storage under `dir`
/// (what scripts/nats-cluster.sh starts), for `gridhub-bench --jetstream`.
class NatsCluster {
 public:
  NatsCluster(const Paths& paths, const std::filesystem::path& dir);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;
  const std::string& urls() const { return urls_; }   // comma separated

 private:
  std::vector<std::unique_ptr<Child>> nodes_;
  std::string urls_;
};
/// JetStream async publish into a fresh R3 file stream `stream` on the cluster; msgs/s.
double jetstream_cluster_async_rate(const NatsCluster& cluster, const Sizes& sizes, const std::string& stream);

// ---- the hub (hub_ingest.cpp) ----

struct IngestRun {
  std::size_t events = 0;
  double events_per_s = 0;
  Memory memory;               // of the hub after all events were acked
  double hub_cpu_us_per_event = 0;       // all hub threads, start-up included (small next to the run)
  std::vector<ThreadCpu> hub_threads;    // where that CPU went
  std::uint64_t log_rows = 0;  // rows the hub's log holds afterwards, counted by us
};
/// Serialized size of the AdapterToHub{submit} frames the hub runs send, aimed at `target_bytes`.
std::size_t hub_event_bytes(std::size_t target_bytes);
/// A fresh hub on a fresh log; one sender pipelines `events` Submits with `window` in flight, counting acks.
IngestRun hub_ingest(const Paths& paths, const Sizes& sizes, std::size_t events, const std::filesystem::path& dir);

struct PipelineRun {
  double records_per_s = 0;        // normalize + resolve + classify + route + merge, one thread
  std::uint64_t records = 0;
  double gazetteer_median_us = 0;
  double gazetteer_p99_us = 0;
};
struct AuditRun {
  std::uint64_t records = 0;
  double raw_read_per_s = 0;   // SELECT of every column of `log`, in seq order
  double verify_per_s = 0;     // gridhubctl verify --no-projection: chain recomputed, columns checked
  double verify_projection_per_s = 0;   // gridhubctl verify (default): the above, then the tickets table against the log
  double replay_per_s = 0;     // gridhubctl replay's library: JSON lines to /dev/null
  // CPU time per record (all of the process's threads), for reading figures taken on a busy box.
  double raw_read_cpu_us = 0;
  double verify_cpu_us = 0;
  double verify_projection_cpu_us = 0;
  double replay_cpu_us = 0;
};
/// Measures the auditors' tools on a log written by the hub.
AuditRun audit_rates(const std::filesystem::path& db_file);

/// The example county's pipeline over its sample records for `seconds` (in process, one core).
PipelineRun pipeline_throughput(const std::filesystem::path& wugong_dir, double seconds);

/// Routing accuracy on the example county's labelled samples, in percent: the classifier retrained on
/// everything (in-sample), over held-out phrasing families (5 folds) and leaving one channel out, as
/// `gridhubctl route --labels labels.csv --heldout families,channels` measures them.
struct HeldoutAccuracy {
  double category_in_sample = 0, category_families = 0, category_channels = 0;
  double assignee_in_sample = 0, assignee_families = 0, assignee_channels = 0;
  double merge_pairs_in_sample = 0, merge_pairs_families = 0, merge_pairs_channels = 0;   // pairwise F1, 0..1
  double out_of_area_in_sample = 0, out_of_area_families = 0, out_of_area_channels = 0;   // recall, percent
  std::size_t records_scored = 0;   // in-sample
  std::size_t families = 0;
  // Precision at coverage at the shipped threshold (classifier_ngram min_confidence), held-out families.
  double dispatched_accuracy_families = 0, coverage_families = 0;   // %, assignee of auto-dispatched tickets
  double dispatched_accuracy_in_sample = 0, coverage_in_sample = 0;
  std::string coverage_table_families;                              // dryrun::coverage_report
};
HeldoutAccuracy heldout_accuracy(const std::filesystem::path& wugong_dir);

struct LatencyRun {
  std::size_t samples = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};
struct ImporterRate {
  std::string name;                    // "hotline_csv_utf8"
  std::size_t bytes = 0;
  std::size_t records = 0;
  double records_per_s = 0;            // parse + map to Events, one thread, hub excluded
  double baseline_records_per_s = 0;   // the same bytes split into owned lines (xlsx: inflated, rows found)
  double baseline_mb_per_s = 0;
};
/// Each file importer over its fixture replicated to >= min_records (importer_bench.cpp).
std::vector<ImporterRate> importer_rates(const std::filesystem::path& wugong_dir, std::size_t min_records);

// ---- streams (stream_bench.cpp) ----

struct CatchUpRun {
  std::uint64_t records = 0;
  double stream_per_s = 0;     // a named subscriber from seq 1, credit 10000, acking as it goes
  double raw_read_per_s = 0;   // log::LogReader::read over the same database, same run
  double prepare_per_s = 0;    // the same read, each record made into the masked Delivery frame the
                               // subscriber got (core::RecordCache: parse, open, mask, encode), in process
};
/// A fresh hub holding `events` records; one subscriber reads them all from seq 1.
CatchUpRun stream_catch_up(const Paths& paths, const Sizes& sizes, std::size_t events, const std::filesystem::path& dir);

struct FanOutRun {
  std::size_t subscribers = 0;
  std::size_t events = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;   // send of the Submit -> receipt at a subscriber
  double ack_to_receipt_p50_ms = 0;            // ingest ack at the sender -> receipt
  double ack_to_receipt_p99_ms = 0;
  std::size_t processes = 0;                   // subscriber processes (0: 4 threads of the bench)
  double wall_s = 0;                           // from the first send to the last receipt
  std::vector<ThreadCpu> hub_threads;          // CPU seconds each hub thread spent in that time
};
/// `subscribers` named subscribers while Submits are paced at `rate`/s. The subscribers run in `processes`
/// processes of their own (this executable in its --stream-subscriber-worker mode, subscribers dealt out
/// round-robin), or with 0 in 4 threads of the bench process.
FanOutRun stream_fan_out(const Paths& paths, const Sizes& sizes, std::size_t subscribers, double rate, double seconds,
                         std::size_t processes, const std::filesystem::path& dir);
/// The hidden --stream-subscriber-worker mode: subscribes `names` (comma-separated), prints "subscribed"
/// on stdout once all are, receives seqs 1..`events` on each, then writes each one's receipt times to
/// `out` (per subscriber, in the order named: events + 1 int64 steady_clock nanoseconds, indexed by seq).
int run_stream_subscriber(const std::string& endpoint, const std::string& names, std::size_t events,
                          const std::filesystem::path& out);

struct StallRun {
  std::size_t events = 0;
  Memory before, after, after_catch_up;   // of the hub
  double catch_up_per_s = 0;
};
/// A subscriber that takes ten records and stops granting credit while `events` flow; then it catches up.
StallRun stream_stalled(const Paths& paths, const Sizes& sizes, std::size_t events, const std::filesystem::path& dir);

/// A fresh hub; Submits paced at `rate`/s; each event's time from send to its ack.
LatencyRun hub_ack_latency(const Paths& paths, const Sizes& sizes, const std::filesystem::path& dir);

}  // namespace gridhub::bench
