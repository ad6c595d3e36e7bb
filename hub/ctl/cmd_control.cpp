// gridhubctl status | reload: one control request on the hub's ingest endpoint and its answer.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"
#include "curve_client.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::ctl {
namespace {

namespace v1 = gridhub::v1;

struct ControlArgs {
  std::string hub;
  int timeout_ms = 3000;
  CurveClient curve;
};

/// One control request on the ingest endpoint and its answer, or nothing within the timeout.
std::optional<v1::HubToAdapter> request(const std::string& hub, const v1::AdapterToHub& req, int timeout_ms,
                                        const CurveClient& curve) {
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  gridhub::transport::apply_common_options(sock, 1 << 20);
  curve.apply(sock);
  sock.connect(hub);
  (void)gridhub::transport::send_dealer(sock, req, false);
  zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
  zmq::message_t msg;
  v1::HubToAdapter rep;
  if (!(items[0].revents & ZMQ_POLLIN) || !sock.recv(msg, zmq::recv_flags::dontwait) ||
      !rep.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) {
    std::cerr << "gridhubctl: no answer from " << hub << " within " << timeout_ms << " ms (is the hub running?"
              << (curve.keys ? " Is this key in its identities file, and --server-key the hub's public key?" : "")
              << ")\n";
    return std::nullopt;
  }
  if (rep.has_nack()) {
    std::cerr << "gridhubctl: refused by " << hub << ": " << rep.nack().reason() << "\n";
    return std::nullopt;
  }
  return rep;
}

int run_status(ControlArgs& a) {
  if (!a.curve.load()) return 2;
  v1::AdapterToHub req;
  req.mutable_status();
  auto rep = request(a.hub, req, a.timeout_ms, a.curve);
  if (!rep || !rep->has_status()) return 1;
  std::cout << "log_head_seq " << rep->status().log_head_seq() << "\n";
  for (const auto& c : rep->status().counters()) std::cout << c.name() << " " << c.value() << "\n";
  return 0;
}

int run_reload(ControlArgs& a) {
  if (!a.curve.load()) return 2;
  v1::AdapterToHub req;
  req.mutable_reload();
  auto rep = request(a.hub, req, a.timeout_ms, a.curve);
  if (!rep || !rep->has_reload()) return 1;
  std::cout << (rep->reload().ok() ? "reloaded: " : "refused: ") << rep->reload().message() << "\n";
  for (const auto& st : rep->reload().stages()) std::cout << "  " << st << "\n";
  return rep->reload().ok() ? 0 : 1;
}

/// The options both control commands take.
std::shared_ptr<ControlArgs> add_control_options(CLI::App* cmd) {
  auto a = std::make_shared<ControlArgs>();
  cmd->add_option("--hub", a->hub, "the hub's ingest endpoint")->required();
  cmd->add_option("--timeout-ms", a->timeout_ms, "how long to wait for the answer");
  add_curve_options(cmd, a->curve);
  return a;
}

}  // namespace

void add_status(CLI::App& app, Context& ctx) {
  auto* status = app.add_subcommand("status", "the hub's log head and counters");
  auto a = add_control_options(status);
  ctx.on_run(status, [a] { return run_status(*a); });
}

void add_reload(CLI::App& app, Context& ctx) {
  auto* reload = app.add_subcommand("reload", "make the hub re-read its pipeline config and reference data (like SIGHUP)");
  auto a = add_control_options(reload);
  ctx.on_run(reload, [a] { return run_reload(*a); });
}

}  // namespace gridhub::ctl
