#include "runtime/testing/cgroup_conformance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>

#include "base/file.h"
#include "base/strings.h"

namespace berth::runtime::testing {
namespace {

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

void WriteIfPresent(const std::string& path, std::string_view value) {
  if (Result<UniqueFd> fd = OpenFile(path, O_WRONLY)) (void)WriteAll(fd->get(), value);
}

// Kills, thaws and removes every cgroup at and under `dir`, deepest first.
void ForceRemove(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> subs;
  while (dirent* e = readdir(d)) {
    if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      subs.push_back(dir + "/" + e->d_name);
    }
  }
  closedir(d);
  for (const std::string& s : subs) ForceRemove(s);
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (Result<std::string> procs = ReadFile(dir + "/cgroup.procs")) {
      for (const std::string& line : Split(*procs, '\n')) {
        const long pid = strtol(line.c_str(), nullptr, 10);
        if (pid > 0) kill(static_cast<pid_t>(pid), SIGKILL);
      }
    }
    WriteIfPresent(dir + "/freezer.state", "THAWED");
    WriteIfPresent(dir + "/cgroup.freeze", "0");
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "could not remove " << dir << ": " << strerror(errno);
}

}  // namespace

bool IsCgroup2Mount(const std::string& path) {
  struct statfs fs {};
  return statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

void CgroupHostTest::SetUp() {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for /sys/fs/cgroup";
  prefix_ = "/berth-test-" + std::to_string(getpid());
  void* mem =
      mmap(nullptr, sizeof(Counter), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  counter_ = new (mem) Counter;
}

void CgroupHostTest::TearDown() {
  for (pid_t pid : children_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  children_.clear();
  if (!prefix_.empty()) {
    for (const std::string& root : cleanup_roots_) {
      for (const std::string& dir : Leftovers(root)) ForceRemove(dir);
      EXPECT_EQ(Leftovers(root), std::vector<std::string>{}) << "left in " << root;
    }
  }
  if (counter_ != nullptr) munmap(counter_, sizeof(Counter));
  counter_ = nullptr;
}

std::vector<std::string> CgroupHostTest::Leftovers(const std::string& root) const {
  std::vector<std::string> out = Glob(root + prefix_);
  for (std::string& dir : Glob(root + "/*" + prefix_)) out.push_back(std::move(dir));
  return out;
}

pid_t CgroupHostTest::ForkCounter() {
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

bool CgroupHostTest::CounterMoves() const {
  const uint64_t before = counter_->n.load();
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (counter_->n.load() != before) return true;
  }
  return false;
}

int CgroupHostTest::Reap(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  children_.erase(std::remove(children_.begin(), children_.end(), pid), children_.end());
  return status;
}

void CgroupConformanceTest::SetUp() {
  CgroupHostTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  if (!PathExists(GetParam().root)) GTEST_SKIP() << GetParam().root << " does not exist";
  cleanup_roots_ = {GetParam().root};
  auto manager = CgroupManager::Detect(GetParam().root);
  ASSERT_TRUE(manager) << manager.error().message;
  manager_ = std::move(*manager);
}

namespace {

// The device rules as the engine writes them (deny all, mknod anything, open /dev/null's
// numbers): v1 applies them as devices.deny/allow, v2 as an eBPF program on the cgroup.
TEST_P(CgroupConformanceTest, DeviceRulesDecideWhatOpens) {
  oci::LinuxResources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", std::nullopt, std::nullopt, "m"},
               {true, "c", 1, 3, "rwm"}};
  auto cg = manager_->Create(prefix_ + "/dev", r);
  ASSERT_TRUE(cg) << cg.error().message;
  char tmpl[] = "/tmp/berth-devices-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    ::close(go[1]);
    if (::read(go[0], &c, 1) != 1) ::_exit(100);  // moved into the cgroup by now
    int code = 0;
    const std::string null_node = dir + "/null", zero_node = dir + "/zero";
    if (::mknod(null_node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) code |= 1;
    if (::mknod(zero_node.c_str(), S_IFCHR | 0666, makedev(1, 5)) != 0) code |= 2;
    int fd = ::open(null_node.c_str(), O_RDWR);
    if (fd < 0) code |= 4;
    fd = ::open(zero_node.c_str(), O_RDONLY);
    if (fd >= 0 || errno != EPERM) code |= 8;
    ::_exit(code);
  }
  ::close(go[0]);
  ASSERT_TRUE((*cg)->AddProcess(child));
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ::close(go[1]);
  const int status = Reap(child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "bits: 1 mknod null, 2 mknod zero, 4 open null, 8 zero opened or not EPERM";
  EXPECT_TRUE(RemoveAll(dir));
  ASSERT_TRUE((*cg)->Destroy());
}

// v1: a child that joins by itself (OpenSelfJoin + JoinSelf) ends up in every hierarchy, the
// same as one moved with AddProcess. v2 has nothing to join that way.
TEST_P(CgroupConformanceTest, ChildJoinsByItself) {
  auto cg = manager_->Create(prefix_ + "/self", {});
  ASSERT_TRUE(cg) << cg.error().message;
  auto fds = (*cg)->OpenSelfJoin();
  ASSERT_TRUE(fds) << fds.error().message;
  if (manager_->version() == 2) {
    EXPECT_TRUE(fds->empty());
  } else {
    EXPECT_FALSE(fds->empty());
    std::vector<int> raw;
    for (const auto& fd : *fds) raw.push_back(fd.get());
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(JoinSelf(raw) == 0 ? 0 : 1);
    const int status = Reap(child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    // Joined while alive: a second child stays to be listed.
    const pid_t stays = ::fork();
    ASSERT_GE(stays, 0);
    if (stays == 0) {
      if (JoinSelf(raw) != 0) ::_exit(1);
      ::pause();
      ::_exit(0);
    }
    std::vector<pid_t> listed;
    for (int i = 0; i < 200 && listed.empty(); ++i) {
      ::usleep(5000);
      if (auto pids = (*cg)->Pids()) listed = *pids;
    }
    EXPECT_EQ(listed, std::vector<pid_t>{stays});
    // The same place as a process moved the usual way.
    const pid_t moved = ::fork();
    ASSERT_GE(moved, 0);
    if (moved == 0) {
      ::pause();
      ::_exit(0);
    }
    ASSERT_TRUE((*cg)->AddProcess(moved));
    EXPECT_EQ(ReadFile("/proc/" + std::to_string(stays) + "/cgroup").value(),
              ReadFile("/proc/" + std::to_string(moved) + "/cgroup").value());
    ::kill(moved, SIGKILL);
    Reap(moved);
    ::kill(stays, SIGKILL);
    Reap(stays);
  }
  fds->clear();
  ASSERT_TRUE((*cg)->Destroy());
}

TEST_P(CgroupConformanceTest, ProcessJoinsIsListedFrozenThawedKilledAndCgroupRemoved) {
  auto cg = manager_->Create(prefix_ + "/life", {});
  ASSERT_TRUE(cg) << cg.error().message;
  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*cg)->AddProcess(child));
  auto pids = (*cg)->Pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, std::vector<pid_t>{child});
  const std::string self = ReadFile("/proc/" + std::to_string(child) + "/cgroup").value();
  EXPECT_NE(self.find(prefix_ + "/life\n"), std::string::npos) << self;

  ASSERT_TRUE(CounterMoves());
  ASSERT_TRUE((*cg)->Freeze());
  EXPECT_FALSE(CounterMoves()) << "a frozen child kept running";
  ASSERT_TRUE((*cg)->Thaw());
  EXPECT_TRUE(CounterMoves()) << "a thawed child did not run";

  ASSERT_TRUE((*cg)->KillAll());
  const int status = Reap(child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  Status destroyed = (*cg)->Destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  for (const std::string& dir : Leftovers(GetParam().root)) {
    EXPECT_FALSE(PathExists(dir + "/life")) << dir << "/life left behind";
  }
  // The shared parent stays until removed the same way; then nothing of the test is left.
  auto parent = manager_->Open(prefix_);
  ASSERT_TRUE(parent) << parent.error().message;
  ASSERT_TRUE((*parent)->Destroy());
  EXPECT_EQ(Leftovers(GetParam().root), std::vector<std::string>{});
}

TEST_P(CgroupConformanceTest, KillAllReachesFrozenProcessesAndSubCgroups) {
  auto cg = manager_->Create(prefix_ + "/tree", {});
  ASSERT_TRUE(cg) << cg.error().message;
  auto sub = manager_->Create(prefix_ + "/tree/sub", {});
  ASSERT_TRUE(sub) << sub.error().message;
  const pid_t top = ForkCounter();
  const pid_t below = ForkCounter();
  ASSERT_GT(top, 0);
  ASSERT_GT(below, 0);
  ASSERT_TRUE((*cg)->AddProcess(top));
  ASSERT_TRUE((*sub)->AddProcess(below));
  auto pids = (*cg)->Pids();
  ASSERT_TRUE(pids) << pids.error().message;
  std::sort(pids->begin(), pids->end());
  EXPECT_EQ(*pids, (std::vector<pid_t>{std::min(top, below), std::max(top, below)}));

  ASSERT_TRUE((*cg)->Freeze());
  ASSERT_TRUE((*cg)->KillAll());
  for (pid_t pid : {top, below}) {
    const int status = Reap(pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << pid << ": " << status;
  }
  // The parent's Destroy takes the sub-cgroup with it.
  Status destroyed = (*cg)->Destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
}

TEST_P(CgroupConformanceTest, DestroyRefusesWhileAProcessRemainsAndToleratesMissing) {
  auto cg = manager_->Create(prefix_ + "/busy", {});
  ASSERT_TRUE(cg) << cg.error().message;
  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*cg)->AddProcess(child));
  Status busy = (*cg)->Destroy();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Code::kFailedPrecondition) << busy.error().message;

  ASSERT_TRUE((*cg)->KillAll());
  Reap(child);
  ASSERT_TRUE((*cg)->Destroy());
  EXPECT_TRUE((*cg)->Destroy()) << "a missing cgroup is fine";
}

TEST_P(CgroupConformanceTest, OpenFindsExistingAndMissingIsNotFound) {
  auto missing = manager_->Open(prefix_ + "/nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound) << missing.error().message;

  auto cg = manager_->Create(prefix_ + "/again", {});
  ASSERT_TRUE(cg) << cg.error().message;
  auto opened = manager_->Open(prefix_ + "/again");
  ASSERT_TRUE(opened) << opened.error().message;
  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*opened)->AddProcess(child));
  auto pids = (*cg)->Pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, std::vector<pid_t>{child});
  ASSERT_TRUE((*opened)->KillAll());
  Reap(child);
  EXPECT_TRUE((*opened)->Destroy());
}

