// gridhub::log pii_vault: personal fields sealed under a per-ticket key, opened with it, and read as
// "[erased]" — never as garbage — once the key is gone.
#include "gridhub/log/pii_vault.hpp"

#include <sodium.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::log {
namespace {

namespace v1 = gridhub::v1;

v1::IntakeAccepted intake() {
  v1::IntakeAccepted a;
  a.mutable_event()->set_source_key("GD1");
  a.mutable_event()->set_original_payload("GD1,王女士,13800000001,路灯不亮");
  a.mutable_event()->mutable_fields()->set_reporter_name("王女士");
  a.mutable_event()->mutable_fields()->set_reporter_phone("13800000001");
  a.mutable_event()->mutable_fields()->set_text("路灯不亮");
  a.mutable_ticket()->mutable_reporter()->set_phone("13800000001");
  a.mutable_ticket()->set_text("路灯不亮");
  return a;
}

class PiiVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db_, "CREATE TABLE pii_keys(key_id TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    auto keys = PiiKeyStore::open(db_);
    ASSERT_TRUE(keys.ok()) << keys.error().message();
    keys_.emplace(std::move(keys.value()));
  }
  void TearDown() override {
    keys_.reset();
    sqlite3_close(db_);
  }

  sqlite3* db_ = nullptr;
  std::optional<PiiKeyStore> keys_;
};

TEST_F(PiiVaultTest, SealsOnlyPersonalFieldsAndOpensThemAgain) {
  auto key = keys_->create("T00000001");
  ASSERT_TRUE(key.ok());
  auto a = intake();
  ASSERT_TRUE(seal_pii(a, "T00000001", key.value()));
  const auto& phone = a.event().fields().reporter_phone();
  EXPECT_EQ(pii_value_state(phone), PiiValueState::kSealed) << phone;
  EXPECT_EQ(sealed_key_id(phone), "T00000001");
  EXPECT_EQ(phone.find("13800000001"), std::string::npos);
  {
    // The text after the key id is standard padded base64, as earlier versions wrote it with
    // libsodium: logs sealed by either open with either.
    const std::string b64 = phone.substr(phone.rfind(':') + 1);
    std::string bin(b64.size(), '\0');
    std::size_t bin_len = 0;
    ASSERT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), b64.data(), b64.size(), nullptr,
                                &bin_len, nullptr, sodium_base64_VARIANT_ORIGINAL),
              0);
    std::string again(sodium_base64_ENCODED_LEN(bin_len, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(again.data(), again.size(), reinterpret_cast<const unsigned char*>(bin.data()), bin_len,
                      sodium_base64_VARIANT_ORIGINAL);
    EXPECT_EQ(again.c_str(), b64);
  }
  EXPECT_EQ(pii_value_state(a.event().original_payload()), PiiValueState::kSealed);
  EXPECT_EQ(pii_value_state(a.ticket().reporter().phone()), PiiValueState::kSealed);
  EXPECT_EQ(a.event().fields().text(), "路灯不亮") << "not personal: stays plain";
  EXPECT_EQ(a.event().source_key(), "GD1");
  // Two seals of one value differ (random nonces): equal phones do not show as equal ciphertexts.
  EXPECT_NE(phone, a.ticket().reporter().phone());

  const std::string sealed_once = a.SerializeAsString();
  ASSERT_TRUE(seal_pii(a, "T00000001", key.value()));
  EXPECT_EQ(a.SerializeAsString(), sealed_once) << "sealing a sealed record changes nothing";

  ASSERT_TRUE(unseal_pii(a, *keys_).ok());
  EXPECT_EQ(a.SerializeAsString(), intake().SerializeAsString());
}

TEST_F(PiiVaultTest, DestroyedKeyReadsAsErased) {
  auto key = keys_->create("T00000002");
  ASSERT_TRUE(key.ok());
  auto a = intake();
  ASSERT_TRUE(seal_pii(a, "T00000002", key.value()));
  auto gone = keys_->destroy("T00000002");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone.value());
  EXPECT_FALSE(keys_->destroy("T00000002").value()) << "already gone";
  keys_->clear_cache();
  auto loaded = keys_->load("T00000002");
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
  ASSERT_TRUE(unseal_pii(a, *keys_).ok());
  EXPECT_EQ(a.event().fields().reporter_phone(), kErasedText);
  EXPECT_EQ(a.event().original_payload(), kErasedText);
  EXPECT_EQ(a.ticket().reporter().phone(), kErasedText);
  EXPECT_EQ(a.event().fields().text(), "路灯不亮");
}

