// What a container must not be able to do (issue 3, "Security tests"): each attempt fails
// inside the container and the host is unchanged.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class SecurityTest : public ContainerFixture {
 protected:
  // Runs `script` in a fresh busybox container; its output and exit code.
  Run InContainer(const std::string& script, std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"busybox", "sh", "-c", script});
    return Docker(d_, args);
  }
};

// --privileged grants what the daemon itself may hold (moby's GetAllCapabilities): on this VM
// root's bounding set lacks CAP_SYS_RESOURCE, and asking the kernel for every capability it
// knows made every privileged start fail at capset with EPERM.
TEST_F(SecurityTest, PrivilegedGetsTheDaemonsBoundingSet) {
  std::string bounding;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapBnd:", 0) == 0) bounding = Trim(line.substr(7));
  }
  ASSERT_FALSE(bounding.empty());
  const std::vector<std::string> args = {"run", "--rm", "--privileged", "busybox", "sh", "-c",
                                         "grep CapEff /proc/self/status"};
  Run b = Berth(d_, args);
  EXPECT_EQ(b.exit_code, 0) << b.output << Log(d_);
  EXPECT_EQ(Trim(b.output), "CapEff:\t" + bounding);
  if (!docker_.empty()) {
    Run k = Docker(d_, args);
    EXPECT_EQ(k.exit_code, 0) << k.output;
    EXPECT_EQ(k.output, b.output);
  }
}

// CAP_MKNOD is in Docker's default set: the device cgroup is what keeps a node the container
// makes from opening a host device. (/dev/mem, 1:1, is absent from this VM's kernel: without
// the cgroup the open fails with ENXIO, not EPERM.) v1 applies the rules as devices.deny/allow,
// v2 as an eBPF program: the test holds on either.
TEST_F(SecurityTest, DeviceNodesMadeInsideDoNotOpen) {
  const std::vector<std::string> args = {
      "run", "--rm", "busybox", "sh", "-c",
      "mknod /dev/m c 1 1 && head -c 1 /dev/m; echo x > /dev/null && echo null-ok"};
  Run b = Berth(d_, args);
  EXPECT_NE(b.output.find("/dev/m: Operation not permitted"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("null-ok"), std::string::npos) << b.output;
  Run priv = Berth(d_, {"run", "--rm", "--privileged", "busybox", "sh", "-c",
                        "mknod /dev/m c 1 1 && head -c 1 /dev/m"});
  EXPECT_EQ(priv.output.find("Operation not permitted"), std::string::npos) << priv.output;
}

// keyctl, add_key and request_key are refused by the default seccomp profile (the kernel
// keyring is not namespaced); unconfined, the same probe gets past seccomp.
TEST_F(SecurityTest, KeyManagementCallsAreRefused) {
  auto probe = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> create = {"create", "--name", name};
    create.insert(create.end(), extra.begin(), extra.end());
    create.insert(create.end(), {"busybox", "/keyctl-probe"});
    Run c = Berth(d_, create);
    EXPECT_EQ(c.exit_code, 0) << c.output << Log(d_);
    Run cp = Berth(d_, {"cp", KEYCTL_PROBE_PATH, name + ":/keyctl-probe"});
    EXPECT_EQ(cp.exit_code, 0) << cp.output;
    Run start = Berth(d_, {"start", "-a", name});
    EXPECT_EQ(start.exit_code, 0) << start.output;
    return Trim(start.output);
  };
  EXPECT_EQ(probe("kdefault", {}), "keyctl=1 add_key=1 request_key=1");  // EPERM
  std::string unconfined = probe("kfree", {"--security-opt", "seccomp=unconfined"});
  EXPECT_EQ(unconfined.find("keyctl=1 "), std::string::npos) << unconfined;
}

TEST_F(SecurityTest, OnlyStdioDescriptorsReachTheContainer) {
  BERTH_SKIP_WITHOUT_DOCKER();
  // ls opens /proc/self/fd itself as 3.
  Run r = InContainer("ls /proc/self/fd | tr '\\n' ' '");
  EXPECT_EQ(r.output, "0 1 2 3 ") << r.output;
}

