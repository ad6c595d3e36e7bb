#include "gridhub/log/checkpoint.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gridhub::log {
namespace {

constexpr std::string_view kHeader = "gridhub-log-checkpoint v1";
constexpr std::string_view kSecretTag = "gridhub-ed25519-secret ";
constexpr std::string_view kPublicTag = "gridhub-ed25519-public ";
constexpr std::string_view kFilePrefix = "checkpoint-";
constexpr std::string_view kFileSuffix = ".txt";

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;   // idempotent and thread-safe; once is enough
  return ok;
}

std::string hex(const unsigned char* p, std::size_t n) {
  std::string s(n * 2, '0');
  sodium_bin2hex(s.data(), s.size() + 1, p, n);
  return s;
}

/// Exactly `out_len` bytes of hex, nothing else.
bool unhex(std::string_view text, unsigned char* out, std::size_t out_len) {
  if (text.size() != out_len * 2) return false;
  std::size_t got = 0;
  return sodium_hex2bin(out, out_len, text.data(), text.size(), nullptr, &got, nullptr) == 0 && got == out_len;
}

std::string key_id_of(const std::array<unsigned char, 32>& pk) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, pk.data(), pk.size());
  return hex(digest, 8);
}

Result<std::string> read_small_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
  std::string s;
  char buf[512];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    s.append(buf, static_cast<std::size_t>(in.gcount()));
    if (s.size() > 4096) return Error(Errc::bad_value, fmt::format("{}: too large for a key or checkpoint", file.string()));
  }
  return s;
}

/// "tag <hex>\n" -> the hex.
std::optional<std::string_view> tagged_line(std::string_view text, std::string_view tag) {
  if (text.size() < tag.size() + 1 || text.substr(0, tag.size()) != tag || text.back() != '\n') return std::nullopt;
  return text.substr(tag.size(), text.size() - tag.size() - 1);
}

Status write_file_atomically(const std::filesystem::path& file, std::string_view content, mode_t mode,
                             bool sync = true) {
  const std::filesystem::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error(Errc::io_failed, fmt::format("{}: cannot create: {}", tmp.string(), std::strerror(errno)));
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(Errc::io_failed, fmt::format("{}: write failed: {}", tmp.string(), std::strerror(e)));
    }
    off += static_cast<std::size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error(Errc::io_failed, fmt::format("{}: fsync failed: {}", tmp.string(), std::strerror(e)));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error(Errc::io_failed, fmt::format("{}: rename failed: {}", file.string(), std::strerror(e)));
  }
  if (!sync) return Ok{};
  // The rename is durable only once the folder is.
  const int dfd = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

}  // namespace

Result<SigningKey> load_signing_key(const std::filesystem::path& file) {
  if (!sodium_ready()) return Error(Errc::io_failed, "libsodium failed to initialise");
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0) {
    return Error(Errc::config_invalid, fmt::format("{}: signing key unreadable: {}", file.string(), std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return Error(Errc::config_invalid, fmt::format("{}: signing key is accessible by other users (mode {:o}); chmod 600 it",
                                                   file.string(), st.st_mode & 0777));
  }
  auto text = read_small_file(file);
  if (!text) return Error(Errc::config_invalid, text.error().detail);
  SigningKey key;
  auto h = tagged_line(text.value(), kSecretTag);
  if (!h || !unhex(*h, key.secret.data(), key.secret.size())) {
    return Error(Errc::config_invalid,
                 fmt::format("{}: not a gridhub signing key (expected one line '{}<128 hex digits>')", file.string(),
                             kSecretTag));
  }
  // The secret key embeds its public half; re-deriving it from the seed catches a damaged file.
  std::array<unsigned char, 32> pk{};
  std::array<unsigned char, 64> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), key.secret.data());
  if (sodium_memcmp(sk.data(), key.secret.data(), sk.size()) != 0) {
    sodium_memzero(sk.data(), sk.size());
    return Error(Errc::config_invalid, fmt::format("{}: signing key is inconsistent (damaged?)", file.string()));
  }
  sodium_memzero(sk.data(), sk.size());
  key.public_key.bytes = pk;
  key.public_key.key_id = key_id_of(pk);
  return key;
}

