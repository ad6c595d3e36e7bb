#pragma once
// The few LogRecord fields that `log`'s columns are derived from, read straight from the protobuf wire
// format: views into the body, no allocation, so verify can check every row at SQLite read speed.
// Field numbers are those of schemas/gridhub/v1/log.proto and event.proto.

#include <cstdint>
#include <string_view>

#include "gridhub/log/wire_scan.hpp"

namespace gridhub::audit {

struct BodyFields {
  std::uint64_t seq = 0;
  std::int64_t recorded_at = 0;
  std::string_view ticket_id;
  std::uint64_t prior_seq = 0;    // a change: the record it builds on
  std::uint32_t body_field = 0;   // the LogRecord.body case's field number; 0: none
  std::int64_t channel = 0;       // intake records only
  std::string_view source_key;    // intake records only

  bool intake_accepted() const { return body_field == 10; }
  /// The `log.kind` column the writer derives from the body case: its field name.
  std::string_view kind() const {
    switch (body_field) {
      case 10: return "intake_accepted";
      case 11: return "ticket_update";
      case 12: return "escalation";
      case 13: return "erasure";
      case 14: return "hotspot";
      default: return "";
    }
  }
};

namespace wire = gridhub::log::wire;

/// Fills `out` from a serialized gridhub.v1.LogRecord; false if the bytes are not one.
inline bool scan_body(std::string_view body, BodyFields& out) {
  out = BodyFields{};
  return wire::for_each_field(body, [&](std::uint32_t f, int type, std::uint64_t v, std::string_view bytes) {
    if (f == 1 && type == 0) {   // LogRecord.seq
      out.seq = v;
    } else if (f == 2 && type == 2) {   // LogRecord.recorded_at: Timestamp.unix_micros = 1
      return wire::for_each_field(bytes, [&](std::uint32_t tf, int tt, std::uint64_t tv, std::string_view) {
        if (tf == 1 && tt == 0) out.recorded_at = static_cast<std::int64_t>(tv);
        return true;
      });
    } else if (f == 3 && type == 2) {   // LogRecord.ticket_id
      out.ticket_id = bytes;
    } else if (f == 4 && type == 0) {   // LogRecord.prior_seq
      out.prior_seq = v;
    } else if (f >= 11 && f <= 14 && type == 2) {   // ticket_update, escalation, erasure, hotspot
      out.body_field = f;
    } else if (f == 10 && type == 2) {  // LogRecord.intake_accepted: IntakeAccepted.event = 1
      out.body_field = f;
      return wire::for_each_field(bytes, [&](std::uint32_t af, int at, std::uint64_t, std::string_view ab) {
        if (af != 1 || at != 2) return true;
        return wire::for_each_field(ab, [&](std::uint32_t ef, int et, std::uint64_t ev, std::string_view eb) {
          if (ef == 1 && et == 0) out.channel = static_cast<std::int64_t>(static_cast<std::int32_t>(ev));  // Event.channel
          if (ef == 3 && et == 2) out.source_key = eb;                                                   // Event.source_key
          return true;
        });
      });
    }
    return true;
  });
}

}  // namespace gridhub::audit
