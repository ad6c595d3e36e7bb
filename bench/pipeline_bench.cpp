// The routing pipeline on one core: normalize, resolve, classify, route and merge over the example
// county's sample records (all channels), the gazetteer's time per resolve, and routing accuracy on
// the same files in-sample and held out.
#include <chrono>

#include "bench.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/heldout.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/plugins/resolver_gazetteer.hpp"

namespace gb = gridhub::bench;

namespace gridhub::bench {

namespace {

/// The sample files in the order of tests/integration/routing_test.cpp. `keep_rejected`: records the
/// importers rejected stay in (as `gridhubctl route` keeps them, scored as malformed).
std::vector<dryrun::InputRecord> sample_records(const std::filesystem::path& wugong, bool keep_rejected = false) {
  std::vector<std::string> files = {"hotline/export_20240506-20240516.csv", "hotline/export_20240517-20240526.csv",
                                    "hotline/export_20240527-20240605.csv", "hotline/export_20240606-20240616.xlsx",
                                    "wechat/owners_group_A_utf8.csv",       "wechat/residents_group_B_utf8.csv",
                                    "wechat/grid_group_C.txt",              "webform/jinshuju_push.jsonl",
                                    "webform/h5_form_posts.txt"};
  for (const auto& e : std::filesystem::directory_iterator(wugong / "wechat/oa")) {
    files.push_back(std::filesystem::relative(e.path(), wugong).string());
  }
  std::vector<dryrun::InputRecord> out;
  for (const auto& f : files) {
    auto r = dryrun::read_input((wugong / f).string(), {});
    if (!r) throw BenchError(r.error().message());
    for (auto& x : r.value()) {
      if (keep_rejected || !x.event.has_rejection()) out.push_back(std::move(x));
    }
  }
  return dryrun::pair_locations(std::move(out));
}

}  // namespace

PipelineRun pipeline_throughput(const std::filesystem::path& wugong, double seconds) {
  auto cfg = core::load_hub_config(wugong / "hub.toml");
  if (!cfg.pipeline) throw BenchError("examples/wugong/hub.toml has no [pipeline]");
  auto pipeline = pipeline::Pipeline::create(*cfg.pipeline);
  if (!pipeline) throw BenchError(pipeline.error().message());
  const auto records = sample_records(wugong);

  PipelineRun run;
  using Clock = std::chrono::steady_clock;
  std::uint64_t seq = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    for (const auto& r : records) {
      auto a = pipeline.value()->assess(r.event);
      (void)pipeline.value()->merge(a, log::ticket_id_for_seq(++seq));
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  run.records = seq;
  run.records_per_s = static_cast<double>(seq) / elapsed;

  // The gazetteer alone, per call, on the normalized records.
  auto gaz = plugins::Gazetteer::load(wugong / "world");
  if (!gaz) throw BenchError(gaz.error().message());
  pipeline::PipelineOptions none;
  none.resolver = none.classifier = none.merger = none.router = "";
  auto norm = pipeline::Pipeline::create(none);
  if (!norm) throw BenchError(norm.error().message());
  std::vector<pipeline::Assessment> normalized;
  for (const auto& r : records) normalized.push_back(norm.value()->assess(r.event));
  std::vector<double> us;
  for (int round = 0; round < 20; ++round) {
    for (const auto& a : normalized) {
      const auto rec = a.record();
      const auto t0 = Clock::now();
      auto res = gaz->resolve(rec);
      const auto t1 = Clock::now();
      if (res.why.rule.empty()) throw BenchError("gazetteer gave no reason");
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
  }
  run.gazetteer_median_us = median_of(us);
  run.gazetteer_p99_us = percentile_of(us, 0.99);
  return run;
}

HeldoutAccuracy heldout_accuracy(const std::filesystem::path& wugong) {
  auto cfg = core::load_hub_config(wugong / "hub.toml");
  if (!cfg.pipeline) throw BenchError("examples/wugong/hub.toml has no [pipeline]");
  const auto records = sample_records(wugong, true);
  dryrun::HeldoutOptions ho;
  ho.pipeline = *cfg.pipeline;
  ho.labels = wugong / "labels.csv";
  ho.categories = wugong / "world/categories.csv";
  auto acc = [](const dryrun::Score& s, const char* field) {
    auto it = s.fields.find(field);
    return it == s.fields.end() ? 100.0 : 100.0 * it->second.accuracy();
  };
  HeldoutAccuracy out;
  for (auto scheme : {dryrun::HeldoutScheme::kInSample, dryrun::HeldoutScheme::kFamilies, dryrun::HeldoutScheme::kChannels}) {
    auto r = dryrun::evaluate_heldout(records, scheme, ho);
    if (!r) throw BenchError(r.error().message());
    const double category = acc(r->score, "category_code");
    const double assignee = acc(r->score, "assignee_code");
    switch (scheme) {
      case dryrun::HeldoutScheme::kInSample:
        out.category_in_sample = category;
        out.merge_pairs_in_sample = r->score.pairs_f1();
        out.out_of_area_in_sample = 100.0 * r->score.out_of_area_recall();
        out.assignee_in_sample = assignee;
        out.records_scored = r->score.matched;
        out.dispatched_accuracy_in_sample = 100 * r->score.configured_coverage().assignee_accuracy();
        out.coverage_in_sample = 100 * r->score.configured_coverage().coverage();
        break;
      case dryrun::HeldoutScheme::kFamilies:
        out.category_families = category;
        out.merge_pairs_families = r->score.pairs_f1();
        out.out_of_area_families = 100.0 * r->score.out_of_area_recall();
        out.assignee_families = assignee;
        out.families = r->families;
        out.dispatched_accuracy_families = 100 * r->score.configured_coverage().assignee_accuracy();
        out.coverage_families = 100 * r->score.configured_coverage().coverage();
        out.coverage_table_families = dryrun::coverage_report(r->score, "    ");
        break;
      case dryrun::HeldoutScheme::kChannels:
        out.category_channels = category;
        out.merge_pairs_channels = r->score.pairs_f1();
        out.out_of_area_channels = 100.0 * r->score.out_of_area_recall();
        out.assignee_channels = assignee;
        break;
    }
  }
  return out;
}

}  // namespace gridhub::bench
