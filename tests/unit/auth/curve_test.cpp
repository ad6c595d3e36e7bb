// CURVE keys on disk, and the ZAP handler admitting known keys (with their identity as User-Id on
// every message) and refusing unknown ones — real sockets on tcp://127.0.0.1:*.
#include "gridhub/transport/curve.hpp"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "../../testing/temp_dir.hpp"
#include "gridhub/auth/zap_handler.hpp"
#include "gridhub/transport/frames.hpp"

namespace gridhub::auth {
namespace {

using transport::CurveKeyPair;
using transport::apply_curve_client;
using transport::apply_curve_server;
using transport::generate_curve_keypair;
using transport::is_z85_key;
using transport::load_curve_secret_key;
using transport::write_curve_key_files;

using namespace std::chrono_literals;

TEST(CurveKeys, WrittenSecretFileIsPrivateAndReadsBack) {
  testing::TempDir dir;
  auto k = generate_curve_keypair();
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_TRUE(is_z85_key(k->public_key));
  EXPECT_TRUE(is_z85_key(k->secret_key));
  ASSERT_TRUE(write_curve_key_files(dir / "cgj", k.value()).ok());
  struct stat st{};
  ASSERT_EQ(::stat((dir / "cgj.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = load_curve_secret_key(dir / "cgj.key");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->public_key, k->public_key);
  EXPECT_EQ(back->secret_key, k->secret_key);
  auto again = write_curve_key_files(dir / "cgj", k.value());
  ASSERT_FALSE(again.ok()) << "an existing key must never be overwritten";
  EXPECT_NE(again.error().detail.find("already exists"), std::string::npos);
}

TEST(CurveKeys, RefusesReadableOrMismatchedSecretFiles) {
  testing::TempDir dir;
  auto a = generate_curve_keypair();
  auto b = generate_curve_keypair();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(write_curve_key_files(dir / "a", a.value()).ok());
  ::chmod((dir / "a.key").c_str(), 0644);
  auto open = load_curve_secret_key(dir / "a.key");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().detail.find("chmod 600"), std::string::npos);

  auto mixed = dir.write("mixed.key", "public-key = \"" + b->public_key + "\"\nsecret-key = \"" + a->secret_key + "\"\n");
  ::chmod(mixed.c_str(), 0600);
  auto m = load_curve_secret_key(mixed);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().detail.find("does not belong"), std::string::npos);

  auto junk = dir.write("junk.key", "secret-key = \"nope\"\n");
  ::chmod(junk.c_str(), 0600);
  EXPECT_FALSE(load_curve_secret_key(junk).ok());
  EXPECT_FALSE(load_curve_secret_key(dir / "missing.key").ok());
}

class ZapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = generate_curve_keypair().value();
    known_ = generate_curve_keypair().value();
    auto d = Directory::parse("[[identity]]\nname = \"cgj\"\nrole = \"department\"\npublic_key = \"" +
                                  known_.public_key + "\"\n",
                              "ids.toml");
    ASSERT_TRUE(d.ok()) << d.error().message();
    directory_ = std::move(d.value());
    zap_ = std::make_unique<ZapHandler>(io_, zmq_, directory_);
    apply_curve_server(router_, server_);
    router_.bind("tcp://127.0.0.1:*");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  }

  zmq::socket_t client(const CurveKeyPair& keys) {
    zmq::socket_t s(zmq_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    apply_curve_client(s, server_.public_key, keys);
    s.connect(endpoint_);
    return s;
  }

  /// Runs the io loop (the ZAP handler) until the router holds a message or `done` says stop.
  bool receive(transport::RouterMessage& msg, const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      io_.run_for(20ms);
      io_.restart();
      // Asking ZMQ_EVENTS first makes the ROUTER prefetch, as AsioZmqSocket does in the hub: the
      // path on which libzmq does not copy the peer's metadata onto the routing-id frame.
      (void)router_.get(zmq::sockopt::events);
      if (transport::recv_router(router_, msg) == transport::RecvStatus::kMessage) return true;
      if (done && done()) return false;
    }
    return false;
  }

  boost::asio::io_context io_;
  zmq::context_t zmq_{1};
  CurveKeyPair server_;
  CurveKeyPair known_;
  Directory directory_;
  std::unique_ptr<ZapHandler> zap_;
  zmq::socket_t router_{zmq_, zmq::socket_type::router};
  std::string endpoint_;
};

TEST_F(ZapTest, KnownKeyGetsInAndCarriesItsIdentity) {
  auto c = client(known_);
  c.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  transport::RouterMessage msg;
  ASSERT_TRUE(receive(msg, nullptr, 10s));
  EXPECT_EQ(msg.user_id, "cgj");
  EXPECT_EQ(std::string(static_cast<const char*>(msg.payload.data()), msg.payload.size()), "hello");
  EXPECT_EQ(zap_->counters().accepted, 1u);
  EXPECT_EQ(zap_->counters().rejected_unknown_key, 0u);
}

TEST_F(ZapTest, UnknownKeyIsRefusedAndCounted) {
  auto stranger = generate_curve_keypair().value();
  auto c = client(stranger);
  c.send(zmq::str_buffer("let me in"), zmq::send_flags::dontwait);
  transport::RouterMessage msg;
  EXPECT_FALSE(receive(msg, [&] { return zap_->counters().rejected_unknown_key > 0; }, 10s))
      << "a message from an unknown key reached the router";
  EXPECT_EQ(zap_->counters().rejected_unknown_key, 1u);
  EXPECT_EQ(zap_->counters().accepted, 0u);
}

TEST_F(ZapTest, SecondHandlerInTheSameContextRefusesToStart) {
  EXPECT_THROW(ZapHandler second(io_, zmq_, directory_), std::runtime_error);
}

TEST(RouterMessage, UserIdIsEmptyWithoutSecurity) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.bind("inproc://plain");
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.connect("inproc://plain");
  dealer.send(zmq::str_buffer("x"), zmq::send_flags::none);
  transport::RouterMessage msg;
  msg.user_id = "stale";
  zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, 5s);
  ASSERT_EQ(transport::recv_router(router, msg), transport::RecvStatus::kMessage);
  EXPECT_EQ(msg.user_id, "") << "a reused RouterMessage must not keep the previous peer's identity";
}

}  // namespace
}  // namespace gridhub::auth
