// Creates real containers from a busybox rootfs (a plain directory, and an overlay with the
// busybox directory as its lower) and checks what the process sees: output, exit code,
// hostname, fds, read-only /proc and /sys parts, masked paths, exec errors, the pty, and exec
// into a running container. Root only (GTEST_SKIP otherwise). Each test leaves no mount in our
// namespace (mountinfo compared in TearDown), no process (all reaped) and no temp dir.
#include "runtime/container.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "oci/runtime_spec.h"
#include "runtime/capabilities.h"
#include "runtime/cgroup.h"
#include "runtime/seccomp_profile.h"
#include "snapshot/mount_spec.h"
#include "sys/linux_syscalls.h"

namespace berth::runtime {
namespace {

constexpr const char* kApplets[] = {"sh",    "echo", "hostname", "ls",    "cat",
                                    "sleep", "tty",  "true",     "false", "mkdir",
                                    "grep",  "id",   "touch",    "test",  "readlink"};

// The mounts of our namespace, except other tests' temp dirs: engineers share this machine, and
// their privileged tests mount under /tmp while ours run. Ours (`own`) are always kept.
std::string Mountinfo(const std::string& own) {
  Result<std::string> s = ReadFile("/proc/self/mountinfo");
  if (!s) return "unreadable: " + s.error().message;
  std::string out;
  for (const std::string& line : Split(*s, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    bool other_tmp = fields.size() > 4 && fields[4].rfind("/tmp/", 0) == 0 &&
                     (own.empty() || line.find(own) == std::string::npos);
    if (!other_tmp) out += line + "\n";
  }
  return out;
}

struct Outcome {
  int exit_code = -1;
  std::string output;
};

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "needs busybox-static";
    mountinfo_ = Mountinfo("");
    char tmpl[] = "/tmp/berth-runtime-priv-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    busybox_ = dir_ + "/busybox";
    for (const char* d : {"", "/bin", "/proc", "/sys", "/dev", "/etc", "/tmp"}) {
      ASSERT_EQ(::mkdir((busybox_ + d).c_str(), 0755), 0) << d << ": " << std::strerror(errno);
    }
    Result<std::string> bin = ReadFile("/bin/busybox");
    ASSERT_TRUE(bin) << bin.error().message;
    ASSERT_TRUE(WriteFileAtomic(busybox_ + "/bin/busybox", *bin, 0755));
    for (const char* applet : kApplets) {
      ASSERT_EQ(::symlink("busybox", (busybox_ + "/bin/" + applet).c_str()), 0);
    }
    ASSERT_TRUE(WriteFileAtomic(busybox_ + "/etc/secret", "s3cret\n", 0644));
  }

  void TearDown() override {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (cgroup_) {
      EXPECT_TRUE(cgroup_->Destroy());
      cgroup_.reset();
    }
    if (dir_.empty()) return;
    // Nothing the container mounted may show up here.
    EXPECT_EQ(Mountinfo(dir_), mountinfo_);
    EXPECT_TRUE(RemoveAll(dir_));
    // No child left: everything we started was reaped.
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
  }

