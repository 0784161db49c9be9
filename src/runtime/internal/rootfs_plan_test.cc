#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "oci/runtime_spec.h"
#include "runtime/internal/rootfs.h"

namespace berth::runtime::internal {
namespace {

bool FakeIsDir(const std::string& path) { return path.find("file") == std::string::npos; }

oci::RuntimeSpec RuncSpec() {
  oci::RuntimeSpec s;
  s.root.path = "rootfs";
  s.process.args = {"sh"};
  s.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/etc/hosts", "bind", "hosts.file", {"rbind", "ro"}},
      {"data/../../x", "bind", "/srv/data", {"bind", "rprivate"}},
  };
  s.linux_.namespaces = {{"mount", ""}};
  s.linux_.devices = {{"/dev/fuse", "c", 10, 229, 0600, 1, 2},
                      {"/dev/null", "c", 1, 3, std::nullopt, {}, {}}};
  s.linux_.masked_paths = {"/proc/kcore", "/proc//acpi/"};
  s.linux_.readonly_paths = {"/proc/sysrq-trigger"};
  s.root.readonly = true;
  return s;
}

TEST(MountOptionsTest, SplitsFlagsPropagationAndData) {
  MountFlags f = ParseMountOptions(
      {"nosuid", "ro", "rw", "noexec", "mode=755", "rslave", "size=1k", "tmpcopyup", "exec"});
  EXPECT_EQ(f.flags, MS_NOSUID);
  EXPECT_EQ(f.propagation, MS_SLAVE | MS_REC);
  EXPECT_EQ(f.data, "mode=755,size=1k");
  EXPECT_EQ(ParseMountOptions({"rbind", "ro"}).flags, MS_BIND | MS_REC | MS_RDONLY);
  EXPECT_EQ(ParseMountOptions({}).data, "");
}

TEST(RootfsPlanTest, RuncSpec) {
  std::vector<snapshot::MountSpec> overlay = {
      {"overlay", "overlay", "", {"lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w", "index=off"}}};
  Result<RootfsPlan> plan = PlanRootfs(RuncSpec(), "/bundle", overlay, FakeIsDir);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->rootfs, "/bundle/rootfs");
  EXPECT_EQ(plan->root_propagation, MS_SLAVE | MS_REC);
  EXPECT_EQ(plan->final_propagation, 0u);
  ASSERT_EQ(plan->rootfs_mounts.size(), 1u);
  EXPECT_EQ(plan->rootfs_mounts[0].destination, "/bundle/rootfs");
  EXPECT_EQ(plan->rootfs_mounts[0].fstype, "overlay");
  EXPECT_FALSE(plan->rootfs_mounts[0].bind);
  EXPECT_EQ(plan->rootfs_mounts[0].flags.data, "lowerdir=/l1:/l2,upperdir=/u,workdir=/w,index=off");

  ASSERT_EQ(plan->mounts.size(), 6u);  // the spec has /dev: none added
  EXPECT_EQ(plan->mounts[0].destination, "/proc");
  EXPECT_EQ(plan->mounts[0].source, "proc");
  EXPECT_EQ(plan->mounts[1].destination, "/dev");
  EXPECT_EQ(plan->mounts[1].flags.flags, MS_NOSUID | MS_STRICTATIME);
  EXPECT_EQ(plan->mounts[1].flags.data, "mode=755,size=65536k");
  EXPECT_EQ(plan->mounts[2].flags.data, "newinstance,ptmxmode=0666,mode=620,gid=5");
  EXPECT_EQ(plan->mounts[3].flags.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
  EXPECT_FALSE(plan->mounts[3].bind);
  const MountStep& hosts = plan->mounts[4];
  EXPECT_TRUE(hosts.bind);
  EXPECT_TRUE(hosts.remount);  // ro needs the second call
  EXPECT_TRUE(hosts.file_target);
  EXPECT_EQ(hosts.source, "/bundle/hosts.file");
  EXPECT_EQ(hosts.flags.flags, MS_BIND | MS_REC | MS_RDONLY);
  const MountStep& data = plan->mounts[5];
  EXPECT_EQ(data.destination, "/x");  // ".." stops at the container's root
  EXPECT_FALSE(data.remount);
  EXPECT_FALSE(data.file_target);
  EXPECT_EQ(data.flags.propagation, MS_PRIVATE | MS_REC);

  // Spec devices first (its /dev/null replaces the default), then the other defaults.
  ASSERT_EQ(plan->devices.size(), 7u);
  EXPECT_EQ(plan->devices[0].name, "fuse");
  EXPECT_EQ(plan->devices[0].mode, S_IFCHR | 0600);
  EXPECT_EQ(plan->devices[0].dev, makedev(10, 229));
  EXPECT_EQ(plan->devices[0].uid, 1u);
  EXPECT_EQ(plan->devices[0].gid, 2u);
  EXPECT_EQ(plan->devices[1].name, "null");
  EXPECT_EQ(plan->devices[1].mode, S_IFCHR | 0666);
  std::vector<std::string> names;
  for (const DeviceNode& d : plan->devices) names.push_back(d.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"fuse", "null", "zero", "full", "random", "urandom", "tty"}));
  ASSERT_EQ(plan->dev_symlinks.size(), 5u);
  EXPECT_EQ(plan->dev_symlinks[4].name, "ptmx");
  EXPECT_EQ(plan->dev_symlinks[4].target, "pts/ptmx");
  EXPECT_EQ(plan->dev_symlinks[0].target, "/proc/self/fd");
  EXPECT_EQ(plan->masked_paths, (std::vector<std::string>{"/proc/kcore", "/proc/acpi"}));
  EXPECT_EQ(plan->readonly_paths, std::vector<std::string>{"/proc/sysrq-trigger"});
  EXPECT_TRUE(plan->readonly_root);
}

