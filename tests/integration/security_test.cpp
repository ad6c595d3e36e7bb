// A real hub in [security] mode "curve": known keys get in with their role's rights, unknown keys get
// no answer at all and are counted, and a hub whose keys or identities are broken does not start.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <zmq.hpp>

#include "gridhub/transport/curve.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;
using namespace std::chrono_literals;

const std::string kExport = source_path("examples/wugong/hotline/export_20240527-20240605.csv");

const std::string kSecurity =
    "\n[security]\nmode = \"curve\"\nsecret_key_file = \"hub.key\"\nidentities = \"identities.toml\"\n";

/// `gridhubctl keygen --curve`: the public key it prints.
std::string keygen(const TempDir& dir, const std::string& name) {
  auto [rc, out] = run({bin("gridhubctl"), "keygen", "--curve", "--out", (dir / name).string()}, dir / "keygen.stderr");
  EXPECT_EQ(rc, 0) << slurp(dir / "keygen.stderr");
  return out.substr(0, out.find('\n'));
}

std::int64_t counter(const std::string& status, const std::string& name) {
  auto pos = status.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  return std::strtoll(status.c_str() + pos + name.size() + 2, nullptr, 10);
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_key_ = keygen(dir_, "hub");
    const auto adapter = keygen(dir_, "hotline");
    const auto op = keygen(dir_, "ops");
    std::ofstream ids(dir_ / "identities.toml");
    ids << "[[identity]]\nname = \"hotline\"\nrole = \"adapter\"\npublic_key = \"" << adapter << "\"\n\n"
        << "[[identity]]\nname = \"ops\"\nrole = \"operator\"\npublic_key = \"" << op << "\"\n";
    ids.close();
    hub_.start();
  }

  /// gridhubctl status with `key`: {exit code, stdout, stderr}.
  std::tuple<int, std::string, std::string> status(const std::string& key) {
    auto [rc, out] = run({bin("gridhubctl"), "status", "--hub", hub_.ingest(), "--timeout-ms", "5000", "--server-key",
                          hub_key_, "--key", (dir_ / (key + ".key")).string()},
                         dir_ / "status.stderr");
    return {rc, out, slurp(dir_ / "status.stderr")};
  }

  TempDir dir_;
  HubProcess hub_{dir_.path(), {}, kSecurity};
  std::string hub_key_;
};

TEST_F(SecurityTest, AdapterWithAKnownKeySubmitsAndIsAcked) {
  auto cfg = write_hotline_config(dir_.path(), "hotline", hub_.ingest(),
                                  "server_public_key = \"" + hub_key_ + "\"\nsecret_key_file = \"hotline.key\"\n");
  auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), "--json-summary", kExport}, dir_ / "hotline.stderr");
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  EXPECT_NE(out.find("\"sent\":93,"), std::string::npos) << out;
  EXPECT_NE(out.find("\"pending\":0,"), std::string::npos) << "every event acked: " << out;

  auto [src, sout, serr] = status("ops");
  ASSERT_EQ(src, 0) << serr;
  EXPECT_GE(counter(sout, "ingest_accepted_total"), 91) << sout;   // 93 sent, 2 of them adapter-side rejections
  EXPECT_EQ(counter(sout, "ingest_denied_submit_total"), 0) << sout;
  EXPECT_EQ(counter(sout, "auth_rejected_unknown_key_total"), 0) << sout;
}

TEST_F(SecurityTest, UnknownKeyGetsNoAnswerAndIsCounted) {
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  transport::apply_curve_client(sock, hub_key_, transport::generate_curve_keypair().value());
  sock.connect(hub_.ingest());
  v1::AdapterToHub req;
  req.mutable_status();
  (void)transport::send_dealer(sock, req, true);

  // The ZAP refusal is the signal: wait for the operator to see it counted (bounded).
  std::int64_t rejected = 0;
  for (int i = 0; i < 100 && rejected < 1; ++i) {
    auto [rc, out, err] = status("ops");
    ASSERT_EQ(rc, 0) << err;
    rejected = counter(out, "auth_rejected_unknown_key_total");
    if (rejected < 1) std::this_thread::sleep_for(50ms);   // polling a counter with a deadline
  }
  EXPECT_GE(rejected, 1);
  zmq::message_t msg;
  EXPECT_FALSE(sock.recv(msg, zmq::recv_flags::dontwait).has_value()) << "an unknown key got an answer";
  EXPECT_NE(slurp(hub_.stderr_file()).find("refused unknown CURVE key"), std::string::npos);
}