  // Docker-like spec over the busybox directory.
  oci::RuntimeSpec Spec(std::vector<std::string> args) {
    oci::RuntimeSpec s;
    s.root.path = "busybox";
    s.hostname = "berth-test";
    s.process.args = std::move(args);
    s.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    s.mounts = {
        {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
        {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
        {"/dev/pts",
         "devpts",
         "devpts",
         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
        {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
        {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
        {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
    };
    s.linux_.namespaces = {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}};
    s.linux_.masked_paths = {"/proc/kcore",      "/proc/keys",    "/proc/acpi",
                             "/proc/timer_list", "/sys/firmware", "/etc/secret"};
    s.linux_.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                               "/proc/sysrq-trigger"};
    return s;
  }

  // Creates, starts and waits for a container; stdout and stderr come back together.
  Outcome Run(const oci::RuntimeSpec& spec, std::vector<snapshot::MountSpec> rootfs_mounts = {}) {
    Outcome out;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2";
      return out;
    }
    UniqueFd read_end(p[0]);
    UniqueFd write_end(p[1]);
    CreateOptions options;
    options.spec = &spec;
    options.bundle = dir_;
    options.rootfs_mounts = std::move(rootfs_mounts);
    options.stdio = Stdio{-1, write_end.get(), write_end.get()};
    options.cgroup = cgroup_options_;
    Result<std::unique_ptr<ContainerProcess>> c = CreateContainer(options, sys_);
    write_end.Reset();
    if (!c) {
      ADD_FAILURE() << "create: " << c.error().message;
      return out;
    }
    pid_t pid = (*c)->pid();
    pids_.push_back(pid);
    Status st = (*c)->Start();
    if (!st) {
      out.output = st.error().message;
    } else {
      out.output = ReadAll(read_end.get());
    }
    out.exit_code = Wait(pid);
    last_start_ = st;
    return out;
  }

  static std::string ReadAll(int fd) {
    std::string s;
    char buf[4096];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF, or EIO from a pty master once the slave side is gone
      s.append(buf, static_cast<size_t>(n));
    }
    return s;
  }

  int Wait(pid_t pid) {
    int status = 0;
    pid_t got = ::waitpid(pid, &status, 0);
    std::erase(pids_, pid);
    if (got != pid) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

  sys::LinuxSyscalls sys_;
  std::string mountinfo_;
  std::string dir_;
  std::string busybox_;
  std::vector<pid_t> pids_;
  Status last_start_;
  std::unique_ptr<Cgroup> cgroup_;
  Cgroup* cgroup_options_ = nullptr;
};

TEST_F(ContainerTest, EchoThroughAPipe) {
  Outcome o = Run(Spec({"echo", "hi"}));
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.output, "hi\n");
}

TEST_F(ContainerTest, ExitCodeAndHostname) {
  Outcome o = Run(Spec({"sh", "-c", "hostname; exit 3"}));
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.output, "berth-test\n");
}

TEST_F(ContainerTest, CallersBlockedAndIgnoredSignalsAreNotInherited) {
  // As berthd does: SIGTERM blocked (for sigwait), SIGPIPE ignored.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old_mask;
  ASSERT_EQ(::sigprocmask(SIG_BLOCK, &term, &old_mask), 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old_pipe), 0);
  Outcome o = Run(Spec({"grep", "-e", "SigBlk", "-e", "SigIgn", "/proc/self/status"}));
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST_F(ContainerTest, OnlyStdioFdsReachTheProcess) {
  Outcome o = Run(Spec({"ls", "/proc/self/fd"}));
  EXPECT_EQ(o.exit_code, 0) << o.output;
  std::vector<std::string> fds =
      Split(o.output.substr(0, o.output.find_last_not_of('\n') + 1), '\n');
  std::set<std::string> got(fds.begin(), fds.end());
  // 0-2, and the directory ls itself has open.
  EXPECT_TRUE(got == (std::set<std::string>{"0", "1", "2"}) ||
              got == (std::set<std::string>{"0", "1", "2", "3"}))
      << o.output;
}

TEST_F(ContainerTest, ProcAndSysAreProtected) {
  // "h" only prints help to the kernel log, should the write ever go through. Kernels built
  // without CONFIG_MAGIC_SYSRQ (this VM's) have no such file: the write fails either way.
  bool has_sysrq = ::access("/proc/sysrq-trigger", F_OK) == 0;
  Outcome sysrq = Run(Spec({"sh", "-c", "echo h > /proc/sysrq-trigger"}));
  EXPECT_NE(sysrq.exit_code, 0);
  if (has_sysrq) {
    EXPECT_NE(sysrq.output.find("Read-only file system"), std::string::npos) << sysrq.output;
  }

  // A read-only path that exists everywhere: the image's /tmp.
  oci::RuntimeSpec ro_tmp = Spec({"touch", "/tmp/x"});
  ro_tmp.linux_.readonly_paths.push_back("/tmp");
  Outcome tmp = Run(ro_tmp);
  EXPECT_NE(tmp.exit_code, 0);
  EXPECT_NE(tmp.output.find("Read-only file system"), std::string::npos) << tmp.output;

  Outcome sys = Run(Spec({"grep", " /sys ", "/proc/mounts"}));
  EXPECT_EQ(sys.exit_code, 0) << sys.output;
  EXPECT_NE(sys.output.find("sysfs /sys sysfs ro,"), std::string::npos) << sys.output;

  Outcome proc_sys = Run(Spec({"sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid"}));
  EXPECT_NE(proc_sys.exit_code, 0) << proc_sys.output;
  EXPECT_NE(proc_sys.output.find("Read-only file system"), std::string::npos) << proc_sys.output;
  // The read-only bind keeps proc's nosuid, nodev and noexec.
  Outcome flags = Run(Spec({"grep", " /proc/sys ", "/proc/mounts"}));
  EXPECT_NE(flags.output.find("proc /proc/sys proc ro,nosuid,nodev,noexec"), std::string::npos)
      << flags.output;
}

TEST_F(ContainerTest, MaskedPathsReadEmpty) {
  // /proc/kcore is missing on some kernels (this VM's): skipped, not an error.
  Outcome file = Run(Spec({"cat", "/etc/secret", "/proc/keys"}));
  EXPECT_EQ(file.exit_code, 0) << file.output;
  EXPECT_EQ(file.output, "");
  Outcome dir = Run(Spec({"ls", "/sys/firmware"}));
  EXPECT_EQ(dir.exit_code, 0) << dir.output;
  EXPECT_EQ(dir.output, "");
}

TEST_F(ContainerTest, DevHasDevicesAndLinks) {
  Outcome o = Run(Spec({"sh", "-c",
                        "test -c /dev/null && test -c /dev/urandom && test -c /dev/tty && "
                        "readlink /dev/ptmx && readlink /dev/fd && readlink /dev/stdout && "
                        "echo x > /dev/null && "
                        "test -d /dev/shm && test -d /dev/mqueue"}));
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output, "pts/ptmx\n/proc/self/fd\n/proc/self/fd/1\n");
}

TEST_F(ContainerTest, UnknownCommandIsNotFound) {
  Outcome o = Run(Spec({"no-such-command"}));
  ASSERT_FALSE(last_start_);
  EXPECT_EQ(last_start_.error().code, Code::kNotFound);
  EXPECT_EQ(last_start_.error().message,
            "exec: \"no-such-command\": executable file not found in $PATH");
  EXPECT_EQ(o.exit_code, 127);

  Outcome dir = Run(Spec({"/etc"}));
  ASSERT_FALSE(last_start_);
  EXPECT_EQ(last_start_.error().code, Code::kPermissionDenied);
  EXPECT_EQ(last_start_.error().message, "exec: \"/etc\": permission denied");
}

TEST_F(ContainerTest, BadCwdFailsTheCwdStep) {
  oci::RuntimeSpec spec = Spec({"true"});
  spec.process.cwd = "/no/such/dir";
  Run(spec);
  ASSERT_FALSE(last_start_);
  EXPECT_EQ(last_start_.error().code, Code::kNotFound);
  EXPECT_EQ(last_start_.error().message, "cwd: chdir /no/such/dir: No such file or directory");
}

TEST_F(ContainerTest, OverlayRootfsKeepsTheLowerUntouched) {
  for (const char* d : {"/upper", "/work", "/merged"}) {
    ASSERT_EQ(::mkdir((dir_ + d).c_str(), 0755), 0);
  }
  oci::RuntimeSpec spec = Spec({"sh", "-c", "echo new > /etc/created && cat /etc/created"});
  spec.root.path = "merged";
  snapshot::MountSpec overlay{
      "overlay",
      "overlay",
      "",
      {"lowerdir=" + busybox_, "upperdir=" + dir_ + "/upper", "workdir=" + dir_ + "/work"}};
  Outcome o = Run(spec, {overlay});
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output, "new\n");
  EXPECT_EQ(::access((dir_ + "/upper/etc/created").c_str(), F_OK), 0);
  EXPECT_NE(::access((busybox_ + "/etc/created").c_str(), F_OK), 0);
}

