#pragma once
/// Thin RAII over the SQLite C API: a connection, prepared statements, transactions.
/// Only prepared statements with bound values touch untrusted data; SQL text is always ours.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"

namespace gridhub::sqlite {

class Statement;

enum class OpenMode { kReadWrite, kReadOnly };

/// One connection. Not thread-safe: each thread opens its own (WAL lets readers run beside the writer).
class Database {
 public:
  /// Opens (creating in read-write mode) with defensive settings; errors name the file.
  static Result<Database> open(const std::filesystem::path& file, OpenMode mode);

  Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)), file_(std::move(other.file_)) {}
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  /// Runs SQL that returns no rows (schema, pragmas). For our own fixed SQL only.
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  /// A single integer result of fixed SQL, e.g. "PRAGMA user_version" or "SELECT max(seq) FROM log".
  Result<std::int64_t> query_int(std::string_view sql);
  Result<std::string> query_text(std::string_view sql);

  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::string last_error() const { return sqlite3_errmsg(db_); }
  const std::filesystem::path& file() const { return file_; }
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  sqlite3* db_;
  std::filesystem::path file_;
};

/// A prepared statement; reset() between uses keeps it cached for the hot path.
class Statement {
 public:
  /// A statement that holds nothing (a placeholder to assign a prepared one into).
  static Statement null() { return Statement(nullptr, nullptr); }
  bool is_null() const { return stmt_ == nullptr; }
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  /// true: a row is ready; false: done. Errors are returned, never thrown.
  Result<bool> step();
  /// Steps a statement that returns no rows.
  Status run();
  void reset();

  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string_view column_text(int i) const;
  std::string_view column_blob(int i) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

/// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  const Status& begun() const { return begun_; }
  Status commit();

 private:
  Database& db_;
  Status begun_;
  bool done_ = false;
};

}  // namespace gridhub::sqlite
