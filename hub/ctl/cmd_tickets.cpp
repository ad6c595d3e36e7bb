// gridhubctl tickets: the current state of every ticket (the projection), one line each.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/core/pii.hpp"
#include "gridhub/log/log_queries.hpp"
#include "output.hpp"

namespace gridhub::ctl {
namespace {

namespace v1 = gridhub::v1;

struct TicketsArgs {
  std::string db;
  bool show_pii = false;
  bool json = false;
};

int run_tickets(const TicketsArgs& a) {
  auto log = gridhub::log::LogQueries::open(a.db);
  if (!log) {
    std::cerr << "gridhubctl: " << log.error().message() << "\n";
    return 1;
  }
  auto tickets = log->tickets();
  if (!tickets) {
    std::cerr << "gridhubctl: " << a.db << " is not a gridhub log: " << tickets.error().message() << "\n";
    return 1;
  }
  v1::Ticket t;
  for (;;) {
    // Sealed personal data comes opened with the ticket's key; once erased it reads "[erased]".
    auto more = tickets->next(t);
    if (!more) {
      std::cerr << "gridhubctl: " << more.error().message() << "\n";
      return 1;
    }
    if (!more.value()) break;
    if (!a.show_pii) gridhub::core::mask_pii(t);
    if (a.json) {
      std::printf("%s\n", to_json(t).c_str());
      continue;
    }
    // One line a dispatcher can scan: who has it, at which tier, what and where.
    const std::string& place = t.grid_code().empty() ? t.community_code() : t.grid_code();
    std::printf("%s  %-9s %-16s %-4s %-15s %2d report(s)  %s\n", t.ticket_id().c_str(), tier_word(t.tier()),
                t.assignee_code().empty() ? "-" : t.assignee_code().c_str(),
                t.category_code().empty() ? "-" : t.category_code().c_str(), place.empty() ? "-" : place.c_str(),
                t.provenance_size(), head_chars(t.text(), 28).c_str());
  }
  return 0;
}

}  // namespace

void add_tickets(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TicketsArgs>();
  auto* tickets = app.add_subcommand("tickets", "current state of every ticket (the projection), one line each");
  tickets->add_option("--db", a->db, "the hub's log database")->required()->check(CLI::ExistingFile);
  tickets->add_flag("--show-pii", a->show_pii, "print reporters' names and phone numbers unmasked");
  tickets->add_flag("--json", a->json, "one JSON object per ticket");
  ctx.on_run(tickets, [a] { return run_tickets(*a); });
}

}  // namespace gridhub::ctl
