#pragma once
/// Masking of personal data, driven by the `(gridhub.v1.pii)` field option in the schemas.

#include <string>

#include <google/protobuf/message.h>

#include "gridhub/log/pii_vault.hpp"

namespace gridhub::core {

/// "13800000001" -> "138****0001"; names keep their first character ("张**"); short values become "**".
std::string mask_value(const std::string& value);

/// What a reader not entitled to personal data gets: strings masked, raw source bytes dropped.
/// Opening and masking in one pass: `log::unseal_pii(msg, keys, kMasked)` (or LogReader::unseal).
inline constexpr log::PiiPresentation kMasked{.drop_bytes = true, .transform = &mask_value};

/// Masks every string field marked pii in `msg`, recursively, and drops raw bytes fields; sealed
/// values read "[sealed]".
void mask_pii(google::protobuf::Message& msg);

}  // namespace gridhub::core