TEST(RootfsPlanTest, WithoutRootfsMountsBindsTheRootOntoItselfAndAddsDev) {
  oci::RuntimeSpec s;
  s.root.path = "/abs/root/";
  s.mounts = {{"/proc", "proc", "proc", {}}};
  s.linux_.rootfs_propagation = "private";
  Result<RootfsPlan> plan = PlanRootfs(s, "/bundle", {}, FakeIsDir);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->rootfs, "/abs/root");
  EXPECT_EQ(plan->root_propagation, MS_PRIVATE);
  EXPECT_EQ(plan->final_propagation, MS_PRIVATE);
  ASSERT_EQ(plan->rootfs_mounts.size(), 1u);
  EXPECT_TRUE(plan->rootfs_mounts[0].bind);
  EXPECT_EQ(plan->rootfs_mounts[0].source, "/abs/root");
  EXPECT_EQ(plan->rootfs_mounts[0].flags.flags, MS_BIND | MS_REC);
  ASSERT_EQ(plan->mounts.size(), 2u);
  EXPECT_EQ(plan->mounts[0].destination, "/dev");
  EXPECT_EQ(plan->mounts[0].fstype, "tmpfs");
  EXPECT_EQ(plan->mounts[1].destination, "/proc");
  EXPECT_EQ(plan->devices.size(), 6u);
}

TEST(RootfsPlanTest, SharedRootPropagationOnlyAfterPivot) {
  oci::RuntimeSpec s;
  s.root.path = "r";
  s.linux_.rootfs_propagation = "rshared";
  Result<RootfsPlan> plan = PlanRootfs(s, "/b", {}, FakeIsDir);
  ASSERT_TRUE(plan) << plan.error().message;
  // Shared before pivot_root would propagate the container's mounts to the host.
  EXPECT_EQ(plan->root_propagation, MS_SLAVE | MS_REC);
  EXPECT_EQ(plan->final_propagation, MS_SHARED | MS_REC);
}

TEST(RootfsPlanTest, BindRootfsMountWithReadOnly) {
  oci::RuntimeSpec s;
  s.root.path = "r";
  Result<RootfsPlan> plan =
      PlanRootfs(s, "/b", {{"bind", "/snap/fs", "", {"rbind", "ro"}}}, FakeIsDir);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->rootfs_mounts.size(), 1u);
  EXPECT_TRUE(plan->rootfs_mounts[0].bind);
  EXPECT_TRUE(plan->rootfs_mounts[0].remount);
  EXPECT_EQ(plan->rootfs_mounts[0].source, "/snap/fs");
}

TEST(RootfsPlanTest, LongOverlayIsMountedFromTheLayersParent) {
  std::vector<std::string> lowers;
  for (int i = 0; i < 150; ++i) {
    lowers.push_back("/var/lib/berth/snapshots/" + std::to_string(1000 + i) + "/fs");
  }
  snapshot::MountSpec overlay{
      "overlay", "overlay", "", {"lowerdir=" + Join(lowers, ":"), "upperdir=/u", "workdir=/w"}};
  ASSERT_FALSE(snapshot::OptionsFitInPage(overlay));
  oci::RuntimeSpec s;
  s.root.path = "r";
  Result<RootfsPlan> plan = PlanRootfs(s, "/b", {overlay}, FakeIsDir);
  ASSERT_TRUE(plan) << plan.error().message;
  const MountStep& step = plan->rootfs_mounts[0];
  EXPECT_EQ(step.chdir, "/var/lib/berth/snapshots");
  EXPECT_EQ(step.flags.data.rfind("lowerdir=1000/fs:1001/fs:", 0), 0u) << step.flags.data;
  EXPECT_LT(step.flags.data.size(), snapshot::PageSize());
  // Short ones are left alone.
  plan = PlanRootfs(s, "/b", {{"overlay", "overlay", "", {"lowerdir=/a:/b"}}}, FakeIsDir);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->rootfs_mounts[0].chdir, "");
}

TEST(RootfsPlanTest, RejectsBadInput) {
  oci::RuntimeSpec s;
  s.root.path = "r";
  s.linux_.rootfs_propagation = "sideways";
  EXPECT_EQ(PlanRootfs(s, "/b", {}, FakeIsDir).error().message,
            "linux.rootfsPropagation: unknown \"sideways\"");
  s.linux_.rootfs_propagation = "";
  s.linux_.devices = {{"/dev/x", "q", 1, 1, {}, {}, {}}};
  EXPECT_EQ(PlanRootfs(s, "/b", {}, FakeIsDir).error().code, Code::kInvalidArgument);
  s.linux_.devices = {{"/etc/x", "c", 1, 1, {}, {}, {}}};
  EXPECT_EQ(PlanRootfs(s, "/b", {}, FakeIsDir).error().message,
            "linux.devices: \"/etc/x\" is not in /dev");
  s.linux_.devices.clear();
  s.mounts = {{"/", "tmpfs", "tmpfs", {}}};
  EXPECT_FALSE(PlanRootfs(s, "/b", {}, FakeIsDir));
  s.mounts.clear();
  s.root.path = "";
  EXPECT_FALSE(PlanRootfs(s, "/b", {}, FakeIsDir));
}

}  // namespace
}  // namespace berth::runtime::internal
