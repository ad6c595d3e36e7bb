#pragma once
/// Progress of a long command on a terminal: "verify: 1.2M / 3.0M records (40%), 850k/s, ETA 0:02".
///
/// Drawn on one line (carriage return, no scrolling) at most every 200 ms, only when the stream is a
/// terminal: piped or redirected output, CI logs and tests stay quiet. Shared by every long gridhubctl
/// command (verify, replay, state, reroute, report, rebuild-projection), which take a `Progress*`
/// (nullptr: none) and call `update` per record; the call is a counter check between redraws.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "gridhub/common/clock.hpp"

namespace gridhub {

class Progress {
 public:
  /// Reports to `out` only if it is a terminal. `label` names the command ("verify").
  static Progress on_terminal(std::FILE* out, std::string label);

  /// Reports to `out` whatever it is (tests; `out` nullptr: never). `clock` must outlive this.
  Progress(std::FILE* out, std::string label, const Clock& clock = system_clock());
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  Progress(Progress&&) = default;
  ~Progress();

  bool enabled() const { return out_ != nullptr; }
  /// What "done" counts up to (0: unknown; then no percentage and no ETA).
  void set_total(std::uint64_t total) { total_ = total; }
  /// `done` records so far. Cheap between redraws.
  void update(std::uint64_t done) {
    if (out_ == nullptr || ++calls_ < kCheckEvery) return;
    calls_ = 0;
    redraw(done, false);
  }
  /// Draws the final figures and ends the line (only if anything was drawn).
  void finish(std::uint64_t done);

  /// The text of one progress line (no carriage return): label, done / total with the percentage,
  /// rate per second and time left. `elapsed_s` <= 0 leaves the rate and ETA out.
  static std::string format_line(std::string_view label, std::uint64_t done, std::uint64_t total, double elapsed_s);

 private:
  static constexpr std::uint32_t kCheckEvery = 1024;   // records between clock reads
  static const Clock& system_clock();
  void redraw(std::uint64_t done, bool final);

  std::FILE* out_;
  std::string label_;
  const Clock* clock_;
  std::int64_t started_us_;
  std::int64_t last_draw_us_;
  std::uint64_t total_ = 0;
  std::uint32_t calls_ = 0;
  bool drawn_ = false;
  std::size_t last_width_ = 0;
};

/// 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.23M": figures that fit a terminal line.
std::string si_count(double v);

}  // namespace gridhub
