#include "gridhub/core/hub.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/core/routing.hpp"
#include "gridhub/core/sla_clocks.hpp"

#include <stdexcept>

namespace v1 = gridhub::v1;

namespace gridhub::core {

struct Hub::Impl {
  std::filesystem::path config_file;
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
  std::unique_ptr<IngestServer> ingest;
  std::unique_ptr<SlaWatcher> sla;
  std::unique_ptr<StreamServer> stream;
  // The one owner of the log's writes; declared last, so stopped (queue finished, thread joined)
  // before the components that submit to it and listen to its commits are destroyed.
  std::unique_ptr<LogWriter> writer;
};

Hub::Hub(boost::asio::io_context& io, const HubConfig& config, const Clock& clock) : impl_(std::make_unique<Impl>()) {
  impl_->config_file = config.config_file;
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
  auto log = log::open_event_log(config.log_db, config.log, clock, impl_->checkpointer.get());
  if (!log) throw std::runtime_error(log.error().message());
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
  impl_->writer = std::make_unique<LogWriter>(io, *impl_->sequencer, config.ingest.max_batch);
  impl_->ingest = std::make_unique<IngestServer>(io, impl_->zmq, *impl_->writer, config.ingest, impl_->pipeline.get(),
                                                 impl_->security.get());
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
      add("sla_escalations_total", impl_->sla->counters().escalations);
      add("sla_stale_total", impl_->sla->counters().stale);
      add("sla_write_failures_total", impl_->sla->counters().write_failures);
    }
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
}

void Hub::stop(std::function<void()> done) {
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

const std::vector<std::string>& Hub::ingest_endpoints() const { return impl_->ingest->bound_endpoints(); }
const std::vector<std::string>& Hub::stream_endpoints() const { return impl_->stream->bound_endpoints(); }

}  // namespace gridhub::core
