#pragma once
/// WeChat Official Account (公众号) server callbacks, plaintext mode -> gridhub.v1.Event.
///
/// One XML body per message (`<xml><ToUserName/><FromUserName/><CreateTime/><MsgType/>...</xml>`,
/// strings in CDATA, no XML declaration). What is extracted:
///   message_kind  MsgType (text, location, image, voice, video, shortvideo, link, event)
///   text          Content (text), Recognition (voice, when ASR is on), Title (link)
///   location      Location_X = latitude, Location_Y = longitude, datum GCJ-02 (WeChat's map
///                 datum; not converted here), Label -> address_text, Scale -> extra["Scale"]
///   sender_id     FromUserName (the user's OpenID); conversation: ToUserName (the OA's id)
///   reported_at   CreateTime (unix seconds)
/// Other elements go to extra under their names. Not decided here: whether a location belongs to a
/// later text (the hub's merge rule).
///
/// Identity: record_key is MsgId; source_key is "<account>:<MsgId>", the account being ToUserName
/// (the Official Account's original id, or the WeCom CorpID) plus "/<AgentID>" for WeCom apps,
/// because a MsgId is unique only within one account. Events carry no MsgId: record_key
/// "<FromUserName>:<CreateTime>:<Event>", source_key "<account>:<record_key>:<16 hex of SHA-1 over
/// every element>" — WeChat's documented FromUserName+CreateTime is not enough (a LOCATION report
/// and a menu CLICK can share a second), while a retry (the same body) keeps its key. Keys over
/// 256 bytes become "sha1:<digest>". A body that is not well-formed XML still becomes an Event
/// with a bad_xml rejection; its key is the MsgId found in the raw bytes, else the digits of the
/// file name ("24500008562739287.xml").

#include <string>
#include <string_view>

#include "gridhub/wechat/record.hpp"

namespace gridhub::wechat {

struct OaOptions {
  std::string adapter_id;
  int utc_offset_minutes = 480;  // for displaying reported_at; CreateTime itself is UTC
};

/// Parses one callback body. `source_name` is the file name or endpoint ("POST /wechat") and
/// appears in rejection locations. Never fails: problems are the Event's rejection.
KeyedEvent parse_oa_message(std::string_view body, const std::string& source_name, const OaOptions& options = {});

}  // namespace gridhub::wechat