TEST_F(ContainerTest, OverlayWithMoreLowerdirsThanAPageHolds) {
  // 150 empty layers over busybox: the absolute lowerdir list passes 4096 bytes, so the child
  // mounts from their common parent with relative lowerdirs.
  ASSERT_EQ(::mkdir((dir_ + "/layers").c_str(), 0755), 0);
  std::vector<std::string> lowers;
  for (int i = 0; i < 150; ++i) {
    std::string layer = dir_ + "/layers/" + std::to_string(1000 + i);
    ASSERT_EQ(::mkdir(layer.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((layer + "/fs").c_str(), 0755), 0);
    lowers.push_back(layer + "/fs");
  }
  ASSERT_EQ(::mkdir((lowers[0] + "/etc").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomic(lowers[0] + "/etc/top", "top layer\n", 0644));
  lowers.push_back(busybox_);
  for (const char* d : {"/upper", "/work", "/merged"}) {
    ASSERT_EQ(::mkdir((dir_ + d).c_str(), 0755), 0);
  }
  snapshot::MountSpec overlay{"overlay",
                              "overlay",
                              "",
                              {"lowerdir=" + Join(lowers, ":"), "upperdir=" + dir_ + "/upper",
                               "workdir=" + dir_ + "/work"}};
  ASSERT_FALSE(snapshot::OptionsFitInPage(overlay));
  oci::RuntimeSpec spec = Spec({"sh", "-c", "cat /etc/top; pwd"});
  spec.root.path = "merged";
  Outcome o = Run(spec, {overlay});
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output, "top layer\n/\n");
}

TEST_F(ContainerTest, ReadonlyRootAndSeccompAndCapabilities) {
  oci::RuntimeSpec spec =
      Spec({"sh", "-c", "touch /x; grep -e CapEff -e CapBnd /proc/self/status"});
  spec.root.readonly = true;
  // Root's execve makes permitted = effective = the bounding set: drop CHOWN from it.
  spec.process.capabilities =
      oci::LinuxCapabilities{{"CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}};
  Outcome o = Run(spec);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("Read-only file system"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("CapEff:\t0000000000000020"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("CapBnd:\t0000000000000020"), std::string::npos) << o.output;

  oci::RuntimeSpec sec = Spec({"mkdir", "/tmp/d"});
  sec.process.no_new_privileges = true;
  oci::LinuxSyscall deny;
  deny.names = {"mkdir", "mkdirat"};
  deny.action = "SCMP_ACT_ERRNO";
  deny.errno_ret = 1;  // EPERM
  sec.linux_.seccomp = oci::LinuxSeccomp{"SCMP_ACT_ALLOW", std::nullopt, {}, {}, {deny}};
  Outcome m = Run(sec);
  EXPECT_NE(m.exit_code, 0);
  EXPECT_NE(m.output.find("Operation not permitted"), std::string::npos) << m.output;
}

TEST_F(ContainerTest, UserAndRlimits) {
  oci::RuntimeSpec spec = Spec({"sh", "-c", "id -u; id -g; id -G; ulimit -n; ulimit -Hn"});
  spec.process.user = oci::User{1000, 1001, std::nullopt, {1001, 5}};
  // Far above this machine's hard NOFILE (root without CAP_SYS_RESOURCE here): clamped to it.
  spec.process.rlimits = {{"RLIMIT_NOFILE", 1u << 30, 1u << 30}, {"RLIMIT_CORE", 0, 0}};
  struct rlimit cur {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &cur), 0);
  Outcome o = Run(spec);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  std::string limit = std::to_string(std::min<uint64_t>(cur.rlim_max, 1u << 30));
  // Our own hard limit may be raisable (CAP_SYS_RESOURCE): then the request itself applies.
  std::string want_limit = std::to_string(1u << 30);
  std::string clamped = "1000\n1001\n1001 5\n" + limit + "\n" + limit + "\n";
  std::string raised = "1000\n1001\n1001 5\n" + want_limit + "\n" + want_limit + "\n";
  EXPECT_TRUE(o.output == clamped || o.output == raised) << o.output;
}

TEST_F(ContainerTest, FailedCreateLeavesNothing) {
  oci::RuntimeSpec spec = Spec({"true"});
  spec.mounts.push_back({"/data", "bind", dir_ + "/missing", {"rbind"}});
  CreateOptions options;
  options.spec = &spec;
  options.bundle = dir_;
  Result<std::unique_ptr<ContainerProcess>> c = CreateContainer(options, sys_);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kNotFound);
  EXPECT_NE(c.error().message.find("rootfs: mount /data: mount " + dir_ + "/missing"),
            std::string::npos)
      << c.error().message;
  // TearDown: no mount and no process left.
}

TEST_F(ContainerTest, FailedCgroupJoinKillsTheChild) {
  Result<std::unique_ptr<CgroupManager>> manager = CgroupManager::Detect("/sys/fs/cgroup");
  ASSERT_TRUE(manager) << manager.error().message;
  Result<std::unique_ptr<Cgroup>> cgroup = (*manager)->Create(
      "/berth-runtime-test-" + std::to_string(::getpid()), oci::LinuxResources{});
  ASSERT_TRUE(cgroup) << cgroup.error().message;
  ASSERT_TRUE((*cgroup)->Destroy());  // gone: AddProcess must fail
  oci::RuntimeSpec spec = Spec({"true"});
  CreateOptions options;
  options.spec = &spec;
  options.bundle = dir_;
  options.cgroup = cgroup->get();
  Result<std::unique_ptr<ContainerProcess>> c = CreateContainer(options, sys_);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("create: join cgroup: "), std::string::npos)
      << c.error().message;
  // TearDown: the child was killed and reaped, nothing mounted.
}

TEST_F(ContainerTest, SymlinkedDestinationStaysInsideTheRoot) {
  // /escape -> /../../.. in the image; a mount there lands inside the rootfs, never on the host.
  ASSERT_EQ(::symlink("/../../..", (busybox_ + "/escape").c_str()), 0);
  ASSERT_EQ(::mkdir((dir_ + "/vol").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/vol/marker", "inside\n", 0644));
  oci::RuntimeSpec spec = Spec({"cat", "/vol-target/marker"});
  spec.mounts.push_back({"/escape/vol-target", "bind", dir_ + "/vol", {"rbind"}});
  Outcome o = Run(spec);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output, "inside\n");
  EXPECT_NE(::access("/vol-target", F_OK), 0);  // nothing was created on the host
}

// On cgroup v2 the init is born in its cgroup (clone3 CLONE_INTO_CGROUP); here on the hybrid
// host's cgroup2 mount, which has no controllers but takes processes all the same.
TEST_F(ContainerTest, CgroupV2InitStartsInItsCgroup) {
  if (::access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) != 0) {
    GTEST_SKIP() << "no cgroup2 mount at /sys/fs/cgroup/unified";
  }
  Result<std::unique_ptr<CgroupManager>> manager =
      CgroupManager::Detect("/sys/fs/cgroup/unified");
  ASSERT_TRUE(manager) << manager.error().message;
  ASSERT_EQ((*manager)->version(), 2);
  std::string cgroup_path = "/berth-runtime-v2-" + std::to_string(::getpid());
  Result<std::unique_ptr<Cgroup>> cgroup = (*manager)->Create(cgroup_path, {});
  ASSERT_TRUE(cgroup) << cgroup.error().message;
  cgroup_ = std::move(*cgroup);
  cgroup_options_ = cgroup_.get();
  Outcome o = Run(Spec({"grep", "^0::", "/proc/self/cgroup"}));
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output, "0::" + cgroup_path + "\n");
}

