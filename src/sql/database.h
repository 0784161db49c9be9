// A thin, safe wrapper over one SQLite connection (WAL, foreign keys on, busy timeout).
//
// One Database is shared by the modules of a process (content, snapshot, image, ...); each
// module creates its own tables at open ("CREATE TABLE IF NOT EXISTS"). SQLite errors become
// berth::Error. Thread-safety: the connection is guarded by a recursive mutex; hold Lock()
// (or a Transaction, which holds it) across Prepare/Step sequences that must not interleave.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::sql {

class Statement;

class Database {
 public:
  // Opens or creates the database file. ":memory:" gives a private in-memory database.
  static Result<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  std::unique_lock<std::recursive_mutex> Lock() { return std::unique_lock(mu_); }

  // Runs one or more statements with no results (schema, pragmas).
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  int64_t LastInsertRowId() const;
  int Changes() const;
  // Whether a transaction (a Transaction, or a SAVEPOINT opened outside one) is open on the
  // connection. Hold Lock() while acting on the answer: another thread's Transaction holds
  // the lock for its whole life, so under the lock the answer is about this thread's work.
  bool InTransaction() const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::recursive_mutex mu_;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Chainable.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Advances: true if a row is ready, false when done.
  Result<bool> Step();
  // Runs to completion, expecting no rows (INSERT/UPDATE/DELETE).
  Status Run();
  void Reset();

  int64_t ColumnInt(int col) const;
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::optional<Error> bind_error_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless Commit() succeeded.
// Holds the database lock for its whole life.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  Transaction(Database& db, std::unique_lock<std::recursive_mutex> lock)
      : db_(&db), lock_(std::move(lock)) {}
  Database* db_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool done_ = false;
};

}  // namespace berth::sql
