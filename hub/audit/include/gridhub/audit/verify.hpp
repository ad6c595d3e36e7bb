#pragma once
/// Auditor-side verification of a gridhub log (docs/audit.md): recomputes the hash chain from genesis,
/// checks that the derived columns agree with each record's body, that every change builds on its
/// ticket's previous record, the chain against signed checkpoints kept off the machine, and (by default)
/// that the `tickets` projection is the state the log derives. Opens the database read-only and never writes to it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/log/chain.hpp"

namespace gridhub::audit {

/// Why a log failed verification. Stable names (problem_name) appear in gridhubctl's output.
enum class Problem {
  kNone,
  kIntegrityCheck,       // SQLite's quick_check reports a damaged file
  kSeqGap,               // a seq is missing (a record was deleted) or the first record is not seq 1
  kHashMissing,          // the record's hash column is NULL or not 32 bytes
  kHashMismatch,         // the recomputed hash differs: the record, or one before it, was changed, inserted or moved
  kBodyMalformed,        // the body is not a LogRecord
  kColumnMismatch,       // a column (seq, recorded_at, kind, ticket_id, channel, source_key) disagrees with the body
  kCheckpointMalformed,  // a checkpoint file does not parse
  kCheckpointBadSignature,
  kCheckpointWrongKey,   // signed with a key other than the pinned public key
  kCheckpointConflict,   // two validly signed checkpoints for one seq with different hashes
  kCheckpointMismatch,   // the chain at a checkpoint's seq differs from the signed hash: rewritten history
  kCheckpointBeyondHead, // a checkpoint attests records the log no longer has: truncated, or an older copy
  kStaleChange,          // a change's prior_seq is not its ticket's previous record: decided on a stale or altered state
  kProjectionMismatch,   // the tickets table differs from the state the log derives (edited outside the hub)
};

std::string_view problem_name(Problem p) noexcept;

struct VerifyOptions {
  /// Folder of checkpoint files (checkpoint-*.txt); needs `public_key`.
  std::optional<std::filesystem::path> checkpoints_dir;
  std::optional<std::filesystem::path> public_key;
  /// Records checked so far, for a terminal (gridhub/common/progress.hpp); nullptr: none.
  Progress* progress = nullptr;
  /// Also compare the `tickets` projection with the state the log derives (projection_mismatch); one
  /// more read of each ticket's last record. Off: the chain and checkpoints only.
  bool check_projection = true;
};

struct VerifyReport {
  std::uint64_t records = 0;          // records whose chain link was checked
  std::uint64_t head_seq = 0;         // the last seq read
  log::ChainHash head_hash = log::kChainGenesis;
  std::uint64_t checkpoints = 0;      // checkpoint files whose signature was valid
  std::uint64_t checkpoints_matched = 0;   // of those, checked against the chain
  Problem problem = Problem::kNone;
  std::uint64_t first_bad_seq = 0;    // the first record known bad (0: none, or not attributable to one)
  std::string detail;                 // for a human: what differs, which file

  bool ok() const { return problem == Problem::kNone; }
};

/// A Result error means verification could not run (no such file, not a gridhub log, bad key file);
/// a report with a problem means the log is not what the chain and checkpoints attest.
Result<VerifyReport> verify_log(const std::filesystem::path& db_file, const VerifyOptions& options = {});

}  // namespace gridhub::audit
