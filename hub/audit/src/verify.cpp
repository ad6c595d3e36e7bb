#include "gridhub/audit/verify.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "body_scan.hpp"
#include "projection_check.hpp"
#include "gridhub/log/checkpoint.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::audit {

std::string_view problem_name(Problem p) noexcept {
  switch (p) {
    case Problem::kNone: return "ok";
    case Problem::kIntegrityCheck: return "integrity_check_failed";
    case Problem::kSeqGap: return "seq_gap";
    case Problem::kHashMissing: return "hash_missing";
    case Problem::kHashMismatch: return "hash_mismatch";
    case Problem::kBodyMalformed: return "body_malformed";
    case Problem::kColumnMismatch: return "column_mismatch";
    case Problem::kCheckpointMalformed: return "checkpoint_malformed";
    case Problem::kCheckpointBadSignature: return "checkpoint_bad_signature";
    case Problem::kCheckpointWrongKey: return "checkpoint_wrong_key";
    case Problem::kCheckpointConflict: return "checkpoint_conflict";
    case Problem::kCheckpointMismatch: return "checkpoint_mismatch";
    case Problem::kCheckpointBeyondHead: return "checkpoint_beyond_head";
    case Problem::kStaleChange: return "stale_change";
    case Problem::kProjectionMismatch: return "projection_mismatch";
  }
  return "unknown";
}

namespace {

constexpr std::string_view kMapLog = "PRAGMA mmap_size=17179869184";

struct TrustedCheckpoint {
  log::Checkpoint checkpoint;
  std::filesystem::path file;
};

VerifyReport& fail(VerifyReport& r, Problem p, std::uint64_t seq, std::string detail) {
  r.problem = p;
  r.first_bad_seq = seq;
  r.detail = std::move(detail);
  return r;
}

/// Reads and authenticates every checkpoint file; fills `out` (by seq) or reports the first bad one.
Result<bool> load_checkpoints(const VerifyOptions& options, std::map<std::uint64_t, TrustedCheckpoint>& out,
                              VerifyReport& report) {
  auto key = log::load_public_key(*options.public_key);
  if (!key) return key.error();
  std::error_code ec;
  if (!std::filesystem::is_directory(*options.checkpoints_dir, ec)) {
    return Error(Errc::io_failed, fmt::format("{}: not a folder", options.checkpoints_dir->string()));
  }
  for (const auto& file : log::list_checkpoint_files(*options.checkpoints_dir)) {
    std::string text;
    {
      std::FILE* f = std::fopen(file.c_str(), "rb");
      if (f == nullptr) return Error(Errc::io_failed, fmt::format("{}: cannot read", file.string()));
      char buf[1024];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < 8192) text.append(buf, n);
      std::fclose(f);
    }
    auto c = log::parse_checkpoint(text);
    if (!c) {
      fail(report, Problem::kCheckpointMalformed, 0, fmt::format("{}: {}", file.string(), c.error().detail));
      return false;
    }
    if (c->key_id != key->key_id) {
      fail(report, Problem::kCheckpointWrongKey, c->seq,
           fmt::format("{}: signed by key {}, the pinned public key is {}", file.string(), c->key_id, key->key_id));
      return false;
    }
    if (!log::checkpoint_signature_valid(c.value(), key.value())) {
      fail(report, Problem::kCheckpointBadSignature, c->seq,
           fmt::format("{}: signature does not verify with key {} (forged or altered checkpoint)", file.string(),
                       key->key_id));
      return false;
    }
    ++report.checkpoints;
    auto [it, fresh] = out.try_emplace(c->seq, TrustedCheckpoint{c.value(), file});
    if (!fresh && it->second.checkpoint.hash != c->hash) {
      fail(report, Problem::kCheckpointConflict, c->seq,
           fmt::format("{} and {} are both validly signed for seq {} but attest different hashes (signing key "
                       "compromised, or two diverging logs)",
                       it->second.file.string(), file.string(), c->seq));
      return false;
    }
  }
  return true;
}

Status walk_chain(sqlite::Database& db, const std::map<std::uint64_t, TrustedCheckpoint>& checkpoints,
                  const VerifyOptions& options, VerifyReport& report, TicketTrail& trail);

}  // namespace

