#pragma once
/// WeChat users often send their location first and describe the problem right after. A location
/// message followed within the window (10 minutes) by a text from the same sender belongs to that
/// text's report: the text event gets the location's coordinates (datum kept, GCJ-02 for WeChat) and
/// `extra["location_msg"]` naming the location message. A location followed by nothing, or only
/// later, stands alone. Feed events in the order they happened (adapters: as they arrive).

#include <cstdint>
#include <string>
#include <unordered_map>

#include "gridhub/v1/event.pb.h"

namespace gridhub::wechat {

class LocationPairer {
 public:
  explicit LocationPairer(std::int64_t window_us = 600LL * 1000000) : window_us_(window_us) {}

  /// Remembers locations; completes texts. Returns true when `event` received a location.
  bool feed(gridhub::v1::Event& event);

  /// Locations still waiting for a text. A long-running adapter (`gridhub-wechat serve`) would
  /// otherwise keep one per sender forever: locations older than the window (relative to the newest
  /// event fed) can never pair and are dropped every kSweepEvery feeds.
  std::size_t waiting() const { return last_location_.size(); }
  static constexpr std::size_t kSweepEvery = 1024;

 private:
  struct Pending {
    std::int64_t at_us;
    gridhub::v1::GeoPoint point;
    std::string source_key;
  };
  std::int64_t window_us_;
  std::int64_t newest_us_ = 0;
  std::size_t fed_ = 0;
  std::unordered_map<std::string, Pending> last_location_;   // by sender
};

}  // namespace gridhub::wechat
