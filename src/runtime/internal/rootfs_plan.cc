// The rootfs plan: pure computation from the spec (no I/O but the is_dir probe).
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string_view>

#include "runtime/internal/rootfs.h"
#include "snapshot/mount_spec.h"

namespace berth::runtime::internal {
namespace {

struct FlagName {
  std::string_view name;
  bool clear;
  unsigned long flag;  // NOLINT(runtime/int)
};

// mount(8)'s file-system-independent options (runc's mountPropagationMapping + flags table).
constexpr FlagName kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

constexpr FlagName kPropagation[] = {
    {"private", false, MS_PRIVATE},       {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},         {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},           {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

bool HasOptionPrefix(const std::string& data, std::string_view prefix) {
  size_t pos = 0;
  while (pos <= data.size()) {
    size_t end = data.find(',', pos);
    if (end == std::string::npos) end = data.size();
    if (std::string_view(data).substr(pos, end - pos).substr(0, prefix.size()) == prefix) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

void AppendData(std::string& data, std::string_view opt) {
  data = snapshot::JoinOptions({data, std::string(opt)});
  if (data.front() == ',') data.erase(0, 1);
}

// "/a/./b/../c" -> "/a/c"; ".." never climbs above "/".
std::string CleanPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = end + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string Absolute(const std::string& base, const std::string& path) {
  if (!path.empty() && path[0] == '/') return CleanPath(path);
  return CleanPath(base + "/" + path);
}

struct DefaultDevice {
  const char* name;
  unsigned major;
  unsigned minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

}  // namespace

MountFlags ParseMountOptions(const std::vector<std::string>& options) {
  MountFlags out;
  std::vector<std::string> data;  // file system options, joined as mount(2) takes them
  for (const std::string& opt : options) {
    bool known = false;
    for (const FlagName& f : kFlags) {
      if (f.name != opt) continue;
      known = true;
      if (f.clear) {
        out.flags &= ~f.flag;
      } else {
        out.flags |= f.flag;
      }
    }
    for (const FlagName& f : kPropagation) {
      if (f.name != opt) continue;
      known = true;
      out.propagation = f.flag;
    }
    // "tmpcopyup" and friends are runc extensions with no mount(2) meaning.
    if (!known && opt != "tmpcopyup") data.push_back(opt);
  }
  out.data = snapshot::JoinOptions(data);
  return out;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<RootfsPlan> PlanRootfs(const oci::RuntimeSpec& spec, const std::string& bundle,
                              const std::vector<snapshot::MountSpec>& rootfs_mounts,
                              bool (*is_dir)(const std::string& path)) {
  RootfsPlan plan;
  if (spec.root.path.empty()) return MakeError(Code::kInvalidArgument, "root.path: required");
  plan.rootfs = Absolute(bundle, spec.root.path);

  const std::string& prop = spec.linux_.rootfs_propagation;
  if (prop.empty()) {
    plan.root_propagation = MS_SLAVE | MS_REC;
  } else {
    for (const FlagName& f : kPropagation) {
      if (f.name == prop) plan.root_propagation = f.flag;
    }
    if (plan.root_propagation == 0) {
      return MakeError(Code::kInvalidArgument, "linux.rootfsPropagation: unknown \"" + prop + "\"");
    }
    // The root's mounts must not propagate back to the host ("/" is shared on systemd hosts):
    // a shared choice applies to the container's root only after pivot_root.
    plan.final_propagation = plan.root_propagation;
    if ((plan.root_propagation & MS_SHARED) != 0) plan.root_propagation = MS_SLAVE | MS_REC;
  }

  for (const snapshot::MountSpec& m : rootfs_mounts) {
    MountStep step;
    step.destination = plan.rootfs;
    step.flags = ParseMountOptions(m.options);
    if (m.type == "bind" || (step.flags.flags & MS_BIND) != 0) {
      step.bind = true;
      step.source = m.source;
      step.flags.flags |= MS_BIND;
      step.remount = (step.flags.flags & ~(MS_BIND | MS_REC)) != 0;
    } else {
      step.fstype = m.type;
      step.source = m.source;
      if (m.type == "overlay" && !snapshot::OptionsFitInPage(m)) {
        BERTH_ASSIGN_OR_RETURN(snapshot::CompactMount compact, snapshot::CompactLowerdirs(m));
        if (!snapshot::OptionsFitInPage(compact.spec)) {
          return MakeError(Code::kResourceExhausted,
                           "rootfs overlay: options do not fit in a page even compacted");
        }
        step.chdir = compact.chdir;
        step.flags = ParseMountOptions(compact.spec.options);
      }
    }
    plan.rootfs_mounts.push_back(std::move(step));
  }
  if (plan.rootfs_mounts.empty()) {
    // pivot_root needs the new root to be a mount point.
    MountStep self;
    self.destination = plan.rootfs;
    self.source = plan.rootfs;
    self.bind = true;
    self.flags.flags = MS_BIND | MS_REC;
    plan.rootfs_mounts.push_back(std::move(self));
  }

  bool has_dev = false;
  for (const oci::Mount& m : spec.mounts) {
    if (CleanPath("/" + m.destination) == "/dev") has_dev = true;
  }
  if (!has_dev) {
    MountStep dev;
    dev.destination = "/dev";
    dev.source = "tmpfs";
    dev.fstype = "tmpfs";
    dev.flags = ParseMountOptions({"nosuid", "strictatime", "mode=755", "size=65536k"});
    plan.mounts.push_back(std::move(dev));
  }
  for (const oci::Mount& m : spec.mounts) {
    MountStep step;
    step.destination = CleanPath("/" + m.destination);
    step.flags = ParseMountOptions(m.options);
    if (m.type == "bind" || (step.flags.flags & MS_BIND) != 0) {
      step.bind = true;
      step.flags.flags |= MS_BIND;
      step.source = Absolute(bundle, m.source);
      step.remount = (step.flags.flags & ~(MS_BIND | MS_REC)) != 0;
      step.file_target = !is_dir(step.source);
    } else {
      step.fstype = m.type;
      step.source = m.source.empty() ? m.type : m.source;
      if (m.type == "devpts") {
        // A private devpts instance whose ptmx everyone may open, as runc's default spec has.
        if (!HasOptionPrefix(step.flags.data, "newinstance")) {
          AppendData(step.flags.data, "newinstance");
        }
        if (!HasOptionPrefix(step.flags.data, "ptmxmode=")) {
          AppendData(step.flags.data, "ptmxmode=0666");
        }
        if (!HasOptionPrefix(step.flags.data, "mode=")) AppendData(step.flags.data, "mode=620");
        if (!HasOptionPrefix(step.flags.data, "gid=")) AppendData(step.flags.data, "gid=5");
      }
    }
    if (step.destination == "/") {
      return MakeError(Code::kInvalidArgument, "mounts: \"" + m.destination + "\" over the root");
    }
    plan.mounts.push_back(std::move(step));
  }

  for (const oci::LinuxDevice& d : spec.linux_.devices) {
    std::string path = CleanPath("/" + d.path);
    if (path.rfind("/dev/", 0) != 0) {
      return MakeError(Code::kInvalidArgument, "linux.devices: \"" + d.path + "\" is not in /dev");
    }
    DeviceNode node;
    node.name = path.substr(5);
    mode_t type = 0;
    if (d.type == "c" || d.type == "u") {
      type = S_IFCHR;
    } else if (d.type == "b") {
      type = S_IFBLK;
    } else if (d.type == "p") {
      type = S_IFIFO;
    } else {
      return MakeError(Code::kInvalidArgument,
                       "linux.devices: \"" + d.path + "\": unknown type \"" + d.type + "\"");
    }
    node.mode = type | (d.file_mode ? (*d.file_mode & 07777) : 0666);
    node.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    node.uid = d.uid.value_or(0);
    node.gid = d.gid.value_or(0);
    plan.devices.push_back(std::move(node));
  }
  for (const DefaultDevice& d : kDefaultDevices) {
    bool listed = false;
    for (const DeviceNode& n : plan.devices) listed = listed || n.name == d.name;
    if (!listed) {
      plan.devices.push_back(DeviceNode{d.name, S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0});
    }
  }
  const DevSymlink links[] = {{"fd", "/proc/self/fd"},
                              {"stdin", "/proc/self/fd/0"},
                              {"stdout", "/proc/self/fd/1"},
                              {"stderr", "/proc/self/fd/2"},
                              {"ptmx", "pts/ptmx"}};
  for (const DevSymlink& l : links) {
    bool listed = false;
    for (const DeviceNode& n : plan.devices) listed = listed || n.name == l.name;
    if (!listed) plan.dev_symlinks.push_back(l);
  }

  for (const std::string& p : spec.linux_.masked_paths) plan.masked_paths.push_back(CleanPath(p));
  for (const std::string& p : spec.linux_.readonly_paths) {
    plan.readonly_paths.push_back(CleanPath(p));
  }
  plan.readonly_root = spec.root.readonly;
  return plan;
}

}  // namespace berth::runtime::internal
