// Berth's default seccomp profile, in Docker's profile format (seccomp_profile.h), with the same
// effect as Docker's default (moby profiles/seccomp/default.json): an allowlist whose default is
// EPERM. What it keeps out, and why:
//
//   - namespaces: clone with any CLONE_NEW* flag, unshare, setns, clone3 (ENOSYS, so libc falls
//     back to clone, whose flags can be checked) unless CAP_SYS_ADMIN;
//   - mounts and file systems: mount, umount2, the new mount API, pivot_root, quotactl, unless
//     CAP_SYS_ADMIN (pivot_root never);
//   - the kernel keyring (keyctl, add_key, request_key: not namespaced), kexec_*, swapon/off,
//     userfaultfd, personality other than the few values libc and setarch use, AF_VSOCK sockets;
//   - host-wide knobs tied to their capability: reboot (CAP_SYS_BOOT), modules (CAP_SYS_MODULE),
//     clocks (CAP_SYS_TIME), acct (CAP_SYS_PACCT), iopl/ioperm (CAP_SYS_RAWIO), vhangup
//     (CAP_SYS_TTY_CONFIG), NUMA policy (CAP_SYS_NICE), syslog (CAP_SYSLOG or CAP_SYS_ADMIN), bpf
//     (CAP_BPF or CAP_SYS_ADMIN), perf_event_open (CAP_PERFMON or CAP_SYS_ADMIN), chroot
//     (CAP_SYS_CHROOT), open_by_handle_at (CAP_DAC_READ_SEARCH);
//   - ptrace, process_vm_* only on Linux 4.8+ (earlier ones let ptrace bypass seccomp), or with
//     CAP_SYS_PTRACE (which also gets kcmp, pidfd_getfd, process_madvise).
#include "runtime/internal/default_seccomp_profile.h"

namespace berth::runtime::internal {
namespace {

constexpr std::string_view kProfile = R"json({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    {"architecture": "SCMP_ARCH_PPC64LE", "subArchitectures": []},
    {"architecture": "SCMP_ARCH_S390X", "subArchitectures": ["SCMP_ARCH_S390"]},
    {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
  ],
  "syscalls": [
    {
      "comment": "files, directories and their data",
      "names": [
        "access", "chdir", "chmod", "chown", "chown32", "close", "close_range",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2",
        "fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod", "fchmodat", "fchown",
        "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "flock", "fstat", "fstat64",
        "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat",
        "getcwd", "getdents", "getdents64", "lchown", "lchown32", "link", "linkat", "_llseek",
        "lseek", "lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat",
        "name_to_handle_at", "newfstatat", "open", "openat", "openat2", "pread64", "preadv",
        "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "rename", "renameat", "renameat2", "rmdir", "sendfile",
        "sendfile64", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
        "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "truncate64",
        "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
        "vmsplice", "write", "writev"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "extended attributes",
      "names": [
        "fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "lgetxattr",
        "listxattr", "llistxattr", "lremovexattr", "lsetxattr", "removexattr", "setxattr"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "waiting on fds, pipes, event and timer fds, asynchronous I/O, ioctl",
      "names": [
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
        "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
        "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioctl", "pipe",
        "pipe2", "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select",
        "_newselect", "signalfd", "signalfd4", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "memory",
      "names": [
        "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock",
        "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock",
        "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "processes, threads, scheduling, limits (clone and clone3 are below)",
      "names": [
        "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "futex",
        "futex_time64", "futex_waitv", "get_robust_list", "get_thread_area", "getcpu",
        "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getrlimit",
        "getrusage", "getsid", "gettid", "ioprio_get", "ioprio_set", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "pidfd_open", "pidfd_send_signal",
        "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
        "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
        "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "set_robust_list",
        "set_thread_area", "set_tid_address", "setpgid", "setpriority", "setrlimit", "setsid",
        "sysinfo", "times", "ugetrlimit", "uname", "vfork", "wait4", "waitid", "waitpid"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "user and group ids (the capabilities decide what may change)",
      "names": [
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid",
        "getuid32", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
        "setgroups", "setgroups32", "setregid", "setregid32", "setresgid", "setresgid32",
        "setresuid", "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "signals",
      "names": [
        "alarm", "kill", "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
        "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask",
        "sigreturn", "tgkill", "tkill"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "clocks and timers (reading; adjtimex and clock_adjtime only change with CAP_SYS_TIME)",
      "names": [
        "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
        "getitimer", "gettimeofday", "nanosleep", "setitimer", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
        "timer_settime", "timer_settime64"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "sockets (socket itself is below)",
      "names": [
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
        "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send",
        "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown", "socketcall", "socketpair"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "System V and POSIX IPC (namespaced by the ipc namespace)",
      "names": [
        "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
        "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl",
        "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "before 4.8, ptrace could be used to get around seccomp",
      "names": ["ptrace", "process_vm_readv", "process_vm_writev"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"minKernel": "4.8"}
    },
    {
      "comment": "every socket family but AF_VSOCK (40), which reaches the host",
      "names": ["socket"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]
    },
    {
      "comment": "personality: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE, both, or the query 0xffffffff; several comparisons of one argument mean any of them",
      "names": ["personality"],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 131072, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 131080, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}
      ]
    },
    {
      "comment": "clone without CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (0x7e020000): flags are argument 0, but argument 1 on s390",
      "names": ["clone"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
      "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}
    },
    {
      "names": ["clone"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 1, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
      "includes": {"arches": ["s390", "s390x"]},
      "excludes": {"caps": ["CAP_SYS_ADMIN"]}
    },
    {
      "comment": "clone3 passes its flags in memory, out of seccomp's sight: ENOSYS makes libc use clone",
      "names": ["clone3"],
      "action": "SCMP_ACT_ERRNO",
      "errnoRet": 38,
      "excludes": {"caps": ["CAP_SYS_ADMIN"]}
    },
    {
      "comment": "CAP_SYS_ADMIN: namespaces, mounts, and what else that capability governs",
      "names": [
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
        "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
        "syslog", "umount", "umount2", "unshare"
      ],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_ADMIN"]}
    },
    {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
    {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
    {
      "names": ["init_module", "finit_module", "delete_module"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_MODULE"]}
    },
    {"names": ["acct"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PACCT"]}},
    {
      "names": [
        "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
        "ptrace"
      ],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_PTRACE"]}
    },
    {"names": ["ioperm", "iopl"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_RAWIO"]}},
    {
      "names": ["clock_settime", "clock_settime64", "settimeofday", "stime"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_TIME"]}
    },
    {"names": ["vhangup"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_TTY_CONFIG"]}},
    {
      "names": ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_NICE"]}
    },
    {"names": ["syslog"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYSLOG"]}},
    {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_BPF"]}},
    {"names": ["perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_PERFMON"]}},
    {
      "names": ["open_by_handle_at"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_DAC_READ_SEARCH"]}
    },
    {
      "comment": "architecture-specific calls; arches are Go's names for the host (GOARCH)",
      "names": ["arch_prctl"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["amd64", "x32"]}
    },
    {"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32", "x86"]}},
    {
      "names": [
        "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
        "sync_file_range2"
      ],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["arm", "arm64"]}
    },
    {
      "names": ["swapcontext", "sync_file_range2"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["ppc64le"]}
    },
    {
      "names": ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["s390", "s390x"]}
    },
    {"names": ["riscv_flush_icache"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["riscv64"]}}
  ]
})json";

}  // namespace

std::string_view DefaultSeccompProfileJson() { return kProfile; }

}  // namespace berth::runtime::internal
