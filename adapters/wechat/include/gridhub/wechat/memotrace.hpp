#pragma once
/// Group-chat exports written by MemoTrace (留痕, LC044/WeChatMsg, PC WeChat 3.x) -> one
/// gridhub.v1.Event per message.
///
/// Parsing only: every message becomes an Event, chatter and staff notices included, because
/// deciding "is this a ticket" is the hub's classifier's job. What is extracted:
///   message_kind   text, image, voice, video, sticker, location, link, quote, file, music,
///                  transfer, call, app, system, other
///   text           the message text; for quote replies the reply itself (the quoted message goes
///                  to extra["quoted_text"] / extra["quoted_sender"]); for link cards the title;
///                  for system messages their text; empty for media
///   reporter_name  the sender's display name (HTML-unescaped in TXT exports)
///   sender_id      the sender's wxid (CSV only)
///   from_staff     written by the exporting account
///   conversation   ExportOptions::conversation, else the file name without extension and
///                  MemoTrace's "_utf8" suffix (MemoTrace names files after the chat's remark)
///   reported_at    the message time
/// A record the parser cannot use still becomes an Event with `rejection` set (location
/// "<source_name>:<line>").

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/wechat/record.hpp"

namespace gridhub::wechat {

struct ExportOptions {
  std::string adapter_id;
  /// The chat's stable name for Event::source_key and ExtractedFields::conversation (e.g. the
  /// chatroom id from the deployment's groups table). Empty: derived from the file name.
  std::string conversation;
  /// TXT exports carry no IsSender flag: messages whose display name equals this are from_staff.
  std::string export_owner_name;
  int utc_offset_minutes = 480;  // StrTime's zone (the exporting PC's local time)
};

struct ExportOutput {
  std::vector<KeyedEvent> events;  // one per message, in file order
  std::string conversation;        // as used in the events
  std::size_t rejected = 0;        // events carrying a rejection
};

/// "owners_group_A_utf8.csv" -> "owners_group_A"; directories are dropped.
std::string conversation_from_file_name(std::string_view source_name);

/// MemoTrace CSV (utf-8-sig, header
/// localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender;
/// columns are found by name). record_key = localId; source_key = "<conversation>:<localId>".
/// reported_at comes from CreateTime (unix seconds). Whole-file problems (bytes that are not
/// UTF-8, no header, a required column missing: localId, Type, IsSender, CreateTime, StrContent)
/// are an Error naming the file.
Result<ExportOutput> parse_memotrace_csv(std::string_view file_bytes, const std::string& source_name,
                                         const ExportOptions& options);

/// MemoTrace TXT (blocks "{StrTime} {display name}\n{content}\n\n"; system messages
/// "{StrTime} {content}\n\n"). A block starts at a "yyyy-mm-dd hh:mm:ss " line at the start of the
/// file or after a blank line. record_key = the 1-based line of that first line; source_key =
/// "<conversation>:<StrTime>#<n>", n counting the blocks with the same StrTime in the file from 1,
/// so that it survives a re-export that starts earlier or later. A block that is not valid UTF-8 or
/// whose time is not a date is rejected; text before the first block is one rejected record.
/// Never fails as a whole.
ExportOutput parse_memotrace_txt(std::string_view file_bytes, const std::string& source_name,
                                 const ExportOptions& options);

/// The message_kind of a MemoTrace Type/SubType pair (MSG table codes).
std::string_view message_kind_of(std::int64_t type, std::int64_t sub_type) noexcept;

}  // namespace gridhub::wechat
