#include "gridhub/webform/open311.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "../../testing/fixtures.hpp"

namespace gridhub::webform {
namespace {

std::vector<Open311Service> wugong_services() {
  auto s = load_open311_services(fixtures::read_file(fixtures::kFixtureDir + "world/categories.csv"), "categories.csv");
  EXPECT_TRUE(s.ok()) << s.error().detail;
  return s.ok() ? s.value() : std::vector<Open311Service>{};
}

TEST(Open311, ServicesComeFromTheCountysCategories) {
  const auto services = wugong_services();
  ASSERT_GE(services.size(), 20u);
  const auto json = boost::json::parse(open311_services_json(services));
  const auto& first = json.as_array().at(0).as_object();
  EXPECT_EQ(first.at("service_code").as_string(), "0101");
  EXPECT_EQ(first.at("service_name").as_string(), "私搭乱建");
  EXPECT_EQ(first.at("metadata").as_bool(), false);
  EXPECT_EQ(first.at("type").as_string(), "realtime");
  EXPECT_EQ(first.at("group").as_string(), "市容环境");   // the description's prefix
  EXPECT_TRUE(first.at("keywords").is_string());
  EXPECT_NE(std::string(first.at("description").as_string()).find("违章搭建"), std::string::npos);
}

TEST(Open311, ACsvWithoutCodesIsAConfigErrorNamingTheFile) {
  auto bad = load_open311_services("name,description\nx,y\n", "cats.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("cats.csv:1: no category_code column"), std::string::npos) << bad.error().detail;
}

TEST(Open311, ARequestMapsToAnEventWithWgs84Location) {
  auto r = map_open311_request({{"service_code", "0102"}, {"lat", "34.2651"}, {"long", "108.2012"},
                                {"address_string", "迎宾路35号"}, {"description", "垃圾三天没人清运"},
                                {"first_name", "宁"}, {"last_name", "朱"}, {"phone", "138 0000 0001"},
                                {"email", "a@example.invalid"}, {"media_url", "https://example.invalid/1.jpg"},
                                {"attribute[WHERE]", "门口"}},
                               wugong_services(), 1718000000000000, 480);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  const auto& f = r->event.fields();
  EXPECT_EQ(r->event.channel(), v1::CHANNEL_WEBFORM);
  EXPECT_EQ(r->event.source_key(), "open311:" + r->service_request_id);
  EXPECT_EQ(r->service_request_id.size(), 20u);
  EXPECT_EQ(f.category_hint(), "0102");
  EXPECT_DOUBLE_EQ(f.location().lat(), 34.2651);
  EXPECT_DOUBLE_EQ(f.location().lon(), 108.2012);
  EXPECT_EQ(f.location().datum(), v1::DATUM_WGS84);
  EXPECT_EQ(f.address_text(), "迎宾路35号");
  EXPECT_EQ(f.text(), "垃圾三天没人清运");
  EXPECT_EQ(f.reporter_name(), "朱宁");   // family name first for Chinese names
  EXPECT_EQ(f.reporter_phone(), "13800000001");
  EXPECT_EQ(f.reported_at().unix_micros(), 1718000000000000);
  EXPECT_EQ(f.extra().at("email"), "a@example.invalid");
  EXPECT_EQ(f.extra().at("media_url"), "https://example.invalid/1.jpg");
  EXPECT_EQ(f.extra().at("attribute[WHERE]"), "门口");
  EXPECT_EQ(f.extra().at("service_name"), "暴露垃圾");
}

TEST(Open311, TheSameRequestInAnotherFieldOrderIsTheSameRequest) {
  const auto services = wugong_services();
  auto a = map_open311_request({{"service_code", "0102"}, {"address_string", "x"}, {"description", "d"}}, services, 1, 0);
  auto b = map_open311_request({{"description", "d"}, {"service_code", "0102"}, {"address_string", "x"}}, services, 2, 0);
  auto c = map_open311_request({{"description", "e"}, {"service_code", "0102"}, {"address_string", "x"}}, services, 2, 0);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->service_request_id, b->service_request_id);
  EXPECT_NE(a->service_request_id, c->service_request_id);
}

// A client's retry the same day is the same request; the same report a month later used to get
// the old service_request_id and be dropped as a duplicate.
TEST(Open311, TheSameRequestAMonthLaterIsANewRequestWhileARetryThatDayIsNot) {
  const auto services = wugong_services();
  const std::vector<FormPair> fields = {{"service_code", "0102"}, {"address_string", "x"}, {"description", "d"}};
  const std::int64_t morning = 1764550800LL * 1000000;   // 2025-12-01 09:00 at UTC+8
  const std::int64_t minute_later = morning + 60LL * 1000000;
  const std::int64_t month_later = morning + 30LL * 86400 * 1000000;
  auto a = map_open311_request(fields, services, morning, 480);
  auto b = map_open311_request(fields, services, minute_later, 480);
  auto c = map_open311_request(fields, services, month_later, 480);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->service_request_id, b->service_request_id);
  EXPECT_NE(a->service_request_id, c->service_request_id);
}

TEST(Open311, TheLocalDayTurnsAtLocalMidnight) {
  const std::int64_t local_midnight = 1764518400LL * 1000000;   // 2025-12-01 00:00 at UTC+8
  EXPECT_EQ(local_day(local_midnight, 480), local_day(local_midnight + 86399LL * 1000000, 480));
  EXPECT_EQ(local_day(local_midnight - 1, 480) + 1, local_day(local_midnight, 480));
  EXPECT_EQ(local_day(-1, 0), -1);   // before 1970: floor, not truncation
  EXPECT_EQ(local_day(0, 0), 0);
}

TEST(Open311, ClientErrorsNameTheField) {
  const auto services = wugong_services();
  auto no_code = map_open311_request({{"address_string", "x"}}, services, 1, 0);
  ASSERT_FALSE(no_code.ok());
  EXPECT_NE(no_code.error().detail.find("service_code"), std::string::npos);
  auto unknown = map_open311_request({{"service_code", "9999"}, {"address_string", "x"}}, services, 1, 0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().detail.find("'9999'"), std::string::npos);
  auto nowhere = map_open311_request({{"service_code", "0102"}}, services, 1, 0);
  ASSERT_FALSE(nowhere.ok());
  EXPECT_NE(nowhere.error().detail.find("location"), std::string::npos);
  auto half = map_open311_request({{"service_code", "0102"}, {"lat", "34.1"}}, services, 1, 0);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().detail.find("lat and long"), std::string::npos);
  auto absurd = map_open311_request({{"service_code", "0102"}, {"lat", "134.1"}, {"long", "108"}}, services, 1, 0);
  ASSERT_FALSE(absurd.ok());
  EXPECT_NE(absurd.error().detail.find("lat:"), std::string::npos);
  EXPECT_EQ(open311_error_json(400, "service_code: required"), R"([{"code":400,"description":"service_code: required"}])");
}

}  // namespace
}  // namespace gridhub::webform
