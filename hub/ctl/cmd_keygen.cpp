// gridhubctl keygen: an Ed25519 key pair for signed checkpoints, or (--curve) a CURVE key pair.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/transport/curve.hpp"
#include "gridhub/log/checkpoint.hpp"

namespace gridhub::ctl {
namespace {

struct KeygenArgs {
  std::string out;
  bool curve = false;
};

int run_keygen(const std::string& out) {
  auto pk = gridhub::log::generate_keypair(out);
  if (!pk) {
    std::cerr << "gridhubctl: " << pk.error().message() << "\n";
    return 1;
  }
  const auto dir = std::filesystem::path(out);
  std::cout << "wrote " << (dir / gridhub::log::kSecretKeyFile).string() << " (secret, mode 0600: the hub's [audit] signing_key)\n"
            << "wrote " << (dir / gridhub::log::kPublicKeyFile).string() << " (public: give it to auditors)\n"
            << "key id " << pk->key_id << "\n";
  return 0;
}

/// A CURVE key pair for a hub, adapter or subscriber: PREFIX.key (secret) and PREFIX.pub; the public
/// key is printed for the identities file (or, for the hub's own key, for its clients).
int run_keygen_curve(const std::string& prefix) {
  auto k = gridhub::transport::generate_curve_keypair();
  if (!k) {
    std::cerr << "gridhubctl: " << k.error().message() << "\n";
    return 1;
  }
  if (auto s = gridhub::transport::write_curve_key_files(prefix, k.value()); !s) {
    std::cerr << "gridhubctl: " << s.error().message() << "\n";
    return 1;
  }
  std::cerr << "wrote " << prefix << ".key (secret, mode 0600) and " << prefix << ".pub\n";
  std::cout << k->public_key << "\n";
  return 0;
}

}  // namespace

void add_keygen(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<KeygenArgs>();
  auto* keygen = app.add_subcommand("keygen", "make an Ed25519 key pair for signed checkpoints, or (--curve) a CURVE key pair");
  keygen->add_option("--out", a->out,
                     "folder for checkpoint.key (secret) and checkpoint.pub; with --curve: PREFIX for PREFIX.key and PREFIX.pub")
      ->required();
  keygen->add_flag("--curve", a->curve,
                   "a CurveZMQ key pair for the hub, an adapter or a subscriber; prints the public key (Z85)");
  ctx.on_run(keygen, [a] { return a->curve ? run_keygen_curve(a->out) : run_keygen(a->out); });
}

}  // namespace gridhub::ctl
