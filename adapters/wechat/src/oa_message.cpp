#include "gridhub/wechat/oa_message.hpp"

#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "event_util.hpp"
#include "gridhub/wechat/callback_crypto.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::wechat {
namespace {

using detail::parse_double;
using detail::parse_int;
using detail::reject;
using detail::trim;

constexpr std::string_view kContentType = "application/xml";

/// The digits of `<MsgId>...</MsgId>` in raw bytes, for bodies the XML parser gave up on.
std::string scan_msg_id(std::string_view body) {
  constexpr std::string_view kOpen = "<MsgId>";
  const std::size_t at = body.find(kOpen);
  if (at == std::string_view::npos) return {};
  std::string_view rest = body.substr(at + kOpen.size());
  if (rest.starts_with("<![CDATA[")) rest.remove_prefix(9);
  std::size_t n = 0;
  while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
  // A cut inside the number leaves a prefix of the real MsgId: only a closed element is trusted.
  const std::string_view after = rest.substr(n);
  if (n == 0 || !(after.starts_with("<") || after.starts_with("]]>"))) return {};
  return std::string(rest.substr(0, n));
}

/// "dir/24500008562739287.xml" -> "24500008562739287"; empty unless the stem is all digits.
std::string msg_id_from_name(std::string_view source_name) {
  std::string_view name = source_name;
  if (const std::size_t slash = name.find_last_of("/\\"); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (const std::size_t dot = name.find('.'); dot != std::string_view::npos) name = name.substr(0, dot);
  if (name.empty() || name.find_first_not_of("0123456789") != std::string_view::npos) return {};
  return std::string(name);
}

/// The hub refuses source keys over 256 bytes for good; a longer one (absurd ids) becomes its digest.
std::string bounded_key(std::string key) {
  constexpr std::size_t kMaxKey = 256;
  if (key.size() <= kMaxKey) return key;
  return "sha1:" + sorted_sha1_hex({key});
}

}  // namespace

KeyedEvent parse_oa_message(std::string_view body, const std::string& source_name, const OaOptions& options) {
  KeyedEvent out;
  v1::Event& event = out.event;
  event.set_channel(v1::CHANNEL_WECHAT);
  event.set_adapter_id(options.adapter_id);
  event.set_source_name(source_name);
  event.set_content_type(std::string(kContentType));
  event.set_original_payload(std::string(body));
  const std::string& location = source_name;

  const auto fallback_key = [&] {
    std::string key = scan_msg_id(body);
    if (key.empty()) key = msg_id_from_name(source_name);
    if (key.empty()) key = source_name;  // nothing better: at least stable per file
    out.record_key = key;
    event.set_source_key(std::move(key));
  };

  // Every string we copy into the Event must be UTF-8; WeChat only sends UTF-8.
  if (const std::size_t bad = text::find_invalid_utf8(body); bad != std::string_view::npos) {
    fallback_key();
    reject(event, kReasonBadEncoding, "", fmt::format("byte {} is not UTF-8", bad), location);
    return out;
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  const pugi::xml_node xml = doc.child("xml");
  if (!parsed || !xml) {
    fallback_key();
    reject(event, kReasonBadXml, "",
           parsed ? std::string("the root element is not <xml>")
                  : fmt::format("not well-formed XML: {} at byte {} (truncated upload?)", parsed.description(),
                                parsed.offset),
           location);
    return out;
  }

  const auto value = [&](const char* name) -> std::string_view { return trim(xml.child_value(name)); };
  const std::string_view msg_type = value("MsgType");
  const std::string_view from_user = value("FromUserName");
  const std::string_view create_text = value("CreateTime");
  const std::string_view msg_id = value("MsgId");

  // The account the message was sent to: one MsgId space per Official Account (ToUserName, its
  // original id) or WeCom application (ToUserName = CorpID, plus AgentID). Two accounts posting to
  // one adapter must not share keys.
  std::string account(value("ToUserName"));
  if (const std::string_view agent = value("AgentID"); !agent.empty()) account += fmt::format("/{}", agent);
  if (!msg_id.empty()) {
    out.record_key = std::string(msg_id);
    event.set_source_key(bounded_key(account.empty() ? std::string(msg_id) : fmt::format("{}:{}", account, msg_id)));
  } else if (msg_type == "event" && !from_user.empty() && !create_text.empty()) {
    // Events have no MsgId. One user's LOCATION report and a menu CLICK in the same second are two
    // events, so sender and time are not enough: the digest of every element tells them apart,
    // while WeChat's retry of one event (the same body) keeps its key.
    std::string joined;
    for (pugi::xml_node c = xml.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) joined += fmt::format("{}={}\n", c.name(), trim(c.child_value()));
    }
    out.record_key = fmt::format("{}:{}:{}", from_user, create_text, value("Event"));
    event.set_source_key(bounded_key(
        fmt::format("{}:{}:{}", account, out.record_key, sorted_sha1_hex({joined}).substr(0, 16))));
  } else {
    fallback_key();
  }

  v1::ExtractedFields& fields = *event.mutable_fields();
  fields.set_message_kind(std::string(msg_type));
  fields.set_conversation(std::string(value("ToUserName")));
  if (!from_user.empty()) fields.set_sender_id(std::string(from_user));
  const std::optional<std::int64_t> create_time = detail::parse_unix_seconds(create_text);
  if (create_time) detail::set_unix_seconds(*fields.mutable_reported_at(), *create_time, options.utc_offset_minutes);

  // Elements with a dedicated slot; everything else goes to extra under its own name.
  static constexpr std::string_view kSlotted[] = {"ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId",
                                                  "Content", "Location_X", "Location_Y", "Label"};
  auto& extra = *fields.mutable_extra();
  for (pugi::xml_node c = xml.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    const std::string_view name = c.name();
    bool slotted = false;
    for (const std::string_view s : kSlotted) slotted = slotted || s == name;
    if (slotted) continue;
    if (const std::string_view v = trim(c.child_value()); !v.empty()) extra[std::string(name)] = std::string(v);
  }

  std::optional<double> lat;
  std::optional<double> lon;
  if (msg_type == "text") {
    fields.set_text(xml.child_value("Content"));
  } else if (msg_type == "voice") {
    fields.set_text(std::string(value("Recognition")));
  } else if (msg_type == "link") {
    fields.set_text(std::string(value("Title")));
  } else if (msg_type == "location") {
    lat = parse_double(value("Location_X"));
    lon = parse_double(value("Location_Y"));
    if (lat && lon) {
      v1::GeoPoint& point = *fields.mutable_location();
      point.set_lat(*lat);
      point.set_lon(*lon);
      point.set_datum(v1::DATUM_GCJ02);
    }
    if (const std::string_view label = value("Label"); !label.empty()) fields.set_address_text(std::string(label));
  }

  // One rejection, the most fundamental first; details name elements, never values.
  if (xml.child("Encrypt") && msg_type.empty()) {
    reject(event, kReasonEncrypted, "Encrypt", "safe-mode body: decrypt it (WXBizMsgCrypt) before parsing",
           location);
  } else if (msg_type.empty()) {
    reject(event, kReasonMissingField, "MsgType", "MsgType is missing or empty", location);
  } else if (from_user.empty()) {
    reject(event, kReasonMissingField, "FromUserName", "FromUserName is missing or empty", location);
  } else if (create_text.empty()) {
    reject(event, kReasonBadDate, "CreateTime", "CreateTime is missing or empty", location);
  } else if (!create_time || *create_time <= 0) {
    reject(event, kReasonBadDate, "CreateTime", "CreateTime is not a positive unix time in seconds before year 10000", location);
  } else if (msg_id.empty() && msg_type != "event") {
    reject(event, kReasonMissingField, "MsgId", "MsgId is missing or empty", location);
  } else if (msg_type == "text" && trim(fields.text()).empty()) {
    reject(event, kReasonMissingField, "Content", "Content is missing or empty", location);
  } else if (msg_type == "location" && (!lat || *lat < -90 || *lat > 90)) {
    reject(event, kReasonBadValue, "Location_X", "Location_X is not a latitude in degrees", location);
  } else if (msg_type == "location" && (!lon || *lon < -180 || *lon > 180)) {
    reject(event, kReasonBadValue, "Location_Y", "Location_Y is not a longitude in degrees", location);
  }
  return out;
}

}  // namespace gridhub::wechat
