// The device cgroup on cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached
// to the container's cgroup, which the kernel runs on every mknod and open of a device node.
// v1 has the devices.allow/deny files instead (cgroup_fs.h PlanV1Writes).
//
// The rules (linux.resources.devices) mean what they mean to v1 and to runc: the last rule of
// type "a" sets the default (allow or deny everything) and drops what came before it; the rules
// after it are exceptions, the later one winning where two match. The program checks them from
// the last to the first and returns the first match's verdict, else the default.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::runtime::internal {

// The program for `rules` (pure). No rules: allow everything (no filter needed; the caller
// does not attach one).
std::vector<bpf_insn> CompileDeviceFilter(const std::vector<oci::LinuxDeviceCgroup>& rules);

// Loads `program` and attaches it to the cgroup directory `cgroup_dir_fd` (BPF_CGROUP_DEVICE,
// BPF_F_ALLOW_MULTI). The attachment lives with the cgroup; the program's fd is closed.
Status AttachDeviceFilter(int cgroup_dir_fd, const std::vector<bpf_insn>& program);

}  // namespace berth::runtime::internal
