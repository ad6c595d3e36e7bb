#include "gridhub/transport/curve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>


namespace gridhub::transport {

namespace {

// Exclusive create, so a key is never overwritten and the secret file is never briefly world-readable.
Status write_new_file(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Error(Errc::io_failed, fmt::format("{}: cannot create{}: {}", file.string(),
                                              errno == EEXIST ? " (already exists; not overwriting a key)" : "",
                                              std::strerror(errno)));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error(Errc::io_failed, fmt::format("{}: write failed", file.string()));
  return Ok{};
}

}  // namespace

bool is_z85_key(std::string_view text) {
  if (text.size() != 40) return false;
  std::string copy(text);   // zmq_z85_decode wants a terminated string
  std::array<std::uint8_t, 32> out{};
  return zmq_z85_decode(out.data(), copy.c_str()) != nullptr;
}

bool curve_available() { return zmq_has("curve") != 0; }

Result<CurveKeyPair> generate_curve_keypair() {
  if (!curve_available()) return Error(Errc::config_invalid, "this libzmq was built without CURVE support");
  std::array<char, 41> pk{};
  std::array<char, 41> sk{};
  if (zmq_curve_keypair(pk.data(), sk.data()) != 0) {
    return Error(Errc::io_failed, fmt::format("zmq_curve_keypair: {}", zmq_strerror(zmq_errno())));
  }
  CurveKeyPair k{pk.data(), sk.data()};
  std::memset(sk.data(), 0, sk.size());
  return k;
}

Status write_curve_key_files(const std::filesystem::path& prefix, const CurveKeyPair& keys) {
  const auto sk_file = std::filesystem::path(prefix.string() + ".key");
  const auto pk_file = std::filesystem::path(prefix.string() + ".pub");
  std::error_code ec;
  for (const auto& f : {sk_file, pk_file}) {
    if (std::filesystem::exists(f, ec)) {
      return Error(Errc::io_failed, fmt::format("{}: already exists; not overwriting a key", f.string()));
    }
  }
  const std::string pub_line = fmt::format("public-key = \"{}\"\n", keys.public_key);
  std::string secret = "# gridhub CURVE secret key: keep it private (mode 0600)\n" + pub_line +
                       fmt::format("secret-key = \"{}\"\n", keys.secret_key);
  Status s = write_new_file(sk_file, secret, 0600);
  std::memset(secret.data(), 0, secret.size());
  if (!s) return s;
  return write_new_file(pk_file, "# gridhub CURVE public key\n" + pub_line, 0644);
}

Result<CurveKeyPair> load_curve_secret_key(const std::filesystem::path& file) {
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0) {
    return Error(Errc::config_invalid, fmt::format("{}: secret key unreadable: {}", file.string(), std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return Error(Errc::config_invalid, fmt::format("{}: secret key is accessible by other users (mode {:o}); chmod 600 it",
                                                   file.string(), st.st_mode & 0777));
  }
  toml::table t;
  try {
    t = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return Error(Errc::config_invalid, fmt::format("{}:{}: not a gridhub CURVE key file: {}", file.string(),
                                                   e.source().begin.line, std::string(e.description())));
  }
  CurveKeyPair k;
  k.public_key = t["public-key"].value_or(std::string());
  k.secret_key = t["secret-key"].value_or(std::string());
  if (!is_z85_key(k.secret_key)) {
    return Error(Errc::config_invalid,
                 fmt::format("{}: secret-key: missing or not 40 characters of Z85 (gridhubctl keygen --curve)", file.string()));
  }
  std::array<char, 41> derived{};
  if (zmq_curve_public(derived.data(), k.secret_key.c_str()) != 0) {
    return Error(Errc::config_invalid, fmt::format("{}: secret-key: cannot derive its public key: {}", file.string(),
                                                   zmq_strerror(zmq_errno())));
  }
  if (k.public_key.empty()) {
    k.public_key = derived.data();
  } else if (k.public_key != derived.data()) {
    return Error(Errc::config_invalid, fmt::format("{}: public-key does not belong to secret-key (damaged?)", file.string()));
  }
  return k;
}

void apply_curve_server(zmq::socket_t& socket, const CurveKeyPair& server) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, server.secret_key);
  // A domain makes libzmq ask the ZAP handler about every connection (RFC 27).
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
}

void apply_curve_client(zmq::socket_t& socket, const std::string& server_public_key, const CurveKeyPair& client) {
  socket.set(zmq::sockopt::curve_serverkey, server_public_key);
  socket.set(zmq::sockopt::curve_publickey, client.public_key);
  socket.set(zmq::sockopt::curve_secretkey, client.secret_key);
}

}  // namespace gridhub::transport
