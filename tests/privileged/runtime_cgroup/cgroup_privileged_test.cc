// CgroupManager on the host's real /sys/fs/cgroup: limits the kernel accepts and enforces, a
// forked process moved in, frozen and thawed, killed, the cgroup removed; a value the kernel
// refuses. Also the v2 code path on a hybrid host's /sys/fs/cgroup/unified mount.
// Root only (GTEST_SKIP otherwise). Every cgroup lives under /berth-test-<pid>, removed in
// TearDown (processes killed first) even when a test fails.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/cgroup.h"

namespace berth::runtime {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

std::string Read(const std::string& path) {
  Result<std::string> data = ReadFile(path);
  return data ? std::string(TrimSpace(*data)) : "<" + path + ": unreadable>";
}

bool IsCgroup2(const std::string& path) {
  struct statfs fs {};
  return statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// Kills, thaws and removes every cgroup under `dir`, deepest first.
void ForceRemove(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = readdir(d)) {
      if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
        subs.push_back(dir + "/" + e->d_name);
      }
    }
    closedir(d);
    for (const std::string& s : subs) ForceRemove(s);
  } else {
    return;
  }
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (Result<std::string> procs = ReadFile(dir + "/cgroup.procs")) {
      for (const std::string& line : Split(*procs, '\n')) {
        const long pid = strtol(line.c_str(), nullptr, 10);
        if (pid > 0) kill(static_cast<pid_t>(pid), SIGKILL);
      }
    }
    if (Result<UniqueFd> fd = OpenFile(dir + "/freezer.state", O_WRONLY)) {
      (void)WriteAll(fd->get(), "THAWED");
    }
    if (Result<UniqueFd> fd = OpenFile(dir + "/cgroup.freeze", O_WRONLY)) {
      (void)WriteAll(fd->get(), "0");
    }
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "could not remove " << dir << ": " << strerror(errno);
}

// A child that counts in shared memory until killed (to see a freeze stop it).
struct Counter {
  std::atomic<uint64_t> n{0};
};

class CgroupPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for /sys/fs/cgroup";
    prefix_ = "/berth-test-" + std::to_string(getpid());
    void* mem =
        mmap(nullptr, sizeof(Counter), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    counter_ = new (mem) Counter;
  }

  void TearDown() override {
    for (pid_t pid : children_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (prefix_.empty()) return;
    for (const std::string& dir : Glob(std::string(kCgroupRoot) + "/*" + prefix_)) ForceRemove(dir);
    EXPECT_EQ(Leftovers(), std::vector<std::string>{});
    if (counter_ != nullptr) munmap(counter_, sizeof(Counter));
  }

  // Anything of this test left in any hierarchy.
  std::vector<std::string> Leftovers() { return Glob(std::string(kCgroupRoot) + "/*" + prefix_); }

  pid_t ForkCounter() {
    const pid_t pid = fork();
    if (pid == 0) {
      while (true) {
        counter_->n.fetch_add(1);
        usleep(500);
      }
    }
    if (pid > 0) children_.push_back(pid);
    return pid;
  }

  // Whether the counter moves within 1 s (the child runs); false means it stood still that long
  // (the child is frozen).
  bool CounterMoves() {
    const uint64_t before = counter_->n.load();
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (counter_->n.load() != before) return true;
    }
    return false;
  }

  // Waits until `pid` has exited and returns its wait status.
  int Reap(pid_t pid) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    children_.erase(std::remove(children_.begin(), children_.end(), pid), children_.end());
    return status;
  }

  std::string prefix_;
  Counter* counter_ = nullptr;
  std::vector<pid_t> children_;
};

TEST_F(CgroupPrivilegedTest, LimitsProcessFreezeKillDestroy) {
  auto manager = CgroupManager::Detect(kCgroupRoot);
  ASSERT_TRUE(manager) << manager.error().message;
  const std::string path = prefix_ + "/c1";
  oci::LinuxResources res;
  res.memory = oci::LinuxMemory{};
  res.memory->limit = 64 << 20;
  res.pids = oci::LinuxPids{16};
  auto cg = (*manager)->Create(path, res);
  ASSERT_TRUE(cg) << cg.error().message;

  if ((*manager)->version() == 1) {
    EXPECT_EQ(Read(std::string(kCgroupRoot) + "/memory" + path + "/memory.limit_in_bytes"),
              "67108864");
    EXPECT_EQ(Read(std::string(kCgroupRoot) + "/pids" + path + "/pids.max"), "16");
  } else {
    EXPECT_EQ(Read(std::string(kCgroupRoot) + path + "/memory.max"), "67108864");
    EXPECT_EQ(Read(std::string(kCgroupRoot) + path + "/pids.max"), "16");
  }

  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*cg)->AddProcess(child));
  auto pids = (*cg)->Pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, std::vector<pid_t>{child});
  // The kernel agrees: the child's memory (or unified) cgroup is ours.
  const std::string self_cgroup = Read("/proc/" + std::to_string(child) + "/cgroup");
  EXPECT_NE(self_cgroup.find(path), std::string::npos) << self_cgroup;

  auto stats = (*cg)->Stats();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->memory_limit, uint64_t{64} << 20);
  EXPECT_EQ(stats->pids_current, 1u);

  ASSERT_TRUE(CounterMoves());
  ASSERT_TRUE((*cg)->Freeze());
  if ((*manager)->version() == 1) {
    EXPECT_EQ(Read(std::string(kCgroupRoot) + "/freezer" + path + "/freezer.state"), "FROZEN");
  }
  EXPECT_FALSE(CounterMoves()) << "a frozen child kept running";
  ASSERT_TRUE((*cg)->Thaw());
  EXPECT_TRUE(CounterMoves()) << "a thawed child did not run";

  // Not empty yet: Destroy refuses.
  Status busy = (*cg)->Destroy();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Code::kFailedPrecondition) << busy.error().message;

  ASSERT_TRUE((*cg)->KillAll());
  const int status = Reap(child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  Status destroyed = (*cg)->Destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  for (const std::string& dir : Glob(std::string(kCgroupRoot) + "/*" + prefix_ + "/*")) {
    struct stat st {};
    EXPECT_FALSE(stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) << dir << " left behind";
  }
  EXPECT_TRUE((*cg)->Destroy());  // gone already: fine
}

