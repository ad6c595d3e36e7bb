#include "gridhub/transport/asio_zmq.hpp"

#include <boost/asio/post.hpp>

namespace gridhub::transport {

AsioZmqSocket::AsioZmqSocket(boost::asio::io_context& io, zmq::socket_t socket)
    : io_(io), socket_(std::move(socket)), fd_(io, socket_.get(zmq::sockopt::fd)) {}

AsioZmqSocket::~AsioZmqSocket() {
  boost::system::error_code ec;
  fd_.cancel(ec);
  // ZeroMQ owns the descriptor; asio must not close it.
  fd_.release();
}

void AsioZmqSocket::start(std::function<void()> on_readable) {
  on_readable_ = std::move(on_readable);
  stopped_ = false;
  schedule();
}

void AsioZmqSocket::resume() {
  paused_ = false;
  schedule();
}

void AsioZmqSocket::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  fd_.cancel(ec);
}

bool AsioZmqSocket::readable() {
  return (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
}

void AsioZmqSocket::schedule() {
  if (stopped_ || paused_ || posted_) return;
  if (readable()) {
    // Run the handler from the loop rather than inline, so a busy socket cannot starve others.
    posted_ = true;
    boost::asio::post(io_, [this] {
      posted_ = false;
      if (stopped_ || paused_) return;
      on_readable_();
      schedule();
    });
    return;
  }
  if (waiting_) return;
  waiting_ = true;
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    waiting_ = false;
    if (ec) return;
    schedule();
  });
}

}  // namespace gridhub::transport