Result<PublicKey> load_public_key(const std::filesystem::path& file) {
  if (!sodium_ready()) return Error(Errc::io_failed, "libsodium failed to initialise");
  auto text = read_small_file(file);
  if (!text) return Error(Errc::config_invalid, fmt::format("{}: public key unreadable", file.string()));
  PublicKey key;
  auto h = tagged_line(text.value(), kPublicTag);
  if (!h || !unhex(*h, key.bytes.data(), key.bytes.size())) {
    return Error(Errc::config_invalid,
                 fmt::format("{}: not a gridhub public key (expected one line '{}<64 hex digits>')", file.string(),
                             kPublicTag));
  }
  key.key_id = key_id_of(key.bytes);
  return key;
}

Result<PublicKey> generate_keypair(const std::filesystem::path& dir) {
  if (!sodium_ready()) return Error(Errc::io_failed, "libsodium failed to initialise");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(Errc::io_failed, fmt::format("{}: cannot create folder: {}", dir.string(), ec.message()));
  const auto sk_file = dir / kSecretKeyFile;
  const auto pk_file = dir / kPublicKeyFile;
  for (const auto& f : {sk_file, pk_file}) {
    if (std::filesystem::exists(f, ec)) {
      return Error(Errc::io_failed, fmt::format("{}: already exists; not overwriting a key", f.string()));
    }
  }
  PublicKey pk;
  std::array<unsigned char, 64> sk{};
  crypto_sign_keypair(pk.bytes.data(), sk.data());
  pk.key_id = key_id_of(pk.bytes);
  std::string sk_text = std::string(kSecretTag) + hex(sk.data(), sk.size()) + "\n";
  sodium_memzero(sk.data(), sk.size());
  Status s = write_file_atomically(sk_file, sk_text, 0600);
  sodium_memzero(sk_text.data(), sk_text.size());
  if (!s) return s.error();
  if (auto p = write_file_atomically(pk_file, std::string(kPublicTag) + hex(pk.bytes.data(), pk.bytes.size()) + "\n", 0644);
      !p) {
    return p.error();
  }
  return pk;
}

std::string checkpoint_signed_text(const Checkpoint& c) {
  return fmt::format("{}\nseq {}\nhash {}\ntime {}\nkey {}\n", kHeader, c.seq, to_hex(c.hash), c.time_micros, c.key_id);
}

std::string format_checkpoint(const Checkpoint& c) {
  return checkpoint_signed_text(c) + "sig " + hex(c.signature.data(), c.signature.size()) + "\n";
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  auto bad = [](std::string_view why) { return Error(Errc::malformed_frame, std::string(why)); };
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) return bad("last line has no newline");
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() != 6) return bad(fmt::format("{} lines, expected 6", lines.size()));
  if (lines[0] != kHeader) return bad("not a gridhub-log-checkpoint v1");
  auto field = [&](std::size_t i, std::string_view name) -> std::optional<std::string_view> {
    if (lines[i].size() <= name.size() + 1 || lines[i].substr(0, name.size()) != name || lines[i][name.size()] != ' ') {
      return std::nullopt;
    }
    return lines[i].substr(name.size() + 1);
  };
  auto decimal = [](std::string_view s, bool allow_minus) -> std::optional<std::int64_t> {
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::size_t i = 0;
    const bool neg = allow_minus && s[0] == '-';
    if (neg) i = 1;
    if (i == s.size()) return std::nullopt;
    std::int64_t v = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
  };
  Checkpoint c;
  auto seq = field(1, "seq");
  auto seqv = seq ? decimal(*seq, false) : std::nullopt;
  if (!seqv) return bad("bad 'seq' line");
  c.seq = static_cast<std::uint64_t>(*seqv);
  auto hash = field(2, "hash");
  auto hashv = hash ? chain_hash_from_hex(*hash) : std::nullopt;
  if (!hashv) return bad("bad 'hash' line");
  c.hash = *hashv;
  auto time = field(3, "time");
  auto timev = time ? decimal(*time, true) : std::nullopt;
  if (!timev) return bad("bad 'time' line");
  c.time_micros = *timev;
  auto key = field(4, "key");
  if (!key || key->size() != 16) return bad("bad 'key' line");
  c.key_id = std::string(*key);
  auto sig = field(5, "sig");
  if (!sig || !unhex(*sig, c.signature.data(), c.signature.size())) return bad("bad 'sig' line");
  // Canonical form only: a re-formatted file must be byte-identical (no leading zeros, lower-case hex).
  if (format_checkpoint(c) != text) return bad("not in canonical form");
  return c;
}

