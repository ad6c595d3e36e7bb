#include "gridhub/auth/zap_handler.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>

namespace gridhub::auth {

namespace {

zmq::socket_t bind_zap(zmq::context_t& zmq) {
  try {
    zmq::socket_t s(zmq, zmq::socket_type::rep);
    s.set(zmq::sockopt::linger, 0);
    s.bind(ZapHandler::kEndpoint);
    return s;
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(fmt::format("security: cannot bind the ZAP handler at {}: {}; refusing to run CURVE "
                                         "endpoints that would admit every key",
                                         ZapHandler::kEndpoint, e.what()));
  }
}

std::string text_of(const zmq::message_t& m) { return std::string(static_cast<const char*>(m.data()), m.size()); }

// Few enough to read, enough to tell which client it was; a public key is no secret, but a log line
// need not carry all of it.
std::string key_hint(const std::string& z85) { return z85.substr(0, 8) + "…"; }

}  // namespace

ZapHandler::ZapHandler(boost::asio::io_context& io, zmq::context_t& zmq, const Directory& directory)
    : directory_(directory), socket_(io, bind_zap(zmq)) {
  socket_.start([this] { on_readable(); });
}

void ZapHandler::on_readable() {
  std::vector<zmq::message_t> request;
  for (int i = 0; i < 256; ++i) {
    request.clear();
    try {
      zmq::message_t part;
      if (!socket_.socket().recv(part, zmq::recv_flags::dontwait)) return;
      request.push_back(std::move(part));
      while (socket_.socket().get(zmq::sockopt::rcvmore)) {
        zmq::message_t more;
        (void)socket_.socket().recv(more, zmq::recv_flags::none);
        request.push_back(std::move(more));
      }
      answer(request);
    } catch (const zmq::error_t& e) {
      spdlog::error("security: ZAP handler: {}", e.what());
      return;
    }
  }
}

void ZapHandler::answer(std::vector<zmq::message_t>& request) {
  // RFC 27 request: version, request id, domain, address, routing id, mechanism, credentials...
  std::string status = "200";
  std::string status_text = "OK";
  std::string user_id;
  std::string request_id = request.size() > 1 ? text_of(request[1]) : std::string();
  if (request.size() < 6 || text_of(request[0]) != "1.0") {
    ++counters_.malformed;
    status = "500";
    status_text = "malformed ZAP request";
  } else {
    const std::string mechanism = text_of(request[5]);
    const std::string address = text_of(request[3]);
    if (mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
      ++counters_.rejected_mechanism;
      status = "400";
      status_text = "CURVE required";
      if (counters_.rejected_mechanism <= 10 || counters_.rejected_mechanism % 1000 == 0) {
        spdlog::warn("security: refused a {} connection from {} (#{}): this endpoint requires CURVE", mechanism,
                     address, counters_.rejected_mechanism);
      }
    } else {
      std::array<char, 41> z85{};
      zmq_z85_encode(z85.data(), static_cast<const std::uint8_t*>(request[6].data()), 32);
      const std::string key(z85.data());
      if (const Identity* id = directory_.find_by_key(key)) {
        ++counters_.accepted;
        user_id = id->name;
        spdlog::debug("security: {} ({}) connected from {}", id->name, role_name(id->role), address);
      } else {
        ++counters_.rejected_unknown_key;
        status = "400";
        status_text = "unknown key";
        if (counters_.rejected_unknown_key <= 10 || counters_.rejected_unknown_key % 1000 == 0) {
          spdlog::warn("security: refused unknown CURVE key {} from {} (#{}); add it to the identities file if it "
                       "is expected",
                       key_hint(key), address, counters_.rejected_unknown_key);
        }
      }
    }
  }
  auto& s = socket_.socket();
  (void)s.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
  (void)s.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  (void)s.send(zmq::buffer(status), zmq::send_flags::sndmore);
  (void)s.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
  (void)s.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  (void)s.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::none);
  socket_.poke();
}

}  // namespace gridhub::auth