Result<VerifyReport> verify_log(const std::filesystem::path& db_file, const VerifyOptions& options) {
  VerifyReport report;
  std::map<std::uint64_t, TrustedCheckpoint> checkpoints;
  if (options.checkpoints_dir) {
    if (!options.public_key) return Error(Errc::config_invalid, "checking checkpoints needs the signer's public key");
    auto loaded = load_checkpoints(options, checkpoints, report);
    if (!loaded) return loaded.error();
    if (!loaded.value()) return report;
  }

  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_file, ec)) return Error(Errc::io_failed, fmt::format("{}: no such file", db_file.string()));
  // Read-only and defensive (the wrapper's settings): the file is untrusted and is never written.
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  if (auto s = db->exec("PRAGMA query_only=1"); !s) return s.error();
  auto version = db->query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (version.value() < 2) {
    return Error(Errc::bad_value, fmt::format("{}: log schema version {} has no hash chain (need 2; open it once with "
                                              "this gridhub to migrate)", db_file.string(), version.value()));
  }
  auto kind = db->query_text("SELECT type FROM sqlite_schema WHERE name = 'log'");
  if (!kind) return kind.error();
  if (kind.value() != "table") return Error(Errc::bad_value, fmt::format("{}: not a gridhub log (no log table)", db_file.string()));
  // Pages are read through a memory map, not copied out with pread: with the walk's own costs cut,
  // the kernel's copy of every page was the largest part left (measured on the bench's 300k-record
  // log: a fifth less CPU for the walk and quick_check together; SQLite caps the map at its build's
  // limit and reads the rest with pread). mmap_size is set, not assumed: builds differ in the default.
  if (auto s = db->exec(kMapLog); !s) return s.error();
  auto total = db->query_int("SELECT coalesce(max(seq), 0) FROM log");
  if (!total) return total.error();
  if (options.progress != nullptr) options.progress->set_total(static_cast<std::uint64_t>(total.value()));

  // SQLite's quick_check reads the whole file too; it runs beside the chain walk on its own
  // connection (the second core), and its verdict comes first: a damaged file explains any other finding.
  std::optional<Result<std::string>> check;
  std::thread checker([&] {
    auto conn = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
    if (!conn) {
      check.emplace(conn.error());
      return;
    }
    (void)conn->exec(kMapLog);
    // The log table and its index only: the projection and key tables are not what verify attests.
    check.emplace(conn->query_text("PRAGMA quick_check(log)"));
  });
  TicketTrail trail;
  auto walked = walk_chain(db.value(), checkpoints, options, report, trail);
  checker.join();
  if (!check->ok()) return check->error();
  if (check->value() != "ok") {
    report = VerifyReport{};
    return fail(report, Problem::kIntegrityCheck, 0, fmt::format("quick_check: {}", check->value()));
  }
  if (!walked) return walked.error();
  // Last: a projection is only worth comparing with a log that is itself intact.
  if (report.ok() && options.check_projection) {
    if (auto s = check_projection(db.value(), trail, report); !s) return s.error();
  }
  return report;
}

namespace {

/// One record handed from the reading thread to the hashing thread.
struct PendingLink {
  std::uint64_t seq;
  std::int64_t recorded_at;
  std::size_t offset;   // of the body in Batch::bytes
  std::size_t size;
  std::size_t hash_size;   // of the stored hash; 32 unless damaged
  log::ChainHash stored;
};

struct Batch {
  std::vector<PendingLink> links;
  std::string bytes;
};

/// The hash chain over records in seq order, on its own thread: SHA-256 of every body is about as
/// much work as SQLite's read of it, so reading (and the column checks) and hashing overlap.
class ChainWorker {
 public:
  ChainWorker(const std::map<std::uint64_t, TrustedCheckpoint>& checkpoints, VerifyReport& report)
      : checkpoints_(checkpoints), next_checkpoint_(checkpoints.begin()), report_(report) {
    for (auto& b : pool_) free_.push_back(&b);
    thread_ = std::thread([this] { run(); });
  }
  ~ChainWorker() { close(); }