Checkpoint sign_checkpoint(std::uint64_t seq, const ChainHash& hash, std::int64_t time_micros, const SigningKey& key) {
  Checkpoint c;
  c.seq = seq;
  c.hash = hash;
  c.time_micros = time_micros;
  c.key_id = key.public_key.key_id;
  const std::string msg = checkpoint_signed_text(c);
  crypto_sign_detached(c.signature.data(), nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       key.secret.data());
  return c;
}

bool checkpoint_signature_valid(const Checkpoint& c, const PublicKey& key) {
  if (!sodium_ready()) return false;
  const std::string msg = checkpoint_signed_text(c);
  return crypto_sign_verify_detached(c.signature.data(), reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                     key.bytes.data()) == 0;
}

std::string checkpoint_file_name(std::uint64_t seq) { return fmt::format("{}{:020d}{}", kFilePrefix, seq, kFileSuffix); }

Status write_checkpoint_file(const std::filesystem::path& dir, const Checkpoint& c) {
  return write_file_atomically(dir / checkpoint_file_name(c.seq), format_checkpoint(c), 0644);
}

std::vector<std::filesystem::path> list_checkpoint_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() == kFilePrefix.size() + 20 + kFileSuffix.size() && name.starts_with(kFilePrefix) &&
        name.ends_with(kFileSuffix)) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::unique_ptr<Checkpointer>> Checkpointer::create(const CheckpointOptions& options) {
  auto key = load_signing_key(options.signing_key);
  if (!key) return key.error();
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return Error(Errc::config_invalid, fmt::format("{}: cannot create checkpoint folder: {}", options.dir.string(), ec.message()));
  }
  std::uint64_t last = 0;
  auto files = list_checkpoint_files(options.dir);
  if (!files.empty()) {
    const std::string name = files.back().filename().string();
    last = std::strtoull(name.c_str() + kFilePrefix.size(), nullptr, 10);
  }
  return std::unique_ptr<Checkpointer>(new Checkpointer(options, key.value(), last));
}

void Checkpointer::write(const ChainLink& link, std::int64_t now_micros) noexcept {
  try {
    const Checkpoint c = sign_checkpoint(link.seq, link.hash, now_micros, key_);
    if (auto s = write_checkpoint_file(options_.dir, c); !s) {
      ++failures_;
      spdlog::error("audit: checkpoint at seq {} not written (retrying at the next commit): {}", link.seq,
                    s.error().message());
      return;
    }
    last_seq_ = link.seq;
    last_time_ = now_micros;
    ++written_;
  } catch (const std::exception& e) {   // allocation failure: the commit stands, the next one retries
    ++failures_;
    spdlog::error("audit: checkpoint at seq {} not written: {}", link.seq, e.what());
  }
}

Result<std::optional<Checkpoint>> Checkpointer::newest_trusted(std::uint64_t max_seq) const {
  auto files = list_checkpoint_files(options_.dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    const std::string name = it->filename().string();
    const std::uint64_t seq = std::strtoull(name.c_str() + kFilePrefix.size(), nullptr, 10);
    if (seq > max_seq) continue;
    auto text = read_small_file(*it);
    if (!text) return text.error();
    auto c = parse_checkpoint(text.value());
    if (!c) return Error(Errc::bad_value, fmt::format("{}: not a checkpoint: {}", it->string(), c.error().detail));
    if (c->seq != seq) {
      return Error(Errc::bad_value, fmt::format("{}: its name says seq {}, its content seq {}", it->string(), seq, c->seq));
    }
    if (c->key_id != key_.public_key.key_id || !checkpoint_signature_valid(c.value(), key_.public_key)) {
      return Error(Errc::bad_value, fmt::format("{}: not signed by this hub's key {} (forged or altered checkpoint)",
                                                it->string(), key_.public_key.key_id));
    }
    return std::optional<Checkpoint>(std::move(c.value()));
  }
  return std::optional<Checkpoint>{};
}

