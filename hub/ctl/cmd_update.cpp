// gridhubctl accept | note | resolve | return | extend: one change to a ticket, sent on the stream endpoint.
#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "command.hpp"
#include "curve_client.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"
#include "output.hpp"

namespace gridhub::ctl {
namespace {

namespace v1 = gridhub::v1;

struct UpdateArgs {
  std::string hub;
  std::string ticket;
  std::string text;
  std::uint32_t hours = 0;
  std::string suggest;
  std::string request_id;
  int timeout_ms = 5000;
  CurveClient curve;
};

std::string random_request_id() {
  std::random_device rd;
  std::string id = "ctl-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    auto v = rd();
    for (int j = 0; j < 8; ++j, v >>= 4) id += kHex[v & 0xf];
  }
  return id;
}

/// Exit 0: done (the seq and the ticket's status on stdout); 3: refused (error and reason on
/// stderr); 1: no answer within --timeout-ms. A resend carries the same request_id, so a late
/// answer to the first attempt and the resend cannot both change the ticket.
int run_update(v1::UpdateAction action, UpdateArgs& a) {
  if (!a.curve.load()) return 2;
  v1::SubscriberToHub req;
  auto* u = req.mutable_update();
  u->set_request_id(a.request_id.empty() ? random_request_id() : a.request_id);
  u->set_ticket_id(a.ticket);
  u->set_action(action);
  u->set_text(a.text);
  u->set_extend_hours(a.hours);
  u->set_suggested_assignee(a.suggest);
  constexpr int kAttemptMs = 1000;
  zmq::context_t ctx(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.timeout_ms);
  v1::HubToSubscriber in;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    // A fresh socket per attempt: a hub that restarted meanwhile gets a clean connection.
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    gridhub::transport::apply_common_options(sock, 1 << 20);
    a.curve.apply(sock);
    sock.connect(a.hub);
    // Queued until the connection is up (no ZMQ_IMMEDIATE, so this never blocks); dropped at close.
    (void)gridhub::transport::send_dealer(sock, req, true);
    const auto attempt_end = std::chrono::steady_clock::now() + std::min(left, std::chrono::milliseconds(kAttemptMs));
    for (;;) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(attempt_end - std::chrono::steady_clock::now());
      if (wait.count() <= 0) break;
      zmq_pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
      if (zmq_poll(items, 1, static_cast<long>(wait.count())) <= 0) continue;
      zmq::message_t msg;
      if (!sock.recv(msg, zmq::recv_flags::dontwait)) continue;
      if (!in.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) continue;
      if (in.has_denied()) {
        std::cerr << "gridhubctl: refused: " << in.denied().reason() << "\n";
        return 3;
      }
      if (!in.has_update_result() || in.update_result().request_id() != u->request_id()) continue;
      const auto& r = in.update_result();
      if (!r.ok()) {
        std::cerr << "gridhubctl: " << a.ticket << ": refused: " << v1::UpdateError_Name(r.error()) << ": " << r.reason() << "\n";
        // UNAVAILABLE is the hub's "retry with the same request_id": do so while time is left.
        if (r.error() == v1::UPDATE_ERROR_UNAVAILABLE) break;
        return 3;
      }
      std::printf("seq %llu ticket %s status %s assignee %s tier %s request_id %s\n", static_cast<unsigned long long>(r.seq()),
                  a.ticket.c_str(), status_word(r.ticket().status()).c_str(),
                  r.ticket().assignee_code().empty() ? "-" : r.ticket().assignee_code().c_str(), tier_word(r.ticket().tier()),
                  r.request_id().c_str());
      return 0;
    }
  }
  std::cerr << "gridhubctl: no answer from " << a.hub << " within " << a.timeout_ms << " ms (is the hub running?); "
            << "resend with --request-id " << u->request_id() << " to stay idempotent\n";
  return 1;
}

struct UpdateCmd {
  const char* name;
  v1::UpdateAction action;
  const char* help;
};

constexpr UpdateCmd kUpdateCmds[] = {
    {"accept", v1::UPDATE_ACTION_ACCEPT, "take a ticket on (status accepted)"},
    {"note", v1::UPDATE_ACTION_NOTE, "add a progress note (--text)"},
    {"resolve", v1::UPDATE_ACTION_RESOLVE, "report a ticket done, with the result (--text)"},
    {"return", v1::UPDATE_ACTION_RETURN, "return a ticket as not ours, with the reason (--text); the hub re-routes it"},
    {"extend", v1::UPDATE_ACTION_EXTEND, "ask for more time (--hours, --text why)"},
};

}  // namespace

void add_update(CLI::App& app, Context& ctx) {
  for (const auto& uc : kUpdateCmds) {
    auto ua = std::make_shared<UpdateArgs>();
    auto* cmd = app.add_subcommand(uc.name, uc.help);
    cmd->add_option("ticket", ua->ticket, "ticket id")->required();
    cmd->add_option("--stream", ua->hub, "the hub's stream endpoint")->required();
    auto* text = cmd->add_option("--text", ua->text, "the note, result or reason");
    if (uc.action != v1::UPDATE_ACTION_ACCEPT) text->required();
    if (uc.action == v1::UPDATE_ACTION_EXTEND) cmd->add_option("--hours", ua->hours, "working hours more")->required()->check(CLI::Range(1, 720));
    if (uc.action == v1::UPDATE_ACTION_RETURN) cmd->add_option("--suggest", ua->suggest, "who you think it belongs to (assignee code)");
    cmd->add_option("--request-id", ua->request_id, "idempotency key (default: a random one); reuse it to resend");
    add_curve_options(cmd, ua->curve);
    cmd->add_option("--timeout-ms", ua->timeout_ms, "give up (exit 1) when the hub has not answered by then");
    ctx.on_run(cmd, [ua, action = uc.action] { return run_update(action, *ua); });
  }
}

}  // namespace gridhub::ctl
