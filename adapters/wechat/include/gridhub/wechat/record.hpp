#pragma once
/// What every WeChat parser returns: the Event plus the key the source itself uses for the record.

#include <string>
#include <string_view>

#include "gridhub/v1/event.pb.h"

namespace gridhub::wechat {

/// One source record. `record_key` is the source's own name for the record within its file
/// (MemoTrace CSV: localId; MemoTrace TXT: the 1-based line of the block's first line; OA: MsgId),
/// the key operators and labels use. Event::source_key is the hub's identity, unique across files
/// (see each parser).
struct KeyedEvent {
  std::string record_key;
  gridhub::v1::Event event;
};

/// AdapterRejection.reason_code values used by this library.
inline constexpr std::string_view kReasonBadCsv = "bad_csv";            // unterminated quote
inline constexpr std::string_view kReasonColumnCount = "column_count";  // row width != header width
inline constexpr std::string_view kReasonMissingField = "missing_field";
inline constexpr std::string_view kReasonBadValue = "bad_value";        // unparsable number / coordinate
inline constexpr std::string_view kReasonBadDate = "bad_date";
inline constexpr std::string_view kReasonBadEncoding = "bad_encoding";  // bytes that are not UTF-8
inline constexpr std::string_view kReasonBadXml = "bad_xml";            // truncated or invalid XML
inline constexpr std::string_view kReasonEncrypted = "encrypted";      // OA safe-mode body, not decrypted here
inline constexpr std::string_view kReasonOrphanText = "orphan_text";    // TXT lines before any message header

}  // namespace gridhub::wechat
