#include "engine/internal/exec_store.h"

#include <map>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace berth::engine::internal {
namespace {

constexpr int64_t kSecond = 1000000000;

class ExecStoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<ExecRecord> Add(const std::string& id, const std::string& container) {
    auto r = std::make_shared<ExecRecord>();
    r->info.id = id;
    r->info.container_id = container;
    store_.Add(r);
    return r;
  }
  void Prune() {
    store_.Prune([this](const std::string& c) {
      ++asked_[c];
      return removed_.count(c) == 0;
    });
  }

  int64_t now_ = 1000 * kSecond;
  ExecStore store_{[this] { return now_; }, 300 * kSecond};
  std::set<std::string> removed_;
  std::map<std::string, int> asked_;
};

TEST_F(ExecStoreTest, EndedExecLeavesExecIdsAtOnceAndInspectAfterTheTtl) {
  auto a = Add("a", "c1");
  Add("b", "c1");
  Add("x", "c2");
  EXPECT_EQ(store_.LiveIdsOf("c1"), (std::vector<std::string>{"a", "b"}));
  store_.MarkEnded(*a);
  EXPECT_EQ(store_.LiveIdsOf("c1"), (std::vector<std::string>{"b"}));
  now_ += 300 * kSecond;  // exactly the TTL: still there
  Prune();
  EXPECT_NE(store_.Find("a"), nullptr);
  now_ += 1;
  Prune();
  EXPECT_EQ(store_.Find("a"), nullptr);
  EXPECT_NE(store_.Find("b"), nullptr);  // not ended: kept however old
  EXPECT_EQ(store_.size(), 2u);
}

TEST_F(ExecStoreTest, MarkEndedKeepsTheFirstTime) {
  auto a = Add("a", "c1");
  store_.MarkEnded(*a);
  now_ += 200 * kSecond;
  store_.MarkEnded(*a);
  now_ += 101 * kSecond;
  Prune();
  EXPECT_EQ(store_.Find("a"), nullptr);
}

TEST_F(ExecStoreTest, ExecsOfARemovedContainerGoWhetherEndedOrNot) {
  Add("a", "c1");
  Add("b", "c1");
  Add("x", "c2");
  removed_.insert("c1");
  Prune();
  EXPECT_EQ(store_.Find("a"), nullptr);
  EXPECT_EQ(store_.Find("b"), nullptr);
  EXPECT_NE(store_.Find("x"), nullptr);
  EXPECT_TRUE(store_.LiveIdsOf("c1").empty());
  EXPECT_EQ(store_.LiveIdsOf("c2"), (std::vector<std::string>{"x"}));
  // One question per container, however many execs it has.
  EXPECT_EQ(asked_["c1"], 1);
  EXPECT_EQ(asked_["c2"], 1);
}

TEST_F(ExecStoreTest, UnknownIdIsNull) { EXPECT_EQ(store_.Find("nope"), nullptr); }

}  // namespace
}  // namespace berth::engine::internal