TEST_P(CgroupConformanceTest, RejectsPathsOutsideTheHierarchy) {
  for (const std::string& bad : {std::string("berth-test-relative"), prefix_ + "/../escape",
                                 prefix_ + "/./x", std::string("/")}) {
    auto cg = manager_->Create(bad, {});
    ASSERT_FALSE(cg) << bad;
    EXPECT_EQ(cg.error().code, Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(Leftovers(GetParam().root), std::vector<std::string>{});
}

TEST_P(CgroupConformanceTest, PidsLimitStopsForks) {
  if (!GetParam().limits) GTEST_SKIP() << "no pids controller at " << GetParam().root;
  oci::LinuxResources res;
  res.pids = oci::LinuxPids{4};
  auto cg = manager_->Create(prefix_ + "/forks", res);
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

TEST_P(CgroupConformanceTest, MemoryLimitShowsInStats) {
  if (!GetParam().limits) GTEST_SKIP() << "no memory controller at " << GetParam().root;
  oci::LinuxResources res;
  res.memory = oci::LinuxMemory{};
  res.memory->limit = 32 << 20;
  res.pids = oci::LinuxPids{8};
  auto cg = manager_->Create(prefix_ + "/stats", res);
  ASSERT_TRUE(cg) << cg.error().message;
  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*cg)->AddProcess(child));
  auto stats = (*cg)->Stats();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->memory_limit, uint64_t{32} << 20);
  EXPECT_EQ(stats->pids_current, 1u);
  ASSERT_TRUE(CounterMoves());
  ASSERT_TRUE((*cg)->KillAll());
  Reap(child);
  ASSERT_TRUE((*cg)->Destroy());
}

}  // namespace
}  // namespace berth::runtime::testing
