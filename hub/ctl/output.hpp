#pragma once
// How gridhubctl writes tickets and records for people and scripts: the words and quoting every
// command that prints them shares.

#include <cstddef>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::ctl {

/// The message as one line of JSON with the schema's field names.
std::string to_json(const google::protobuf::Message& m);
/// `s` as a JSON string literal; control characters other than a newline become spaces.
std::string json_quote(std::string_view s);
/// The first `n` characters of UTF-8 text, with an ellipsis when cut; line breaks become spaces.
std::string head_chars(const std::string& s, std::size_t n);
/// "grid", "community", "county", "center" or "-".
const char* tier_word(gridhub::v1::Tier t);
/// The status's name without its prefix, lower case ("accepted").
std::string status_word(gridhub::v1::TicketStatus s);
/// The action's name without its prefix, lower case ("resolve").
std::string action_word(gridhub::v1::UpdateAction a);

}  // namespace gridhub::ctl
