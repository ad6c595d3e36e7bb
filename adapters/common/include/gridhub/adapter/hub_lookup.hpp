#pragma once
/// Residents' progress lookups, asked of the hub on their behalf (docs/residents.md): one DEALER on
/// the hub's ingest endpoint, beside the outbox's delivery, driven by the adapter's io_context. The
/// hub checks the reference and the phone digits (or the OpenID) itself and answers the public view
/// only; the adapter never sees a reporter's phone. A lookup the hub does not answer within the
/// timeout (hub down, key refused) completes with nothing, and the channel says "try again later".

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <zmq.hpp>

#include "gridhub/adapter/hub_client.hpp"
#include "gridhub/transport/asio_zmq.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::adapter {

class HubLookup {
 public:
  using Done = std::function<void(std::optional<gridhub::v1::LookupReply>)>;

  /// Connects to `options.endpoint` (with CURVE when options.server_public_key is set).
  HubLookup(boost::asio::io_context& io, zmq::context_t& zmq, const HubClientOptions& options,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  ~HubLookup();

  /// io thread. `request.correlation_id` is set here; `done` runs once, on the io thread.
  void lookup(gridhub::v1::LookupRequest request, Done done);

  /// io thread: stops waiting on the socket and answers what is waiting with nothing, so the
  /// io_context can run out of work (the process's shutdown).
  void stop();

 private:
  struct Waiting {
    Done done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  void on_readable();
  void finish(std::uint64_t id, std::optional<gridhub::v1::LookupReply> reply);

  boost::asio::io_context& io_;
  transport::AsioZmqSocket socket_;
  std::chrono::milliseconds timeout_;
  std::uint64_t next_id_ = 0;
  bool stopped_ = false;
  std::map<std::uint64_t, Waiting> waiting_;
};

}  // namespace gridhub::adapter
