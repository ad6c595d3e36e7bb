#pragma once
/// Time as an injectable dependency, so tests and replay control it.

#include <chrono>
#include <cstdint>

namespace gridhub {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Microseconds since the Unix epoch, UTC.
  virtual std::int64_t now_micros() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_micros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_micros = 0) : now_(start_micros) {}
  std::int64_t now_micros() const override { return now_; }
  void set(std::int64_t micros) { now_ = micros; }
  void advance(std::int64_t micros) { now_ += micros; }

 private:
  std::int64_t now_;
};

}  // namespace gridhub
