#include "gridhub/ops/config.hpp"

#include <boost/asio/ip/address.hpp>

#include "gridhub/common/config.hpp"
#include "gridhub/http/server.hpp"
#include "gridhub/transport/curve.hpp"

namespace gridhub::ops {

namespace {

const config::Spec& ops_spec() {
  using config::Type;
  static const config::Spec spec = {
      {"ops.stream", Type::kString, true, "the hub's stream endpoint"},
      {"ops.world_dir", Type::kString, true, "the county's world folder"},
      {"ops.listen", Type::kString, false, "host:port of the page"},
      {"ops.allow_remote", Type::kBoolean, false, "allow a non-loopback listen"},
      {"ops.subscription", Type::kString, false, "the durable subscription's name"},
      {"ops.server_key", Type::kString, false, "the hub's CURVE public key (Z85)"},
      {"ops.key", Type::kString, false, "this process's CURVE secret key file"},
      {"ops.hub_admin", Type::kString, false, "host:port of the hub's [admin] endpoint"},
      {"ops.state_file", Type::kString, false, "where the picture is saved so a restart resumes"},
      {"ops.title", Type::kString, false, "the page's heading"},
      {"ops.push_interval_ms", Type::kInteger, false, "at most one update per this interval"},
      {"ops.log_level", Type::kString, false, "trace | debug | info | warn | error"},
      {"ops.log_format", Type::kString, false, "text | json"},
  };
  return spec;
}

}  // namespace

OpsConfig load_ops_config(const std::filesystem::path& file) {
  const auto cfg = config::Config::load_file(file, ops_spec());
  OpsConfig o;
  o.stream = config::resolve_endpoint(cfg.get_string("ops.stream"), cfg.base_dir());
  o.world_dir = cfg.get_path("ops.world_dir");
  o.listen = cfg.get_string("ops.listen", o.listen);
  o.allow_remote = cfg.get_bool("ops.allow_remote", false);
  o.subscription = cfg.get_string("ops.subscription", o.subscription);
  if (o.subscription.empty()) throw config::ConfigError(cfg.where("ops.subscription") + ": must not be empty");
  o.server_key = cfg.get_string("ops.server_key");
  if (cfg.has("ops.key")) o.key_file = cfg.get_path("ops.key");
  if (o.server_key.empty() != o.key_file.empty()) {
    throw config::ConfigError(cfg.where(o.server_key.empty() ? "ops.key" : "ops.server_key") +
                              ": ops.server_key and ops.key go together");
  }
  if (!o.server_key.empty() && !transport::is_z85_key(o.server_key)) {
    throw config::ConfigError(cfg.where("ops.server_key") + ": not a CURVE public key (40 characters of Z85)");
  }
  o.hub_admin = cfg.get_string("ops.hub_admin");
  if (cfg.has("ops.state_file")) o.state_file = cfg.get_path("ops.state_file");
  o.title = cfg.get_string("ops.title", o.title);
  o.push_interval_ms = static_cast<int>(cfg.get_int("ops.push_interval_ms", o.push_interval_ms, 10, 60000));
  o.log_level = cfg.get_enum("ops.log_level", o.log_level, {"trace", "debug", "info", "warn", "error"});
  o.log_format = cfg.get_enum("ops.log_format", o.log_format, {"text", "json"});
  for (const auto* key : {"ops.listen", "ops.hub_admin"}) {
    const std::string v = key == std::string_view("ops.listen") ? o.listen : o.hub_admin;
    if (v.empty()) continue;
    try {
      const auto [host, port] = http::HttpServer::parse_listen(v);
      if (key == std::string_view("ops.listen") && !o.allow_remote && !boost::asio::ip::make_address(host).is_loopback()) {
        throw std::invalid_argument("'" + host +
                                    "' is not a loopback address; the page has no login of its own, so binding it elsewhere "
                                    "needs ops.allow_remote = true (or a reverse proxy that authenticates)");
      }
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(cfg.where(key) + ": " + e.what());
    }
  }
  return o;
}

}  // namespace gridhub::ops
