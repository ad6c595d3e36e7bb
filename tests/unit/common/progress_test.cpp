// gridhub::Progress: quiet unless stderr is a terminal, and what its line says.
#include "gridhub/common/progress.hpp"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace gridhub {
namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[512];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST(Progress, QuietWhenTheStreamIsNotATerminal) {
  std::FILE* f = std::tmpfile();   // a regular file, as when stderr is redirected
  ASSERT_NE(f, nullptr);
  {
    auto p = Progress::on_terminal(f, "verify");
    EXPECT_FALSE(p.enabled());
    p.set_total(100'000);
    for (std::uint64_t i = 1; i <= 100'000; ++i) p.update(i);
    p.finish(100'000);
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
  EXPECT_FALSE(Progress::on_terminal(nullptr, "verify").enabled());
}

TEST(Progress, DrawsOneRewrittenLineWithRateAndEta) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ManualClock clock(0);
  {
    Progress p(f, "replay", clock);
    p.set_total(4096);
    for (std::uint64_t i = 1; i <= 1024; ++i) p.update(i);   // before the first redraw interval: nothing
    EXPECT_EQ(contents(f), "");
    std::fseek(f, 0, SEEK_END);
    clock.advance(1'000'000);
    for (std::uint64_t i = 1025; i <= 2048; ++i) p.update(i);
    clock.advance(1'000'000);
    p.finish(4096);
  }
  // The final line is shorter: blanks wipe what the longer one left on the terminal.
  EXPECT_EQ(contents(f), "\rreplay: 2048 / 4096 records (50%), 2048/s, ETA 0:01"
                         "\rreplay: 4096 / 4096 records (100%), 2048/s         \n");
  std::fclose(f);
}

TEST(Progress, FormatsLargeCountsAndLongEtas) {
  EXPECT_EQ(Progress::format_line("verify", 1'500'000, 3'000'000, 2.0), "verify: 1.50M / 3.00M records (50%), 750.0k/s, ETA 0:02");
  EXPECT_EQ(Progress::format_line("state", 10, 0, 0.0), "state: 10 records");
  EXPECT_EQ(Progress::format_line("report", 1, 7201, 1.0), "report: 1 / 7201 records (0%), 1/s, ETA 2:00:00");
  EXPECT_EQ(si_count(12'345), "12.3k");
}

TEST(Progress, FinishWithoutAnyRedrawPrintsNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ManualClock clock(0);
  {
    Progress p(f, "rebuild", clock);
    for (std::uint64_t i = 1; i <= 10; ++i) p.update(i);
    p.finish(10);   // a run too short to draw leaves no stray line behind
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace gridhub
