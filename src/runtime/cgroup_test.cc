// CgroupManager against fake cgroup trees: plain files in a temp dir laid out like
// /sys/fs/cgroup (v1 per-controller hierarchies, or one v2 hierarchy). The kernel's part, files
// appearing in a new cgroup, is played by the test creating them beforehand.
#include "runtime/cgroup.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/internal/cgroup_backends.h"
#include "runtime/internal/cgroup_fs.h"

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;
using internal::CgroupWrite;

class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cgroup-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Creates root/rel (and its parents) holding `content`.
  void Put(const std::string& rel, const std::string& content = "") {
    const fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  std::string Get(const std::string& rel) {
    std::ifstream in(fs::path(root_) / rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool Exists(const std::string& rel) { return fs::exists(fs::path(root_) / rel); }
  void MkDir(const std::string& rel) { fs::create_directories(fs::path(root_) / rel); }

  // The v1 files the kernel makes in a new cgroup of `controller` at `dir` (relative to root).
  void V1Files(const std::string& controller, const std::string& dir, bool memsw = true) {
    const std::string d = controller + dir;
    Put(d + "/cgroup.procs");
    if (controller == "memory") {
      Put(d + "/memory.limit_in_bytes", "9223372036854771712\n");
      Put(d + "/memory.soft_limit_in_bytes", "9223372036854771712\n");
      Put(d + "/memory.swappiness", "60\n");
      if (memsw) Put(d + "/memory.memsw.limit_in_bytes", "9223372036854771712\n");
    } else if (controller == "cpu") {
      Put(d + "/cpu.shares", "1024\n");
      Put(d + "/cpu.cfs_period_us", "100000\n");
      Put(d + "/cpu.cfs_quota_us", "-1\n");
    } else if (controller == "cpuset") {
      Put(d + "/cpuset.cpus", "\n");
      Put(d + "/cpuset.mems", "\n");
    } else if (controller == "pids") {
      Put(d + "/pids.max", "max\n");
    } else if (controller == "freezer") {
      Put(d + "/freezer.state", "THAWED\n");
    }
  }
  // A v1 tree with `controllers`, the cgroup "/berth/c1" and its parent "/berth" pre-made.
  void V1Tree(const std::vector<std::string>& controllers, bool memsw = true) {
    for (const std::string& c : controllers) {
      V1Files(c, "", memsw);
      V1Files(c, "/berth", memsw);
      V1Files(c, "/berth/c1", memsw);
    }
    if (Exists("cpuset")) {
      Put("cpuset/cpuset.cpus", "0-3\n");
      Put("cpuset/cpuset.mems", "0\n");
    }
  }

  // A v2 tree: root offering `controllers`, "/berth" and "/berth/c1" with the core files.
  void V2Tree(const std::string& controllers = "cpuset cpu io memory hugetlb pids") {
    Put("cgroup.controllers", controllers + "\n");
    Put("cgroup.subtree_control", "\n");
    Put("cgroup.procs");
    Put("berth/cgroup.controllers", controllers + "\n");
    Put("berth/cgroup.subtree_control", "\n");
    for (const char* f :
         {"cgroup.procs", "cgroup.freeze", "memory.max", "memory.low", "memory.swap.max",
          "cpu.weight", "cpu.max", "cpuset.cpus", "cpuset.mems", "pids.max"}) {
      Put(std::string("berth/c1/") + f);
    }
    Put("berth/c1/cgroup.events", "populated 0\nfrozen 0\n");
  }

  std::unique_ptr<CgroupManager> Detect() {
    auto m = CgroupManager::Detect(root_);
    EXPECT_TRUE(m) << m.error().message;
    return m ? std::move(*m) : nullptr;
  }

  std::string root_;
};

oci::LinuxResources FullResources() {
  oci::LinuxResources r;
  r.memory = oci::LinuxMemory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.memory->reservation = 32 << 20;
  r.cpu = oci::LinuxCpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.pids = oci::LinuxPids{100};
  return r;
}

// ---- plans -------------------------------------------------------------------------------------

TEST(CgroupPlanTest, SharesToWeightMatchesRunc) {
  EXPECT_EQ(internal::CpuSharesToWeight(0), 0u);
  EXPECT_EQ(internal::CpuSharesToWeight(2), 1u);
  EXPECT_EQ(internal::CpuSharesToWeight(1024), 39u);
  EXPECT_EQ(internal::CpuSharesToWeight(512), 20u);
  EXPECT_EQ(internal::CpuSharesToWeight(262144), 10000u);
}

TEST(CgroupPlanTest, V1OrderAndValues) {
  auto w = internal::PlanV1Writes(FullResources(), /*has_memsw=*/true);
  const std::vector<CgroupWrite> want = {
      {"memory.limit_in_bytes", "67108864"},
      {"memory.memsw.limit_in_bytes", "134217728"},
      {"memory.soft_limit_in_bytes", "33554432"},
      {"cpu.shares", "512"},
      {"cpu.cfs_period_us", "100000"},
      {"cpu.cfs_quota_us", "50000"},
      {"pids.max", "100"},
  };
  EXPECT_EQ(w, want);
  auto no_swap = internal::PlanV1Writes(FullResources(), /*has_memsw=*/false);
  EXPECT_EQ(no_swap.size(), want.size() - 1);
}

TEST(CgroupPlanTest, V1DeviceRulesComeInOrderAsTheKernelReadsThem) {
  oci::LinuxResources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", std::nullopt, std::nullopt, "m"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", 136, std::nullopt, "rw"},
               {false, "b", 8, 0, ""},
               {true, "", std::nullopt, std::nullopt, ""}};
  const std::vector<CgroupWrite> want = {
      {"devices.deny", "a"},           {"devices.allow", "c *:* m"},
      {"devices.allow", "c 1:3 rwm"},  {"devices.allow", "c 136:* rw"},
      {"devices.deny", "b 8:0 rwm"},   {"devices.allow", "a"},
  };
  EXPECT_EQ(internal::PlanV1Writes(r, false), want);
}