TEST_F(SecurityTest, AdapterKeyAskingForStatusIsRefused) {
  auto [rc, out, err] = status("hotline");
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(err.find("requires role operator"), std::string::npos) << err;
  EXPECT_NE(err.find("\"hotline\" has role adapter"), std::string::npos) << err;
  auto [src, sout, serr] = status("ops");
  ASSERT_EQ(src, 0) << serr;
  EXPECT_EQ(counter(sout, "ingest_denied_control_total"), 1) << sout;
}

TEST_F(SecurityTest, OperatorKeySubmittingIsRefusedWithAReason) {
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  auto ops = transport::load_curve_secret_key(dir_ / "ops.key");
  ASSERT_TRUE(ops.ok()) << ops.error().message();
  transport::apply_curve_client(sock, hub_key_, ops.value());
  sock.connect(hub_.ingest());
  v1::AdapterToHub req;
  req.mutable_submit()->set_correlation_id(7);
  ASSERT_EQ(transport::send_dealer(sock, req, false), transport::SendStatus::kSent);
  zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, 10s);
  zmq::message_t msg;
  ASSERT_TRUE(sock.recv(msg, zmq::recv_flags::dontwait).has_value()) << "no answer within 10 s";
  v1::HubToAdapter rep;
  ASSERT_TRUE(rep.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
  ASSERT_TRUE(rep.has_nack());
  EXPECT_EQ(rep.nack().code(), v1::NACK_CODE_FORBIDDEN);
  EXPECT_EQ(rep.nack().correlation_id(), 7u);
  EXPECT_NE(rep.nack().reason().find("submit requires role adapter"), std::string::npos) << rep.nack().reason();
}

/// A second hub in the same folder's files, started directly: {exit code, stderr}.
std::pair<int, std::string> start_broken(const TempDir& dir, const std::string& security) {
  std::ofstream cfg(dir / "broken.toml");
  cfg << "[hub]\nlog_db = \"broken.db\"\n[ingest]\nendpoints = [\"tcp://127.0.0.1:*\"]\n"
      << "[stream]\nendpoints = [\"tcp://127.0.0.1:*\"]\n" << security;
  cfg.close();
  auto [rc, out] = run({bin("gridhub"), "-c", (dir / "broken.toml").string()}, dir / "broken.stderr");
  EXPECT_EQ(out.find("READY"), std::string::npos) << out;
  return {rc, slurp(dir / "broken.stderr")};
}

TEST_F(SecurityTest, BrokenIdentitiesOrMissingKeyRefuseToStart) {
  std::ofstream(dir_ / "bad-ids.toml") << "[[identity]]\nname = \"x\"\nrole = \"mayor\"\npublic_key = \"" << hub_key_ << "\"\n";
  auto [rc, err] = start_broken(dir_, "[security]\nmode = \"curve\"\nsecret_key_file = \"hub.key\"\nidentities = \"bad-ids.toml\"\n");
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.find("bad-ids.toml:3: identity.role: unknown role \"mayor\""), std::string::npos) << err;

  std::tie(rc, err) = start_broken(dir_, "[security]\nmode = \"curve\"\nsecret_key_file = \"nope.key\"\nidentities = \"identities.toml\"\n");
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.find("nope.key: secret key unreadable"), std::string::npos) << err;

  std::tie(rc, err) = start_broken(dir_, "[security]\nmode = \"curve\"\nidentities = \"identities.toml\"\n");
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.find("mode \"curve\" needs security.secret_key_file"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "broken.db")) << "refused before opening the log";
}

}  // namespace
}  // namespace gridhub::testing