TEST_F(SecurityTest, NoBinaryOfOursCanBeWrittenThroughProc) {
  BERTH_SKIP_WITHOUT_DOCKER();
  struct stat before {};
  std::string shim = std::string(BERTHD_PATH).substr(0, std::string(BERTHD_PATH).rfind('/')) +
                     "/berth-shim";
  ASSERT_EQ(::stat(shim.c_str(), &before), 0);
  Run r = InContainer(
      "for f in /proc/self/exe /proc/[0-9]*/exe; do (echo x >> $f) 2>/dev/null && echo WROTE "
      "$f; done; echo done");
  EXPECT_EQ(r.output, "done\n");
  struct stat after {};
  ASSERT_EQ(::stat(shim.c_str(), &after), 0);
  EXPECT_EQ(before.st_size, after.st_size);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
}

TEST_F(SecurityTest, KernelInterfacesAreClosed) {
  BERTH_SKIP_WITHOUT_DOCKER();
  EXPECT_NE(InContainer("echo h > /proc/sysrq-trigger").exit_code, 0);
  EXPECT_NE(InContainer("mkdir /sys/kernel/berth-test").exit_code, 0);
  EXPECT_NE(InContainer("mount -t tmpfs none /mnt").exit_code, 0);
  EXPECT_NE(InContainer("umount /proc").exit_code, 0);
  EXPECT_NE(InContainer("unshare -U true").exit_code, 0);
  EXPECT_NE(InContainer("unshare -m true").exit_code, 0);
  // Masked: empty (/proc/timer_list exists on every kernel Berth supports).
  EXPECT_EQ(InContainer("cat /proc/timer_list | wc -c").output, "0\n");
  EXPECT_EQ(InContainer("ls /sys/firmware | wc -l").output, "0\n");
  // Docker's default capabilities: no CAP_SYS_ADMIN (bit 21) in the bounding set.
  Run caps = InContainer("grep CapBnd /proc/self/status");
  EXPECT_EQ(Trim(caps.output), "CapBnd:\t00000000a80425fb") << caps.output;
}

TEST_F(SecurityTest, PidsLimitContainsAForkBomb) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "-d", "--pids-limit", "64", "busybox", "sh", "-c",
                        "f() { f | f & }; f; sleep 1000"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::string id = Trim(run.output);
  std::string pids = PidsCgroup(id);
  EXPECT_EQ(ReadTrimmed(pids + "/pids.max"), "64");
  // The bomb hits the limit: the kernel counts refused forks in pids.events.
  std::string events;
  for (int i = 0; i < 200; ++i) {
    events = ReadTrimmed(pids + "/pids.events");
    if (events != "max 0" && !events.empty()) break;
    ::usleep(20000);
  }
  EXPECT_NE(events, "max 0");
  int current = std::atoi(ReadTrimmed(pids + "/pids.current").c_str());
  EXPECT_GT(current, 1);
  EXPECT_LE(current, 64);
  // The host still forks, and rm -f ends every process of the bomb.
  EXPECT_EQ(Shell("true").exit_code, 0);
  Run rm = Docker(d_, {"rm", "-f", id});
  EXPECT_EQ(rm.exit_code, 0) << rm.output;
  EXPECT_FALSE(PathExists(pids));
}

TEST_F(SecurityTest, MemoryHogIsOomKilledAndReported) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run r = Docker(d_, {"run", "--name", "hog", "-m", "64m", "busybox", "dd", "if=/dev/zero",
                      "of=/dev/null", "bs=300M", "count=1"});
  EXPECT_EQ(r.exit_code, 137) << r.output;
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"})
                     .output),
            "true 137");
  EXPECT_EQ(Docker(d_, {"rm", "hog"}).exit_code, 0);
}

}  // namespace
}  // namespace berth
