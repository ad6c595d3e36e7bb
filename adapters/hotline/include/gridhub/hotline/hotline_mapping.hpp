#pragma once
/// 12345 hotline work-order exports (CSV) -> gridhub.v1.Event, one event per data row.
///
/// Parsing and mapping only: no I/O, no clock. A row the adapter cannot use still becomes an Event,
/// with `rejection` set, so the hub's dead-letter table holds every rejected work order.
///
/// Config keys (the adapter's `[columns]` table, see ColumnMap::from_config): our field name ->
/// the export's header name.
///   record_key            工单编号   required
///   reported_at           来电时间   required
///   text                  诉求内容   required
///   reporter_name         来电人
///   reporter_phone        联系电话
///   intake_channel_detail 受理渠道
///   request_kind          诉求类型
///   category_hint         问题分类
///   address_text          事发地址
///   remark                备注
/// An optional column that is absent from the export leaves its field empty. Columns that no key
/// maps go to ExtractedFields.extra under their header name.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::hotline {

/// Which export column feeds which field. The defaults are the Wugong County export's headers.
struct ColumnMap {
  std::string record_key = "工单编号";
  std::string reported_at = "来电时间";
  std::string reporter_name = "来电人";
  std::string reporter_phone = "联系电话";
  std::string intake_channel_detail = "受理渠道";
  std::string request_kind = "诉求类型";
  std::string category_hint = "问题分类";
  std::string text = "诉求内容";
  std::string address_text = "事发地址";
  std::string remark = "备注";

  /// The defaults overridden by `config` (field name -> header name). An unknown field name, or an
  /// empty header for a required field, is Errc::config_invalid naming the known field names.
  /// An empty header for an optional field means "this export has no such column".
  static Result<ColumnMap> from_config(const std::map<std::string, std::string>& config);

  /// Our field names in declaration order, for docs and error messages.
  static std::vector<std::string_view> field_names();
};

struct ParseOptions {
  ColumnMap columns;
  std::string encoding = "auto";    // "auto" | "utf-8" | "gb18030"
  int utc_offset_minutes = 480;     // the export's local time (China Standard Time)
  std::string adapter_id;
};

struct ParseOutput {
  std::vector<gridhub::v1::Event> events;  // one per data row, in file order
  std::string encoding;                    // the encoding actually used ("utf-8" or "gb18030")
  std::size_t data_rows = 0;               // rows after the header (== events.size())
  std::size_t rejected_rows = 0;           // events carrying a rejection
};

/// Reason codes set in AdapterRejection.reason_code.
inline constexpr std::string_view kReasonBadCsv = "bad_csv";              // unterminated quote
inline constexpr std::string_view kReasonColumnCount = "column_count";    // row width != header width
inline constexpr std::string_view kReasonMissingField = "missing_field";  // empty key or text
inline constexpr std::string_view kReasonBadDate = "bad_date";            // empty or invalid 来电时间

/// Parses one export file. `source_name` (usually the file name) appears in source keys of rows
/// without a key and in every rejection's location ("<source_name>:<line>").
///
/// Whole-file problems (bytes that decode in no supported encoding, no header row, a required
/// column missing from the header) are an Error naming the file and what to do; row problems
/// never are.
Result<ParseOutput> parse_export(std::string_view file_bytes, const std::string& source_name,
                                 const ParseOptions& options);

}  // namespace gridhub::hotline
