#pragma once
/// jinshuju (金数据)-style form webhooks -> gridhub.v1.Event, one per submission.
///
/// Body: {"form": id, "form_name": ..., "entry": {"serial_number": N, "field_1": ..., ...,
/// "created_at": "...Z", ...}}. Which field_N means what differs per form and lives in the
/// deployment's field map (FieldMap, the `field_map.json` format):
///   {"forms": {"<form id>": {"form_name": ..., "fields": {"field_N": {"label": ..., "type": ...,
///     "canonical": ..., "options": {"<code>": "<label>", ...}}}}}}
/// Canonical names with a dedicated slot in ExtractedFields:
///   caller_name -> reporter_name       caller_phone -> reporter_phone (normalized)
///   description -> text                address      -> address_text
///   category_hint -> category_hint     community_hint -> community_hint
/// Choice values are option codes and are replaced by their labels; a code the map does not know
/// is kept as written. Any other canonical name (media_urls, wants_reply, ...) goes to
/// extra[canonical]; entry keys the map does not describe go to extra under their own key. Array
/// values (attachments, multiple choice) are joined with '\n'.
/// Entry metadata: created_at (UTC) -> reported_at; updated_at, creator_name, info_platform ->
/// extra; info_remote_ip is dropped (personal data with no PII-tagged slot). form_name ->
/// intake_channel_detail.
///
/// Identity: record_key = serial_number (per form), source_key = "<form>:<serial_number>". A body
/// that is not valid JSON (a truncated push) is still an Event with a bad_json rejection; its form
/// and serial_number are recovered by scanning the raw text when they precede the cut.
/// Signatures (HMAC) are not checked here.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/webform/record.hpp"

namespace gridhub::webform {

struct FormField {
  std::string label;                          // the question as the citizen saw it
  std::string type;                           // jinshuju field type ("single_choice", ...)
  std::string canonical;                      // our name for it (see above)
  std::map<std::string, std::string> options;  // option code -> label (choice fields)
};

struct FormSpec {
  std::string form_name;
  std::map<std::string, FormField, std::less<>> fields;  // by entry key ("field_3")
};

/// The per-form field map. Loaded at start-up: errors name the file and the key path.
class FieldMap {
 public:
  /// Parses the field_map.json format. Unknown keys besides "forms" are ignored (the file carries
  /// notes for humans); a form without "fields", a field without a string "canonical", or a
  /// non-string option label is Errc::config_invalid naming e.g. "forms.Xk3pQv.fields.field_3".
  static Result<FieldMap> from_json(std::string_view json, const std::string& source_name);

  /// The form's spec, or null when the map does not know the form.
  const FormSpec* form(std::string_view form_id) const;
  const std::map<std::string, FormSpec, std::less<>>& forms() const noexcept { return forms_; }

 private:
  std::map<std::string, FormSpec, std::less<>> forms_;
};

struct JinshujuOptions {
  std::string adapter_id;
};

/// Parses one webhook body. `source_name` is the endpoint or file; `line` (1-based, 0 for an HTTP
/// body) makes the rejection location "<source_name>:<line>". Never fails: problems are the
/// Event's rejection (bad_json; unknown_form, field "form"; missing_field "serial_number" /
/// "entry"; bad_date "created_at").
KeyedEvent parse_jinshuju_push(std::string_view body, const FieldMap& field_map, const std::string& source_name,
                               std::size_t line, const JinshujuOptions& options);

/// A JSONL file of webhook bodies (one per line, blank lines skipped): one KeyedEvent per line.
std::vector<KeyedEvent> parse_jinshuju_file(std::string_view file_bytes, const FieldMap& field_map,
                                            const std::string& source_name, const JinshujuOptions& options);

}  // namespace gridhub::webform
