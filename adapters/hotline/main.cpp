// gridhub-hotline: imports 12345 work-order exports (CSV in any of the encodings, or .xlsx) into the
// hub through a local outbox.
#include <CLI/CLI.hpp>

#include <iostream>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/drop_folder.hpp"
#include "gridhub/adapter/file_import.hpp"
#include "gridhub/adapter/read_file.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/hotline/hotline_mapping.hpp"
#include "gridhub/hotline/xlsx_reader.hpp"

namespace {

/// [hotline] keys, declared next to the code that reads them.
gridhub::config::Spec hotline_spec() {
  using gridhub::config::Type;
  auto spec = gridhub::adapter::adapter_config_spec();
  spec.push_back({"hotline.encoding", Type::kString, false, "auto | utf-8 | gb18030"});
  spec.push_back({"hotline.utc_offset_minutes", Type::kInteger, false, "the export's local time offset (480 = UTC+8)"});
  spec.push_back({"hotline.columns", Type::kStringMap, false, "our field name -> the export's header name"});
  spec.push_back({"hotline.watch_dir", Type::kString, false, "drop folder to watch (as --watch); relative: to the config file"});
  spec.push_back({"hotline.watch_scan_ms", Type::kInteger, false, "drop folder: scan period in ms (default 1000)"});
  spec.push_back({"hotline.watch_settle_ms", Type::kInteger, false,
                  "drop folder: a file is complete once unchanged this long, in ms (default 2000)"});
  return spec;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhub-hotline: 12345 work-order exports -> gridhub"};
  std::string config_file;
  std::vector<std::string> files;
  bool json = false;
  std::string watch_dir;
  app.add_option("-c,--config", config_file, "adapter configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("files", files, "export files (.csv or .xlsx) to import; none: only deliver what the outbox holds");
  app.add_flag("--json-summary", json, "print the summary as one JSON line");
  app.add_option("--watch", watch_dir, "drop folder: import files dropped here until stopped (overrides hotline.watch_dir)");
  CLI11_PARSE(app, argc, argv);

  gridhub::adapter::AdapterConfig acfg;
  gridhub::hotline::ParseOptions popts;
  gridhub::adapter::DropFolderOptions watch;
  try {
    auto cfg = gridhub::config::Config::load_file(config_file, hotline_spec());
    acfg = gridhub::adapter::adapter_config_from(cfg);
    gridhub::logging::setup("gridhub-hotline", acfg.log_level, acfg.log_format);
    popts.encoding = cfg.get_enum("hotline.encoding", "auto", {"auto", "utf-8", "gb18030"});
    popts.utc_offset_minutes = static_cast<int>(cfg.get_int("hotline.utc_offset_minutes", 480, -720, 840));
    auto columns = gridhub::hotline::ColumnMap::from_config(cfg.get_string_map("hotline.columns"));
    if (!columns) throw gridhub::config::ConfigError(cfg.where("hotline.columns") + ": " + columns.error().detail);
    popts.columns = columns.value();
    popts.adapter_id = acfg.id;
    watch.dir = watch_dir.empty() ? cfg.get_path("hotline.watch_dir") : std::filesystem::path(watch_dir);
    watch.extensions = {".csv", ".xlsx"};
    watch.scan_interval = std::chrono::milliseconds(cfg.get_int("hotline.watch_scan_ms", 1000, 10, 600000));
    watch.settle = std::chrono::milliseconds(cfg.get_int("hotline.watch_settle_ms", 2000, 0, 3600000));
    if (!watch.dir.empty() && !files.empty()) {
      throw gridhub::config::ConfigError("give either export files or a drop folder (--watch / hotline.watch_dir), not both");
    }
  } catch (const std::exception& e) {
    std::cerr << "gridhub-hotline: " << e.what() << "\n";
    return 2;
  }

  const auto& stop = gridhub::adapter::install_stop_signals();
  gridhub::SystemClock clock;
  gridhub::adapter::FileImporter importer(acfg, clock, popts.utc_offset_minutes);
  if (!importer.open()) return 1;
  // Exports come as CSV (any of the encodings) or as the hotline system's .xlsx workbook.
  const auto parse = [&](const std::string& file,
                         const std::string& bytes) -> gridhub::Result<std::vector<gridhub::v1::Event>> {
    auto parsed = ends_with(file, ".xlsx") || ends_with(file, ".XLSX")
                      ? gridhub::hotline::parse_xlsx_export(bytes, file, popts)
                      : gridhub::hotline::parse_export(bytes, file, popts);
    if (!parsed) return parsed.error();
    return std::move(parsed->events);
  };
  if (!watch.dir.empty()) return gridhub::adapter::watch_drop_folder(importer, watch, parse, stop, std::cout);
  for (const auto& file : files) {
    auto bytes = gridhub::adapter::read_whole_file(file);
    if (!bytes) {
      (void)importer.add(file, bytes.error());
      continue;
    }
    (void)importer.add(file, parse(file, bytes.value()));
  }
  return importer.finish(json, stop);
}