std::optional<Checkpoint> Checkpointer::read_witness() const {
  const auto file = options_.dir / kHeadWitnessFile;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  auto text = read_small_file(file);
  auto c = text ? parse_checkpoint(text.value()) : Result<Checkpoint>(text.error());
  if (!c || c->key_id != key_.public_key.key_id || !checkpoint_signature_valid(c.value(), key_.public_key)) {
    // Not fsynced: a power loss may leave it torn. Its absence is no evidence either way.
    spdlog::warn("audit: {} is not a head witness signed by this hub's key; ignored", file.string());
    return std::nullopt;
  }
  return std::move(c.value());
}

void Checkpointer::write_witness(const ChainLink& head, std::int64_t now_micros) noexcept {
  if (!witness_) return;
  try {
    const Checkpoint c = sign_checkpoint(head.seq, head.hash, now_micros, key_);
    if (auto s = write_file_atomically(options_.dir / kHeadWitnessFile, format_checkpoint(c), 0644, false); !s) {
      if (++witness_failures_ <= 10 || witness_failures_ % 1000 == 0) {
        spdlog::error("audit: head witness not written (#{}): {}", witness_failures_, s.error().message());
      }
    }
  } catch (const std::exception&) {   // allocation failure: the next commit writes it again
    ++witness_failures_;
  }
}

Result<OpenVerdict> Checkpointer::check_open(const ChainLink& head, ChainSource& source, std::int64_t now_micros) {
  auto newest = newest_trusted(std::numeric_limits<std::uint64_t>::max());
  if (!newest) {
    return Error(Errc::storage_failed, fmt::format("audit: refusing to sign the log: {}", newest.error().message()));
  }
  OpenVerdict verdict = OpenVerdict::kContinue;
  std::optional<Checkpoint> anchor = std::move(newest.value());
  std::optional<Checkpoint> witness = read_witness();
  const bool behind_checkpoint = anchor && anchor->seq > head.seq;
  if (behind_checkpoint || (witness && witness->seq > head.seq)) {
    const std::string evidence =
        behind_checkpoint ? fmt::format("behind the signed checkpoint at seq {} in {}", anchor->seq, options_.dir.string())
                          : fmt::format("behind seq {}, which this hub committed and signed in {}", witness->seq,
                                        (options_.dir / kHeadWitnessFile).string());
    if (!options_.accept_restored_log) {
      return Error(Errc::storage_failed,
                   fmt::format("audit: the log's head is seq {}, {}: this log is an older copy than the one this hub "
                               "attested (a restored backup? a cut tail?), and the records after seq {} are not in it. "
                               "If that is intended, start once with --accept-restored-log: the hub resumes from this "
                               "copy and adapters resend what they were acknowledged after it. Otherwise put the newer "
                               "log file back",
                               head.seq, evidence, head.seq));
    }
    witness.reset();
    auto older = newest_trusted(head.seq);
    if (!older) {
      return Error(Errc::storage_failed, fmt::format("audit: refusing to sign the log: {}", older.error().message()));
    }
    anchor = std::move(older.value());
    verdict = OpenVerdict::kRestored;
  }
  const ChainLink from = anchor ? ChainLink{anchor->seq, anchor->hash} : ChainLink{0, kChainGenesis};
  // The head witness splits the walk: the chain must pass through the hash it attests.
  const bool via_witness = witness && witness->seq > from.seq;
  auto r = source.recompute(from, via_witness ? witness->seq : head.seq);
  if (r && via_witness) r = source.recompute(ChainLink{witness->seq, witness->hash}, head.seq);
  if (!r) {
    return Error(Errc::storage_failed,
                 fmt::format("audit: the log does not match what this hub attested (checked from {} to the head, seq "
                             "{}): {}. It was changed while the hub was not running; the hub does not sign it. Run "
                             "gridhubctl verify with the checkpoints, and put back a log that verifies",
                             from.seq == 0 ? std::string("the first record")
                                           : fmt::format("the checkpoint at seq {}", from.seq),
                             head.seq, r.error().message()));
  }
  witness_ = source.commits_durable();
  if (!witness_) {
    // Durability "normal": commits are not on disk when they return, so no witness of them is kept
    // (a power loss could leave it ahead of the log); an old one would mislead the next start.
    std::error_code ec;
    std::filesystem::remove(options_.dir / kHeadWitnessFile, ec);
  }
  if (verdict == OpenVerdict::kRestored) {
    // The checkpoints beyond the restored head attest records this log will never have; they move
    // aside (kept, for the auditors' record) so the folder describes the chain the hub now extends.
    const std::filesystem::path aside = options_.dir / fmt::format("superseded-{}", now_micros);
    std::error_code ec;
    std::filesystem::create_directories(aside, ec);
    if (ec) return Error(Errc::io_failed, fmt::format("{}: cannot create: {}", aside.string(), ec.message()));
    for (const auto& f : list_checkpoint_files(options_.dir)) {
      const std::uint64_t seq = std::strtoull(f.filename().string().c_str() + kFilePrefix.size(), nullptr, 10);
      if (seq <= head.seq) continue;
      std::filesystem::rename(f, aside / f.filename(), ec);
      if (ec) return Error(Errc::io_failed, fmt::format("{}: cannot move to {}: {}", f.string(), aside.string(), ec.message()));
    }
    spdlog::warn("audit: resuming from a restored log at seq {} as the operator accepted (--accept-restored-log); "
                 "the checkpoints beyond it moved to {}; adapters will be told to resend what they were "
                 "acknowledged after seq {}", head.seq, aside.string(), head.seq);
  }
  last_seq_ = from.seq;
  if (head.seq > last_seq_) {
    // e.g. records committed just before a crash: durable first (durability "normal"), then signed.
    if (auto d = source.make_durable(); !d) return d.error();
    write(head, now_micros);
  }
  write_witness(head, now_micros);
  return verdict;
}

