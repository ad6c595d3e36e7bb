#include "gridhub/core/hub.hpp"

#include <spdlog/spdlog.h>

#include "gridhub/core/routing.hpp"

#include <stdexcept>

namespace gridhub::core {

struct Hub::Impl {
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<PipelineHook> hook;
  zmq::context_t zmq{1};
  std::unique_ptr<log::EventLog> log;
  std::unique_ptr<IngestServer> ingest;
  std::unique_ptr<StreamServer> stream;
};

Hub::Hub(boost::asio::io_context& io, const HubConfig& config, const Clock& clock) : impl_(std::make_unique<Impl>()) {
  if (config.pipeline) {
    auto p = pipeline::Pipeline::create(*config.pipeline);
    if (!p) throw std::runtime_error(p.error().message());
    impl_->pipeline = std::move(p.value());
    impl_->hook = std::make_unique<PipelineHook>(*impl_->pipeline);
    for (const auto& d : impl_->pipeline->describe()) spdlog::info("hub: pipeline {}", d);
  } else {
    spdlog::warn("hub: no [pipeline] in the config: tickets are stored without routing");
  }
  auto log = log::open_event_log(config.log_db, config.log, clock, impl_->hook.get());
  if (!log) throw std::runtime_error(log.error().message());
  impl_->log = std::move(log.value());
  auto reader = log::LogReader::open(config.log_db);
  if (!reader) throw std::runtime_error(reader.error().message());
  impl_->ingest = std::make_unique<IngestServer>(io, impl_->zmq, *impl_->log, config.ingest, impl_->pipeline.get());
  impl_->stream = std::make_unique<StreamServer>(io, impl_->zmq, std::move(reader.value()), config.stream);
  impl_->ingest->on_commit([s = impl_->stream.get()](std::uint64_t head) { s->on_commit(head); });
  spdlog::info("hub: log {} at seq {}", config.log_db.string(), impl_->log->head_seq());
}

Hub::~Hub() = default;

void Hub::start() {
  impl_->ingest->start();
  impl_->stream->start();
}

void Hub::stop(std::function<void()> done) {
  impl_->ingest->drain([this, done = std::move(done)] {
    impl_->stream->stop();
    const auto& c = impl_->ingest->counters();
    spdlog::info("hub: drained; accepted {} duplicates {} dead-lettered {} commits {}", c.accepted, c.duplicates,
                 c.dead_lettered, c.commits);
    done();
  });
}

const std::vector<std::string>& Hub::ingest_endpoints() const { return impl_->ingest->bound_endpoints(); }
const std::vector<std::string>& Hub::stream_endpoints() const { return impl_->stream->bound_endpoints(); }

}  // namespace gridhub::core
