#include "gridhub/http/metrics.hpp"

#include <gtest/gtest.h>

namespace gridhub::http {
namespace {

TEST(Metrics, AHistogramRendersCumulativeBucketsSumAndCount) {
  Metrics m;
  auto& h = m.histogram("t_seconds", "a histogram", {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.observe(v);
  EXPECT_EQ(m.render(),
            "# HELP t_seconds a histogram\n# TYPE t_seconds histogram\n"
            "t_seconds_bucket{le=\"0.1\"} 2\n"   // 0.1 is in its own bucket: le means <=
            "t_seconds_bucket{le=\"1\"} 3\n"
            "t_seconds_bucket{le=\"10\"} 4\n"
            "t_seconds_bucket{le=\"+Inf\"} 5\n"
            "t_seconds_sum 55.65\n"
            "t_seconds_count 5\n");
}

TEST(Metrics, CountersWithSeveralLabelsAreSeparateSeriesWithEscapedValues) {
  Metrics m;
  m.counter("dl_total", "dead letters", Labels{{"channel", "wechat"}, {"reason", "bad \"xml\"\n"}}).inc(2);
  m.counter("dl_total", "dead letters", Labels{{"channel", "hotline"}, {"reason", "bad_date"}}).inc();
  m.counter("dl_total", "dead letters", Labels{{"channel", "wechat"}, {"reason", "bad \"xml\"\n"}}).inc();
  EXPECT_EQ(m.render(),
            "# HELP dl_total dead letters\n# TYPE dl_total counter\n"
            "dl_total{channel=\"hotline\",reason=\"bad_date\"} 1\n"
            "dl_total{channel=\"wechat\",reason=\"bad \\\"xml\\\"\\n\"} 3\n");
}

TEST(Metrics, TheTextWriterWritesFamiliesComputedElsewhere) {
  TextWriter w;
  w.family("lag_records", "behind the head", "gauge");
  w.sample("lag_records", {{"subscription", "dept-a"}}, 12);
  w.sample("lag_records", {}, 0.25);
  EXPECT_EQ(w.text(), "# HELP lag_records behind the head\n# TYPE lag_records gauge\n"
                      "lag_records{subscription=\"dept-a\"} 12\nlag_records 0.25\n");
}

}  // namespace
}  // namespace gridhub::http
