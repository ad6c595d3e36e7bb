#pragma once
/// Signed checkpoints of the log's hash chain (docs/audit.md): small text files, meant to be copied off
/// the machine, that let an auditor detect a truncated, rewritten or rolled-back log.
///
/// A checkpoint file (`checkpoint-<seq, 20 digits>.txt`):
///
///   gridhub-log-checkpoint v1
///   seq <decimal>
///   hash <64 hex: hash_seq of the chain>
///   time <decimal: µs since the Unix epoch, UTC>
///   key <16 hex: key id>
///   sig <128 hex: Ed25519 signature over the five lines above, newlines included>
///
/// Config keys ([audit] section of the hub config, see gridhub/core/hub_config.hpp):
/// checkpoint_every, checkpoint_seconds, checkpoint_dir, signing_key.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/log/chain.hpp"

namespace gridhub::log {

using Signature = std::array<unsigned char, 64>;

/// An Ed25519 public key and its id (first 8 bytes of SHA-256(public key), hex).
struct PublicKey {
  std::array<unsigned char, 32> bytes{};
  std::string key_id;
};

struct SigningKey {
  std::array<unsigned char, 64> secret{};   // libsodium's seed || public key
  PublicKey public_key;
};

inline constexpr std::string_view kSecretKeyFile = "checkpoint.key";
/// In the checkpoint folder: the head of the latest commit, signed like a checkpoint (durability
/// "full" only). Rewritten after every commit, not fsynced: it survives a killed hub, and lets the
/// next start tell a tail that was cut or rewritten since (docs/audit.md, "Checked before signed").
inline constexpr std::string_view kHeadWitnessFile = "head.txt";
inline constexpr std::string_view kPublicKeyFile = "checkpoint.pub";

/// Reads a secret key file written by generate_keypair; errors name the file and what is wrong
/// (missing, readable by others than its owner, not a key, inconsistent).
Result<SigningKey> load_signing_key(const std::filesystem::path& file);
Result<PublicKey> load_public_key(const std::filesystem::path& file);
/// Writes `dir/checkpoint.key` (mode 0600) and `dir/checkpoint.pub`; refuses to overwrite either.
Result<PublicKey> generate_keypair(const std::filesystem::path& dir);

struct Checkpoint {
  std::uint64_t seq = 0;
  ChainHash hash{};
  std::int64_t time_micros = 0;
  std::string key_id;
  Signature signature{};
};

/// The exact bytes the signature covers.
std::string checkpoint_signed_text(const Checkpoint& c);
/// The whole file: signed text plus the `sig` line.
std::string format_checkpoint(const Checkpoint& c);
/// Strict: exactly the documented lines, in order.
Result<Checkpoint> parse_checkpoint(std::string_view text);
Checkpoint sign_checkpoint(std::uint64_t seq, const ChainHash& hash, std::int64_t time_micros, const SigningKey& key);
bool checkpoint_signature_valid(const Checkpoint& c, const PublicKey& key);
std::string checkpoint_file_name(std::uint64_t seq);
/// Atomic: temp file, fsync, rename, fsync of the folder.
Status write_checkpoint_file(const std::filesystem::path& dir, const Checkpoint& c);

/// One record's place in the chain.
struct ChainLink {
  std::uint64_t seq = 0;
  ChainHash hash{};
};

/// What the log's writer lets its observer check and force before the observer attests anything.
/// Valid from CommitObserver::on_open until on_close returns; used on the writer's thread only.
class ChainSource {
 public:
  virtual ~ChainSource() = default;
  /// Recomputes the chain from `from` through `to_seq` out of the stored records: the stored hash at
  /// from.seq must be from.hash (seq 0: the genesis), every seq after it must be there, and every stored
  /// hash must equal its recomputed link. Returns the link at `to_seq`; an error names the first bad seq.
  virtual Result<ChainLink> recompute(const ChainLink& from, std::uint64_t to_seq) noexcept = 0;
  /// Makes every committed record durable (fsync of the WAL). With durability "full" every commit
  /// already is, and this does nothing.
  virtual Status make_durable() noexcept = 0;
  /// Every commit is on disk when it returns (durability "full").
  virtual bool commits_durable() const noexcept = 0;
};

/// What the observer decided about the log it was opened on.
enum class OpenVerdict {
  kContinue,   // the log is what was attested (or extends it)
  kRestored,   // the log is behind what was attested, and the operator accepted it (a restored backup)
};

/// Told about the chain by the log's writer, always after the transaction committed (so it never sees
/// links that could still roll back). Called on the writer's thread.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  /// The head when the log opens (seq 0: empty log), before anything is written. An error refuses the
  /// open (open_event_log fails with it): the log is not what was attested.
  virtual Result<OpenVerdict> on_open(const ChainLink& head, ChainSource& source, std::int64_t now_micros) noexcept = 0;
  /// Every record one commit added, in seq order; never empty.
  virtual void on_commit(std::span<const ChainLink> committed, std::int64_t now_micros) noexcept = 0;
  /// The head when the log closes.
  virtual void on_close(const ChainLink& head, std::int64_t now_micros) noexcept = 0;
};

