#include "gridhub/webform/jinshuju.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "gridhub/text/datetime.hpp"
#include "gridhub/text/phone.hpp"

namespace gridhub::webform {
namespace {

namespace json = boost::json;

constexpr std::string_view kContentType = "application/json";

void reject(v1::Event& event, std::string_view reason, std::string_view field, std::string detail,
            const std::string& location) {
  auto* r = event.mutable_rejection();
  r->set_reason_code(std::string(reason));
  r->set_field(std::string(field));
  r->set_detail(std::move(detail));
  r->set_location(location);
}

/// `"key":` followed by a JSON string or integer in raw text; empty when absent or cut short.
std::string scan_scalar(std::string_view raw, std::string_view key) {
  const std::string needle = fmt::format("\"{}\"", key);
  for (std::size_t at = raw.find(needle); at != std::string_view::npos; at = raw.find(needle, at + 1)) {
    std::string_view rest = raw.substr(at + needle.size());
    const std::size_t colon = rest.find_first_not_of(" \t");
    if (colon == std::string_view::npos || rest[colon] != ':') continue;
    rest.remove_prefix(colon + 1);
    rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t")));
    if (rest.starts_with('"')) {
      const std::size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) return {};
      const std::string_view v = rest.substr(1, close - 1);
      // Ids are plain ASCII; an escape or other bytes are not ours to guess at.
      for (const char c : v) {
        if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) return {};
      }
      return std::string(v);
    }
    std::size_t n = 0;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    // Digits running into the end of the text may be a cut number: not trusted.
    if (n == 0 || n == rest.size()) return {};
    return std::string(rest.substr(0, n));
  }
  return {};
}

/// A JSON scalar as text ("" for null); options map choice codes to labels.
std::string scalar_text(const json::value& v, const FormField* field) {
  if (const json::string* s = v.if_string()) {
    std::string text(s->data(), s->size());
    if (field != nullptr) {
      if (const auto it = field->options.find(text); it != field->options.end()) return it->second;
    }
    return text;
  }
  if (v.is_null()) return {};
  if (const bool* b = v.if_bool()) return *b ? "true" : "false";
  return json::serialize(v);  // numbers, and objects we have no slot for
}

std::string value_text(const json::value& v, const FormField* field) {
  if (const json::array* a = v.if_array()) {
    std::string out;
    for (const json::value& item : *a) {
      std::string text = scalar_text(item, field);
      if (text.empty()) continue;
      if (!out.empty()) out += '\n';
      out += text;
    }
    return out;
  }
  return scalar_text(v, field);
}

void set_canonical(v1::ExtractedFields& fields, std::string_view canonical, std::string value) {
  if (canonical == "caller_name") {
    fields.set_reporter_name(std::move(value));
  } else if (canonical == "caller_phone") {
    fields.set_reporter_phone(text::normalize_phone(value));
  } else if (canonical == "description") {
    fields.set_text(std::move(value));
  } else if (canonical == "address") {
    fields.set_address_text(std::move(value));
  } else if (canonical == "category_hint") {
    fields.set_category_hint(std::move(value));
  } else if (canonical == "community_hint") {
    fields.set_community_hint(std::move(value));
  } else {
    (*fields.mutable_extra())[std::string(canonical)] = std::move(value);
  }
}

std::string_view string_or_empty(const json::object& o, std::string_view key) {
  if (const json::value* v = o.if_contains(key)) {
    if (const json::string* s = v->if_string()) return {s->data(), s->size()};
  }
  return {};
}

}  // namespace

Result<FieldMap> FieldMap::from_json(std::string_view text, const std::string& source_name) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return Error(Errc::config_invalid, fmt::format("{}: not valid JSON: {}", source_name, ec.message()));
  const json::object* top = root.if_object();
  const json::value* forms_value = top != nullptr ? top->if_contains("forms") : nullptr;
  const json::object* forms = forms_value != nullptr ? forms_value->if_object() : nullptr;
  if (forms == nullptr) return Error(Errc::config_invalid, fmt::format("{}: forms: expected an object", source_name));

  FieldMap map;
  for (const auto& [form_id, form_value] : *forms) {
    const std::string path = fmt::format("forms.{}", std::string_view(form_id));
    const json::object* form = form_value.if_object();
    if (form == nullptr) return Error(Errc::config_invalid, fmt::format("{}: {}: expected an object", source_name, path));
    FormSpec spec;
    spec.form_name = string_or_empty(*form, "form_name");
    const json::value* fields_value = form->if_contains("fields");
    const json::object* fields = fields_value != nullptr ? fields_value->if_object() : nullptr;
    if (fields == nullptr) {
      return Error(Errc::config_invalid, fmt::format("{}: {}.fields: expected an object", source_name, path));
    }
    for (const auto& [field_id, field_value] : *fields) {
      const std::string field_path = fmt::format("{}.fields.{}", path, std::string_view(field_id));
      const json::object* f = field_value.if_object();
      const json::value* canonical = f != nullptr ? f->if_contains("canonical") : nullptr;
      if (canonical == nullptr || !canonical->is_string() || canonical->get_string().empty()) {
        return Error(Errc::config_invalid,
                     fmt::format("{}: {}.canonical: expected a non-empty string", source_name, field_path));
      }
      FormField field;
      field.label = string_or_empty(*f, "label");
      field.type = string_or_empty(*f, "type");
      field.canonical = std::string(canonical->get_string());
      if (const json::value* options = f->if_contains("options")) {
        const json::object* o = options->if_object();
        if (o == nullptr) {
          return Error(Errc::config_invalid, fmt::format("{}: {}.options: expected an object", source_name, field_path));
        }
        for (const auto& [code, label] : *o) {
          if (!label.is_string()) {
            return Error(Errc::config_invalid, fmt::format("{}: {}.options.{}: expected a string", source_name,
                                                           field_path, std::string_view(code)));
          }
          field.options.emplace(std::string(code), std::string(label.get_string()));
        }
      }
      spec.fields.emplace(std::string(field_id), std::move(field));
    }
    map.forms_.emplace(std::string(form_id), std::move(spec));
  }
  return map;
}

