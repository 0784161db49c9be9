#include "sql/database.h"

#include <gtest/gtest.h>

namespace berth::sql {
namespace {

TEST(DatabaseTest, InsertAndSelect) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)").ok());
  auto ins = (*db)->Prepare("INSERT INTO t (k, v) VALUES (?, ?)");
  ASSERT_TRUE(ins);
  ASSERT_TRUE(ins->Bind(1, "a").Bind(2, int64_t{42}).Run().ok());
  auto sel = (*db)->Prepare("SELECT v FROM t WHERE k = ?");
  ASSERT_TRUE(sel);
  sel->Bind(1, "a");
  auto row = sel->Step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(sel->ColumnInt(0), 42);
}

TEST(DatabaseTest, ConstraintViolationIsAlreadyExists) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES ('x')").ok());
  auto st = (*db)->Prepare("INSERT INTO t VALUES ('x')");
  ASSERT_TRUE(st);
  Status s = st->Run();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kAlreadyExists);
}

TEST(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT)").ok());
  {
    auto tx = Transaction::Begin(**db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES ('gone')").ok());
  }
  {
    auto tx = Transaction::Begin(**db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES ('kept')").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto sel = (*db)->Prepare("SELECT group_concat(k) FROM t");
  ASSERT_TRUE(sel);
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnText(0), "kept");
}

TEST(DatabaseTest, InTransactionFollowsTransactionsAndSavepoints) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db);
  EXPECT_FALSE((*db)->InTransaction());
  {
    auto tx = Transaction::Begin(**db);
    ASSERT_TRUE(tx);
    EXPECT_TRUE((*db)->InTransaction());
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE((*db)->InTransaction());
  }
  {
    auto tx = Transaction::Begin(**db);
    ASSERT_TRUE(tx);
    EXPECT_TRUE((*db)->InTransaction());
  }
  EXPECT_FALSE((*db)->InTransaction()) << "after the destructor's rollback";
  ASSERT_TRUE((*db)->Exec("SAVEPOINT s").ok());
  EXPECT_TRUE((*db)->InTransaction());
  ASSERT_TRUE((*db)->Exec("RELEASE s").ok());
  EXPECT_FALSE((*db)->InTransaction());
}

}  // namespace
}  // namespace berth::sql