struct CheckpointOptions {
  std::filesystem::path dir;
  std::filesystem::path signing_key;
  std::uint64_t every_records = 10000;
  std::int64_t every_seconds = 60;
  /// The operator's explicit consent (`gridhub --accept-restored-log`) to resume from a log that is
  /// behind the newest checkpoint: a restored backup. Without it such a log is refused.
  bool accept_restored_log = false;
};

/// Writes a signed checkpoint at every seq that is a multiple of `every_records` (however commits batch
/// them), at the head of the first commit `every_seconds` after the last checkpoint, at open when the
/// newest checkpoint is behind the head (e.g. after a crash), and at orderly close. A failed write is
/// logged and retried at the next commit; it never fails the commit, which is already durable. Before
/// signing it makes the log durable (ChainSource::make_durable), so only fsynced records are attested.
///
/// At open, before it signs anything, it checks the log against the newest checkpoint: that checkpoint's
/// signature (with this key), the stored chain at its seq, and every record after it recomputed. A log
/// that fails is refused. A log whose head is behind the newest checkpoint (an older copy) is refused
/// unless `accept_restored_log`; then the log must match the newest checkpoint at or before its head,
/// the checkpoints beyond the head are moved to `dir/superseded-<µs>/`, and on_open answers kRestored.
/// The head witness (kHeadWitnessFile) counts as such evidence too: the log must reach it and hold
/// its hash at its seq.
class Checkpointer final : public CommitObserver {
 public:
  /// Loads the key and creates the folder; errors name the file.
  static Result<std::unique_ptr<Checkpointer>> create(const CheckpointOptions& options);
  Result<OpenVerdict> on_open(const ChainLink& head, ChainSource& source, std::int64_t now_micros) noexcept override;
  void on_commit(std::span<const ChainLink> committed, std::int64_t now_micros) noexcept override;
  void on_close(const ChainLink& head, std::int64_t now_micros) noexcept override;
  std::uint64_t last_seq() const { return last_seq_; }
  std::uint64_t written() const { return written_; }
  std::uint64_t failures() const { return failures_; }

 private:
  Checkpointer(CheckpointOptions options, SigningKey key, std::uint64_t last_seq)
      : options_(std::move(options)), key_(key), last_seq_(last_seq) {}
  void write(const ChainLink& link, std::int64_t now_micros) noexcept;
  void write_witness(const ChainLink& head, std::int64_t now_micros) noexcept;
  /// The head witness, if there is one this key signed (anything else is logged and ignored).
  std::optional<Checkpoint> read_witness() const;
  /// The newest checkpoint file with seq <= max_seq, read and authenticated with this key.
  Result<std::optional<Checkpoint>> newest_trusted(std::uint64_t max_seq) const;
  Result<OpenVerdict> check_open(const ChainLink& head, ChainSource& source, std::int64_t now_micros);
  CheckpointOptions options_;
  ChainSource* source_ = nullptr;   // from on_open to on_close
  bool witness_ = false;            // keep the head witness (durability "full")
  std::uint64_t witness_failures_ = 0;
  SigningKey key_;
  std::uint64_t last_seq_;
  std::int64_t last_time_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t failures_ = 0;
};

/// The checkpoint files in `dir`, in seq order (their names sort that way); empty if `dir` is missing.
std::vector<std::filesystem::path> list_checkpoint_files(const std::filesystem::path& dir);

}  // namespace gridhub::log
