#pragma once
/// Open311 GeoReport v2 (JSON format) for `gridhub-webform serve`: the service list from the
/// county's categories, and service requests mapped to gridhub.v1.Event.
///
/// Services come from the world's categories.csv (category_code, category_name, description, ...):
///   service_code = category_code, service_name = category_name, description, metadata = false,
///   type = "realtime", keywords = the optional `keywords` column (else ""), group = the optional
///   `group` column, else the description's prefix before "：" (市容环境：... -> 市容环境).
///
/// POST requests.json (application/x-www-form-urlencoded, UTF-8 per the spec):
///   service_code -> category_hint (must be a listed service)
///   lat + long (WGS-84) -> location (DATUM_WGS84); address_string -> address_text; address_id -> extra
///   description -> text; first_name + last_name -> reporter_name; phone -> reporter_phone;
///   email, device_id, account_id, media_url, attribute[code] -> extra (under those names)
/// One of lat+long, address_string, address_id is required (the spec's location rule), and so is
/// service_code. Errors are Open311's: a status and [{"code":N,"description":"..."}].

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"
#include "gridhub/webform/urlencoded.hpp"

namespace gridhub::webform {

struct Open311Service {
  std::string service_code;
  std::string service_name;
  std::string description;
  std::string keywords;
  std::string group;
};

/// Reads categories.csv (UTF-8, header row). Errors name the file and line.
Result<std::vector<Open311Service>> load_open311_services(std::string_view csv_text, const std::string& source_name);

/// GET services.json's body.
std::string open311_services_json(const std::vector<Open311Service>& services);

/// An Open311 error body: [{"code":status,"description":...}].
std::string open311_error_json(unsigned status, std::string_view description);

struct Open311Request {
  gridhub::v1::Event event;          // mapped; source_key set to "open311:<service_request_id>"
  std::string service_request_id;    // first 20 hex digits of SHA-256 over the normalized request and its day
};

/// Maps a decoded POST requests.json. On a client error returns Error whose detail is the
/// description for open311_error_json (always status 400). The request's identity is its content
/// plus the local day it arrived (local_day of now_micros): a client's retry the same day is the
/// same request, the same report a month later is a new one. A retry that straddles local
/// midnight becomes a second request (the hub's merger sees two reports of one incident).
Result<Open311Request> map_open311_request(std::vector<FormPair> fields, const std::vector<Open311Service>& services,
                                           std::int64_t now_micros, int utc_offset_minutes);

/// The hex SHA-256 over fields sorted by name then value (name NUL value NUL ...): one identity for
/// a resubmission of the same content in any field order.
std::string normalized_digest(std::vector<FormPair> fields);

/// The local calendar day of `unix_micros` at `utc_offset_minutes`, as days since 1970-01-01: the
/// time bucket of identities made from content digests (form posts without submission_id, Open311).
std::int64_t local_day(std::int64_t unix_micros, int utc_offset_minutes);

/// The pair that puts local_day into a normalized_digest (a name no form field can have).
FormPair day_pair(std::int64_t unix_micros, int utc_offset_minutes);

}  // namespace gridhub::webform