  /// An empty batch to fill (waits while the worker is behind).
  Batch* take() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    Batch* b = free_.back();
    free_.pop_back();
    b->links.clear();
    b->bytes.clear();
    return b;
  }
  void give(Batch* b) {
    {
      std::lock_guard lock(m_);
      full_.push_back(b);
    }
    cv_.notify_all();
  }
  /// Waits until every batch given is hashed.
  void close() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(m_);
      closed_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  /// Set once the worker found a problem (it then skips the rest).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  /// The worker's problem, if any: read after close().
  const VerifyReport& result() const { return found_; }

 private:
  void run() {
    for (;;) {
      Batch* b = nullptr;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return !full_.empty() || closed_; });
        if (full_.empty()) return;
        b = full_.front();
        full_.pop_front();
      }
      if (!failed()) hash(*b);
      {
        std::lock_guard lock(m_);
        free_.push_back(b);
      }
      cv_.notify_all();
    }
  }

  void fail(Problem p, std::uint64_t seq, std::string detail) {
    found_.problem = p;
    found_.first_bad_seq = seq;
    found_.detail = std::move(detail);
    failed_.store(true, std::memory_order_relaxed);
  }

  void hash(const Batch& b) {
    log::ChainHash& prev = report_.head_hash;
    log::ChainHash computed{};
    for (const auto& l : b.links) {
      const std::string_view body(b.bytes.data() + l.offset, l.size);
      if (!hasher_.next(prev, l.seq, l.recorded_at, body, computed)) return fail(Problem::kHashMismatch, l.seq, "SHA-256 failed");
      if (l.hash_size != computed.size()) return fail(Problem::kHashMissing, l.seq, fmt::format("record {} has no 32-byte hash", l.seq));
      if (l.stored != computed) {
        return fail(Problem::kHashMismatch, l.seq,
                    fmt::format("record {}: stored hash differs from the recomputed chain (the record's seq, time or "
                                "body was changed, or a record was inserted, removed or moved here)", l.seq));
      }
      if (next_checkpoint_ != checkpoints_.end() && next_checkpoint_->first == l.seq) {
        if (next_checkpoint_->second.checkpoint.hash != computed) {
          return fail(Problem::kCheckpointMismatch, last_matched_ + 1,
                      fmt::format("the chain at seq {} differs from the signed {}: records {}..{} were rewritten "
                                  "(and the chain recomputed) after the checkpoint",
                                  l.seq, next_checkpoint_->second.file.string(), last_matched_ + 1, l.seq));
        }
        last_matched_ = l.seq;
        ++report_.checkpoints_matched;
        ++next_checkpoint_;
      }
      prev = computed;
      report_.head_seq = l.seq;
      ++report_.records;
    }
  }

 public:
  /// After close(): the first checkpoint beyond the records hashed (end() if none).
  std::map<std::uint64_t, TrustedCheckpoint>::const_iterator next_checkpoint() const { return next_checkpoint_; }

 private:
  const std::map<std::uint64_t, TrustedCheckpoint>& checkpoints_;
  std::map<std::uint64_t, TrustedCheckpoint>::const_iterator next_checkpoint_;
  std::uint64_t last_matched_ = 0;
  VerifyReport& report_;    // records, head_seq, head_hash, checkpoints_matched: the worker's alone until close()
  VerifyReport found_;
  log::ChainHasher hasher_;
  std::array<Batch, 4> pool_;
  std::vector<Batch*> free_;
  std::deque<Batch*> full_;
  bool closed_ = false;
  std::atomic<bool> failed_{false};
  std::mutex m_;
  std::condition_variable cv_;
  std::thread thread_;
};

