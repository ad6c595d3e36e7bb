#pragma once
/// A ZeroMQ socket driven by a Boost.Asio io_context, without busy polling.
///
/// ZeroMQ exposes one file descriptor per socket (ZMQ_FD) that becomes readable when the socket's
/// event state *may* have changed; it is edge-triggered, and a send can consume the edge that announced
/// an incoming message. So readiness is always decided by ZMQ_EVENTS, and after sending the owner calls
/// `poke()` to re-check. The handler passed to `start` must read until EAGAIN or its own batch limit.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <zmq.hpp>

namespace gridhub::transport {

class AsioZmqSocket {
 public:
  AsioZmqSocket(boost::asio::io_context& io, zmq::socket_t socket);
  AsioZmqSocket(const AsioZmqSocket&) = delete;
  AsioZmqSocket& operator=(const AsioZmqSocket&) = delete;
  ~AsioZmqSocket();

  zmq::socket_t& socket() { return socket_; }

  /// Calls `on_readable` on the io thread whenever messages are waiting, until stop().
  void start(std::function<void()> on_readable);
  /// Stops calling the handler until resume() (backpressure: messages wait in ZeroMQ's queue).
  void pause() { paused_ = true; }
  void resume();
  /// Re-checks readiness; call after sending on this socket.
  void poke() { schedule(); }
  /// Stops for good; the socket stays open for final sends.
  void stop();

  bool readable();

 private:
  void schedule();

  boost::asio::io_context& io_;
  zmq::socket_t socket_;
  boost::asio::posix::stream_descriptor fd_;
  std::function<void()> on_readable_;
  bool paused_ = false;
  bool stopped_ = true;
  bool waiting_ = false;
  bool posted_ = false;
};

}  // namespace gridhub::transport
