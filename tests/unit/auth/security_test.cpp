// auth::Security: who a frame is from, in both modes, and refusing to start on a broken setup.
#include "gridhub/auth/security.hpp"

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"

namespace gridhub::auth {
namespace {

using transport::generate_curve_keypair;
using transport::write_curve_key_files;

class SecurityModes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto hub = generate_curve_keypair();
    ASSERT_TRUE(hub.ok());
    ASSERT_TRUE(write_curve_key_files(dir_ / "hub", hub.value()).ok());
    ids_ = dir_.write("ids.toml", "[[identity]]\nname = \"cgj\"\nrole = \"department\"\ncodes = [\"CTY_CGJ\"]\n"
                                  "public_key = \"" + generate_curve_keypair().value().public_key + "\"\n");
  }

  testing::TempDir dir_;
  std::filesystem::path ids_;
  boost::asio::io_context io_;
  zmq::context_t zmq_{1};
};

TEST_F(SecurityModes, OffTrustsEveryoneAndLetsSubscribersClaimAConfiguredIdentity) {
  Security s(io_, zmq_, SecurityOptions{SecurityMode::kOff, {}, ids_});
  EXPECT_FALSE(s.curve());
  EXPECT_EQ(s.zap_counters(), nullptr);
  transport::RouterMessage msg;
  msg.user_id = "cgj";   // off mode: whatever a frame carries, it is the local operator
  EXPECT_EQ(s.identify(msg), &local_operator());
  ASSERT_NE(s.claim("cgj"), nullptr);
  EXPECT_EQ(s.claim("cgj")->role, Role::kDepartment);
  EXPECT_EQ(s.claim("someone-else"), &local_operator());
}

TEST_F(SecurityModes, CurveTakesIdentityFromTheKeyOnly) {
  Security s(io_, zmq_, SecurityOptions{SecurityMode::kCurve, dir_ / "hub.key", ids_});
  ASSERT_TRUE(s.curve());
  ASSERT_NE(s.zap_counters(), nullptr);
  transport::RouterMessage msg;
  msg.user_id = "cgj";
  ASSERT_NE(s.identify(msg), nullptr);
  EXPECT_EQ(s.identify(msg)->name, "cgj");
  msg.user_id.clear();
  EXPECT_EQ(s.identify(msg), nullptr) << "no ZAP identity: nobody, not the local operator";
  EXPECT_EQ(s.claim("cgj"), nullptr) << "a name a client sends proves nothing in curve mode";
}

TEST_F(SecurityModes, CurveRefusesToStartWithoutItsPieces) {
  EXPECT_THROW(Security(io_, zmq_, SecurityOptions{SecurityMode::kCurve, dir_ / "missing.key", ids_}), std::runtime_error);
  EXPECT_THROW(Security(io_, zmq_, SecurityOptions{SecurityMode::kCurve, dir_ / "hub.key", {}}), std::runtime_error);
  auto bad = dir_.write("bad.toml", "[[identity]]\nname = \"x\"\n");
  try {
    Security s(io_, zmq_, SecurityOptions{SecurityMode::kCurve, dir_ / "hub.key", bad});
    FAIL() << "started with a broken identities file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.toml:1: identity.role: missing"), std::string::npos) << e.what();
  }
  // Another handler already holds the ZAP endpoint in this context.
  Security first(io_, zmq_, SecurityOptions{SecurityMode::kCurve, dir_ / "hub.key", ids_});
  EXPECT_THROW(Security(io_, zmq_, SecurityOptions{SecurityMode::kCurve, dir_ / "hub.key", ids_}), std::runtime_error);
}

}  // namespace
}  // namespace gridhub::auth