TEST_F(PiiVaultTest, WrongKeyOrMovedValueReadsAsErasedNotGarbage) {
  auto k1 = keys_->create("T00000003");
  ASSERT_TRUE(k1.ok());
  auto a = intake();
  ASSERT_TRUE(seal_pii(a, "T00000003", k1.value()));
  const std::string phone = a.event().fields().reporter_phone();
  // A key id used again after destruction gets a new key: what the old one sealed stays unreadable.
  ASSERT_TRUE(keys_->destroy("T00000003").ok());
  auto k2 = keys_->create("T00000003");
  ASSERT_TRUE(k2.ok());
  EXPECT_NE(k1.value(), k2.value());
  EXPECT_FALSE(open_sealed(phone, "gridhub.v1.ExtractedFields.reporter_phone", k2.value()));
  EXPECT_EQ(open_sealed(phone, "gridhub.v1.ExtractedFields.reporter_phone", k1.value()), "13800000001");
  // The field name is bound in: a sealed phone copied into the name field does not open there.
  EXPECT_FALSE(open_sealed(phone, "gridhub.v1.ExtractedFields.reporter_name", k1.value()));
  std::string damaged = phone;
  damaged[damaged.size() - 3] = damaged[damaged.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(open_sealed(damaged, "gridhub.v1.ExtractedFields.reporter_phone", k1.value()));
  ASSERT_TRUE(unseal_pii(a, *keys_).ok());
  EXPECT_EQ(a.event().fields().reporter_phone(), kErasedText);
}

std::string tag(const std::string& v) { return "<" + v + ">"; }

// The stream opens records on their encoding (unseal_pii_encoded); it must give exactly the bytes of
// parsing, unseal_pii and serializing, for every presentation and every state a value can be in.
TEST_F(PiiVaultTest, OpeningTheEncodingGivesTheBytesOfOpeningTheMessage) {
  auto live = keys_->create("T00000010");
  auto dead = keys_->create("T00000011");
  ASSERT_TRUE(live.ok() && dead.ok());
  std::vector<v1::LogRecord> records;
  {
    auto& r = records.emplace_back();   // sealed, key present
    r.set_seq(1);
    *r.mutable_intake_accepted() = intake();
    r.mutable_intake_accepted()->mutable_ticket()->mutable_reporter()->set_name("李");
    ASSERT_TRUE(seal_pii(*r.mutable_intake_accepted(), "T00000010", live.value()));
  }
  {
    auto& r = records.emplace_back();   // sealed under a key destroyed since
    r.set_seq(2);
    *r.mutable_intake_accepted() = intake();
    ASSERT_TRUE(seal_pii(*r.mutable_intake_accepted(), "T00000011", dead.value()));
    ASSERT_TRUE(keys_->destroy("T00000011").ok());
  }
  {
    auto& r = records.emplace_back();   // plain values (a log from before sealing), one empty, one erased
    r.set_seq(3);
    *r.mutable_intake_accepted() = intake();
    r.mutable_intake_accepted()->mutable_event()->mutable_fields()->set_reporter_name("");
    r.mutable_intake_accepted()->mutable_ticket()->mutable_reporter()->set_phone(std::string(kErasedText));
  }
  records.emplace_back().set_seq(4);    // no body at all
  const PiiPresentation presentations[] = {{}, {.drop_bytes = true, .transform = &tag}, {.drop_bytes = false, .transform = &tag},
                                           {.drop_bytes = true, .transform = nullptr}};
  for (const auto& how : presentations) {
    for (const auto& r : records) {
      v1::LogRecord opened = r;
      ASSERT_TRUE(unseal_pii(opened, *keys_, how).ok());
      std::string out = "prefix:";
      ASSERT_TRUE(unseal_pii_encoded(v1::LogRecord::descriptor(), r.SerializeAsString(), *keys_, how, out).ok());
      EXPECT_EQ(out, "prefix:" + opened.SerializeAsString())
          << "record " << r.seq() << ", drop_bytes " << how.drop_bytes << ", transform " << (how.transform != nullptr);
    }
  }
  // What the comparison rests on: values were opened, erased, dropped and transformed.
  v1::LogRecord shown;
  std::string out;
  ASSERT_TRUE(unseal_pii_encoded(v1::LogRecord::descriptor(), records[0].SerializeAsString(), *keys_, presentations[1], out).ok());
  ASSERT_TRUE(shown.ParseFromString(out));
  EXPECT_EQ(shown.intake_accepted().event().fields().reporter_phone(), "<13800000001>");
  EXPECT_EQ(shown.intake_accepted().ticket().reporter().name(), "<李>");
  EXPECT_EQ(shown.intake_accepted().event().original_payload(), "") << "dropped unopened";
  out.clear();
  ASSERT_TRUE(unseal_pii_encoded(v1::LogRecord::descriptor(), records[1].SerializeAsString(), *keys_, {}, out).ok());
  ASSERT_TRUE(shown.ParseFromString(out));
  EXPECT_EQ(shown.intake_accepted().event().fields().reporter_phone(), kErasedText);

  // Malformed bytes: an error, and the output as it was.
  std::string bytes = records[0].SerializeAsString();
  bytes.resize(bytes.size() / 2);
  out = "kept";
  EXPECT_FALSE(unseal_pii_encoded(v1::LogRecord::descriptor(), bytes, *keys_, {}, out).ok());
  EXPECT_EQ(out, "kept");
}

TEST_F(PiiVaultTest, ClearPiiEmptiesEveryPersonalField) {
  auto a = intake();
  clear_pii(a);
  EXPECT_EQ(a.event().fields().reporter_phone(), "");
  EXPECT_EQ(a.event().fields().reporter_name(), "");
  EXPECT_EQ(a.event().original_payload(), "");
  EXPECT_EQ(a.ticket().reporter().phone(), "");
  EXPECT_EQ(a.ticket().text(), "路灯不亮");
}

TEST(PiiVaultState, TellsPlainSealedAndErasedApart) {
  EXPECT_EQ(pii_value_state("13800000001"), PiiValueState::kPlain);
  EXPECT_EQ(pii_value_state("sealed:v1:T00000001:AAAA"), PiiValueState::kSealed);
  EXPECT_EQ(pii_value_state("[erased]"), PiiValueState::kErased);
  EXPECT_EQ(sealed_key_id("sealed:v1:R00000007:AAAA"), "R00000007");
  EXPECT_EQ(sealed_key_id("13800000001"), "");
  EXPECT_EQ(record_key_id(7), "R00000007");
}

TEST(EventLogWriter, OneWriterPerFile) {
  gridhub::testing::TempDir dir;
  ManualClock clock(1);
  auto first = open_event_log(dir / "gridhub.db", LogOptions{}, clock);
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = open_event_log(dir / "gridhub.db", LogOptions{}, clock);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, make_error_code(Errc::unavailable));
  EXPECT_NE(second.error().detail.find("writer.lock"), std::string::npos) << second.error().detail;
  first.value().reset();
  EXPECT_TRUE(open_event_log(dir / "gridhub.db", LogOptions{}, clock).ok()) << "released at close";
}

