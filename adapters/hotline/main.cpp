// gridhub-hotline: imports 12345 work-order exports into the hub through a local outbox.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/hub_client.hpp"
#include "gridhub/adapter/outbox.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/hotline/hotline_mapping.hpp"
#include "gridhub/hotline/xlsx_reader.hpp"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

/// [hotline] keys, declared next to the code that reads them.
gridhub::config::Spec hotline_spec() {
  using gridhub::config::Type;
  auto spec = gridhub::adapter::adapter_config_spec();
  spec.push_back({"hotline.encoding", Type::kString, false, "auto | utf-8 | gb18030"});
  spec.push_back({"hotline.utc_offset_minutes", Type::kInteger, false, "the export's local time offset (480 = UTC+8)"});
  spec.push_back({"hotline.columns", Type::kStringMap, false, "our field name -> the export's header name"});
  return spec;
}

struct Summary {
  std::size_t files = 0;
  std::size_t file_errors = 0;
  std::size_t rows = 0;
  std::size_t queued = 0;
  std::size_t already_known = 0;
  std::size_t outbox_full = 0;
  std::map<std::string, std::size_t> rejected;   // by reason
};

std::string json_summary(const Summary& s, const gridhub::adapter::SendStats& st, std::size_t pending) {
  std::string rej;
  std::map<std::string, std::size_t> all = s.rejected;
  for (const auto& [k, v] : st.refused) all["hub_" + k] += v;
  for (const auto& [k, v] : all) rej += fmt::format("{}\"{}\":{}", rej.empty() ? "" : ",", k, v);
  return fmt::format(
      "{{\"files\":{},\"file_errors\":{},\"rows\":{},\"sent\":{},\"already_known\":{},\"dead_lettered\":{},"
      "\"outbox_full\":{},\"pending\":{},\"reconnects\":{},\"unreachable_waits\":{},\"rejected\":{{{}}}}}",
      s.files, s.file_errors, s.rows, st.accepted, s.already_known + st.duplicates, st.dead_lettered, s.outbox_full,
      pending, st.reconnects, st.unreachable_waits, rej);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhub-hotline: 12345 work-order exports -> gridhub"};
  std::string config_file;
  std::vector<std::string> files;
  bool json = false;
  app.add_option("-c,--config", config_file, "adapter configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("files", files, "export files (.csv or .xlsx) to import; none: only deliver what the outbox holds");
  app.add_flag("--json-summary", json, "print the summary as one JSON line");
  CLI11_PARSE(app, argc, argv);

  gridhub::adapter::AdapterConfig acfg;
  gridhub::hotline::ParseOptions popts;
  try {
    auto cfg = gridhub::config::Config::load_file(config_file, hotline_spec());
    acfg = gridhub::adapter::adapter_config_from(cfg);
    gridhub::logging::setup("gridhub-hotline", acfg.log_level);
    popts.encoding = cfg.get_enum("hotline.encoding", "auto", {"auto", "utf-8", "gb18030"});
    popts.utc_offset_minutes = static_cast<int>(cfg.get_int("hotline.utc_offset_minutes", 480, -720, 840));
    auto columns = gridhub::hotline::ColumnMap::from_config(cfg.get_string_map("hotline.columns"));
    if (!columns) throw gridhub::config::ConfigError(cfg.where("hotline.columns") + ": " + columns.error().detail);
    popts.columns = columns.value();
    popts.adapter_id = acfg.id;
  } catch (const std::exception& e) {
    std::cerr << "gridhub-hotline: " << e.what() << "\n";
    return 2;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  gridhub::SystemClock clock;
  auto outbox = gridhub::adapter::Outbox::open(acfg.outbox, acfg.max_pending, clock);
  if (!outbox) {
    spdlog::critical("cannot open outbox: {}", outbox.error().message());
    return 1;
  }

  Summary summary;
  for (const auto& file : files) {
    ++summary.files;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      spdlog::error("{}: cannot open the file; skipped", file);
      ++summary.file_errors;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    // Exports come as CSV (any of the encodings) or as the hotline system's .xlsx workbook.
    const bool xlsx = file.size() > 5 && file.compare(file.size() - 5, 5, ".xlsx") == 0;
    auto parsed = xlsx ? gridhub::hotline::parse_xlsx_export(bytes, file, popts)
                       : gridhub::hotline::parse_export(bytes, file, popts);
    if (!parsed) {
      spdlog::error("{}", parsed.error().message());
      ++summary.file_errors;
      continue;
    }
    auto& events = parsed->events;
    const auto now = clock.now_micros();
    for (auto& ev : events) {
      ev.mutable_received_at()->set_unix_micros(now);
      ev.mutable_received_at()->set_utc_offset_minutes(popts.utc_offset_minutes);
    }
    auto results = outbox->enqueue(events);
    if (!results) {
      spdlog::critical("outbox {}: {}", acfg.outbox.string(), results.error().message());
      return 1;
    }
    summary.rows += events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
      switch (results.value()[i]) {
        case gridhub::adapter::EnqueueResult::kQueued:
          ++summary.queued;
          if (events[i].has_rejection()) {
            const auto& r = events[i].rejection();
            ++summary.rejected[r.reason_code()];
            spdlog::warn("{}: rejected ({} in '{}'): {}", r.location(), r.reason_code(), r.field(), r.detail());
          }
          break;
        case gridhub::adapter::EnqueueResult::kAlreadyKnown:
          ++summary.already_known;
          break;
        case gridhub::adapter::EnqueueResult::kFull:
          ++summary.outbox_full;
          break;
      }
    }
    spdlog::info("{}: {} rows ({}), {} rejected", file, events.size(), parsed->encoding, parsed->rejected_rows);
  }
  if (summary.outbox_full > 0) {
    spdlog::error("outbox full: {} rows were not taken (adapter.max_pending = {}); they stay in their files — "
                  "import them again once the hub has caught up", summary.outbox_full, acfg.max_pending);
  }

  zmq::context_t zmq(1);
  gridhub::adapter::HubClient client(zmq, outbox.value(), acfg.client);
  auto stats = client.drain([] { return !g_stop.load(); });
  if (!stats) {
    spdlog::critical("outbox {}: {}", acfg.outbox.string(), stats.error().message());
    return 1;
  }
  auto pending = outbox->pending_count();
  const std::size_t left = pending ? pending.value() : 0;

  if (json) {
    std::cout << json_summary(summary, stats.value(), left) << std::endl;
  } else {
    std::size_t rejected = 0;
    for (const auto& [k, v] : summary.rejected) rejected += v;
    std::cout << fmt::format("files {} ({} unreadable), rows {}\n", summary.files, summary.file_errors, summary.rows);
    std::cout << fmt::format("sent {} new, already known {}, rejected {}", stats->accepted,
                             summary.already_known + stats->duplicates, rejected);
    for (const auto& [k, v] : summary.rejected) std::cout << fmt::format(" [{} {}]", k, v);
    for (const auto& [k, v] : stats->refused) std::cout << fmt::format(" [hub refused {} {}]", k, v);
    std::cout << "\n";
    if (left > 0) std::cout << fmt::format("{} events still pending in the outbox (sent on the next run)\n", left);
  }
  if (left > 0) return 3;
  return summary.file_errors > 0 ? 1 : 0;
}
