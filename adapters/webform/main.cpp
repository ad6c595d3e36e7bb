// gridhub-webform (file import): form-builder webhook bodies (JSON lines, with a per-form field map)
// and urlencoded form posts (one per line) into the hub through a local outbox.
#include <CLI/CLI.hpp>

#include <iostream>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/file_import.hpp"
#include "gridhub/adapter/read_file.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/webform/jinshuju.hpp"
#include "gridhub/webform/urlencoded.hpp"

namespace {

namespace v1 = gridhub::v1;

gridhub::config::Spec webform_spec() {
  using gridhub::config::Type;
  auto spec = gridhub::adapter::adapter_config_spec();
  spec.push_back({"webform.field_map", Type::kString, false, "the forms' field map (JSON) for webhook bodies"});
  spec.push_back({"webform.charset", Type::kString, false, "charset of urlencoded posts that do not declare one"});
  spec.push_back({"webform.utc_offset_minutes", Type::kInteger, false, "local time of posts without an offset"});
  return spec;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class Keyed>
std::vector<v1::Event> events_of(std::vector<Keyed>&& keyed) {
  std::vector<v1::Event> out;
  out.reserve(keyed.size());
  for (auto& k : keyed) out.push_back(std::move(k.event));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhub-webform: form-builder webhooks and form posts -> gridhub"};
  std::string config_file;
  std::vector<std::string> files;
  bool json = false;
  app.add_option("-c,--config", config_file, "adapter configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("files", files, "webhook bodies (.jsonl) and urlencoded posts (other files, one per line)");
  app.add_flag("--json-summary", json, "print the summary as one JSON line");
  CLI11_PARSE(app, argc, argv);

  gridhub::adapter::AdapterConfig acfg;
  std::optional<gridhub::webform::FieldMap> field_map;
  gridhub::webform::UrlencodedOptions uo;
  try {
    auto cfg = gridhub::config::Config::load_file(config_file, webform_spec());
    acfg = gridhub::adapter::adapter_config_from(cfg);
    gridhub::logging::setup("gridhub-webform", acfg.log_level);
    uo.adapter_id = acfg.id;
    uo.charset = cfg.get_string("webform.charset", "utf-8");
    uo.utc_offset_minutes = static_cast<int>(cfg.get_int("webform.utc_offset_minutes", 480, -720, 840));
    if (cfg.has("webform.field_map")) {
      const auto path = cfg.get_path("webform.field_map");
      auto bytes = gridhub::adapter::read_whole_file(path.string());
      if (!bytes) throw gridhub::config::ConfigError(cfg.where("webform.field_map") + ": " + bytes.error().detail);
      auto fm = gridhub::webform::FieldMap::from_json(bytes.value(), path.string());
      if (!fm) throw gridhub::config::ConfigError(cfg.where("webform.field_map") + ": " + fm.error().detail);
      field_map.emplace(std::move(fm.value()));
    }
  } catch (const std::exception& e) {
    std::cerr << "gridhub-webform: " << e.what() << "\n";
    return 2;
  }

  const auto& stop = gridhub::adapter::install_stop_signals();
  gridhub::SystemClock clock;
  gridhub::adapter::FileImporter importer(acfg, clock, uo.utc_offset_minutes);
  if (!importer.open()) return 1;
  for (const auto& file : files) {
    auto bytes = gridhub::adapter::read_whole_file(file);
    if (!bytes) {
      importer.add(file, bytes.error());
      continue;
    }
    if (ends_with(file, ".jsonl") || ends_with(file, ".ndjson")) {
      if (!field_map) {
        importer.add(file, gridhub::Error(gridhub::Errc::config_invalid,
                                          file + ": webhook bodies need webform.field_map in the adapter config"));
        continue;
      }
      gridhub::webform::JinshujuOptions jo;
      jo.adapter_id = acfg.id;
      importer.add(file, events_of(gridhub::webform::parse_jinshuju_file(bytes.value(), *field_map, file, jo)));
    } else {
      importer.add(file, events_of(gridhub::webform::parse_urlencoded_file(bytes.value(), file, uo)));
    }
  }
  return importer.finish(json, stop);
}
