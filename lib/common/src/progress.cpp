#include "gridhub/common/progress.hpp"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

namespace gridhub {

namespace {
constexpr std::int64_t kRedrawUs = 200'000;
}  // namespace

std::string si_count(double v) {
  if (v < 10'000) return fmt::format("{:.0f}", v);
  if (v < 1'000'000) return fmt::format("{:.1f}k", v / 1e3);
  if (v < 1'000'000'000) return fmt::format("{:.2f}M", v / 1e6);
  return fmt::format("{:.2f}G", v / 1e9);
}

const Clock& Progress::system_clock() {
  static const SystemClock clock;   // stateless; a function-local constant, not a mutable global
  return clock;
}

Progress Progress::on_terminal(std::FILE* out, std::string label) {
  const bool tty = out != nullptr && ::isatty(::fileno(out)) == 1;
  return Progress(tty ? out : nullptr, std::move(label));
}

Progress::Progress(std::FILE* out, std::string label, const Clock& clock)
    : out_(out), label_(std::move(label)), clock_(&clock), started_us_(clock.now_micros()), last_draw_us_(started_us_) {}

Progress::~Progress() = default;

std::string Progress::format_line(std::string_view label, std::uint64_t done, std::uint64_t total, double elapsed_s) {
  std::string line = fmt::format("{}: {}", label, si_count(static_cast<double>(done)));
  if (total > 0) {
    line += fmt::format(" / {} records ({:.0f}%)", si_count(static_cast<double>(total)),
                        100.0 * static_cast<double>(std::min(done, total)) / static_cast<double>(total));
  } else {
    line += " records";
  }
  if (elapsed_s > 0 && done > 0) {
    const double rate = static_cast<double>(done) / elapsed_s;
    line += fmt::format(", {}/s", si_count(rate));
    if (total > done) {
      const auto left = static_cast<long long>(std::ceil(static_cast<double>(total - done) / rate));
      line += left >= 3600 ? fmt::format(", ETA {}:{:02d}:{:02d}", left / 3600, left / 60 % 60, left % 60)
                           : fmt::format(", ETA {}:{:02d}", left / 60, left % 60);
    }
  }
  return line;
}

void Progress::redraw(std::uint64_t done, bool final) {
  const std::int64_t now = clock_->now_micros();
  if (!final && now - last_draw_us_ < kRedrawUs) return;
  last_draw_us_ = now;
  std::string line = format_line(label_, done, total_, static_cast<double>(now - started_us_) / 1e6);
  const std::size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');   // wipe what a longer line left
  last_width_ = width;
  std::fprintf(out_, "\r%s", line.c_str());
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
  drawn_ = true;
}

void Progress::finish(std::uint64_t done) {
  if (out_ == nullptr || !drawn_) return;
  redraw(done, true);
  drawn_ = false;
}

}  // namespace gridhub
