// The auditor's JSON writer (hub/audit/src/proto_json) says what protobuf's own JSON printer says:
// every line it writes parses back, with protobuf's JSON parser, into the message it came from.
#include "../../../hub/audit/src/proto_json.hpp"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <gtest/gtest.h>

#include "gridhub/v1/log.pb.h"

namespace gridhub::audit::detail {
namespace {

namespace v1 = gridhub::v1;

template <class M>
void expect_round_trip(const M& original) {
  std::string json;
  append_message_json(json, original);
  // The writer that works on the encoding says the same, field for field.
  std::string encoded;
  ASSERT_TRUE(append_encoded_json(encoded, M::descriptor(), original.SerializeAsString()));
  M from_encoded;
  auto encoded_status = google::protobuf::util::JsonStringToMessage(encoded, &from_encoded);
  ASSERT_TRUE(encoded_status.ok()) << encoded_status.ToString() << "\n" << encoded;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_encoded, original)) << encoded;
  EXPECT_EQ(encoded.size(), json.size()) << "the same text, at most in another field order\n" << json << "\n" << encoded;
  M parsed;
  auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, original)) << json;
  // Field names as in the schema (preserve_proto_field_names), defaults left out.
  std::string theirs;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(original, &theirs, opts).ok());
  M from_theirs;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(theirs, &from_theirs).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, from_theirs));
}

/// The escaping rule, one byte at a time: what append_json_string must write for any text.
std::string escaped_byte_by_byte(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

TEST(ProtoJson, StringsAreEscapedWhereverTheCharacterFallsInTheText) {
  // The writer skips text in 8-byte words: every byte value, at every offset of words and tails.
  for (int b = 0; b < 256; ++b) {
    for (std::size_t len : {1u, 7u, 8u, 9u, 16u, 23u}) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string text(len, 'a');
        text[at] = static_cast<char>(b);
        if (at + 1 < len) text[len - 1] = '\xe8';   // a UTF-8 byte above 0x7f beside it
        std::string out;
        append_json_string(out, text);
        ASSERT_EQ(out, escaped_byte_by_byte(text)) << "byte " << b << " at " << at << " of " << len;
      }
    }
  }
  std::string out;
  append_json_string(out, "路灯不亮 \"quoted\" back\\slash\x01\x1f end of a longer line");
  EXPECT_EQ(out, "\"路灯不亮 \\\"quoted\\\" back\\\\slash\\u0001\\u001f end of a longer line\"");
}

TEST(ProtoJson, IntakeRecordParsesBackAsItself) {
  v1::LogRecord rec;
  rec.set_seq(18'446'744'073'709'551'000ULL);   // 64-bit: quoted
  rec.mutable_recorded_at()->set_unix_micros(-1);
  rec.set_ticket_id("T00000001");
  auto* a = rec.mutable_intake_accepted();
  a->set_disposition(v1::DISPOSITION_MERGED);
  auto* ev = a->mutable_event();
  ev->set_channel(v1::CHANNEL_HOTLINE);
  ev->set_source_key("GD,\"1\"\n\t\\");
  ev->set_original_payload(std::string("\x00\xff\x01 raw bytes", 13));   // bytes: base64
  ev->mutable_fields()->set_text("路灯不亮 𠮷 \x01 </script>");
  (*ev->mutable_fields()->mutable_extra())["来电号码"] = "13800000001";
  (*ev->mutable_fields()->mutable_extra())["b"] = "";
  ev->mutable_fields()->mutable_location()->set_lat(34.25);
  ev->mutable_fields()->mutable_location()->set_lon(-0.1);
  ev->mutable_fields()->set_from_staff(true);
  auto* t = a->mutable_ticket();
  t->mutable_reporter()->set_phone("13800000001");
  t->set_tier(v1::TIER_COMMUNITY);
  t->add_assignee_history("CTY_SWJ");
  t->add_assignee_history("CTY_ZJJ");
  t->set_return_count(3);
  t->add_provenance()->set_log_seq(7);
  t->add_provenance()->set_channel(v1::CHANNEL_WECHAT);
  auto* d = a->add_decisions();
  d->set_stage("router");
  d->set_detail("rule \"x\"");
  expect_round_trip(rec);
  expect_round_trip(v1::LogRecord{});   // all defaults: {}
  std::string empty;
  append_message_json(empty, v1::Ticket{});
  EXPECT_EQ(empty, "{}");
}

TEST(ProtoJson, EncodingsNotInCanonicalFormAreParsedFirstAndBadOnesPrintNull) {
  v1::Ticket a, b;
  a.add_assignee_history("G0101");
  a.set_ticket_id("T1");
  b.add_assignee_history("C01");
  b.set_grid_code("G0101");
  // Two encodings concatenated merge when parsed: the list is split by other fields, and a later
  // grid_code follows an earlier ticket_id. The parser's meaning is the one printed.
  const std::string merged_bytes = a.SerializeAsString() + b.SerializeAsString();
  v1::Ticket merged;
  ASSERT_TRUE(merged.ParseFromString(merged_bytes));
  ASSERT_EQ(merged.assignee_history_size(), 2);
  std::string json, expected;
  ASSERT_TRUE(append_encoded_json(json, v1::Ticket::descriptor(), merged_bytes));
  append_message_json(expected, merged);
  EXPECT_EQ(json, expected);
  std::string bad = "[";
  EXPECT_FALSE(append_encoded_json(bad, v1::Ticket::descriptor(), merged_bytes.substr(0, merged_bytes.size() - 2)));
  EXPECT_EQ(bad, "[null");
}

class Redact final : public PiiFilter {
 public:
  std::string_view show(std::string_view, const std::string& field, std::string& scratch) override {
    scratch = "<" + field + ">";
    return scratch;
  }
};

TEST(ProtoJson, PersonalFieldsGoThroughTheFilterAndNothingElseDoes) {
  v1::Ticket t;
  t.mutable_reporter()->set_name("王女士");
  t.mutable_reporter()->set_phone("13800000001");
  t.set_text("13800000001 called");
  Redact redact;
  std::string json;
  append_message_json(json, t, &redact);
  EXPECT_EQ(json, "{\"reporter\":{\"name\":\"<gridhub.v1.Reporter.name>\",\"phone\":\"<gridhub.v1.Reporter.phone>\"},"
                  "\"text\":\"13800000001 called\"}");
  std::string encoded;
  ASSERT_TRUE(append_encoded_json(encoded, v1::Ticket::descriptor(), t.SerializeAsString(), &redact));
  EXPECT_EQ(encoded, json);
}

}  // namespace
}  // namespace gridhub::audit::detail