TEST(EventLogWriter, IntakeRecordsAreStoredSealedAndErasureDestroysTheKey) {
  gridhub::testing::TempDir dir;
  ManualClock clock(1);
  auto log = core::open_log(dir / "gridhub.db", LogOptions{}, clock);
  ASSERT_TRUE(log.ok()) << log.error().message();
  std::vector<AppendItem> items;
  for (int i = 0; i < 2; ++i) {
    IntakeItem item;
    item.body = intake();
    item.body.mutable_event()->set_source_key("GD" + std::to_string(i));
    items.emplace_back(std::move(item));
  }
  std::vector<AppendOutcome> out;
  ASSERT_TRUE(log.value()->append(items, out).ok());
  std::vector<AppendItem> erase;
  erase.emplace_back(ErasureItem{"T00000001", "case 7", "dpo"});
  ASSERT_TRUE(log.value()->append(erase, out).ok());
  EXPECT_EQ(out.at(0).seq, 3u);
  std::vector<AppendItem> unknown;
  unknown.emplace_back(ErasureItem{"T00000099", "case 8", "dpo"});
  EXPECT_FALSE(log.value()->append(unknown, out).ok()) << "no such ticket";
  log.value().reset();

  auto reader = LogReader::open(dir / "gridhub.db");
  ASSERT_TRUE(reader.ok());
  std::vector<v1::LogRecord> records;
  ASSERT_TRUE(reader->read(1, 10, [&](std::uint64_t, std::string_view body) {
                records.emplace_back().ParseFromArray(body.data(), static_cast<int>(body.size()));
              }).ok());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[2].has_erasure());
  EXPECT_EQ(records[2].erasure().key_id(), "T00000001");
  EXPECT_TRUE(records[2].erasure().ticket().pii_erased());
  // Where the ticket had personal data it now reads "[erased]" (docs/audit.md), not an empty field.
  EXPECT_EQ(records[2].erasure().ticket().reporter().phone(), kErasedText);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir / "gridhub.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  {
    auto keys = PiiKeyStore::open(db);
    ASSERT_TRUE(keys.ok());
    for (auto& r : records) ASSERT_TRUE(unseal_pii(r, keys.value()).ok());
  }
  sqlite3_close(db);
  EXPECT_EQ(records[0].intake_accepted().event().fields().reporter_phone(), kErasedText);
  EXPECT_EQ(records[0].intake_accepted().ticket().reporter().phone(), kErasedText);
  EXPECT_EQ(records[1].intake_accepted().event().fields().reporter_phone(), "13800000001") << "other tickets keep theirs";
  EXPECT_EQ(records[1].intake_accepted().event().original_payload(), "GD1,王女士,13800000001,路灯不亮");
}

}  // namespace
}  // namespace gridhub::log
