#pragma once
// Private: a protobuf message as JSON, written by reflection straight into the caller's buffer.
//
// The output is what protobuf's MessageToJsonString gives with preserve_proto_field_names (fields
// with default values left out, 64-bit integers quoted, enums by name, bytes in base64, maps as
// objects), without its per-call costs: that printer re-serializes the message and converts it
// through a type resolver, which made replay spend most of its time there. Personal-data fields
// (the `(gridhub.v1.pii)` option) can be passed through a filter (masking, unsealing) on the way out,
// so no masked copy of the message is made.

#include <charconv>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

namespace gridhub::audit::detail {

/// What a personal-data field shows. `show` returns the text to print for the value stored in the
/// field named `field` (its full name); it may return a view into `scratch`.
class PiiFilter {
 public:
  virtual ~PiiFilter() = default;
  virtual std::string_view show(std::string_view stored, const std::string& field, std::string& scratch) = 0;
};

/// Appends `m` as one JSON object. `pii`: nullptr prints personal data as stored.
void append_message_json(std::string& out, const google::protobuf::Message& m, PiiFilter* pii = nullptr);

/// The same for an encoded message of `type`, written straight from the wire bytes (nothing is
/// parsed into objects): fields in the order they are encoded (field-number order for protobuf's
/// serializer) rather than declaration order; otherwise the same text. Bytes that are not a canonical
/// encoding (a repeated field split by others, a singular field twice) are parsed and printed as
/// append_message_json does; bytes that do not parse print `null` and return false.
bool append_encoded_json(std::string& out, const google::protobuf::Descriptor* type, std::string_view bytes,
                         PiiFilter* pii = nullptr);

/// An integer in decimal, as fmt's "{}" writes it, without a format string parsed per value.
template <class Int>
inline void append_decimal(std::string& out, Int v) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

/// A JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

}  // namespace gridhub::audit::detail