// What the engine will hand over for `docker run --user 1000 --sysctl ...`: Docker's default
// capabilities and seccomp profile (no no_new_privs: the filter goes in before the uid change),
// a cgroup with a pids limit, sysctls and oom_score_adj.
TEST_F(ContainerTest, DockerDefaultsWithCgroupSysctlAndOomScore) {
  Result<std::unique_ptr<CgroupManager>> manager = CgroupManager::Detect("/sys/fs/cgroup");
  ASSERT_TRUE(manager) << manager.error().message;
  std::string cgroup_path = "/berth-runtime-test-" + std::to_string(::getpid());
  oci::LinuxResources resources;
  resources.pids = oci::LinuxPids{64};
  Result<std::unique_ptr<Cgroup>> cgroup = (*manager)->Create(cgroup_path, resources);
  ASSERT_TRUE(cgroup) << cgroup.error().message;
  cgroup_ = std::move(*cgroup);

  std::vector<std::string> caps = DefaultCapabilities();
  struct utsname uts {};
  ASSERT_EQ(::uname(&uts), 0);
  oci::RuntimeSpec spec =
      Spec({"sh", "-c",
            "id -u; cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; "
            "grep -c " +
                cgroup_path + " /proc/self/cgroup; grep CapBnd /proc/self/status"});
  spec.process.user = oci::User{1000, 1000, std::nullopt, {}};
  spec.process.capabilities = oci::LinuxCapabilities{caps, caps, {}, caps, {}};
  spec.linux_.seccomp = DefaultSeccompProfile(caps, uts.release);
  spec.linux_.sysctl = {{"net.ipv4.ip_forward", "1"}};
  spec.process.oom_score_adj = 500;  // raising needs no privilege
  cgroup_options_ = cgroup_.get();
  Outcome o = Run(spec);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  std::vector<std::string> lines = Split(o.output, '\n');
  ASSERT_GE(lines.size(), 5u) << o.output;
  EXPECT_EQ(lines[0], "1000");
  EXPECT_EQ(lines[1], "1");
  EXPECT_EQ(lines[2], "500");
  EXPECT_NE(lines[3], "0") << o.output;              // in our cgroup in every hierarchy listed
  EXPECT_EQ(lines[4], "CapBnd:\t00000000a80425fb");  // Docker's default set

  oci::RuntimeSpec host_wide = Spec({"true"});
  host_wide.linux_.sysctl = {{"kernel.panic", "1"}};
  CreateOptions options;
  options.spec = &host_wide;
  options.bundle = dir_;
  Result<std::unique_ptr<ContainerProcess>> refused = CreateContainer(options, sys_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
}

// The optional fields of the container's "/" in its mountinfo ("master:3", "shared:7", "").
std::string RootPropagationFields(const std::string& mountinfo) {
  for (const std::string& line : Split(mountinfo, '\n')) {
    std::vector<std::string> f = Split(line, ' ');
    if (f.size() < 7 || f[4] != "/") continue;
    std::string tags;
    for (size_t k = 6; k < f.size() && f[k] != "-"; ++k) tags += f[k] + " ";
    return tags;
  }
  return "no root in mountinfo";
}

TEST_F(ContainerTest, RootfsPropagation) {
  oci::RuntimeSpec spec = Spec({"cat", "/proc/self/mountinfo"});
  spec.linux_.rootfs_propagation = "private";
  Outcome priv = Run(spec);
  ASSERT_EQ(priv.exit_code, 0) << priv.output;
  EXPECT_EQ(RootPropagationFields(priv.output), "") << priv.output;
  spec.linux_.rootfs_propagation = "rshared";
  Outcome shared = Run(spec);
  ASSERT_EQ(shared.exit_code, 0) << shared.output;
  EXPECT_EQ(RootPropagationFields(shared.output).rfind("shared:", 0), 0u) << shared.output;
}

TEST_F(ContainerTest, TerminalGetsItsOwnDevpts) {
  oci::RuntimeSpec spec = Spec({"tty"});
  spec.process.terminal = true;
  spec.process.console_size = oci::ConsoleSize{30, 100};
  CreateOptions options;
  options.spec = &spec;
  options.bundle = dir_;
  Result<std::unique_ptr<ContainerProcess>> c = CreateContainer(options, sys_);
  ASSERT_TRUE(c) << c.error().message;
  pids_.push_back((*c)->pid());
  UniqueFd master = (*c)->TakePtyMaster();
  ASSERT_TRUE(master.valid());
  EXPECT_TRUE(ResizePty(master.get(), 40, 120));
  ASSERT_TRUE((*c)->Start());
  std::string out = ReadAll(master.get());
  EXPECT_EQ(Wait((*c)->pid()), 0);
  EXPECT_EQ(out, "/dev/pts/0\r\n");
}

TEST_F(ContainerTest, ExecJoinsTheRunningContainer) {
  oci::RuntimeSpec spec = Spec({"sleep", "1000"});
  // The container's seccomp applies to exec'd processes too.
  oci::LinuxSyscall deny;
  deny.names = {"mkdir", "mkdirat"};
  deny.action = "SCMP_ACT_ERRNO";
  deny.errno_ret = 1;  // EPERM
  spec.linux_.seccomp = oci::LinuxSeccomp{"SCMP_ACT_ALLOW", std::nullopt, {}, {}, {deny}};
  CreateOptions options;
  options.spec = &spec;
  options.bundle = dir_;
  Result<std::unique_ptr<ContainerProcess>> init = CreateContainer(options, sys_);
  ASSERT_TRUE(init) << init.error().message;
  pid_t init_pid = (*init)->pid();
  pids_.push_back(init_pid);
  ASSERT_TRUE((*init)->Start());

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd read_end(p[0]);
  UniqueFd write_end(p[1]);
  oci::Process process;
  process.args = {"sh", "-c", "hostname; cat /proc/1/cmdline; echo; echo $$"};
  process.env = spec.process.env;
  process.cwd = "/tmp";
  ExecOptions exec;
  exec.init_pid = init_pid;
  exec.process = &process;
  exec.spec = &spec;
  exec.stdio = Stdio{-1, write_end.get(), write_end.get()};
  Result<std::unique_ptr<ContainerProcess>> e = CreateExec(exec, sys_);
  write_end.Reset();
  ASSERT_TRUE(e) << e.error().message;
  pids_.push_back((*e)->pid());
  ASSERT_TRUE((*e)->Start());
  std::string out = ReadAll(read_end.get());
  EXPECT_EQ(Wait((*e)->pid()), 0);
  std::vector<std::string> lines = Split(out, '\n');
  ASSERT_GE(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0], "berth-test");
  EXPECT_EQ(lines[1], std::string("sleep\0"
                                  "1000",
                                  10) +
                          std::string(1, '\0'))
      << out;
  EXPECT_NE(lines[2], "1");  // a pid of the container's namespace, not the init
  EXPECT_LT(std::stoi(lines[2]), 100) << out;

  process.args = {"nope"};
  Result<std::unique_ptr<ContainerProcess>> bad = CreateExec(exec, sys_);
  ASSERT_TRUE(bad) << bad.error().message;
  pids_.push_back((*bad)->pid());
  Status st = (*bad)->Start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kNotFound);
  EXPECT_EQ(Wait((*bad)->pid()), 127);

  {
    int q[2];
    ASSERT_EQ(::pipe2(q, O_CLOEXEC), 0);
    UniqueFd r(q[0]);
    UniqueFd w(q[1]);
    oci::Process mkdir_process = process;
    mkdir_process.args = {"mkdir", "/tmp/denied"};
    ExecOptions mkdir_exec = exec;
    mkdir_exec.process = &mkdir_process;
    mkdir_exec.stdio = Stdio{-1, w.get(), w.get()};
    Result<std::unique_ptr<ContainerProcess>> m = CreateExec(mkdir_exec, sys_);
    w.Reset();
    ASSERT_TRUE(m) << m.error().message;
    pids_.push_back((*m)->pid());
    ASSERT_TRUE((*m)->Start());
    std::string denied = ReadAll(r.get());
    EXPECT_NE(Wait((*m)->pid()), 0);
    EXPECT_NE(denied.find("Operation not permitted"), std::string::npos) << denied;
  }

  // With a terminal: its own pty from the container's devpts, after the init's none.
  process.args = {"tty"};
  process.terminal = true;
  Result<std::unique_ptr<ContainerProcess>> tty = CreateExec(exec, sys_);
  ASSERT_TRUE(tty) << tty.error().message;
  pids_.push_back((*tty)->pid());
  UniqueFd master = (*tty)->TakePtyMaster();
  ASSERT_TRUE(master.valid());
  ASSERT_TRUE((*tty)->Start());
  std::string tty_out = ReadAll(master.get());
  EXPECT_EQ(Wait((*tty)->pid()), 0);
  EXPECT_EQ(tty_out, "/dev/pts/0\r\n");

  ::kill(init_pid, SIGKILL);
  EXPECT_EQ(Wait(init_pid), 128 + SIGKILL);
}

}  // namespace
}  // namespace berth::runtime
