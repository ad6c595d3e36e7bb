#include "gridhub/adapter/http_intake.hpp"

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"

namespace gridhub::adapter {
namespace {

v1::Event event(const std::string& key) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_WECHAT);
  ev.set_source_key(key);
  ev.mutable_fields()->set_text("text " + key);
  return ev;
}

TEST(HttpIntake, OneTickIsOneBatchWithAnOutcomePerRequestAndTheBoundAnswers503) {
  testing::TempDir dir;
  ManualClock clock(1718000000LL * 1000000);
  auto outbox = Outbox::open(dir.path() / "outbox.db", 3, clock);
  ASSERT_TRUE(outbox.ok());
  boost::asio::io_context io;
  Metrics metrics;
  AdapterCounters counters(metrics);
  IntakeOptions options;
  options.adapter_id = "wechat-1";
  options.retry_after = std::chrono::seconds(9);
  HttpIntake intake(io, outbox.value(), clock, counters, options);

  std::vector<IntakeResult> got;
  for (const char* key : {"a", "b", "a", "c", "d"}) {
    intake.submit(event(key), [&](IntakeResult r) { got.push_back(r); });
  }
  EXPECT_TRUE(got.empty());   // nothing is answered before the commit
  io.run();
  EXPECT_EQ(got, (std::vector<IntakeResult>{IntakeResult::kQueued, IntakeResult::kQueued, IntakeResult::kAlreadyKnown,
                                            IntakeResult::kQueued, IntakeResult::kFull}));

  auto full = intake.answer(IntakeResult::kFull, "POST /wechat from 127.0.0.1:1", "success");
  EXPECT_EQ(full.status, 503u);
  ASSERT_EQ(full.headers.size(), 1u);
  EXPECT_EQ(full.headers[0], (std::pair<std::string, std::string>{"Retry-After", "9"}));
  EXPECT_NE(full.body.find("POST /wechat from 127.0.0.1:1"), std::string::npos);
  auto retry = intake.answer(IntakeResult::kAlreadyKnown, "x", "success");
  EXPECT_EQ(retry.status, 200u);
  EXPECT_EQ(retry.body, "success");

  // Stamped before storage; counted; the gauge reads the outbox.
  auto pending = outbox->pending(0, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  v1::Event stored;
  ASSERT_TRUE(stored.ParseFromString(pending->front().event_bytes));
  EXPECT_EQ(stored.adapter_id(), "wechat-1");
  EXPECT_EQ(stored.received_at().unix_micros(), 1718000000LL * 1000000);
  const std::string page = metrics.render();
  EXPECT_NE(page.find("gridhub_adapter_received_total 5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("gridhub_adapter_outbox_pending 3\n"), std::string::npos) << page;
  EXPECT_NE(page.find("gridhub_adapter_refused_total{reason=\"outbox_full\"} 1\n"), std::string::npos) << page;
}


TEST(HttpIntake, RequestsArrivingDuringACommitAreCommittedNextAndIoRunWaitsForThem) {
  // The commit runs on the writer thread; submits meanwhile (here: from the first answers) form
  // the next batch, which must be committed and answered before io.run() returns.
  testing::TempDir dir;
  ManualClock clock(1718000000LL * 1000000);
  auto outbox = Outbox::open(dir.path() / "outbox.db", 100, clock);
  ASSERT_TRUE(outbox.ok());
  boost::asio::io_context io;
  Metrics metrics;
  AdapterCounters counters(metrics);
  HttpIntake intake(io, outbox.value(), clock, counters, IntakeOptions{});

  std::vector<std::string> answered;
  for (const char* key : {"a", "b"}) {
    intake.submit(event(key), [&, key = std::string(key)](IntakeResult r) {
      EXPECT_EQ(r, IntakeResult::kQueued);
      answered.push_back(key);
      // Already in the outbox, so durable before this answer: the repeat is "already known".
      intake.submit(event(key), [&, key](IntakeResult again) {
        EXPECT_EQ(again, IntakeResult::kAlreadyKnown);
        answered.push_back(key + "'");
      });
      intake.submit(event(key + "2"), [&, key](IntakeResult fresh) {
        EXPECT_EQ(fresh, IntakeResult::kQueued);
        answered.push_back(key + "2");
      });
    });
  }
  io.run();
  EXPECT_EQ(answered, (std::vector<std::string>{"a", "b", "a'", "a2", "b'", "b2"}));
  auto pending = outbox->pending(0, 10);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 4u);
}

}  // namespace
}  // namespace gridhub::adapter