Status walk_chain(sqlite::Database& db, const std::map<std::uint64_t, TrustedCheckpoint>& checkpoints,
                  const VerifyOptions& options, VerifyReport& report, TicketTrail& trail) {
  constexpr std::size_t kBatchRecords = 512;
  auto rows = db.prepare("SELECT seq, recorded_at, kind, ticket_id, channel, source_key, body, hash FROM log ORDER BY seq");
  if (!rows) return rows.error();
  auto& st = rows.value();
  ChainWorker worker(checkpoints, report);
  // A problem this thread sees (gap, body, columns) at `mine.first_bad_seq`; the worker may still
  // find an earlier one (or, at the same seq, a hash problem, which comes first for a record).
  VerifyReport mine;
  Batch* batch = worker.take();
  std::uint64_t expected = 1;
  BodyFields fields;
  Status read_error = Ok{};
  for (;;) {
    if (worker.failed()) break;
    auto row = st.step();
    if (!row) {
      read_error = row.error();
      break;
    }
    if (!row.value()) break;
    const auto seq = static_cast<std::uint64_t>(st.column_int(0));
    if (seq != expected) {
      fail(mine, Problem::kSeqGap, expected,
           seq > expected ? fmt::format("records {}..{} are missing (next record is {})", expected, seq - 1, seq)
                          : fmt::format("seq {} out of order", seq));
      break;
    }
    const std::int64_t recorded_at = st.column_int(1);
    const std::string_view body = st.column_blob(6);
    const std::string_view stored = st.column_blob(7);
    PendingLink link{seq, recorded_at, batch->bytes.size(), body.size(), stored.size(), {}};
    if (stored.size() == link.stored.size()) std::memcpy(link.stored.data(), stored.data(), stored.size());
    batch->bytes.append(body);
    batch->links.push_back(link);
    const char* column = nullptr;
    if (!scan_body(body, fields)) {
      fail(mine, Problem::kBodyMalformed, seq, fmt::format("record {}: body does not parse", seq));
      break;
    }
    if (fields.seq != seq) {
      column = "seq";
    } else if (fields.recorded_at != recorded_at) {
      column = "recorded_at";
    } else if (st.column_is_null(2) || st.column_text(2) != fields.kind()) {
      column = "kind";
    } else if (fields.ticket_id.empty() ? !st.column_is_null(3) : st.column_text(3) != fields.ticket_id) {
      column = "ticket_id";
    } else if (fields.intake_accepted() ? st.column_is_null(4) || st.column_int(4) != fields.channel : !st.column_is_null(4)) {
      column = "channel";
    } else if (fields.intake_accepted() ? st.column_is_null(5) || st.column_text(5) != fields.source_key
                                        : !st.column_is_null(5)) {
      column = "source_key";
    }
    if (column != nullptr) {
      fail(mine, Problem::kColumnMismatch, seq, fmt::format("record {}: column {} disagrees with the record's body", seq, column));
      break;
    }
    if (auto stale = trail.see(seq, fields); !stale.empty()) {
      fail(mine, Problem::kStaleChange, seq, std::move(stale));
      break;
    }
    ++expected;
    if (options.progress != nullptr) options.progress->update(seq);
    if (batch->links.size() == kBatchRecords) {
      worker.give(batch);
      batch = worker.take();
    }
  }
  worker.give(batch);   // what was read, including the record a problem was seen in: its hash is checked first
  worker.close();
  if (options.progress != nullptr) options.progress->finish(report.records);
  const VerifyReport& theirs = worker.result();
  const bool their_first =
      theirs.problem != Problem::kNone &&
      (mine.problem == Problem::kNone || theirs.first_bad_seq < mine.first_bad_seq ||
       (theirs.first_bad_seq == mine.first_bad_seq &&
        (theirs.problem == Problem::kHashMissing || theirs.problem == Problem::kHashMismatch)));
  if (their_first) {
    fail(report, theirs.problem, theirs.first_bad_seq, theirs.detail);
    return Ok{};
  }
  if (mine.problem != Problem::kNone) {
    // The worker hashed the record the problem is in too: count only those before it.
    if (report.head_seq >= mine.first_bad_seq) {
      report.records = mine.first_bad_seq - 1;
      report.head_seq = mine.first_bad_seq - 1;
    }
    fail(report, mine.problem, mine.first_bad_seq, mine.detail);
    return Ok{};
  }
  if (!read_error.ok()) return read_error;
  if (auto next = worker.next_checkpoint(); next != checkpoints.end()) {
    const auto& [seq, c] = *next;
    fail(report, Problem::kCheckpointBeyondHead, report.head_seq + 1,
         fmt::format("the log ends at seq {} but {} attests seq {}: records {}..{} are gone (truncated, or an "
                     "older copy of the database)",
                     report.head_seq, c.file.string(), seq, report.head_seq + 1, seq));
  }
  return Ok{};
}

}  // namespace
}  // namespace gridhub::audit
