#include "gridhub/webform/open311.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "gridhub/text/csv_reader.hpp"
#include "gridhub/text/phone.hpp"
#include "gridhub/webform/photo_store.hpp"

namespace gridhub::webform {
namespace {

namespace json = boost::json;

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

Result<std::vector<Open311Service>> load_open311_services(std::string_view csv_text, const std::string& source_name) {
  if (csv_text.starts_with("\xEF\xBB\xBF")) csv_text.remove_prefix(3);
  text::CsvReader reader(csv_text);
  text::CsvRecord rec;
  if (!reader.next(rec)) return Error(Errc::config_invalid, fmt::format("{}: empty file", source_name));
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < rec.fields.size(); ++i) col.emplace(rec.fields[i], i);
  for (const char* need : {"category_code", "category_name"}) {
    if (!col.contains(need)) {
      return Error(Errc::config_invalid, fmt::format("{}:1: no {} column", source_name, need));
    }
  }
  const auto cell = [&](const text::CsvRecord& r, const char* name) -> std::string {
    const auto it = col.find(name);
    return it == col.end() || it->second >= r.fields.size() ? std::string() : r.fields[it->second];
  };
  std::vector<Open311Service> out;
  while (reader.next(rec)) {
    if (rec.error) return Error(Errc::config_invalid, fmt::format("{}:{}: {}", source_name, rec.line, rec.error_message));
    Open311Service s;
    s.service_code = cell(rec, "category_code");
    s.service_name = cell(rec, "category_name");
    if (s.service_code.empty()) {
      return Error(Errc::config_invalid, fmt::format("{}:{}: empty category_code", source_name, rec.line));
    }
    s.description = cell(rec, "description");
    s.keywords = cell(rec, "keywords");
    s.group = cell(rec, "group");
    if (s.group.empty()) {
      const std::size_t colon = s.description.find("：");
      if (colon != std::string::npos) s.group = s.description.substr(0, colon);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string open311_services_json(const std::vector<Open311Service>& services) {
  json::array arr;
  for (const auto& s : services) {
    json::object o;
    o["service_code"] = s.service_code;
    o["service_name"] = s.service_name;
    o["description"] = s.description;
    o["metadata"] = false;
    o["type"] = "realtime";
    o["keywords"] = s.keywords;
    o["group"] = s.group;
    arr.push_back(std::move(o));
  }
  return json::serialize(arr);
}

std::string open311_error_json(unsigned status, std::string_view description) {
  json::array arr;
  json::object o;
  o["code"] = status;
  o["description"] = description;
  arr.push_back(std::move(o));
  return json::serialize(arr);
}

std::string normalized_digest(std::vector<FormPair> fields) {
  std::sort(fields.begin(), fields.end(),
            [](const FormPair& a, const FormPair& b) { return a.name != b.name ? a.name < b.name : a.value < b.value; });
  std::string canon;
  for (const auto& f : fields) {
    canon += f.name;
    canon += '\0';
    canon += f.value;
    canon += '\0';
  }
  return sha256_hex(canon);
}

std::int64_t local_day(std::int64_t unix_micros, int utc_offset_minutes) {
  // Seconds first, so no arithmetic can overflow; floor division for times before 1970.
  const std::int64_t s = unix_micros / 1000000 - (unix_micros % 1000000 < 0 ? 1 : 0) + std::int64_t{utc_offset_minutes} * 60;
  return s / 86400 - (s % 86400 < 0 ? 1 : 0);
}

FormPair day_pair(std::int64_t unix_micros, int utc_offset_minutes) {
  return FormPair{std::string("\x01" "day"), std::to_string(local_day(unix_micros, utc_offset_minutes))};
}

Result<Open311Request> map_open311_request(std::vector<FormPair> pairs, const std::vector<Open311Service>& services,
                                           std::int64_t now_micros, int utc_offset_minutes) {
  std::map<std::string, std::string> f;
  for (const auto& p : pairs) f.emplace(p.name, p.value);   // first wins, as for query strings
  const auto get = [&](const char* name) -> std::string {
    const auto it = f.find(name);
    return it == f.end() ? std::string() : it->second;
  };

  const std::string code = get("service_code");
  if (code.empty()) return Error(Errc::missing_field, "service_code: required");
  const auto svc = std::find_if(services.begin(), services.end(), [&](const auto& s) { return s.service_code == code; });
  if (svc == services.end()) {
    return Error(Errc::bad_value, fmt::format("service_code: '{}' is not a service of this jurisdiction (see services.json)",
                                              code.substr(0, 40)));
  }
  const std::string lat_text = get("lat");
  const std::string long_text = get("long");
  const std::string address = get("address_string");
  const std::string address_id = get("address_id");
  std::optional<double> lat;
  std::optional<double> lon;
  if (!lat_text.empty() || !long_text.empty()) {
    if (lat_text.empty() || long_text.empty()) return Error(Errc::bad_value, "lat and long must come together");
    lat = parse_double(lat_text);
    lon = parse_double(long_text);
    if (!lat || *lat < -90 || *lat > 90) return Error(Errc::bad_value, "lat: not a latitude in degrees (WGS-84)");
    if (!lon || *lon < -180 || *lon > 180) return Error(Errc::bad_value, "long: not a longitude in degrees (WGS-84)");
  } else if (address.empty() && address_id.empty()) {
    return Error(Errc::missing_field, "a location is required: lat and long, address_string or address_id");
  }

  Open311Request out;
  std::vector<FormPair> identity = pairs;
  identity.push_back(day_pair(now_micros, utc_offset_minutes));
  out.service_request_id = normalized_digest(std::move(identity)).substr(0, 20);
  v1::Event& ev = out.event;
  ev.set_channel(v1::CHANNEL_WEBFORM);
  ev.set_source_key("open311:" + out.service_request_id);
  v1::ExtractedFields& fields = *ev.mutable_fields();
  fields.set_intake_channel_detail("open311");
  fields.set_category_hint(code);
  if (lat) {
    fields.mutable_location()->set_lat(*lat);
    fields.mutable_location()->set_lon(*lon);
    fields.mutable_location()->set_datum(v1::DATUM_WGS84);   // the spec's datum
  }
  fields.set_address_text(address);
  fields.set_text(get("description"));
  std::string name = get("last_name") + get("first_name");   // Chinese order: family name first
  if (!get("last_name").empty() && !get("first_name").empty() && get("last_name").front() >= 0 &&
      get("first_name").front() >= 0) {
    name = get("first_name") + " " + get("last_name");   // Latin names: given name first, spaced
  }
  fields.set_reporter_name(name);
  if (const std::string phone = get("phone"); !phone.empty()) fields.set_reporter_phone(text::normalize_phone(phone));
  fields.mutable_reported_at()->set_unix_micros(now_micros);
  fields.mutable_reported_at()->set_utc_offset_minutes(utc_offset_minutes);
  auto& extra = *fields.mutable_extra();
  for (const auto& [k, v] : f) {
    if (v.empty()) continue;
    if (k == "email" || k == "device_id" || k == "account_id" || k == "media_url" || k == "address_id" ||
        k == "jurisdiction_id" || k.starts_with("attribute[")) {
      extra[k] = v;
    }
  }
  extra["service_name"] = svc->service_name;
  return out;
}

}  // namespace gridhub::webform
