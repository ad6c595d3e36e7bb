#include "gridhub/core/hub.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "gridhub/core/hotspots.hpp"
#include "gridhub/core/hub_metrics.hpp"
#include "gridhub/core/routing.hpp"
#include "gridhub/core/sla_clocks.hpp"
#include "gridhub/http/metrics.hpp"
#include "gridhub/log/jetstream_event_log.hpp"
#include "gridhub/log/log_queries.hpp"

#include <atomic>
#include <stdexcept>

namespace v1 = gridhub::v1;

namespace gridhub::core {

struct Hub::Impl {
  std::filesystem::path config_file;
  const Clock* clock = nullptr;
  // Histograms and labelled counters the writer and ingest update; before them, so it outlives them.
  http::Metrics metrics;
  // Scrapes read subscriptions' lag and open tickets from here, with a connection of their own that
  // is closed again at once: one held for the hub's life would outlive the writer's and keep the WAL
  // file (read-only connections do not remove it), which a restored log must not meet.
  std::filesystem::path log_db;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> commit_failing{false};
  // The first pipeline lives as long as the hub: the writer's hook merges through it, and reloaded
  // pipelines share its merger. `current` is the latest reloaded one; ingest shares it, and Submits
  // still in its stage pool keep the one they started with alive past the next reload.
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::shared_ptr<const pipeline::Pipeline> current;
  std::unique_ptr<PipelineHook> hook;
  std::uint64_t reloads = 0;
  std::uint64_t reload_failures = 0;
  zmq::context_t zmq{1};
  // Before the endpoints: they are configured by it, and the ZAP handler must outlive them.
  // The stream server asks it who a subscriber is: security->identify(msg), or claim(name) when off.
  std::unique_ptr<auth::Security> security;
  // Declared before `log`: the log tells it the head when it closes, so it must outlive the log.
  std::unique_ptr<log::Checkpointer> checkpointer;
  std::unique_ptr<log::EventLog> log;
  std::unique_ptr<Sequencer> sequencer;
  std::unique_ptr<Gatekeeper> gatekeeper;
  std::unique_ptr<LifecyclePolicy> policy;
  std::unique_ptr<HotspotRule> hotspots;   // the sequencer calls it on the writer thread (stopped first)
  std::unique_ptr<IngestServer> ingest;
  std::unique_ptr<SlaWatcher> sla;
  std::unique_ptr<StreamServer> stream;
  std::unique_ptr<ProgressLookup> lookup;
  // The one owner of the log's writes; declared last, so stopped (queue finished, thread joined)
  // before the components that submit to it and listen to its commits are destroyed.
  std::unique_ptr<LogWriter> writer;
};

Hub::Hub(boost::asio::io_context& io, const HubConfig& config, const Clock& clock) : impl_(std::make_unique<Impl>()) {
  impl_->config_file = config.config_file;
  impl_->clock = &clock;
  // First: a hub configured for CURVE whose keys or identities are broken must not open anything.
  impl_->security = std::make_unique<auth::Security>(io, impl_->zmq, config.security);
  if (config.sla) {
    impl_->policy = SlaLifecyclePolicy::load(*config.sla);
    spdlog::info("hub: SLA clocks on calendar {} with hours from {}", config.sla->calendar.string(),
                 config.sla->categories.string());
  }
  if (config.pipeline) {
    auto p = pipeline::Pipeline::create(*config.pipeline);
    if (!p) throw std::runtime_error(p.error().message());
    impl_->pipeline = std::move(p.value());
    impl_->hook = std::make_unique<PipelineHook>(*impl_->pipeline, impl_->policy.get());
    for (const auto& d : impl_->pipeline->describe()) spdlog::info("hub: pipeline {}", d);
  } else {
    spdlog::warn("hub: no [pipeline] in the config: tickets are stored without routing");
  }
  if (config.audit) {
    auto cp = log::Checkpointer::create(*config.audit);
    if (!cp) throw std::runtime_error("[audit] " + cp.error().message());
    impl_->checkpointer = std::move(cp.value());
    spdlog::info("hub: signed checkpoints every {} records or {} s into {}", config.audit->every_records,
                 config.audit->every_seconds, config.audit->dir.string());
  }
  auto log = config.jetstream
                 ? log::open_jetstream_event_log(config.log_db, *config.jetstream, config.log, clock, impl_->checkpointer.get())
                 : log::open_event_log(config.log_db, config.log, clock, impl_->checkpointer.get());
  if (!log) throw std::runtime_error(log.error().message());
  if (config.jetstream) {
    spdlog::info("hub: log on JetStream stream {} (R{}) at {}, replica {} at seq {}", config.jetstream->stream,
                 config.jetstream->replicas, fmt::join(config.jetstream->servers, ","), config.log_db.string(),
                 log.value()->head_seq());
  }
  impl_->log = std::move(log.value());
  impl_->sequencer = std::make_unique<Sequencer>(*impl_->log, clock, impl_->hook.get());
  auto reader = log::LogReader::open(config.log_db);
  if (!reader) throw std::runtime_error(reader.error().message());
  if (impl_->pipeline) {
    // Before the first intake: the merger remembers the incidents it knew before this start.
    auto recalled = recall_merger(reader.value(), *impl_->pipeline);
    if (!recalled) throw std::runtime_error("merger: " + recalled.error().message());
    spdlog::info("hub: merger recalled from the last {} log records", recalled.value());
  }
  if (config.hotspots) {
    impl_->hotspots = std::make_unique<HotspotRule>(*config.hotspots, *impl_->policy);
    // Before the first intake, like the merger: a restart never changes a hotspot decision.
    auto recalled = impl_->hotspots->recall(reader.value());
    if (!recalled) throw std::runtime_error("hotspots: " + recalled.error().message());
    impl_->sequencer->set_ticket_hook(impl_->hotspots.get());
    spdlog::info("hub: hotspots on ({} tickets in {} hours by default, {} category overrides); recalled {} log records",
                 config.hotspots->defaults.tickets, config.hotspots->defaults.hours, config.hotspots->categories.size(),
                 recalled.value());
  }
  impl_->writer = std::make_unique<LogWriter>(io, *impl_->sequencer, config.ingest.max_batch);
  // Metrics cost a little on the hot path (a clock read per event, relaxed atomic adds): only when
  // someone can scrape them.
  const bool metrics = config.admin.has_value();
  if (metrics) {
    impl_->writer->observe_commits(
        impl_->metrics.histogram("gridhub_hub_commit_batch_size", "items per commit of the log writer",
                                 {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}),
        impl_->metrics.histogram("gridhub_hub_commit_duration_seconds",
                                 "one commit on the writer thread: decide, store, commit (fsync)",
                                 {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}));
  }
  impl_->writer->on_commit([impl = impl_.get()](const LogWriter::Commit& c) {
    impl->commit_failing.store(!c.status.ok(), std::memory_order_relaxed);
  });
  impl_->ingest = std::make_unique<IngestServer>(io, impl_->zmq, *impl_->writer, config.ingest, impl_->pipeline.get(),
                                                 impl_->security.get());
  if (metrics) impl_->ingest->set_metrics(impl_->metrics);
  impl_->log_db = config.log_db;
  auto identity = log::read_log_identity(config.log_db);
  if (!identity) throw std::runtime_error(identity.error().message());
  spdlog::info("hub: log id {}, timeline {} ({} since the log began)", identity->log_id, identity->current(),
               identity->timelines.size() == 1 ? "the only one" : fmt::format("{} restores", identity->timelines.size() - 1));
  impl_->ingest->set_log_identity(std::move(identity.value()));
  impl_->gatekeeper = std::make_unique<SecurityGatekeeper>(*impl_->security);
  WriteFn write = [writer = impl_->writer.get()](log::AppendItem item, LogWriter::Done done) {
    writer->submit(std::move(item), std::move(done));
  };
  if (impl_->policy) {
    impl_->sla = std::make_unique<SlaWatcher>(io, clock, *impl_->policy, write);
    if (auto st = impl_->sla->start(reader.value()); !st) throw std::runtime_error("sla: " + st.error().message());
    impl_->writer->on_commit([w = impl_->sla.get()](const LogWriter::Commit& c) {
      if (c.status.ok()) w->observe(c.outcomes);
    });
  }
  impl_->stream = std::make_unique<StreamServer>(io, impl_->zmq, std::move(reader.value()), config.stream,
                                                 *impl_->gatekeeper, impl_->policy.get(), std::move(write),
                                                 impl_->security.get());
  impl_->writer->on_commit([s = impl_->stream.get()](const LogWriter::Commit& c) {
    if (c.status.ok()) s->on_commit(c.head_seq);
  });
  auto lookup_reader = log::LogReader::open(config.log_db);
  if (!lookup_reader) throw std::runtime_error(lookup_reader.error().message());
  impl_->lookup = std::make_unique<ProgressLookup>(std::move(lookup_reader.value()), clock, config.lookup);
  impl_->ingest->on_lookup([l = impl_->lookup.get()](const v1::LookupRequest& r) { return l->lookup(r); });
  if (impl_->pipeline) impl_->ingest->on_reload([this] { return reload(); });
  impl_->ingest->on_status([this](v1::StatusReply& r) {
    auto add = [&](const char* name, std::uint64_t v) {
      auto* c = r.add_counters();
      c->set_name(name);
      c->set_value(v);
    };
    const auto& sc = impl_->stream->counters();
    add("stream_sessions", impl_->stream->sessions());
    add("stream_sessions_opened_total", sc.sessions_opened);
    add("stream_sessions_expired_total", sc.sessions_expired);
    add("stream_delivered_total", sc.delivered);
    add("stream_batches_total", sc.batches);
    add("stream_batches_shared_total", sc.batches_shared);
    add("stream_frames_encoded_total", sc.frames_encoded);
    add("stream_bad_requests_total", sc.bad_requests);
    add("stream_redelivered_total", sc.redelivered);
    add("stream_filtered_total", sc.filtered);
    add("stream_denied_total", sc.denied);
    add("stream_acks_total", sc.acks);
    add("stream_cursor_writes_total", sc.cursor_writes);
    add("stream_updates_ok_total", sc.updates_ok);
    add("stream_updates_refused_total", sc.updates_refused);
    if (impl_->sla) {
      add("sla_running_clocks", impl_->sla->running());
      add("sla_breached_clocks", impl_->sla->breached());
      add("sla_escalations_total", impl_->sla->counters().escalations);
      add("sla_stale_total", impl_->sla->counters().stale);
      add("sla_write_failures_total", impl_->sla->counters().write_failures);
    }
    if (impl_->hotspots) {
      add("hotspots_opened_total", impl_->hotspots->opened());
      add("hotspots_joined_total", impl_->hotspots->joined());
    }
    add("lookup_found_total", impl_->lookup->counters().found);
    add("lookup_not_found_total", impl_->lookup->counters().not_found);
    add("lookup_throttled_total", impl_->lookup->counters().throttled);
    add("pipeline_reloads_total", impl_->reloads);
    add("pipeline_reload_failures_total", impl_->reload_failures);
    if (const auto* z = impl_->security->zap_counters()) {
      add("auth_accepted_total", z->accepted);
      add("auth_rejected_unknown_key_total", z->rejected_unknown_key);
      add("auth_rejected_mechanism_total", z->rejected_mechanism);
      add("auth_malformed_total", z->malformed);
    }
  });
  spdlog::info("hub: log {} at seq {}", config.log_db.string(), impl_->log->head_seq());
}

Hub::~Hub() = default;

void Hub::start() {
  impl_->ingest->start();
  impl_->stream->start();
  impl_->started.store(true);
}

void Hub::stop(std::function<void()> done) {
  impl_->stopping.store(true);
  if (impl_->sla) impl_->sla->stop();
  impl_->ingest->drain([this, done = std::move(done)] {
    impl_->stream->stop();
    const auto& c = impl_->ingest->counters();
    spdlog::info("hub: drained; accepted {} duplicates {} dead-lettered {} commits {}", c.accepted, c.duplicates,
                 c.dead_lettered, c.commits);
    done();
  });
}

v1::ReloadReply Hub::reload() {
  v1::ReloadReply reply;
  auto fail = [&](const std::string& why) {
    ++impl_->reload_failures;
    spdlog::error("hub: reload refused, the running pipeline stays: {}", why);
    reply.set_ok(false);
    reply.set_message(why);
    return reply;
  };
  if (!impl_->pipeline) return fail("this hub runs without a pipeline; restart it to add one");
  HubConfig cfg;
  try {
    cfg = load_hub_config(impl_->config_file);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (!cfg.pipeline) return fail(impl_->config_file.string() + ": the [pipeline] section is gone");
  // Validate everything into a new pipeline first; the swap is one pointer on the io thread.
  auto next = pipeline::Pipeline::create(*cfg.pipeline, impl_->pipeline.get());
  if (!next) return fail(next.error().message());
  impl_->current = std::move(next.value());
  impl_->ingest->set_pipeline(impl_->current);
  ++impl_->reloads;
  for (const auto& d : impl_->current->describe()) {
    spdlog::info("hub: reloaded pipeline {}", d);
    reply.add_stages(d);
  }
  reply.set_ok(true);
  reply.set_message("reloaded from " + impl_->config_file.string());
  return reply;
}

std::uint64_t Hub::reloads() const { return impl_->reloads; }
std::uint64_t Hub::reload_failures() const { return impl_->reload_failures; }

void Hub::check_sla_now() {
  if (impl_->sla) impl_->sla->check();
}

std::string Hub::not_ready() const {
  if (impl_->stopping.load()) return "draining: the hub is stopping";
  if (!impl_->started.load()) return "starting";
  if (impl_->commit_failing.load(std::memory_order_relaxed)) return "the last commit to the log failed (see the hub's log)";
  return {};
}

namespace {

/// The families read from the log; returns how many reads failed.
std::uint64_t render_log_reads(http::TextWriter& w, log::LogQueries& queries, std::uint64_t head, std::int64_t now_us) {
  std::uint64_t failures = 0;
  const double now_s = static_cast<double>(now_us) / 1e6;
  if (auto subs = queries.subscriptions(); subs) {
    w.family("gridhub_hub_subscription_lag_records", "records committed and not yet acknowledged by the subscription", "gauge");
    for (const auto& s : subs.value()) {
      w.sample("gridhub_hub_subscription_lag_records", {{"subscription", s.name}},
               static_cast<double>(head > s.acked_seq ? head - s.acked_seq : 0));
    }
    w.family("gridhub_hub_subscription_lag_seconds",
             "age of the oldest record the subscription has not acknowledged (0: caught up)", "gauge");
    for (const auto& s : subs.value()) {
      const double lag = s.oldest_unacked_us == 0 ? 0.0 : std::max(0.0, now_s - static_cast<double>(s.oldest_unacked_us) / 1e6);
      w.sample("gridhub_hub_subscription_lag_seconds", {{"subscription", s.name}}, lag);
    }
    w.family("gridhub_hub_subscription_last_ack_timestamp_seconds", "when the subscription's cursor last moved (unix time)",
             "gauge");
    for (const auto& s : subs.value()) {
      w.sample("gridhub_hub_subscription_last_ack_timestamp_seconds", {{"subscription", s.name}},
               static_cast<double>(s.updated_at_us) / 1e6);
    }
  } else {
    ++failures;
    spdlog::debug("metrics: subscriptions: {}", subs.error().message());
  }
  if (auto open = queries.open_tickets(); open) {
    w.family("gridhub_hub_open_tickets", "open tickets (new, assigned, accepted, returned) by tier and assignee", "gauge");
    for (const auto& t : open.value()) {
      w.sample("gridhub_hub_open_tickets", {{"tier", tier_label(static_cast<int>(t.tier))}, {"assignee", t.assignee}},
               static_cast<double>(t.count));
    }
  } else {
    ++failures;
    spdlog::debug("metrics: open tickets: {}", open.error().message());
  }
  return failures;
}

}  // namespace

std::string Hub::render_metrics() {
  http::TextWriter w;
  // One source with gridhubctl status: the same counters, under the same names.
  v1::StatusReply status;
  impl_->ingest->fill_status(status);
  for (const auto& c : status.counters()) {
    const std::string name = "gridhub_hub_" + c.name();
    const bool counter = name.ends_with("_total");
    w.family(name, "as gridhubctl status shows it", counter ? "counter" : "gauge");
    w.sample(name, {}, static_cast<double>(c.value()));
  }
  w.family("gridhub_hub_log_head_seq", "the log's last seq", "gauge");
  w.sample("gridhub_hub_log_head_seq", {}, static_cast<double>(impl_->writer->head_seq()));
  w.family("gridhub_hub_writer_queue_depth", "items queued for or in the log writer", "gauge");
  w.sample("gridhub_hub_writer_queue_depth", {}, static_cast<double>(impl_->writer->pending()));
  if (impl_->sla) {
    w.family("gridhub_hub_sla_clocks", "SLA clocks by their ticket's tier: running, or breached (run out, not moved on)", "gauge");
    for (const auto& [tier, n] : impl_->sla->by_tier()) {
      const std::string t = tier_label(static_cast<int>(tier));
      w.sample("gridhub_hub_sla_clocks", {{"tier", t}, {"state", "running"}}, static_cast<double>(n.running));
      w.sample("gridhub_hub_sla_clocks", {{"tier", t}, {"state", "breached"}}, static_cast<double>(n.breached));
    }
  }
  w.family("gridhub_hub_ready", "1 once started, not draining, and the last commit succeeded", "gauge");
  w.sample("gridhub_hub_ready", {}, not_ready().empty() ? 1 : 0);

  // Subscriptions and open tickets from the log (reads beside the writer, SQLite WAL). A read that
  // fails leaves its families out and says so in a gauge rather than failing the whole scrape.
  std::uint64_t read_failures = 0;
  if (auto queries = log::LogQueries::open(impl_->log_db); queries) {
    read_failures += render_log_reads(w, queries.value(), impl_->writer->head_seq(), impl_->clock->now_micros());
  } else {
    read_failures += 2;
    spdlog::debug("metrics: {}", queries.error().message());
  }
  w.family("gridhub_hub_metrics_read_failures", "log reads that failed in this scrape (their families are missing)", "gauge");
  w.sample("gridhub_hub_metrics_read_failures", {}, static_cast<double>(read_failures));
  return w.take() + impl_->metrics.render();
}

const std::vector<std::string>& Hub::ingest_endpoints() const { return impl_->ingest->bound_endpoints(); }
const std::vector<std::string>& Hub::stream_endpoints() const { return impl_->stream->bound_endpoints(); }

}  // namespace gridhub::core
