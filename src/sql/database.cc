#include "sql/database.h"

#include <utility>

#include <sqlite3.h>

namespace berth::sql {
namespace {

Error SqlError(sqlite3* db, int rc, std::string_view what) {
  Code code = Code::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      code = Code::kAlreadyExists;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = Code::kUnavailable;
      break;
    case SQLITE_FULL:
      code = Code::kResourceExhausted;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = Code::kDataLoss;
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      code = Code::kPermissionDenied;
      break;
    default:
      break;
  }
  std::string msg =
      "sqlite: " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return MakeError(code, std::move(msg));
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqlError(raw, rc, "open " + path);
    sqlite3_close(raw);
    return e;
  }
  std::unique_ptr<Database> db(new Database(raw));
  sqlite3_busy_timeout(raw, 5000);
  BERTH_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Exec(std::string_view sql) {
  auto lock = Lock();
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqlError(nullptr, rc, msg);
  }
  return Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqlError(db_, rc, "prepare");
  return Statement(db_, stmt);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }
bool Database::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Statement::Statement(Statement&& o) noexcept
    : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)), bind_error_(std::move(o.bind_error_)) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
    bind_error_ = std::move(o.bind_error_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = SqlError(db_, rc, "bind");
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = SqlError(db_, rc, "bind");
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = SqlError(db_, rc, "bind");
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = SqlError(db_, rc, "bind");
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_) return *bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, rc, "step");
}

Status Statement::Run() {
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_.reset();
}

int64_t Statement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::ColumnText(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p || n <= 0) return std::string();
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

Result<Transaction> Transaction::Begin(Database& db) {
  auto lock = db.Lock();
  BERTH_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(db, std::move(lock));
}

Transaction::Transaction(Transaction&& o) noexcept
    : db_(o.db_), lock_(std::move(o.lock_)), done_(std::exchange(o.done_, true)) {}

Transaction::~Transaction() {
  if (!done_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  BERTH_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  done_ = true;
  return Ok();
}

}  // namespace berth::sql
