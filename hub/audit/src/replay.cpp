#include "gridhub/audit/replay.hpp"

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "gridhub/core/pii.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"
#include "body_scan.hpp"
#include "pii_reader.hpp"
#include "text_out.hpp"

namespace gridhub::audit {
namespace {

namespace v1 = gridhub::v1;
using detail::append_csv;
using detail::append_json_string;

/// Digits at text[pos, pos+n) as a number; -1 if any is not a digit or the text is too short.
int digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

}  // namespace

Result<std::int64_t> parse_time(std::string_view t) {
  using namespace std::chrono;
  auto bad = [&] {
    return Error(Errc::bad_value, fmt::format("'{}' is not a time (RFC 3339, e.g. 2024-05-06T08:30:00Z, or YYYY-MM-DD)", t));
  };
  const int y = digits(t, 0, 4), mo = digits(t, 5, 2), d = digits(t, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || t[4] != '-' || t[7] != '-') return bad();
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad();
  std::int64_t micros = duration_cast<microseconds>(sys_days{ymd}.time_since_epoch()).count();
  if (t.size() == 10) return micros;
  if (t.size() < 20 || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':') return bad();
  const int h = digits(t, 11, 2), mi = digits(t, 14, 2), s = digits(t, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return bad();
  micros += ((h * 60LL + mi) * 60LL + s) * 1'000'000LL;
  std::size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    ++i;
    std::int64_t frac = 0;
    int n = 0;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++n) {
      if (n < 6) frac = frac * 10 + (t[i] - '0');
    }
    if (n == 0) return bad();
    for (; n < 6; ++n) frac *= 10;
    micros += frac;
  }
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z') && i + 1 == t.size()) return micros;
  if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int oh = digits(t, i + 1, 2), om = digits(t, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return bad();
    const std::int64_t offset = (oh * 60LL + om) * 60'000'000LL;
    return t[i] == '+' ? micros - offset : micros + offset;
  }
  return bad();
}

