// gridhub-webform (file import): form-builder webhook bodies (JSON lines, with a per-form field map)
// and urlencoded form posts (one per line) into the hub through a local outbox.
//
// gridhub-webform -c FILE serve: the same channel over HTTP — form posts (urlencoded, multipart with
// photos), webhooks with HMAC, the built-in intake page and Open311 GeoReport v2
// (gridhub/webform/form_endpoint.hpp); prints "READY http=HOST:PORT" once it accepts requests.
#include <CLI/CLI.hpp>

#include <iostream>

#include <spdlog/spdlog.h>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/http_adapter.hpp"
#include "gridhub/adapter/file_import.hpp"
#include "gridhub/adapter/http_intake.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/adapter/read_file.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "gridhub/webform/form_endpoint.hpp"
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
  // serve mode
  spec.push_back({"webform.listen", Type::kString, false, "serve: HTTP address host:port (port 0: any free port)"});
  spec.push_back({"webform.path", Type::kString, false, "serve: the form endpoint (POST), default /form"});
  spec.push_back({"webform.page_path", Type::kString, false, "serve: the intake page besides / (GET), default /report"});
  spec.push_back({"webform.progress_path", Type::kString, false, "serve: the 查询进度 page (GET form, POST lookup through the hub), default /progress; empty: off"});
  spec.push_back({"webform.page_title", Type::kString, false, "serve: the intake page's heading"});
  spec.push_back({"webform.communities", Type::kStringArray, false, "serve: the page's 所在社区 choices"});
  spec.push_back({"webform.communities_csv", Type::kString, false, "serve: communities.csv (community_name column) as the choices"});
  spec.push_back({"webform.photo_dir", Type::kString, false, "serve: where photos are stored by SHA-256 (required for serve)"});
  spec.push_back({"webform.photo_max_bytes", Type::kInteger, false, "serve: per photo; larger answers 413"});
  spec.push_back({"webform.max_photos", Type::kInteger, false, "serve: photos per post; more answers 413"});
  spec.push_back({"webform.body_limit_bytes", Type::kInteger, false, "serve: per request (all photos together); larger answers 413"});
  spec.push_back({"webform.webhook_secret", Type::kStringMap, false, "serve: form id -> HMAC-SHA256 secret of its webhook"});
  spec.push_back({"webform.webhook_header", Type::kStringMap, false, "serve: form id -> signature header (default X-Gridhub-Signature)"});
  spec.push_back({"webform.categories", Type::kString, false, "serve: categories.csv, the Open311 services (absent: no Open311)"});
  spec.push_back({"webform.open311_path", Type::kString, false, "serve: Open311 prefix, default /open311/v2"});
  spec.push_back({"webform.open311_api_key", Type::kString, false, "serve: required api_key of Open311 POSTs (absent: none)"});
  return spec;
}

std::string read_config_file(const gridhub::config::Config& cfg, const std::string& key) {
  const auto path = cfg.get_path(key);
  auto bytes = gridhub::adapter::read_whole_file(path.string());
  if (!bytes) throw gridhub::config::ConfigError(cfg.where(key) + ": " + bytes.error().detail);
  return std::move(bytes.value());
}

struct ServeConfig {
  gridhub::adapter::HttpServerOptions http;
  gridhub::webform::ServeOptions serve;
  std::filesystem::path photo_dir;
  std::vector<gridhub::webform::Open311Service> services;
};

