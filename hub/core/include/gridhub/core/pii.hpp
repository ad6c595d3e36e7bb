#pragma once
/// Masking of personal data, driven by the `(gridhub.v1.pii)` field option in the schemas.

#include <string>

#include <google/protobuf/message.h>

namespace gridhub::core {

/// "13800000001" -> "138****0001"; names keep their first character ("张**"); short values become "**".
std::string mask_value(const std::string& value);

/// Masks every string field marked pii in `msg`, recursively.
void mask_pii(google::protobuf::Message& msg);

}  // namespace gridhub::core