namespace {

/// `v` as exactly `width` digits at `p` (v < 10^width).
void put_digits(char* p, unsigned long long v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

void append_time(std::string& out, std::int64_t micros) {
  using namespace std::chrono;
  const sys_time<microseconds> tp{microseconds{micros}};
  const auto day_start = floor<days>(tp);
  const year_month_day ymd{day_start};
  const auto in_day = static_cast<unsigned long long>((tp - day_start).count());   // µs, non-negative thanks to floor
  const auto secs = in_day / 1'000'000;
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {   // outside RFC 3339's four digits: written as fmt's {:04d} would
    fmt::format_to(std::back_inserter(out), "{:04d}", year);
  } else {
    char y[4];
    put_digits(y, static_cast<unsigned>(year), 4);
    out.append(y, 4);
  }
  // Written digit by digit: replay prints one per record, and a format string parsed each time was a
  // tenth of its time.
  char t[24] = "-MM-DDTHH:MM:SS.uuuuuuZ";
  put_digits(t + 1, static_cast<unsigned>(ymd.month()), 2);
  put_digits(t + 4, static_cast<unsigned>(ymd.day()), 2);
  put_digits(t + 7, secs / 3600, 2);
  put_digits(t + 10, secs / 60 % 60, 2);
  put_digits(t + 13, secs % 60, 2);
  put_digits(t + 16, in_day % 1'000'000, 6);
  out.append(t, 23);
}

std::string format_time(std::int64_t micros) {
  std::string s;
  append_time(s, micros);
  return s;
}

Result<std::uint64_t> replay(const std::filesystem::path& db_file, const ReplayOptions& options, std::FILE* out) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_file, ec)) return Error(Errc::io_failed, fmt::format("{}: no such file", db_file.string()));
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  if (auto s = db->exec("PRAGMA query_only=1"); !s) return s.error();
  // Pages through a memory map rather than pread: no copy of every page into SQLite's cache. The
  // fresh mapping's page faults cost less than the copies once replay's own work got cheaper
  // (measured on the bench's 300k-record log: ~10% less CPU). SQLite caps the size at its build's
  // limit; beyond it pages are read as before.
  if (auto s = db->exec("PRAGMA mmap_size=17179869184"); !s) return s.error();
  if (options.progress != nullptr) {
    // An estimate for the ETA: the records from --from-seq on (time bounds are not counted ahead).
    auto head = db->query_int("SELECT coalesce(max(seq), 0) FROM log");
    if (!head) return head.error();
    const auto last = static_cast<std::uint64_t>(head.value());
    options.progress->set_total(last >= options.from_seq ? last - options.from_seq + 1 : 0);
  }
  auto rows = db->prepare(
      "SELECT seq, recorded_at, kind, coalesce(ticket_id, ''), coalesce(channel, 0), coalesce(source_key, ''), body"
      " FROM log WHERE seq >= ? AND recorded_at >= ? AND recorded_at < ? ORDER BY seq");
  if (!rows) return rows.error();
  auto& st = rows.value();
  st.bind(1, static_cast<std::int64_t>(options.from_seq))
      .bind(2, options.since_micros.value_or(INT64_MIN))
      .bind(3, options.until_micros.value_or(INT64_MAX));
  const bool csv = options.format == ReplayFormat::kCsv;
  if (csv) std::fputs("seq,recorded_at,kind,ticket_id,disposition,channel,source_key\n", out);
  detail::PiiReader pii_reader(db.value(), options.show_pii, /*open_to_mask=*/false);
  detail::PiiFilter* pii = &pii_reader;
  // The parts replay prints, found in the wire format and written to JSON straight from it (nothing
  // is parsed into objects); the intake event (the largest part, with the source row) is skipped.
  std::string_view ticket, erasure, hotspot;
  std::vector<std::string_view> decisions;
  std::string line;
  // Lines are gathered into blocks of about 256 KiB before each write: one stdio call per block.
  constexpr std::size_t kBlock = 256 * 1024;
  line.reserve(kBlock + 64 * 1024);
  std::uint64_t n = 0;
  auto flush = [&]() -> bool {
    const bool written = std::fwrite(line.data(), 1, line.size(), out) == line.size();
    line.clear();
    return written;
  };
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!row.value()) break;
    const auto seq = static_cast<std::uint64_t>(st.column_int(0));
    const auto body = st.column_blob(6);
    bool intake = false;
    bool has_ticket = false;
    bool has_erasure = false;
    bool has_hotspot = false;
    decisions.clear();
    int disposition_number = 0;
    const bool parsed = wire::for_each_field(body, [&](std::uint32_t f, int type, std::uint64_t, std::string_view bytes) {
      if (f == 13 && type == 2) {   // LogRecord.erasure
        has_erasure = true;
        erasure = bytes;
        return true;
      }
      if (f == 14 && type == 2) {   // LogRecord.hotspot: the rule, the linked tickets, the incident ticket
        has_hotspot = true;
        hotspot = bytes;
        return true;
      }
      if (f != 10 || type != 2) return true;   // LogRecord.intake_accepted
      intake = true;
      return wire::for_each_field(bytes, [&](std::uint32_t af, int at, std::uint64_t av, std::string_view ab) {
        if (af == 2 && at == 2) {   // IntakeAccepted.ticket
          has_ticket = true;
          ticket = ab;
        } else if (af == 3 && at == 2) {   // IntakeAccepted.decisions
          decisions.push_back(ab);
        } else if (af == 4 && at == 0) {   // IntakeAccepted.disposition
          disposition_number = static_cast<int>(av);
        }
        return true;
      });
    });
    const auto channel_number = st.column_int(4);
    const auto channel = static_cast<v1::Channel>(channel_number);
    const auto disposition_enum = static_cast<v1::Disposition>(disposition_number);
    const std::string_view disposition =
        !parsed || !intake ? std::string_view()
        : v1::Disposition_IsValid(disposition_enum) ? std::string_view(v1::Disposition_Name(disposition_enum))
                                                   : std::string_view();
    auto append_channel = [&] {
      if (v1::Channel_IsValid(channel)) {
        line += v1::Channel_Name(channel);
      } else {
        detail::append_decimal(line, channel_number);
      }
    };
    if (csv) {
      detail::append_decimal(line, seq);
      line += ',';
      append_time(line, st.column_int(1));
      line += ',';
      append_csv(line, st.column_text(2));
      line += ',';
      append_csv(line, st.column_text(3));
      line += ',';
      line += disposition;
      line += ',';
      append_channel();
      line += ',';
      append_csv(line, st.column_text(5));
    } else {
      line += "{\"seq\":";
      detail::append_decimal(line, seq);
      line += ",\"recorded_at\":\"";
      append_time(line, st.column_int(1));
      line += "\",\"kind\":";
      append_json_string(line, st.column_text(2));
      line += ",\"ticket_id\":";
      append_json_string(line, st.column_text(3));
      line += ",\"disposition\":";
      append_json_string(line, disposition);
      line += ",\"channel\":\"";
      append_channel();
      line += "\",\"source_key\":";
      append_json_string(line, st.column_text(5));
      if (!parsed) {
        line += ",\"error\":\"body does not parse\"";
      } else if (intake) {
        bool whole = true;
        if (has_ticket) {
          line += ",\"ticket\":";
          whole = detail::append_encoded_json(line, v1::Ticket::descriptor(), ticket, pii) && whole;
        }
        line += ",\"decisions\":[";
        for (std::size_t i = 0; i < decisions.size(); ++i) {
          if (i > 0) line += ',';
          whole = detail::append_encoded_json(line, v1::StageDecision::descriptor(), decisions[i]) && whole;
        }
        line += ']';
        if (!whole) line += ",\"error\":\"body does not parse\"";
      } else if (has_erasure) {
        line += ",\"erasure\":";
        if (!detail::append_encoded_json(line, v1::Erasure::descriptor(), erasure, pii)) line += ",\"error\":\"body does not parse\"";
      } else if (has_hotspot) {
        line += ",\"hotspot\":";
        if (!detail::append_encoded_json(line, v1::Hotspot::descriptor(), hotspot, pii)) line += ",\"error\":\"body does not parse\"";
      }
      line += '}';
    }
    line += '\n';
    if (line.size() >= kBlock && !flush()) return Error(Errc::io_failed, "cannot write the output");
    ++n;
    if (options.progress != nullptr) options.progress->update(n);
  }
  if (!line.empty() && !flush()) return Error(Errc::io_failed, "cannot write the output");
  if (options.progress != nullptr) options.progress->finish(n);
  return n;
}

}  // namespace gridhub::audit