TEST(CgroupPlanTest, V2ConvertsSwapSharesAndQuota) {
  auto w = internal::PlanV2Writes(FullResources(), /*has_swap=*/true);
  ASSERT_TRUE(w) << w.error().message;
  const std::vector<CgroupWrite> want = {
      {"memory.max", "67108864"},
      {"memory.low", "33554432"},
      {"memory.swap.max", "67108864"},  // 128 MiB memory+swap - 64 MiB memory
      {"cpu.weight", "20"},
      {"cpu.max", "50000 100000"},
      {"pids.max", "100"},
  };
  EXPECT_EQ(*w, want);
}

TEST(CgroupPlanTest, V2Unlimited) {
  oci::LinuxResources r;
  r.memory = oci::LinuxMemory{};
  r.memory->limit = -1;
  r.memory->swap = -1;
  r.cpu = oci::LinuxCpu{};
  r.cpu->quota = -1;
  r.cpu->period = 100000;
  r.pids = oci::LinuxPids{0};
  auto w = internal::PlanV2Writes(r, true);
  ASSERT_TRUE(w) << w.error().message;
  const std::vector<CgroupWrite> want = {{"memory.max", "max"},
                                         {"memory.swap.max", "max"},
                                         {"cpu.max", "max 100000"},
                                         {"pids.max", "max"}};
  EXPECT_EQ(*w, want);
}

TEST(CgroupPlanTest, V2RejectsSwapWithoutLimitOrBelowLimit) {
  oci::LinuxResources r;
  r.memory = oci::LinuxMemory{};
  r.memory->swap = 1 << 20;
  auto a = internal::PlanV2Writes(r, true);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Code::kInvalidArgument);
  r.memory->limit = 2 << 20;
  auto b = internal::PlanV2Writes(r, true);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Code::kInvalidArgument);
  // Without swap accounting the swap limit is not applied, as on v1.
  r.memory->swap = 4 << 20;
  auto c = internal::PlanV2Writes(r, false);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (std::vector<CgroupWrite>{{"memory.max", "2097152"}}));
}

