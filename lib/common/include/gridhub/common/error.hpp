#pragma once
/// gridhub's error codes: one enum, one std::error_category, used on every data path.

#include <string>
#include <system_error>
#include <utility>

namespace gridhub {

enum class Errc {
  ok = 0,
  malformed_frame,    // bytes that do not parse as the expected message
  too_large,          // over a configured size limit
  invalid_event,      // parsed, but a required field is missing or out of range
  unavailable,        // the peer or store cannot take work right now; retry later
  storage_failed,     // SQLite reported an error
  config_invalid,     // configuration file or value rejected at start-up
  decode_failed,      // bytes not valid in the declared or detected text encoding
  missing_field,      // a record lacks a field the mapping requires
  bad_value,          // a field is present but unusable (bad date, absurd number)
  io_failed,          // file or socket error
};

const std::error_category& gridhub_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), gridhub_category()};
}

/// Short stable name of a code, used in metrics and dead-letter reasons ("bad_value").
std::string_view errc_name(Errc e) noexcept;

/// An error with the detail an operator needs: which source, record and field.
struct Error {
  std::error_code code;
  std::string detail;

  Error() = default;
  Error(Errc c, std::string d) : code(make_error_code(c)), detail(std::move(d)) {}
  Error(std::error_code c, std::string d) : code(c), detail(std::move(d)) {}

  std::string message() const { return detail.empty() ? code.message() : code.message() + ": " + detail; }
};

}  // namespace gridhub

template <>
struct std::is_error_code_enum<gridhub::Errc> : std::true_type {};