TEST_F(CgroupPrivilegedTest, PidsLimitStopsForks) {
  auto manager = CgroupManager::Detect(kCgroupRoot);
  ASSERT_TRUE(manager) << manager.error().message;
  oci::LinuxResources res;
  res.pids = oci::LinuxPids{4};
  auto cg = (*manager)->Create(prefix_ + "/forks", res);
  ASSERT_TRUE(cg) << cg.error().message;

  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(100);
    int forked = 0;
    while (forked < 50) {
      const pid_t grandchild = fork();
      if (grandchild < 0) _exit(errno == EAGAIN ? forked : 101);
      if (grandchild == 0) {
        while (true) pause();
      }
      ++forked;
    }
    _exit(forked);
  }
  children_.push_back(child);
  close(go[0]);
  ASSERT_TRUE((*cg)->AddProcess(child));
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  const int status = Reap(child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3) << "the child and 3 grandchildren make the 4 allowed";

  ASSERT_TRUE((*cg)->KillAll());
  // The grandchildren were reparented to init, which reaps them.
  for (int i = 0; i < 500; ++i) {
    auto pids = (*cg)->Pids();
    ASSERT_TRUE(pids) << pids.error().message;
    if (pids->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status destroyed = (*cg)->Destroy();
  EXPECT_TRUE(destroyed) << destroyed.error().message;
}

TEST_F(CgroupPrivilegedTest, RefusedValueIsClearErrorAndLeavesNoDirectory) {
  auto manager = CgroupManager::Detect(kCgroupRoot);
  ASSERT_TRUE(manager) << manager.error().message;
  // No such CPU on any test machine; and a CFS quota below the kernel's 1 ms minimum.
  oci::LinuxResources cpus;
  cpus.cpu = oci::LinuxCpu{};
  cpus.cpu->cpus = "1023";
  oci::LinuxResources quota;
  quota.cpu = oci::LinuxCpu{};
  quota.cpu->quota = 500;
  quota.cpu->period = 100000;
  const bool v1 = (*manager)->version() == 1;
  const std::vector<std::pair<oci::LinuxResources, std::string>> cases = {
      {cpus, "cpuset.cpus=1023: "},
      {quota, v1 ? "cpu.cfs_quota_us=500: " : "cpu.max=500 100000: "},
  };
  for (const auto& [res, want] : cases) {
    auto cg = (*manager)->Create(prefix_ + "/refused", res);
    ASSERT_FALSE(cg) << want;
    EXPECT_EQ(cg.error().code, Code::kInvalidArgument) << cg.error().message;
    EXPECT_EQ(cg.error().message.rfind("create cgroup " + prefix_ + "/refused: " + want, 0), 0u)
        << cg.error().message;
    // EINVAL, or ERANGE for a CPU number past the kernel's nr_cpu_ids.
    EXPECT_TRUE(cg.error().sys_errno == EINVAL || cg.error().sys_errno == ERANGE)
        << cg.error().message;
    // Create made the prefix too, and took it back.
    EXPECT_EQ(Leftovers(), std::vector<std::string>{});
  }
}

TEST_F(CgroupPrivilegedTest, UnifiedMountOfAHybridHostRunsTheV2Path) {
  const std::string unified = std::string(kCgroupRoot) + "/unified";
  if (!IsCgroup2(unified)) GTEST_SKIP() << unified << " is not a cgroup2 mount (not hybrid)";
  auto manager = CgroupManager::Detect(unified);
  ASSERT_TRUE(manager) << manager.error().message;
  ASSERT_EQ((*manager)->version(), 2);

  // Only hugetlb lives here: a pids limit is refused up front, leaving nothing.
  oci::LinuxResources pids;
  pids.pids = oci::LinuxPids{8};
  auto refused = (*manager)->Create(prefix_ + "/v2", pids);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition) << refused.error().message;
  EXPECT_EQ(Leftovers(), std::vector<std::string>{});

  auto cg = (*manager)->Create(prefix_ + "/v2", {});
  ASSERT_TRUE(cg) << cg.error().message;
  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*cg)->AddProcess(child));
  auto listed = (*cg)->Pids();
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(*listed, std::vector<pid_t>{child});
  EXPECT_NE(Read("/proc/" + std::to_string(child) + "/cgroup").find("0::" + prefix_ + "/v2"),
            std::string::npos);

  ASSERT_TRUE(CounterMoves());
  ASSERT_TRUE((*cg)->Freeze());
  EXPECT_NE(Read(unified + prefix_ + "/v2/cgroup.events").find("frozen 1"), std::string::npos);
  EXPECT_FALSE(CounterMoves()) << "a frozen child kept running";
  ASSERT_TRUE((*cg)->Thaw());
  EXPECT_TRUE(CounterMoves());

  ASSERT_TRUE((*cg)->KillAll());
  const int status = Reap(child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  Status destroyed = (*cg)->Destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  EXPECT_FALSE(PathExists(unified + prefix_ + "/v2"));
}

}  // namespace
}  // namespace berth::runtime
