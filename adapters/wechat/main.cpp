// gridhub-wechat (file import): residents' group-chat exports (MemoTrace CSV and TXT) and saved
// Official Account callback bodies (*.xml) into the hub through a local outbox. A location message
// followed within 10 minutes by a text from the same sender gives that text its coordinates.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/file_import.hpp"
#include "gridhub/adapter/read_file.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/wechat/location_pairing.hpp"
#include "gridhub/wechat/memotrace.hpp"
#include "gridhub/wechat/oa_message.hpp"

namespace {

namespace v1 = gridhub::v1;

gridhub::config::Spec wechat_spec() {
  using gridhub::config::Type;
  auto spec = gridhub::adapter::adapter_config_spec();
  spec.push_back({"wechat.utc_offset_minutes", Type::kInteger, false, "local time of the exports (480 = UTC+8)"});
  spec.push_back({"wechat.location_window_s", Type::kInteger, false, "a location then a text within this many seconds belong together"});
  return spec;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhub-wechat: WeChat chat exports and Official Account messages -> gridhub"};
  std::string config_file;
  std::vector<std::string> files;
  bool json = false;
  app.add_option("-c,--config", config_file, "adapter configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("files", files, "MemoTrace exports (.csv, .txt) and callback bodies (.xml); none: only deliver the outbox");
  app.add_flag("--json-summary", json, "print the summary as one JSON line");
  CLI11_PARSE(app, argc, argv);

  gridhub::adapter::AdapterConfig acfg;
  int offset = 480;
  std::int64_t window_s = 600;
  try {
    auto cfg = gridhub::config::Config::load_file(config_file, wechat_spec());
    acfg = gridhub::adapter::adapter_config_from(cfg);
    gridhub::logging::setup("gridhub-wechat", acfg.log_level);
    offset = static_cast<int>(cfg.get_int("wechat.utc_offset_minutes", 480, -720, 840));
    window_s = cfg.get_int("wechat.location_window_s", 600, 0, 86400);
  } catch (const std::exception& e) {
    std::cerr << "gridhub-wechat: " << e.what() << "\n";
    return 2;
  }

  const auto& stop = gridhub::adapter::install_stop_signals();
  gridhub::SystemClock clock;
  gridhub::adapter::FileImporter importer(acfg, clock, offset);
  if (!importer.open()) return 1;

  // Parse everything first: a location and its text may sit in different callback files.
  std::vector<std::pair<std::string, gridhub::Result<std::vector<v1::Event>>>> parsed;
  for (const auto& file : files) {
    auto bytes = gridhub::adapter::read_whole_file(file);
    if (!bytes) {
      parsed.emplace_back(file, bytes.error());
      continue;
    }
    std::vector<v1::Event> events;
    if (ends_with(file, ".xml")) {
      gridhub::wechat::OaOptions oo;
      oo.adapter_id = acfg.id;
      oo.utc_offset_minutes = offset;
      events.push_back(std::move(gridhub::wechat::parse_oa_message(bytes.value(), file, oo).event));
    } else {
      gridhub::wechat::ExportOptions eo;
      eo.adapter_id = acfg.id;
      eo.utc_offset_minutes = offset;
      gridhub::wechat::ExportOutput out;
      if (ends_with(file, ".csv")) {
        auto r = gridhub::wechat::parse_memotrace_csv(bytes.value(), file, eo);
        if (!r) {
          parsed.emplace_back(file, r.error());
          continue;
        }
        out = std::move(r.value());
      } else {
        out = gridhub::wechat::parse_memotrace_txt(bytes.value(), file, eo);
      }
      for (auto& k : out.events) events.push_back(std::move(k.event));
    }
    parsed.emplace_back(file, std::move(events));
  }
  // Pair locations with texts in the order things happened, across all files.
  std::vector<v1::Event*> timeline;
  for (auto& [file, r] : parsed) {
    if (!r) continue;
    for (auto& ev : r.value()) timeline.push_back(&ev);
  }
  std::stable_sort(timeline.begin(), timeline.end(), [](const v1::Event* a, const v1::Event* b) {
    return a->fields().reported_at().unix_micros() < b->fields().reported_at().unix_micros();
  });
  gridhub::wechat::LocationPairer pairer(window_s * 1000000);
  for (auto* ev : timeline) pairer.feed(*ev);

  for (auto& [file, r] : parsed) importer.add(file, std::move(r));
  return importer.finish(json, stop);
}
