#include "gridhub/auth/security.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace gridhub::auth {

Security::Security(boost::asio::io_context& io, zmq::context_t& zmq, const SecurityOptions& options) {
  if (!options.identities.empty()) {
    auto d = Directory::load_file(options.identities);
    if (!d) throw std::runtime_error("[security] identities: " + d.error().detail);
    directory_ = std::move(d.value());
  }
  if (options.mode == SecurityMode::kOff) {
    spdlog::info("security: mode \"off\": no authentication, every peer has full rights (a single trusted machine only)");
    return;
  }
  if (!transport::curve_available()) throw std::runtime_error("[security] mode \"curve\": this libzmq was built without CURVE");
  if (options.identities.empty()) throw std::runtime_error("[security] mode \"curve\" needs identities");
  if (options.secret_key_file.empty()) throw std::runtime_error("[security] mode \"curve\" needs secret_key_file");
  auto k = transport::load_curve_secret_key(options.secret_key_file);
  if (!k) throw std::runtime_error("[security] secret_key_file: " + k.error().detail);
  key_ = std::move(k.value());
  zap_ = std::make_unique<ZapHandler>(io, zmq, directory_);
  spdlog::info("security: CURVE with {} identities from {}; hub public key {}", directory_.size(),
               options.identities.string(), key_->public_key);
}

Security::~Security() = default;

void Security::configure_server(zmq::socket_t& socket) const {
  if (key_) transport::apply_curve_server(socket, *key_);
}

const Identity* Security::identify(const transport::RouterMessage& msg) const {
  if (!curve()) return &local_operator();
  return directory_.find_by_name(msg.user_id);
}

const Identity* Security::claim(std::string_view name) const {
  if (curve()) return nullptr;
  const Identity* id = directory_.find_by_name(name);
  return id != nullptr ? id : &local_operator();
}

}  // namespace gridhub::auth