ServeConfig serve_config(const gridhub::config::Config& cfg, const std::optional<gridhub::webform::FieldMap>& field_map) {
  using gridhub::config::ConfigError;
  ServeConfig s;
  s.http.listen = cfg.get_string("webform.listen", "127.0.0.1:8080");
  try {
    (void)gridhub::adapter::HttpServer::parse_listen(s.http.listen);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(cfg.where("webform.listen") + ": " + e.what());
  }
  s.http.body_limit = static_cast<std::size_t>(cfg.get_int("webform.body_limit_bytes", 24 << 20, 4096, 1LL << 30));
  auto& o = s.serve;
  o.form_path = cfg.get_string("webform.path", "/form");
  o.page_path = cfg.get_string("webform.page_path", "/report");
  o.open311_prefix = cfg.get_string("webform.open311_path", "/open311/v2");
  o.progress_path = cfg.get_string("webform.progress_path", "/progress");
  if (!o.progress_path.empty() && !o.progress_path.starts_with("/")) {
    throw ConfigError(cfg.where("webform.progress_path") + ": must start with / (or be empty: no progress page)");
  }
  for (const char* key : {"webform.path", "webform.page_path"}) {
    if (!cfg.get_string(key, "/").starts_with("/")) throw ConfigError(cfg.where(key) + ": must start with /");
  }
  if (!o.open311_prefix.empty() && !o.open311_prefix.starts_with("/")) {
    throw ConfigError(cfg.where("webform.open311_path") + ": must start with / (or be empty: no Open311)");
  }
  if (cfg.has("webform.page_title")) o.page_title = cfg.get_string("webform.page_title");
  o.charset = cfg.get_string("webform.charset", "utf-8");
  if (gridhub::webform::form_text_encoding(o.charset).empty()) {
    throw ConfigError(cfg.where("webform.charset") + ": not supported (utf-8, gbk, gb2312, gb18030)");
  }
  o.utc_offset_minutes = static_cast<int>(cfg.get_int("webform.utc_offset_minutes", 480, -720, 840));
  o.photo_max_bytes = static_cast<std::size_t>(cfg.get_int("webform.photo_max_bytes", 8 << 20, 1024, 1LL << 30));
  o.max_photos = static_cast<std::size_t>(cfg.get_int("webform.max_photos", 9, 0, 64));
  if (!cfg.has("webform.photo_dir")) throw ConfigError(cfg.source_name() + ": serve needs webform.photo_dir");
  s.photo_dir = cfg.get_path("webform.photo_dir");
  if (cfg.has("webform.communities")) o.communities = cfg.get_strings("webform.communities");
  if (cfg.has("webform.communities_csv")) {
    const std::string text = read_config_file(cfg, "webform.communities_csv");
    gridhub::text::CsvReader reader(std::string_view(text).starts_with("\xEF\xBB\xBF") ? std::string_view(text).substr(3) : text);
    gridhub::text::CsvRecord rec;
    std::size_t column = std::string::npos;
    if (reader.next(rec)) {
      for (std::size_t i = 0; i < rec.fields.size(); ++i) {
        if (rec.fields[i] == "community_name") column = i;
      }
    }
    if (column == std::string::npos) throw ConfigError(cfg.where("webform.communities_csv") + ": no community_name column");
    while (reader.next(rec)) {
      if (column < rec.fields.size() && !rec.fields[column].empty()) o.communities.push_back(rec.fields[column]);
    }
  }
  const auto secrets = cfg.has("webform.webhook_secret") ? cfg.get_string_map("webform.webhook_secret")
                                                         : std::map<std::string, std::string>{};
  const auto headers = cfg.has("webform.webhook_header") ? cfg.get_string_map("webform.webhook_header")
                                                         : std::map<std::string, std::string>{};
  for (const auto* m : {&secrets, &headers}) {
    for (const auto& [form, v] : *m) {
      if (!field_map || field_map->form(form) == nullptr) {
        throw ConfigError(cfg.where(m == &secrets ? "webform.webhook_secret" : "webform.webhook_header") + ": form " +
                          form + " is not in webform.field_map");
      }
      auto& auth = o.webhooks[form];
      (m == &secrets ? auth.secret : auth.header) = v;
    }
  }
  if (cfg.has("webform.open311_api_key")) o.open311_api_key = cfg.get_string("webform.open311_api_key");
  if (cfg.has("webform.categories")) {
    const std::string text = read_config_file(cfg, "webform.categories");
    auto services = gridhub::webform::load_open311_services(text, cfg.get_path("webform.categories").string());
    if (!services) throw ConfigError(cfg.where("webform.categories") + ": " + services.error().detail);
    s.services = std::move(services.value());
  }
  return s;
}

int serve(const gridhub::adapter::AdapterConfig& acfg, ServeConfig scfg, const std::optional<gridhub::webform::FieldMap>& field_map) {
  namespace ad = gridhub::adapter;
  auto photos = gridhub::webform::PhotoStore::open(scfg.photo_dir);
  if (!photos) {
    std::cerr << "gridhub-webform: webform.photo_dir: " << photos.error().detail << "\n";
    return 2;
  }
  return ad::run_http_adapter(acfg, scfg.http, scfg.serve.utc_offset_minutes, [&](ad::HttpAdapterParts& p, std::string& describe) {
    const std::size_t services = scfg.services.size();
    auto endpoints = std::make_shared<gridhub::webform::FormEndpoints>(
        p.intake, p.counters, p.clock, photos.value(), field_map ? &*field_map : nullptr, std::move(scfg.services), scfg.serve,
        gridhub::webform::random_submission_id, &p.lookup);
    endpoints->install(p.server);
    describe = fmt::format("form {}, page / and {}, {} webhook forms, Open311 {} with {} services, photos in {}",
                           scfg.serve.form_path, scfg.serve.page_path, field_map ? field_map->forms().size() : 0,
                           services ? scfg.serve.open311_prefix : "off", services, scfg.photo_dir.string());
    return std::shared_ptr<void>(endpoints);
  });
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
  auto* serve_cmd = app.add_subcommand("serve", "serve form posts, webhooks, the intake page and Open311 over HTTP ([webform] listen, ...)");
  CLI11_PARSE(app, argc, argv);

  gridhub::adapter::AdapterConfig acfg;
  std::optional<gridhub::webform::FieldMap> field_map;
  gridhub::webform::UrlencodedOptions uo;
  ServeConfig scfg;
  try {
    auto cfg = gridhub::config::Config::load_file(config_file, webform_spec());
    acfg = gridhub::adapter::adapter_config_from(cfg);
    gridhub::logging::setup("gridhub-webform", acfg.log_level, acfg.log_format);
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
    if (*serve_cmd) scfg = serve_config(cfg, field_map);
  } catch (const std::exception& e) {
    std::cerr << "gridhub-webform: " << e.what() << "\n";
    return 2;
  }

  if (*serve_cmd) {
    if (!files.empty()) {
      std::cerr << "gridhub-webform: serve takes no files\n";
      return 2;
    }
    return serve(acfg, std::move(scfg), field_map);
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
