#pragma once
/// What every libFuzzer target here shares: one-time set-up and the checks an adapter's output
/// must pass beyond "no sanitizer report".
///
/// Environment:
///   GRIDHUB_FUZZ_WIRE_CHECK=0   skip check_crosses_wire (to keep fuzzing for memory errors after
///                               it has found something)

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>

#include "gridhub/v1/event.pb.h"

/// A property the code under test documents does not hold: report it as a crash so libFuzzer
/// saves the input. The message says which property; the input is in the reproducer, not here.
#define GRIDHUB_FUZZ_CHECK(cond, what)                                                            \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "==gridhub-fuzz== check failed: %s\n  (%s) at %s:%d\n", what, #cond, \
                   __FILE__, __LINE__);                                                           \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)

namespace gridhub::fuzz {

/// Silences protobuf's logging (invalid UTF-8 on serialize is logged per call, which floods the
/// fuzzer's output; check_crosses_wire reports the consequence instead).
inline void init() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
}

inline bool wire_check_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("GRIDHUB_FUZZ_WIRE_CHECK");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return enabled;
}

/// The path of the first `string` field (recursively) whose value is not UTF-8, or "".
inline std::string invalid_utf8_field(const google::protobuf::Message& m, const std::string& prefix = {}) {
  using google::protobuf::FieldDescriptor;
  const auto* refl = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string path = prefix + f->name();
    const int n = f->is_repeated() ? refl->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      const std::string at = f->is_repeated() ? path + "[" + std::to_string(i) + "]" : path;
      if (f->type() == FieldDescriptor::TYPE_STRING) {
        const std::string v = f->is_repeated() ? refl->GetRepeatedString(m, f, i) : refl->GetString(m, f);
        if (!google::protobuf::internal::IsStructurallyValidUTF8(v.data(), static_cast<int>(v.size()))) return at;
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        const auto& sub = f->is_repeated() ? refl->GetRepeatedMessage(m, f, i) : refl->GetMessage(m, f);
        if (std::string bad = invalid_utf8_field(sub, at + "."); !bad.empty()) return bad;
      }
    }
  }
  return {};
}

/// An adapter's Event goes to the hub as protobuf bytes. If it does not parse back (proto3
/// `string` fields must hold valid UTF-8), the hub nacks the frame as malformed and the record is
/// lost to the adapter's retries: the adapter must put raw bytes only into `bytes` fields.
inline void check_crosses_wire(const gridhub::v1::Event& event) {
  if (!wire_check_enabled()) return;
  std::string bytes;
  GRIDHUB_FUZZ_CHECK(event.SerializeToString(&bytes), "Event does not serialize");
  gridhub::v1::Event back;
  if (!back.ParseFromString(bytes)) {
    const std::string field = invalid_utf8_field(event);
    std::fprintf(stderr, "==gridhub-fuzz== invalid UTF-8 in Event.%s (rejection: %s)\n",
                 field.empty() ? "?" : field.c_str(),
                 event.has_rejection() ? event.rejection().reason_code().c_str() : "none");
    GRIDHUB_FUZZ_CHECK(false, "adapter Event does not parse back from its own bytes (the hub would nack it as a malformed frame)");
  }
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace gridhub::fuzz