Result<OpenVerdict> Checkpointer::on_open(const ChainLink& head, ChainSource& source, std::int64_t now_micros) noexcept {
  last_time_ = now_micros;
  try {
    auto r = check_open(head, source, now_micros);
    if (r) source_ = &source;
    return r;
  } catch (const std::exception& e) {
    return Error(Errc::io_failed, fmt::format("audit: checking the log at open failed: {}", e.what()));
  }
}

void Checkpointer::on_commit(std::span<const ChainLink> committed, std::int64_t now_micros) noexcept {
  const ChainLink& head = committed.back();
  write_witness(head, now_micros);
  // A failed write is retried here too: last_seq_ stays behind until one succeeds.
  const bool due_by_time = head.seq > last_seq_ && (now_micros - last_time_ >= options_.every_seconds * 1'000'000 ||
                                                    head.seq - last_seq_ >= options_.every_records);
  bool due = due_by_time;
  for (const auto& link : committed) due = due || (link.seq > last_seq_ && link.seq % options_.every_records == 0);
  if (!due) return;
  // Attest only what is on disk: with durability "normal" the commit was not fsynced.
  if (source_ != nullptr) {
    if (auto d = source_->make_durable(); !d) {
      ++failures_;
      spdlog::error("audit: checkpoint not written (retrying at the next commit): {}", d.error().message());
      return;
    }
  }
  for (const auto& link : committed) {
    if (link.seq > last_seq_ && link.seq % options_.every_records == 0) write(link, now_micros);
  }
  if (head.seq > last_seq_ &&
      (now_micros - last_time_ >= options_.every_seconds * 1'000'000 || head.seq - last_seq_ >= options_.every_records)) {
    write(head, now_micros);
  }
}

void Checkpointer::on_close(const ChainLink& head, std::int64_t now_micros) noexcept {
  if (head.seq > last_seq_) {
    if (source_ != nullptr) {
      if (auto d = source_->make_durable(); !d) {
        ++failures_;
        spdlog::error("audit: no checkpoint at close: {}", d.error().message());
        source_ = nullptr;
        return;
      }
    }
    write(head, now_micros);
  }
  source_ = nullptr;
}

}  // namespace gridhub::log
