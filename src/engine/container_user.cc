// ResolveUser (Docker's --user against the image's /etc/passwd and /etc/group, read from the
// overlay's layer directories) and ListHostDevices (the host's devices for --privileged).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "engine/container_config.h"
#include "sys/linux_syscalls.h"

namespace berth::engine {
namespace {

constexpr size_t kMaxFileSize = 16 << 20;  // a passwd or group file larger is not an image's
constexpr int64_t kMaxId = 2147483647;     // runc's maxID

Error Invalid(std::string message) { return MakeError(Code::kInvalidArgument, std::move(message)); }

std::optional<int64_t> ParseId(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<std::string> ReadAllFd(int fd, const std::string& what) {
  std::string data;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + what);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxFileSize) {
      return MakeError(Code::kResourceExhausted, what + ": larger than 16 MiB");
    }
  }
  return data;
}

bool IsWhiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == 0; }

// The contents of `dir`/`name` ("etc", "passwd") as the overlay of `layers` (top first) shows
// it, or nullopt if no layer has it. Each lookup stays inside its layer (RESOLVE_IN_ROOT), so an
// image's symlink cannot reach the host; a symlink is resolved inside the layer that holds it
// only (a link to a file of a lower layer reads as no file). A whiteout of the file or of the
// directory, or an opaque directory, hides the layers below.
Result<std::optional<std::string>> ReadLayeredFile(sys::Syscalls& sys,
                                                   const std::vector<std::string>& layers,
                                                   const std::string& dir,
                                                   const std::string& name) {
  const std::string rel = dir + "/" + name;
  for (const std::string& layer : layers) {
    UniqueFd root(::open(layer.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
      if (errno == ENOENT) continue;
      return ErrnoError("open layer " + layer);
    }
    sys::OpenHow dir_how{O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, sys::kResolveInRoot};
    auto dir_fd = sys.Openat2(root.get(), dir, dir_how);
    if (!dir_fd) {
      int err = dir_fd.error().sys_errno;
      if (err == ENOENT) continue;
      if (err == ENOTDIR) return std::optional<std::string>();  // a file or whiteout hides it
      return std::move(dir_fd).error();
    }
    auto st = sys.Fstatat(dir_fd->get(), name, AT_SYMLINK_NOFOLLOW);
    if (!st) {
      if (st.error().sys_errno != ENOENT) return std::move(st).error();
      auto opaque = sys.Fgetxattr(dir_fd->get(), "trusted.overlay.opaque");
      if (opaque && *opaque == "y") return std::optional<std::string>();
      continue;
    }
    if (IsWhiteout(*st)) return std::optional<std::string>();
    sys::OpenHow read_how{O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, sys::kResolveInRoot};
    auto fd = sys.Openat2(root.get(), rel, read_how);
    if (!fd) {
      if (fd.error().sys_errno == ENOENT) return std::optional<std::string>();  // dangling link
      return std::move(fd).error();
    }
    BERTH_ASSIGN_OR_RETURN(struct stat file_st, sys.Fstatat(fd->get(), "", AT_EMPTY_PATH));
    if (!S_ISREG(file_st.st_mode)) return Invalid("/" + rel + " is not a regular file");
    BERTH_ASSIGN_OR_RETURN(std::string data, ReadAllFd(fd->get(), layer + "/" + rel));
    return std::optional<std::string>(std::move(data));
  }
  return std::optional<std::string>();
}

struct PasswdEntry {
  std::string name;
  int64_t uid = 0;
  int64_t gid = 0;
};

struct GroupEntry {
  std::string name;
  int64_t gid = 0;
  std::vector<std::string> members;
};

// name:password:uid:gid:gecos:home:shell; blank, comment and malformed lines are skipped.
std::vector<PasswdEntry> ParsePasswd(std::string_view data) {
  std::vector<PasswdEntry> out;
  for (const std::string& raw : Split(data, '\n')) {
    std::string_view line = TrimSpace(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = Split(line, ':');
    if (f.size() < 4) continue;
    auto uid = ParseId(f[2]);
    auto gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    out.push_back(PasswdEntry{f[0], *uid, *gid});
  }
  return out;
}

// name:password:gid:member,member
std::vector<GroupEntry> ParseGroup(std::string_view data) {
  std::vector<GroupEntry> out;
  for (const std::string& raw : Split(data, '\n')) {
    std::string_view line = TrimSpace(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = Split(line, ':');
    if (f.size() < 3) continue;
    auto gid = ParseId(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3 && !f[3].empty()) {
      for (const std::string& m : Split(f[3], ',')) {
        std::string_view member = TrimSpace(m);
        if (!member.empty()) g.members.emplace_back(member);
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

Status CheckRange(int64_t id) {
  if (id < 0 || id > kMaxId) return Invalid("uids and gids must be in range 0-2147483647");
  return Ok();
}

Status WalkDevices(sys::Syscalls& sys, int dir_fd, const std::string& path,
                   std::vector<oci::LinuxDevice>* out) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, sys.ReadDirNames(dir_fd));
  for (const std::string& name : names) {
    BERTH_ASSIGN_OR_RETURN(struct stat st, sys.Fstatat(dir_fd, name, AT_SYMLINK_NOFOLLOW));
    std::string child = path + "/" + name;
    if (S_ISDIR(st.st_mode)) {
      // As Docker's HostDevices: the container gets its own of these.
      if (name == "pts" || name == "shm" || name == "fd" || name == "mqueue" || name == ".lxc" ||
          name == ".lxd-mounts" || name == ".udev") {
        continue;
      }
      sys::OpenHow how{O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                       sys::kResolveNoSymlinks | sys::kResolveBeneath};
      auto sub = sys.Openat2(dir_fd, name, how);
      if (!sub) continue;  // vanished or unreadable: not a device we can give
      BERTH_RETURN_IF_ERROR(WalkDevices(sys, sub->get(), child, out));
      continue;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    if (child == "/dev/console") continue;  // the container's console is its own
    oci::LinuxDevice d;
    d.path = child;
    d.type = S_ISCHR(st.st_mode) ? "c" : "b";
    d.major = static_cast<int64_t>(major(st.st_rdev));
    d.minor = static_cast<int64_t>(minor(st.st_rdev));
    d.file_mode = static_cast<uint32_t>(st.st_mode & 07777);
    d.uid = st.st_uid;
    d.gid = st.st_gid;
    out->push_back(std::move(d));
  }
  return Ok();
}

}  // namespace

Result<oci::User> ResolveUser(std::string_view user,
                              const std::vector<std::string>& rootfs_layers) {
  // runc's GetExecUser, which Docker uses: "user[:group]"; the user matches a name, or a uid
  // if numeric; an empty user is uid 0.
  size_t colon = user.find(':');
  std::string user_arg(user.substr(0, colon));
  std::string group_arg(colon == std::string_view::npos ? "" : user.substr(colon + 1));
  std::optional<int64_t> uid_arg = ParseId(user_arg);
  std::optional<int64_t> gid_arg = ParseId(group_arg);

  sys::LinuxSyscalls sys;
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> passwd,
                         ReadLayeredFile(sys, rootfs_layers, "etc", "passwd"));
  std::vector<PasswdEntry> users = passwd ? ParsePasswd(*passwd) : std::vector<PasswdEntry>{};

  oci::User out;
  std::string matched_name;
  const PasswdEntry* match = nullptr;
  for (const PasswdEntry& e : users) {
    bool hit =
        user_arg.empty() ? e.uid == 0 : (e.name == user_arg || (uid_arg && *uid_arg == e.uid));
    if (hit) {
      match = &e;
      break;
    }
  }
  if (match != nullptr) {
    BERTH_RETURN_IF_ERROR(CheckRange(match->uid));
    BERTH_RETURN_IF_ERROR(CheckRange(match->gid));
    matched_name = match->name;
    out.uid = static_cast<uint32_t>(match->uid);
    out.gid = static_cast<uint32_t>(match->gid);
  } else if (!user_arg.empty()) {
    if (!uid_arg) {
      return Invalid("unable to find user " + user_arg + ": no matching entries in passwd file");
    }
    BERTH_RETURN_IF_ERROR(CheckRange(*uid_arg));
    out.uid = static_cast<uint32_t>(*uid_arg);
  }

  if (group_arg.empty() && matched_name.empty()) return out;
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> group_file,
                         ReadLayeredFile(sys, rootfs_layers, "etc", "group"));
  std::vector<GroupEntry> groups = group_file ? ParseGroup(*group_file) : std::vector<GroupEntry>{};
  if (!group_arg.empty()) {
    // An explicit group: the primary gid; supplementary groups only come with the implicit form.
    for (const GroupEntry& g : groups) {
      if (gid_arg ? *gid_arg == g.gid : g.name == group_arg) {
        BERTH_RETURN_IF_ERROR(CheckRange(g.gid));
        out.gid = static_cast<uint32_t>(g.gid);
        return out;
      }
    }
    if (!gid_arg) {
      return Invalid("unable to find group " + group_arg + ": no matching entries in group file");
    }
    BERTH_RETURN_IF_ERROR(CheckRange(*gid_arg));
    out.gid = static_cast<uint32_t>(*gid_arg);
    return out;
  }
  for (const GroupEntry& g : groups) {
    for (const std::string& m : g.members) {
      if (m == matched_name) {
        BERTH_RETURN_IF_ERROR(CheckRange(g.gid));
        out.additional_gids.push_back(static_cast<uint32_t>(g.gid));
        break;
      }
    }
  }
  return out;
}

Result<std::vector<oci::LinuxDevice>> ListHostDevices(const std::string& dev_dir) {
  sys::LinuxSyscalls sys;
  UniqueFd dir(::open(dev_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoError("open " + dev_dir);
  std::vector<oci::LinuxDevice> out;
  std::string base = dev_dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  BERTH_RETURN_IF_ERROR(WalkDevices(sys, dir.get(), base, &out));
  return out;
}

}  // namespace berth::engine
