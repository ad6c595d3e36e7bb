#pragma once
/// Residents' progress lookups (docs/residents.md): a public reference and the last four digits of
/// the reporter's phone (or, on WeChat, the sender's OpenID) in; the public view of the ticket the
/// report created or joined out — status in plain Chinese, the organisation that has it, the public
/// notes of accept and resolve, the time it last changed. Never a person's data: the phone is
/// compared here, in the hub, and no adapter ever receives one.
///
/// Reference -> ticket: each intake record that made or joined a ticket is indexed under the public
/// reference of its (channel, source_key) — the same function the adapter used to answer the
/// resident — with the record's ticket, so a report merged into another incident finds that
/// incident's ticket. The index is read from the log (LogReader) up to its head before each lookup,
/// each record once; the first lookup after a start reads the log from the beginning.
///
/// Guessing: an unknown reference, a typo the check digit catches, wrong digits and a locked
/// reference all get the same answer (found = false). A reference (as typed, canonicalised) or a
/// requester with `max_failures` misses within `window_s` is locked for the rest of the window:
/// its lookups are answered not found without being checked. With 10^4 phone endings, five tries
/// an hour give a guesser of one known reference about one chance in 2000 a window.
///
/// Config keys ([lookup], hub_config.hpp): max_failures_per_reference, max_failures_per_requester,
/// window_s.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

struct LookupOptions {
  std::uint32_t max_failures_per_reference = 5;
  std::uint32_t max_failures_per_requester = 20;
  std::int64_t window_s = 3600;
  std::size_t max_tracked = 100000;   // failure counters kept (oldest windows dropped beyond it)
};

struct LookupCounters {
  std::uint64_t found = 0;
  std::uint64_t not_found = 0;     // unknown reference, typo or wrong digits
  std::uint64_t throttled = 0;     // locked reference or requester (answered as not found)
  std::uint64_t read_errors = 0;   // the log could not be read (answered as not found)
};

/// The plain-Chinese word for a ticket status, as residents are shown it.
std::string_view public_status_text(gridhub::v1::TicketStatus status);

class ProgressLookup {
 public:
  ProgressLookup(log::LogReader reader, const Clock& clock, LookupOptions options);

  /// Answers one request (io thread). Reads the log records appended since the last call first.
  gridhub::v1::LookupReply lookup(const gridhub::v1::LookupRequest& request);

  /// Indexes the records up to the log's head.
  Status catch_up();

  const LookupCounters& counters() const { return counters_; }
  std::size_t indexed_reports() const { return by_reference_.size(); }

 private:
  struct Report {
    std::string ticket_id;
    std::uint64_t intake_seq = 0;
  };
  struct Failures {
    std::int64_t window_start_s = 0;
    std::uint32_t count = 0;
  };
  void index(std::uint64_t seq, std::string_view body);
  bool locked(const std::unordered_map<std::string, Failures>& table, const std::string& key, std::uint32_t max,
              std::int64_t now_s) const;
  void fail(std::unordered_map<std::string, Failures>& table, const std::string& key, std::int64_t now_s);
  /// Does the report at `seq` carry these phone digits / this OpenID? (Its personal fields opened here.)
  bool reporter_matches(std::uint64_t seq, const gridhub::v1::LookupRequest& request);
  bool fill_progress(const std::string& reference, const Report& report, gridhub::v1::PublicProgress& out);

  log::LogReader reader_;
  const Clock& clock_;
  LookupOptions options_;
  std::uint64_t indexed_through_ = 0;
  std::unordered_multimap<std::string, Report> by_reference_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> notes_;   // ticket -> its public notes' records
  std::unordered_map<std::string, Failures> by_reference_failures_;
  std::unordered_map<std::string, Failures> by_requester_failures_;
  LookupCounters counters_;
  gridhub::v1::LogRecord scratch_;
};

}  // namespace gridhub::core
