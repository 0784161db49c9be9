// Runs the Store conformance suite over every implementation: LocalStore and MemoryStore.
#include <stdlib.h>

#include <gtest/gtest.h>

#include "base/file.h"
#include "content/local_store.h"
#include "content/testing/memory_store.h"
#include "content/testing/store_conformance.h"
#include "sql/database.h"

namespace berth::content {
namespace {

class LocalStoreFactory {
 public:
  LocalStoreFactory() {
    char tmpl[] = "/tmp/berth-content-XXXXXX";
    BERTH_CHECK(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
  }
  ~LocalStoreFactory() { (void)RemoveAll(dir_); }
  std::unique_ptr<Store> New(Clock clock, std::chrono::seconds expiry) {
    auto db = sql::Database::Open(dir_ + "/meta.db");
    EXPECT_TRUE(db) << db.error().message;
    if (!db) return nullptr;
    db_ = std::move(*db);
    auto store = LocalStore::Open(dir_ + "/content", *db_, {std::move(clock), expiry});
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return nullptr;
    return std::move(*store);
  }

 private:
  std::string dir_;
  std::unique_ptr<sql::Database> db_;
};

class MemoryStoreFactory {
 public:
  std::unique_ptr<Store> New(Clock clock, std::chrono::seconds expiry) {
    return std::make_unique<testing::MemoryStore>(std::move(clock), expiry);
  }
};

}  // namespace

namespace testing {
using StoreImpls = ::testing::Types<LocalStoreFactory, MemoryStoreFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Content, StoreConformanceTest, StoreImpls);
}  // namespace testing

}  // namespace berth::content