const FormSpec* FieldMap::form(std::string_view form_id) const {
  const auto it = forms_.find(form_id);
  return it == forms_.end() ? nullptr : &it->second;
}

KeyedEvent parse_jinshuju_push(std::string_view body, const FieldMap& field_map, const std::string& source_name,
                               std::size_t line, const JinshujuOptions& options) {
  const std::string location = line == 0 ? source_name : fmt::format("{}:{}", source_name, line);
  KeyedEvent out;
  v1::Event& event = out.event;
  event.set_channel(v1::CHANNEL_WEBFORM);
  event.set_adapter_id(options.adapter_id);
  event.set_source_name(source_name);
  event.set_content_type(std::string(kContentType));
  event.set_original_payload(std::string(body));

  // serial_number is unique only within its form, so the hub's key needs both.
  const auto set_key = [&](std::string_view form_id, const std::string& serial) {
    out.record_key = serial.empty() ? location : serial;
    event.set_source_key(serial.empty() || form_id.empty() ? location : fmt::format("{}:{}", form_id, serial));
  };

  boost::system::error_code ec;
  const json::value root = json::parse(body, ec);
  const json::object* top = ec ? nullptr : root.if_object();
  if (top == nullptr) {
    // A truncated push still names itself before the cut: keep its identity for the dead letter.
    set_key(scan_scalar(body, "form"), scan_scalar(body, "serial_number"));
    reject(event, kReasonBadJson, "",
           ec ? fmt::format("not valid JSON ({}); truncated body?", ec.message()) : "the body is not a JSON object",
           location);
    return out;
  }

  const std::string_view form_id = string_or_empty(*top, "form");
  const json::value* entry_value = top->if_contains("entry");
  const json::object* entry = entry_value != nullptr ? entry_value->if_object() : nullptr;
  std::string serial;
  if (entry != nullptr) {
    if (const json::value* s = entry->if_contains("serial_number")) {
      if (s->is_int64() || s->is_uint64() || (s->is_string() && !s->get_string().empty())) serial = scalar_text(*s, nullptr);
    }
  }
  set_key(form_id, serial);

  const FormSpec* spec = field_map.form(form_id);
  v1::ExtractedFields& fields = *event.mutable_fields();
  std::string_view form_name = string_or_empty(*top, "form_name");
  if (form_name.empty() && spec != nullptr) form_name = spec->form_name;
  if (!form_name.empty()) fields.set_intake_channel_detail(std::string(form_name));

  std::string_view created_at;
  if (entry != nullptr) {
    for (const auto& [key_view, value] : *entry) {
      const std::string_view key(key_view);
      if (key == "serial_number" || key == "info_remote_ip") continue;
      if (key == "created_at") {
        if (const json::string* s = value.if_string()) created_at = {s->data(), s->size()};
        continue;
      }
      const FormField* field = nullptr;
      if (spec != nullptr) {
        if (const auto it = spec->fields.find(key); it != spec->fields.end()) field = &it->second;
      }
      std::string text = value_text(value, field);
      if (text.empty()) continue;
      if (field != nullptr) {
        set_canonical(fields, field->canonical, std::move(text));
      } else {
        (*fields.mutable_extra())[std::string(key)] = std::move(text);
      }
    }
  }
  Result<text::ParsedTime> time = text::parse_datetime(created_at, 0);
  if (time.ok()) {
    fields.mutable_reported_at()->set_unix_micros(time->unix_micros);
    fields.mutable_reported_at()->set_utc_offset_minutes(time->utc_offset_minutes);
  }

  if (form_id.empty()) {
    reject(event, kReasonMissingField, "form", "form is missing or not a string", location);
  } else if (spec == nullptr) {
    reject(event, kReasonUnknownForm, "form", "the field map has no such form; add it to field_map.json", location);
  } else if (entry == nullptr) {
    reject(event, kReasonMissingField, "entry", "entry is missing or not an object", location);
  } else if (serial.empty()) {
    reject(event, kReasonMissingField, "serial_number", "entry.serial_number is missing or not a number", location);
  } else if (created_at.empty()) {
    reject(event, kReasonBadDate, "created_at", "entry.created_at is missing or empty", location);
  } else if (!time.ok()) {
    reject(event, kReasonBadDate, "created_at", fmt::format("entry.created_at: {}", time.error().detail), location);
  }
  return out;
}

std::vector<KeyedEvent> parse_jinshuju_file(std::string_view file_bytes, const FieldMap& field_map,
                                            const std::string& source_name, const JinshujuOptions& options) {
  std::vector<KeyedEvent> out;
  for (const RecordLine& line : split_record_lines(file_bytes)) {
    out.push_back(parse_jinshuju_push(line.text, field_map, source_name, line.number, options));
  }
  return out;
}

}  // namespace gridhub::webform
