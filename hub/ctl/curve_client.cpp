#include "curve_client.hpp"

#include <iostream>
#include <utility>

#include "gridhub/auth/directory.hpp"

namespace gridhub::ctl {

bool CurveClient::load() {
  if (server_key.empty() && key_file.empty()) return true;
  if (server_key.empty() || key_file.empty()) {
    std::cerr << "gridhubctl: --server-key and --key go together\n";
    return false;
  }
  if (!gridhub::transport::is_z85_key(server_key)) {
    std::cerr << "gridhubctl: --server-key: not a CURVE public key (40 characters of Z85)\n";
    return false;
  }
  auto k = gridhub::transport::load_curve_secret_key(key_file);
  if (!k) {
    std::cerr << "gridhubctl: --key: " << k.error().detail << "\n";
    return false;
  }
  keys = std::move(k.value());
  return true;
}

void CurveClient::apply(zmq::socket_t& s) const {
  if (keys) gridhub::transport::apply_curve_client(s, server_key, *keys);
}

void add_curve_options(CLI::App* cmd, CurveClient& curve) {
  cmd->add_option("--server-key", curve.server_key, "the hub's CURVE public key (Z85), when it runs [security] mode \"curve\"");
  cmd->add_option("--key", curve.key_file, "this client's CURVE secret key file (gridhubctl keygen --curve)")
      ->check(CLI::ExistingFile);
}

}  // namespace gridhub::ctl
