#pragma once
/// The hub's [security] section brought to life: the identities, the hub's CURVE key, the ZAP
/// handler, and the one question every endpoint asks — who sent this frame?
///
/// | key                      | type   | default | meaning |
/// |--------------------------|--------|---------|---------|
/// | security.mode            | string | "off"   | "off": no authentication, for a single trusted machine; "curve": CurveZMQ + ZAP |
/// | security.secret_key_file | string | (curve) | the hub's CURVE secret key (`gridhubctl keygen --curve`, mode 0600) |
/// | security.identities      | string | (curve) | identities file (directory.hpp); optional when off |
///
/// Off: every peer is local_operator() (full rights, as before access control existed); a
/// subscriber may *claim* a configured identity by its subscription name (claim()), which lets a
/// trusted machine try out what a department would see — it is not authentication.
/// Curve: ROUTER endpoints are CURVE servers (configure_server() before bind), the ZAP handler
/// admits the identities' keys, and identify() maps a frame's User-Id to its Identity.

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include <zmq.hpp>

#include "gridhub/transport/curve.hpp"
#include "gridhub/auth/directory.hpp"
#include "gridhub/auth/zap_handler.hpp"
#include "gridhub/transport/frames.hpp"

namespace gridhub::auth {

enum class SecurityMode { kOff, kCurve };

struct SecurityOptions {
  SecurityMode mode = SecurityMode::kOff;
  std::filesystem::path secret_key_file;
  std::filesystem::path identities;   // empty: none (off mode only)
};

class Security {
 public:
  /// Loads the identities and key and, in curve mode, binds the ZAP handler on `io`. Throws
  /// std::runtime_error naming the file, line and key when anything is missing or invalid: a hub
  /// configured for curve must not start without working authentication.
  Security(boost::asio::io_context& io, zmq::context_t& zmq, const SecurityOptions& options);
  ~Security();

  bool curve() const { return zap_ != nullptr; }
  /// Curve: makes `socket` a CURVE server of this hub's key, authenticated through ZAP. Off: nothing.
  void configure_server(zmq::socket_t& socket) const;
  /// Who sent `msg`: off mode local_operator(); curve mode the identity its key maps to (never null
  /// for a frame that got through ZAP; null only if the directory and ZAP disagree).
  const Identity* identify(const transport::RouterMessage& msg) const;
  /// Off mode: the configured identity named `name`, or local_operator() when there is none.
  /// Curve mode: null — identity comes from the key alone, never from what a client says.
  const Identity* claim(std::string_view name) const;

  const Directory& directory() const { return directory_; }
  /// Null when off.
  const ZapCounters* zap_counters() const { return zap_ ? &zap_->counters() : nullptr; }

 private:
  Directory directory_;
  std::optional<transport::CurveKeyPair> key_;
  std::unique_ptr<ZapHandler> zap_;
};

}  // namespace gridhub::auth
