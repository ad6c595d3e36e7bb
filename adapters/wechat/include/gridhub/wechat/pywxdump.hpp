#pragma once
/// Group-chat exports written by PyWxDump (xaoyaoo/PyWxDump, PC WeChat 3.x) -> one
/// gridhub.v1.Event per message, the same mapping as the MemoTrace parsers (memotrace.hpp).
///
/// PyWxDump writes UTF-8 (no BOM) pages of 5000 rows named "{wxid}_{i}_{i+page}.csv" with the header
///   id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime        (current)
///   id,MsgSvrID,type_name,is_sender,talker,room_name,content,CreateTime       (older: content is a
///                                                                             JSON dict {"src","msg"})
/// Columns are found by name. What is extracted:
///   message_kind   from type_name (文本 text, 图片 image, 语音 voice, 视频 video, 动画表情 sticker,
///                  位置 location, 系统通知/拍一拍/撤回消息 system, …链接/(分享)… link, …引用… quote,
///                  文件 file, 转账 transfer, …通话 call); anything else "other". The raw type_name is
///                  always kept in extra["type_name"].
///   text           msg for text and system messages; the reply (before "[引用]") of a quote, whose
///                  quoted message goes to extra["quoted_text"] / extra["quoted_sender"]; the title of
///                  a link (src, if any, to extra["url"]); empty for media (src to extra["src"])
///   location       location messages ("纬度:【lat】 经度:【lon】\n位置：label poiname"): the point,
///                  datum GCJ-02, and address_text
///   sender_id      talker (the sender's wxid)
///   from_staff     is_sender = 1 (the exporting account)
///   conversation   ExportOptions::conversation, else room_name (the chatroom id), else the file
///                  name without ".csv" and PyWxDump's "_{i}_{j}" page suffix
///   reported_at    CreateTime: "yyyy-mm-dd hh:mm:ss" at ExportOptions::utc_offset_minutes (what
///                  PyWxDump writes), or unix seconds
/// record_key = MsgSvrID; source_key = "<conversation>:<MsgSvrID>". MsgSvrID is the server's id
/// of the message, so pages and re-exports of the same chat give the same keys.
/// A row the parser cannot use still becomes an Event with `rejection` set (location
/// "<source_name>:<line>", field = the column).

#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"
#include "gridhub/wechat/memotrace.hpp"

namespace gridhub::wechat {

enum class ChatCsvFormat { kUnknown, kMemoTrace, kPyWxDump };

/// Which exporter wrote a chat CSV, from its header row (a UTF-8 BOM is skipped).
ChatCsvFormat detect_chat_csv_format(std::string_view file_bytes);

/// The message_kind of a PyWxDump type_name.
std::string_view pywxdump_message_kind(std::string_view type_name) noexcept;

/// "25867612345@chatroom_0_5000.csv" -> "25867612345@chatroom"; directories are dropped.
std::string pywxdump_conversation_from_file_name(std::string_view source_name);

/// Whole-file problems (bytes that are not UTF-8, no header, a required column missing: MsgSvrID,
/// type_name, is_sender, CreateTime, and msg or content) are an Error naming the file.
Result<ExportOutput> parse_pywxdump_csv(std::string_view file_bytes, const std::string& source_name,
                                        const ExportOptions& options);

}  // namespace gridhub::wechat
