#include "gridhub/audit/state.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "gridhub/audit/replay.hpp"
#include "gridhub/core/pii.hpp"
#include "gridhub/log/event_log.hpp"
#include "log_scan.hpp"
#include "pii_reader.hpp"
#include "text_out.hpp"

namespace gridhub::audit {

namespace v1 = gridhub::v1;

Result<std::vector<TicketAsOf>> state_as_of(const std::filesystem::path& db_file, std::int64_t as_of_micros,
                                            const std::vector<std::string>& only, Progress* progress) {
  const std::unordered_set<std::string> wanted(only.begin(), only.end());
  std::map<std::string, TicketAsOf> tickets;
  detail::ScanRange range;
  range.until = as_of_micros;
  auto n = detail::scan_log(db_file, range, [&](std::uint64_t seq, std::int64_t, v1::LogRecord& rec) -> Status {
    // The projection's own rule (log::projection_step): intake, updates, escalations and erasures
    // each carry the ticket's whole state after them, so the last one at or before T is the state at T.
    const log::ProjectionStep step = log::projection_step(rec);
    if (step.ticket == nullptr || rec.ticket_id().empty()) return Ok{};   // not a ticket (or a later kind)
    if (!wanted.empty() && !wanted.contains(rec.ticket_id())) return Ok{};
    auto& t = tickets[rec.ticket_id()];
    t.ticket_id = rec.ticket_id();
    t.last_seq = seq;
    t.ticket.Swap(const_cast<v1::Ticket*>(step.ticket));   // the record is the scan's scratch, read once
    return Ok{};
  }, progress);
  if (!n) return n.error();
  std::vector<TicketAsOf> out;
  if (only.empty()) {
    out.reserve(tickets.size());
    for (auto& [id, t] : tickets) out.push_back(std::move(t));
    return out;
  }
  for (const auto& id : only) {
    auto it = tickets.find(id);
    if (it != tickets.end()) {
      out.push_back(it->second);
    } else {
      out.push_back(TicketAsOf{id, 0, {}});
    }
  }
  return out;
}

Result<std::uint64_t> write_state(const std::filesystem::path& db_file, std::int64_t as_of_micros,
                                  const std::vector<std::string>& only, bool show_pii, std::FILE* out,
                                  Progress* progress) {
  auto tickets = state_as_of(db_file, as_of_micros, only, progress);
  if (!tickets) return tickets.error();
  const std::string as_of = format_time(as_of_micros);
  // Sealed personal data is opened with the log's keys ("[erased]" once destroyed), then masked.
  auto keys_db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!keys_db) return keys_db.error();
  detail::PiiReader pii(keys_db.value(), show_pii);
  std::string line;
  for (auto& t : tickets.value()) {
    line.clear();
    line += "{\"ticket_id\":";
    detail::append_json_string(line, t.ticket_id);
    line += ",\"as_of\":\"" + as_of + "\",\"last_seq\":" + std::to_string(t.last_seq) + ",\"ticket\":";
    if (t.last_seq == 0) {
      line += "null";
    } else {
      detail::append_message_json(line, t.ticket, &pii);
    }
    line += "}\n";
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) return Error(Errc::io_failed, "cannot write the output");
  }
  return static_cast<std::uint64_t>(tickets->size());
}

}  // namespace gridhub::audit