TEST(CgroupPlanTest, PathValidation) {
  for (const char* bad : {"", "/", "berth/c1", "/berth/../c1", "/..", "/berth/./c1", "/berth//c1",
                          "/berth/c1/", "/berth/c1/.."}) {
    Status st = internal::ValidateCgroupPath(bad);
    EXPECT_FALSE(st) << bad;
    if (!st) {
      EXPECT_EQ(st.error().code, Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_TRUE(internal::ValidateCgroupPath("/berth/c1"));
  EXPECT_TRUE(internal::ValidateCgroupPath("/c..1"));
}

// ---- v1 ----------------------------------------------------------------------------------------

TEST_F(FakeTree, DetectsV1AndV2) {
  V1Tree({"memory", "pids"});
  auto m = Detect();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version(), 1);
  Put("cgroup.controllers", "memory pids\n");
  auto m2 = Detect();
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->version(), 2);
}

TEST_F(FakeTree, V1CoMountedControllersShareOneDirectory) {
  // systemd's layout: cpu,cpuacct mounted together, with cpu and cpuacct links to it.
  Put("cpu,cpuacct/cgroup.procs");
  Put("cpu,cpuacct/berth/c1/cgroup.procs");
  Put("cpu,cpuacct/berth/c1/cpu.shares", "1024\n");
  fs::create_directory_symlink("cpu,cpuacct", fs::path(root_) / "cpu");
  fs::create_directory_symlink("cpu,cpuacct", fs::path(root_) / "cpuacct");
  // And one without links.
  Put("net_cls,net_prio/cgroup.procs");
  Put("pids,freezer/cgroup.procs");
  auto hierarchies = internal::FindV1Hierarchies(root_);
  ASSERT_TRUE(hierarchies) << hierarchies.error().message;
  const std::string real = fs::canonical(root_).string();
  EXPECT_EQ(hierarchies->at("cpu"), real + "/cpu,cpuacct");
  EXPECT_EQ(hierarchies->at("cpuacct"), real + "/cpu,cpuacct");
  EXPECT_EQ(hierarchies->at("pids"), real + "/pids,freezer");
  EXPECT_EQ(hierarchies->at("freezer"), real + "/pids,freezer");
  EXPECT_EQ(hierarchies->count("net_cls"), 0u);

  auto m = Detect();
  ASSERT_TRUE(m);
  oci::LinuxResources r;
  r.cpu = oci::LinuxCpu{};
  r.cpu->shares = 256;
  auto cg = m->Create("/berth/c1", r);
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(Get("cpu,cpuacct/berth/c1/cpu.shares"), "256");
  EXPECT_TRUE(fs::is_directory(fs::path(root_) / "pids,freezer/berth/c1"));
  Put("pids,freezer/berth/c1/cgroup.procs");
  ASSERT_TRUE((*cg)->AddProcess(99));
  EXPECT_EQ(Get("cpu,cpuacct/berth/c1/cgroup.procs"), "99");
  EXPECT_EQ(Get("pids,freezer/berth/c1/cgroup.procs"), "99");
}

TEST_F(FakeTree, DetectFailsWithoutHierarchies) {
  auto m = CgroupManager::Detect(root_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kFailedPrecondition);
  auto missing = CgroupManager::Detect(root_ + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(FakeTree, V1CreateWritesLimitsInEachHierarchy) {
  V1Tree({"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"});
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Create("/berth/c1", FullResources());
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(Get("memory/berth/c1/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(Get("memory/berth/c1/memory.memsw.limit_in_bytes"), "134217728");
  EXPECT_EQ(Get("memory/berth/c1/memory.soft_limit_in_bytes"), "33554432");
  EXPECT_EQ(Get("cpu/berth/c1/cpu.shares"), "512");
  EXPECT_EQ(Get("cpu/berth/c1/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Get("cpu/berth/c1/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(Get("pids/berth/c1/pids.max"), "100");
  // Empty cpusets are inherited level by level, or no task could join.
  EXPECT_EQ(Get("cpuset/berth/cpuset.cpus"), "0-3");
  EXPECT_EQ(Get("cpuset/berth/cpuset.mems"), "0");
  EXPECT_EQ(Get("cpuset/berth/c1/cpuset.cpus"), "0-3");
  EXPECT_EQ(Get("cpuset/berth/c1/cpuset.mems"), "0");
  // Untouched: no limit asked.
  EXPECT_EQ(Get("memory/berth/c1/memory.swappiness"), "60\n");
}

TEST_F(FakeTree, V1ExplicitCpusetWinsAndSwapNeedsMemsw) {
  V1Tree({"memory", "cpuset"}, /*memsw=*/false);
  Put("memory/berth/c1/memory.memsw.limit_in_bytes", "untouched");
  auto m = Detect();
  ASSERT_TRUE(m);
  oci::LinuxResources r = FullResources();
  r.cpu->shares.reset();
  r.cpu->quota.reset();
  r.cpu->period.reset();
  r.cpu->cpus = "1";
  r.pids.reset();
  auto cg = m->Create("/berth/c1", r);
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(Get("cpuset/berth/c1/cpuset.cpus"), "1");
  EXPECT_EQ(Get("cpuset/berth/c1/cpuset.mems"), "0");
  EXPECT_EQ(Get("memory/berth/c1/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(Get("memory/berth/c1/memory.memsw.limit_in_bytes"), "untouched");
}

TEST_F(FakeTree, V1MissingControllerFailsBeforeCreatingAnything) {
  V1Files("memory", "");
  V1Files("cpu", "");
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Create("/berth/c1", FullResources());  // pids limit, no pids hierarchy
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(cg.error().message,
            "create cgroup /berth/c1: pids.max needs the pids controller, which is not mounted");
  EXPECT_FALSE(Exists("memory/berth"));
  EXPECT_FALSE(Exists("cpu/berth"));
}

TEST_F(FakeTree, V1FailedWriteRemovesWhatCreateMade) {
  // Hierarchy roots only: Create makes berth/c1 itself, and no pids.max appears in it (the fake
  // kernel makes no files), so the write fails after the mkdirs.
  V1Files("memory", "");
  V1Files("pids", "");
  MkDir("memory/berth");  // pre-existing parent: must survive
  auto m = Detect();
  ASSERT_TRUE(m);
  oci::LinuxResources r;
  r.pids = oci::LinuxPids{10};
  auto cg = m->Create("/berth/c1", r);
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code, Code::kNotFound);
  EXPECT_EQ(cg.error().message.rfind("create cgroup /berth/c1: pids.max=10: open ", 0), 0u)
      << cg.error().message;
  EXPECT_FALSE(Exists("memory/berth/c1"));
  EXPECT_TRUE(Exists("memory/berth"));
  EXPECT_FALSE(Exists("pids/berth"));
}

TEST_F(FakeTree, V1CreateWithoutLimitsThenDestroy) {
  V1Files("memory", "");
  V1Files("pids", "");
  V1Files("freezer", "");
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Create("/berth/c1", {});
  ASSERT_TRUE(cg) << cg.error().message;
  for (const char* c : {"memory", "pids", "freezer"}) {
    EXPECT_TRUE(fs::is_directory(fs::path(root_) / c / "berth/c1")) << c;
  }
  auto opened = m->Open("/berth/c1");
  ASSERT_TRUE(opened) << opened.error().message;
  // The fake cgroups hold no control files, so rmdir works as on cgroupfs.
  ASSERT_TRUE((*cg)->Destroy());
  for (const char* c : {"memory", "pids", "freezer"}) {
    EXPECT_FALSE(Exists(std::string(c) + "/berth/c1")) << c;
    EXPECT_TRUE(Exists(std::string(c) + "/berth")) << c;  // shared parent stays
  }
  EXPECT_TRUE((*cg)->Destroy());  // already gone: fine
  auto gone = m->Open("/berth/c1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound);
}

TEST_F(FakeTree, CreateRefusesAControlFileAsCgroup) {
  V1Files("memory", "");
  V1Files("pids", "");
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Create("/cgroup.procs", {});
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code, Code::kAlreadyExists) << cg.error().message;
  EXPECT_TRUE(fs::is_regular_file(fs::path(root_) / "memory/cgroup.procs"));
  EXPECT_TRUE(fs::is_regular_file(fs::path(root_) / "pids/cgroup.procs"));
}

TEST_F(FakeTree, V1CreateRejectsBadPaths) {
  V1Files("memory", "");
  auto m = Detect();
  ASSERT_TRUE(m);
  for (const char* bad : {"berth/c1", "/berth/../../etc", "/berth/./c1"}) {
    auto cg = m->Create(bad, {});
    ASSERT_FALSE(cg) << bad;
    EXPECT_EQ(cg.error().code, Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(Exists("memory/berth"));
  EXPECT_FALSE(Exists("etc"));
}

TEST_F(FakeTree, V1AddProcessFreezeThawPidsStats) {
  V1Tree({"memory", "cpuacct", "pids", "freezer"});
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Open("/berth/c1");
  ASSERT_TRUE(cg) << cg.error().message;
  ASSERT_TRUE((*cg)->AddProcess(4242));
  for (const char* c : {"memory", "cpuacct", "pids", "freezer"}) {
    EXPECT_EQ(Get(std::string(c) + "/berth/c1/cgroup.procs"), "4242") << c;
  }
  ASSERT_TRUE((*cg)->Freeze());
  EXPECT_EQ(Get("freezer/berth/c1/freezer.state"), "FROZEN");
  ASSERT_TRUE((*cg)->Thaw());
  EXPECT_EQ(Get("freezer/berth/c1/freezer.state"), "THAWED");

  Put("pids/berth/c1/cgroup.procs", "12\n34\n");
  Put("pids/berth/c1/sub/cgroup.procs", "56\n");
  auto pids = (*cg)->Pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, (std::vector<pid_t>{12, 34, 56}));

  Put("memory/berth/c1/memory.usage_in_bytes", "1000\n");
  Put("memory/berth/c1/memory.limit_in_bytes", "4096\n");
  Put("memory/berth/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  Put("cpuacct/berth/c1/cpuacct.usage", "123456789\n");
  Put("pids/berth/c1/pids.current", "3\n");
  auto stats = (*cg)->Stats();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->memory_usage, 1000u);
  EXPECT_EQ(stats->memory_limit, 4096u);
  EXPECT_EQ(stats->oom_kills, 3u);
  EXPECT_EQ(stats->cpu_usage_ns, 123456789u);
  EXPECT_EQ(stats->pids_current, 3u);

  Put("memory/berth/c1/memory.limit_in_bytes", "9223372036854771712\n");
  auto unlimited = (*cg)->Stats();
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(unlimited->memory_limit, internal::HostMemoryBytes());
}

TEST_F(FakeTree, V1FreezeNeedsFreezer) {
  V1Tree({"memory"});
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Open("/berth/c1");
  ASSERT_TRUE(cg);
  Status st = (*cg)->Freeze();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(st.error().message, "cgroup /berth/c1: freeze: the freezer controller is not mounted");
}

// ---- v2 ----------------------------------------------------------------------------------------

TEST_F(FakeTree, V2CreateEnablesControllersAndWritesLimits) {
  V2Tree();
  auto m = Detect();
  ASSERT_TRUE(m);
  ASSERT_EQ(m->version(), 2);
  oci::LinuxResources r = FullResources();
  r.cpu->cpus = "0-1";
  auto cg = m->Create("/berth/c1", r);
  ASSERT_TRUE(cg) << cg.error().message;
  // Needed controllers first, then the ones Stats reads.
  EXPECT_EQ(Get("cgroup.subtree_control"), "+cpu +cpuset +memory +pids +io");
  EXPECT_EQ(Get("berth/cgroup.subtree_control"), "+cpu +cpuset +memory +pids +io");
  EXPECT_EQ(Get("berth/c1/memory.max"), "67108864");
  EXPECT_EQ(Get("berth/c1/memory.low"), "33554432");
  EXPECT_EQ(Get("berth/c1/memory.swap.max"), "67108864");
  EXPECT_EQ(Get("berth/c1/cpu.weight"), "20");
  EXPECT_EQ(Get("berth/c1/cpu.max"), "50000 100000");
  EXPECT_EQ(Get("berth/c1/cpuset.cpus"), "0-1");
  EXPECT_EQ(Get("berth/c1/pids.max"), "100");
}

TEST_F(FakeTree, V2SkipsControllersAlreadyEnabled) {
  V2Tree();
  Put("cgroup.subtree_control", "cpu io memory pids\n");
  auto m = Detect();
  ASSERT_TRUE(m);
  oci::LinuxResources r;
  r.pids = oci::LinuxPids{5};
  auto cg = m->Create("/berth/c1", r);
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(Get("cgroup.subtree_control"), "cpu io memory pids\n");  // not rewritten
  EXPECT_EQ(Get("berth/cgroup.subtree_control"), "+pids +cpu +io +memory");
  EXPECT_EQ(Get("berth/c1/pids.max"), "5");
}

TEST_F(FakeTree, V2UnavailableControllerFailsBeforeCreatingAnything) {
  Put("cgroup.controllers", "hugetlb\n");  // as /sys/fs/cgroup/unified on a hybrid host
  Put("cgroup.subtree_control", "\n");
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Create("/berth/c1", FullResources());
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code, Code::kFailedPrecondition);
  EXPECT_FALSE(Exists("berth"));
  EXPECT_EQ(Get("cgroup.subtree_control"), "\n");
}

TEST_F(FakeTree, V2BadSwapIsInvalidArgumentAndLeavesNothing) {
  Put("cgroup.controllers", "memory\n");
  auto m = Detect();
  ASSERT_TRUE(m);
  oci::LinuxResources r;
  r.memory = oci::LinuxMemory{};
  r.memory->swap = 1 << 20;
  auto cg = m->Create("/berth/c1", r);
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code, Code::kInvalidArgument);
  EXPECT_EQ(cg.error().message,
            "create cgroup /berth/c1: cgroup v2: a memory+swap limit needs a memory limit");
  EXPECT_FALSE(Exists("berth"));
}

TEST_F(FakeTree, V2FailedWriteRemovesWhatCreateMade) {
  Put("cgroup.controllers", "memory pids\n");
  Put("cgroup.subtree_control", "\n");
  auto m = Detect();
  ASSERT_TRUE(m);
  oci::LinuxResources r;
  r.pids = oci::LinuxPids{10};
  auto cg = m->Create("/berth/c1", r);  // berth/ gets no cgroup.controllers: pids unavailable
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code, Code::kFailedPrecondition);
  EXPECT_FALSE(Exists("berth"));
}

TEST_F(FakeTree, V2FreezeThawKillPidsStats) {
  V2Tree();
  auto m = Detect();
  ASSERT_TRUE(m);
  auto cg = m->Open("/berth/c1");
  ASSERT_TRUE(cg) << cg.error().message;
  ASSERT_TRUE((*cg)->AddProcess(77));
  EXPECT_EQ(Get("berth/c1/cgroup.procs"), "77");

  Put("berth/c1/cgroup.events", "populated 1\nfrozen 1\n");  // what the kernel reports
  ASSERT_TRUE((*cg)->Freeze());
  EXPECT_EQ(Get("berth/c1/cgroup.freeze"), "1");
  Put("berth/c1/cgroup.events", "populated 1\nfrozen 0\n");
  ASSERT_TRUE((*cg)->Thaw());
  EXPECT_EQ(Get("berth/c1/cgroup.freeze"), "0");

  Put("berth/c1/cgroup.kill");
  ASSERT_TRUE((*cg)->KillAll());
  EXPECT_EQ(Get("berth/c1/cgroup.kill"), "1");

  Put("berth/c1/cgroup.procs", "7\n8\n");
  auto pids = (*cg)->Pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, (std::vector<pid_t>{7, 8}));

  Put("berth/c1/memory.current", "2048\n");
  Put("berth/c1/memory.max", "max\n");
  Put("berth/c1/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
  Put("berth/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  Put("berth/c1/pids.current", "2\n");
  auto s = (*cg)->Stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory_usage, 2048u);
  EXPECT_EQ(s->memory_limit, internal::HostMemoryBytes());
  EXPECT_EQ(s->oom_kills, 1u);
  EXPECT_EQ(s->cpu_usage_ns, 1500000u);
  EXPECT_EQ(s->pids_current, 2u);
}

TEST_F(FakeTree, V2FreezeTimesOutAndThawsBack) {
  V2Tree();  // cgroup.events keeps saying frozen 0
  internal::CgroupOptions options;
  options.freeze_timeout = std::chrono::milliseconds(20);
  auto m = internal::NewCgroupV2Manager(root_, options);
  auto cg = m->Open("/berth/c1");
  ASSERT_TRUE(cg);
  Status st = (*cg)->Freeze();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnavailable);
  EXPECT_EQ(st.error().message,
            "cgroup /berth/c1: freeze: timed out waiting for cgroup.events frozen 1");
  EXPECT_EQ(Get("berth/c1/cgroup.freeze"), "0");
}

TEST(CgroupFsTest, WriteErrorNamesFileAndValue) {
  // /proc/self/oom_score_adj refuses 5000 with EINVAL, like a cgroup file refusing a limit.
  Status st = internal::WriteCgroupFile("/proc/self", "oom_score_adj", "5000");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kInvalidArgument);
  EXPECT_EQ(st.error().message, "oom_score_adj=5000: Invalid argument");
  EXPECT_EQ(st.error().sys_errno, EINVAL);
}

}  // namespace
}  // namespace berth::runtime
