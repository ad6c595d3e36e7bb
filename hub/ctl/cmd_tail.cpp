// gridhubctl tail: stream tickets as JSON lines, the log from --from-seq, then live.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "command.hpp"
#include "curve_client.hpp"
#include "gridhub/core/pii.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/stream/stream_client.hpp"
#include "output.hpp"

namespace gridhub::ctl {
namespace {

namespace v1 = gridhub::v1;

struct TailArgs {
  std::string hub;
  std::uint64_t from_seq = 1;
  std::uint64_t max = 0;
  int idle_exit_ms = 0;
  bool show_pii = false;
  CurveClient curve;
};

/// One JSON line per log record: the seq and the ticket as the record left it.
bool print_record(std::uint64_t seq, std::string_view body, bool show_pii) {
  v1::LogRecord rec;
  if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    std::cerr << "gridhubctl: log record " << seq << " does not parse; skipped\n";
    return false;
  }
  if (!rec.has_intake_accepted() || !rec.intake_accepted().has_ticket()) return false;   // not a ticket
  const auto& intake = rec.intake_accepted();
  v1::Ticket t = intake.ticket();
  // The hub opened the personal fields if this identity may see them (masked them otherwise); tail
  // masks them again unless asked not to, so a terminal shows no phone number by accident.
  if (!show_pii) gridhub::core::mask_pii(t);
  // Each stage's decision, so a reader sees why the ticket went where it went.
  std::string decisions;
  for (const auto& d : intake.decisions()) decisions += (decisions.empty() ? "" : ",") + to_json(d);
  std::printf("{\"seq\":%llu,\"disposition\":\"%s\",\"ticket\":%s,\"decisions\":[%s]}\n",
              static_cast<unsigned long long>(seq), v1::Disposition_Name(intake.disposition()).c_str(), to_json(t).c_str(),
              decisions.c_str());
  return true;
}

int run_tail(TailArgs& a) {
  if (!a.curve.load()) return 2;
  gridhub::stream::StreamClientOptions o;
  o.endpoint = a.hub;
  o.configure = [&a](zmq::socket_t& s) { a.curve.apply(s); };
  o.subscribe.set_from_seq(std::max<std::uint64_t>(a.from_seq, 1));
  o.max = a.max;
  o.idle_exit_ms = a.idle_exit_ms;
  return gridhub::stream::run_stream(o, [&](const v1::Delivery& d) {
    const bool printed = print_record(d.seq(), d.record(), a.show_pii);
    std::fflush(stdout);
    return printed;
  });
}

}  // namespace

void add_tail(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TailArgs>();
  auto* tail = app.add_subcommand("tail", "stream tickets as JSON lines: the log from --from-seq, then live");
  tail->add_option("--hub", a->hub, "the hub's stream endpoint, e.g. tcp://127.0.0.1:5571")->required();
  tail->add_option("--from-seq", a->from_seq, "first log seq to print (default 1: everything)");
  tail->add_option("--max", a->max, "exit after this many tickets");
  tail->add_option("--idle-exit-ms", a->idle_exit_ms, "exit when nothing arrived for this long");
  tail->add_flag("--show-pii", a->show_pii, "print reporters' names and phone numbers unmasked (if the hub lets this identity see them)");
  add_curve_options(tail, a->curve);
  ctx.on_run(tail, [a] { return run_tail(*a); });
}

}  // namespace gridhub::ctl
