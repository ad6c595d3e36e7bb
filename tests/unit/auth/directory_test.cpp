#include "gridhub/auth/directory.hpp"

#include <gtest/gtest.h>

#include "gridhub/transport/curve.hpp"
#include "gridhub/auth/entitlement.hpp"

namespace gridhub::auth {
namespace {

// Two real key pairs' public halves (any 40-character Z85 text that decodes is a valid key).
const std::string kKeyA = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const std::string kKeyB = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

std::string entry(const std::string& name, const std::string& role, const std::string& key,
                  const std::string& extra = {}) {
  return "[[identity]]\nname = \"" + name + "\"\nrole = \"" + role + "\"\npublic_key = \"" + key + "\"\n" + extra + "\n";
}

std::string error_of(const std::string& text) {
  auto d = Directory::parse(text, "ids.toml");
  EXPECT_FALSE(d.ok()) << "accepted:\n" << text;
  return d.ok() ? std::string() : d.error().detail;
}

TEST(Directory, LooksUpByKeyAndByName) {
  auto d = Directory::parse(entry("cgj", "department", kKeyA, "codes = [\"CTY_CGJ\"]") +
                                entry("hotline", "adapter", kKeyB),
                            "ids.toml");
  ASSERT_TRUE(d.ok()) << d.error().message();
  ASSERT_EQ(d->size(), 2u);
  const Identity* cgj = d->find_by_key(kKeyA);
  ASSERT_NE(cgj, nullptr);
  EXPECT_EQ(cgj->name, "cgj");
  EXPECT_EQ(cgj->role, Role::kDepartment);
  EXPECT_EQ(cgj->codes, std::vector<std::string>{"CTY_CGJ"});
  EXPECT_EQ(d->find_by_name("hotline"), d->find_by_key(kKeyB));
  EXPECT_EQ(d->find_by_name("nobody"), nullptr);
  EXPECT_EQ(d->find_by_key("0000000000000000000000000000000000000000"), nullptr);
}

TEST(Directory, PiiDefaultsByRoleAndCanBeOverridden) {
  auto d = Directory::parse(entry("dept", "department", kKeyA) + entry("audit", "auditor", kKeyB), "ids.toml");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_TRUE(may_see_pii(*d->find_by_name("dept"))) << "departments call reporters back";
  EXPECT_FALSE(may_see_pii(*d->find_by_name("audit"))) << "auditors check the process, not the people";
  auto o = Directory::parse(entry("dept", "department", kKeyA, "pii = false"), "ids.toml");
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_FALSE(may_see_pii(*o->find_by_name("dept")));
}

TEST(Directory, ErrorsNameFileLineAndKey) {
  // The bad role sits on line 8: the second entry's role line.
  const std::string text = entry("a", "adapter", kKeyA) + entry("b", "mayor", kKeyB);
  EXPECT_EQ(error_of(text), "ids.toml:8: identity.role: unknown role \"mayor\" (one of: adapter, grid_worker, community, "
                            "department, center, auditor, operator)");
}

TEST(Directory, RejectsDuplicatesBadKeysAndUnknownKeys) {
  EXPECT_NE(error_of(entry("a", "adapter", kKeyA) + entry("a", "adapter", kKeyB)).find("\"a\" is defined twice"),
            std::string::npos);
  EXPECT_NE(error_of(entry("a", "adapter", kKeyA) + entry("b", "auditor", kKeyA)).find("same key as \"a\""),
            std::string::npos);
  EXPECT_NE(error_of(entry("a", "adapter", "short")).find("ids.toml:4: identity.public_key: must be a CURVE public key"),
            std::string::npos);
  // 40 characters, but '~' is not in the Z85 alphabet.
  EXPECT_NE(error_of(entry("a", "adapter", std::string(39, 'a') + "~")).find("identity.public_key"), std::string::npos);
  EXPECT_NE(error_of(entry("a", "adapter", kKeyA, "colour = \"red\"")).find("identity.colour: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("[identities]\n").find("ids.toml:1: identities: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[[identity]]\nname = \"x\"\nrole = \"adapter\"\n").find("identity.public_key: missing"),
            std::string::npos);
  EXPECT_NE(error_of("[[identity]]\nname = \"x\"\nrole = \"adapter\"\npublic_key = ").find("ids.toml:4"),
            std::string::npos)
      << "TOML syntax errors carry their line too";
}

TEST(Directory, MissingFileIsAnError) {
  auto d = Directory::load_file("/nonexistent/identities.toml");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().detail.find("/nonexistent/identities.toml"), std::string::npos);
}

TEST(Directory, ExampleIdentitiesFileLoads) {
  auto d = Directory::load_file(GRIDHUB_SOURCE_DIR "/examples/wugong/identities.toml");
  ASSERT_TRUE(d.ok()) << d.error().message();
  const Identity* cgj = d->find_by_name("cgj");
  ASSERT_NE(cgj, nullptr);
  EXPECT_EQ(cgj->role, Role::kDepartment);
  EXPECT_EQ(d->find_by_key(cgj->public_key), cgj);
}

TEST(Roles, OneTableRoundTripsEveryName) {
  for (const auto& r : kRoles) {
    auto parsed = parse_role(r.name);
    ASSERT_TRUE(parsed.has_value()) << r.name;
    EXPECT_EQ(*parsed, r.role);
    EXPECT_EQ(role_name(r.role), r.name);
  }
  EXPECT_FALSE(parse_role("Department").has_value()) << "role names are case-sensitive";
}

}  // namespace
}  // namespace gridhub::auth
