#include "gridhub/adapter/drop_folder.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <thread>
#include <zmq.hpp>

#include "gridhub/adapter/hub_client.hpp"
#include "gridhub/adapter/read_file.hpp"

namespace gridhub::adapter {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool is_drop_candidate(const std::string& filename, const std::vector<std::string>& extensions) {
  if (filename.empty() || filename[0] == '.' || filename.rfind("~$", 0) == 0) return false;
  const std::string l = lower(filename);
  for (const char* busy : {".part", ".tmp", ".crdownload"}) {
    if (ends_with(l, busy)) return false;
  }
  return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) { return ends_with(l, e); });
}

std::vector<fs::path> DropFolderScanner::scan(std::int64_t now_ms) {
  std::vector<fs::path> ready;
  std::map<std::string, Seen> still;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code fe;
    if (!it->is_regular_file(fe) || !is_drop_candidate(name, options_.extensions)) continue;
    const auto size = it->file_size(fe);
    if (fe) continue;   // gone between listing and stat
    const auto mtime = it->last_write_time(fe);
    if (fe) continue;
    auto prev = seen_.find(name);
    Seen s{size, mtime, now_ms};
    if (prev != seen_.end() && prev->second.size == size && prev->second.mtime == mtime) {
      s.since_ms = prev->second.since_ms;
      s.held = prev->second.held;
    }
    if (!s.held && now_ms - s.since_ms >= options_.settle.count()) ready.push_back(it->path());
    still.emplace(name, s);
  }
  if (ec) spdlog::error("{}: cannot list the drop folder: {}", options_.dir.string(), ec.message());
  seen_ = std::move(still);
  std::sort(ready.begin(), ready.end());
  return ready;
}

void DropFolderScanner::hold(const fs::path& file) {
  auto it = seen_.find(file.filename().string());
  if (it != seen_.end()) it->second.held = true;
}

Result<fs::path> move_into(const fs::path& file, const fs::path& folder) {
  fs::path dest = folder / file.filename();
  for (int n = 2; fs::exists(dest); ++n) {
    dest = folder / fmt::format("{}-{}{}", file.stem().string(), n, file.extension().string());
  }
  std::error_code ec;
  fs::rename(file, dest, ec);
  if (ec) return Error(Errc::io_failed, fmt::format("{}: cannot move to {}: {}", file.string(), folder.string(), ec.message()));
  return dest;
}

std::string format_report(const FileOutcome& o, const std::string& verdict, std::uint64_t hub_accepted,
                          std::uint64_t hub_duplicates, std::uint64_t hub_dead_lettered) {
  std::string r = fmt::format("file: {}\noutcome: {}\n", fs::path(o.file).filename().string(), verdict);
  if (!o.error.empty()) r += fmt::format("error: {}\n", o.error);
  r += fmt::format("records read: {}\nrecords rejected: {}\nnew in outbox: {}\nalready known to the outbox: {}\n",
                   o.records, o.rejected.size(), o.queued, o.already_known);
  if (o.corrected > 0) r += fmt::format("corrected (re-sent after an earlier rejection): {}\n", o.corrected);
  r += fmt::format("hub accepted: {}\nhub already had: {}\nhub dead-lettered: {}\n", hub_accepted, hub_duplicates,
                   hub_dead_lettered);
  for (const auto& rej : o.rejected) {
    r += fmt::format("rejected {}: {} in '{}': {}\n", rej.location, rej.reason_code, rej.field, rej.detail);
  }
  return r;
}

int watch_drop_folder(FileImporter& importer, const DropFolderOptions& options, const ParseFn& parse,
                      const std::atomic<bool>& stop, std::ostream& out) {
  std::error_code ec;
  for (const auto& d : {options.dir, options.dir / "done", options.dir / "failed"}) {
    fs::create_directories(d, ec);
    if (ec) {
      spdlog::critical("{}: cannot create the drop folder: {}", d.string(), ec.message());
      return 2;
    }
  }
  zmq::context_t zmq(1);
  HubClient client(zmq, importer.outbox(), importer.config().client);
  const auto keep_going = [&] { return !stop.load(); };
  // What a previous run left in the outbox goes first.
  if (auto s = client.drain(keep_going); !s) {
    spdlog::critical("outbox: {}", s.error().message());
    return 1;
  }
  DropFolderScanner scanner(options);
  spdlog::info("watching {} (scan every {} ms, complete after {} ms unchanged)", options.dir.string(),
               options.scan_interval.count(), options.settle.count());
  out << "WATCHING " << options.dir.string() << std::endl;

  while (!stop.load()) {
    const auto next_scan = steady_ms() + options.scan_interval.count();
    for (const auto& file : scanner.scan(steady_ms())) {
      if (stop.load()) break;
      auto bytes = read_whole_file(file.string());
      auto outcome = importer.add(file.string(), bytes ? parse(file.string(), bytes.value())
                                                       : Result<std::vector<gridhub::v1::Event>>(bytes.error()));
      if (outcome.retry) {
        spdlog::warn("{}: left in the folder, tried again later", file.string());
        scanner.forget(file);
        continue;
      }
      // Deliver before moving, so done/ means the hub has the records.
      auto stats = client.drain(keep_going);
      if (!stats) {
        spdlog::critical("outbox: {}", stats.error().message());
        return 1;
      }
      auto left = importer.outbox().pending_count();
      if (stop.load() && (!left || left.value() > 0)) break;   // stays in the folder: imported again next start
      const bool failed = outcome.failed();
      auto dest = move_into(file, options.dir / (failed ? "failed" : "done"));
      if (!dest) {
        spdlog::error("{}; left in the folder until it changes", dest.error().message());
        scanner.hold(file);
        continue;
      }
      const auto report_file = dest.value().string() + ".report.txt";
      std::ofstream rep(report_file, std::ios::binary | std::ios::trunc);
      rep << format_report(outcome, failed ? "failed" : "done", stats->accepted, stats->duplicates, stats->dead_lettered);
      rep.close();   // complete on disk before the verdict is announced
      if (!rep) spdlog::error("{}: cannot write the report", report_file);
      spdlog::info("{}: {} -> {}", file.filename().string(), failed ? "failed" : "done", dest.value().string());
      out << (failed ? "FAILED " : "DONE ") << dest.value().filename().string() << std::endl;
    }
    while (!stop.load() && steady_ms() < next_scan) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

}  // namespace gridhub::adapter
