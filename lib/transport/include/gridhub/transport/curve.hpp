#pragma once
/// CurveZMQ keys: making them, keeping them in files, and putting them on sockets. Shared by the hub,
/// the adapters and gridhubctl; who a key belongs to (identities, roles, the ZAP handler) is the hub's
/// business (hub/auth).
///
/// A secret key file (PREFIX.key, mode 0600) holds both halves as Z85 text:
///   public-key = "<40 Z85 characters>"
///   secret-key = "<40 Z85 characters>"
/// PREFIX.pub holds the public line alone; the public key is what goes into identities files and
/// into clients' `server_public_key`.

#include <filesystem>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "gridhub/common/result.hpp"

namespace gridhub::transport {

inline constexpr const char* kZapDomain = "gridhub";

struct CurveKeyPair {
  std::string public_key;   // Z85
  std::string secret_key;   // Z85; never logged
};

/// A fresh key pair (zmq_curve_keypair); fails when libzmq was built without CURVE.
Result<CurveKeyPair> generate_curve_keypair();

/// Writes PREFIX.key (mode 0600) and PREFIX.pub; refuses to overwrite either.
Status write_curve_key_files(const std::filesystem::path& prefix, const CurveKeyPair& keys);

/// Reads a secret key file; refuses one other users can read, or whose halves do not belong together.
Result<CurveKeyPair> load_curve_secret_key(const std::filesystem::path& file);

/// True when `text` is 40 characters of Z85 that decode to a 32-byte key.
bool is_z85_key(std::string_view text);

/// True when this libzmq can do CURVE.
bool curve_available();

/// Makes `socket` a CURVE server authenticated through ZAP domain "gridhub"; before bind().
void apply_curve_server(zmq::socket_t& socket, const CurveKeyPair& server);
/// Makes `socket` a CURVE client of the server with `server_public_key` (Z85); before connect().
void apply_curve_client(zmq::socket_t& socket, const std::string& server_public_key, const CurveKeyPair& client);

}  // namespace gridhub::transport
