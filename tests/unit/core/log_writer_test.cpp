// The hub's one writer: whoever submits — ingest, streams, the SLA clocks — shares its group commits,
// in submission order, and hears back on the io thread.
#include "gridhub/core/log_writer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

log::AppendItem intake(const std::string& key) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key(key);
  ev.mutable_fields()->set_text("路灯不亮");
  log::IntakeItem item;
  *item.body.mutable_event() = ev;
  *item.body.mutable_ticket() = ticket_from_event(ev);
  return item;
}

TEST(LogWriter, EverySubmitterSharesItsCommitsInOrderAndIsToldOnTheIoThread) {
  gridhub::testing::TempDir dir;
  ManualClock clock(1'700'000'000'000'000);
  auto log = open_log(dir / "log.db", log::LogOptions{}, clock);
  ASSERT_TRUE(log.ok()) << log.error().message();
  boost::asio::io_context io;
  std::vector<std::string> heard;   // what reached the io thread, in order
  std::uint64_t committed_head = 0;
  std::size_t acks_waiting = 0;
  {
    // The writer decides through the log's own sequencer (the hub owns one of each).
    Sequencer sequencer(log.value()->storage(), clock);
    LogWriter writer(io, sequencer, 1000);
    writer.on_commit([&](const LogWriter::Commit& c) {
      ASSERT_TRUE(c.status.ok());
      committed_head = c.head_seq;
      for (const auto& w : c.waiters) acks_waiting += w.routing_id.empty() ? 0 : 1;
    });
    writer.submit(LogWriter::Waiter{"adapter-1", 7, {}}, intake("A"));   // an adapter's event: acked by ingest
    writer.submit(intake("B"), [&](const Status& s, const log::AppendOutcome& o) {
      heard.push_back(s.ok() ? "B@" + std::to_string(o.seq) : "B failed");
    });
    writer.submit(log::CursorItem{"sub", "id", 2}, [&](const Status& s, const log::AppendOutcome& o) {
      heard.push_back(s.ok() ? "cursor@" + std::to_string(o.seq) : "cursor failed");
    });
    writer.submit(intake("A"), [&](const Status&, const log::AppendOutcome& o) {
      heard.push_back(o.duplicate ? "A again: duplicate of " + std::to_string(o.seq) : "A again: new");
    });
    writer.stop();   // finishes what is queued
    EXPECT_TRUE(heard.empty()) << "outcomes are told on the io thread, not the writer's";
    io.run();
  }
  EXPECT_EQ(heard, (std::vector<std::string>{"B@2", "cursor@2", "A again: duplicate of 1"}));
  EXPECT_EQ(committed_head, 2u);
  EXPECT_EQ(acks_waiting, 1u);
}

}  // namespace
}  // namespace gridhub::core
