#include "engine/container_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "archive/apply.h"
#include "archive/write_tree.h"
#include "base/cleanup.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "engine/containers.h"
#include "image/image_store.h"
#include "oci/reference.h"
#include "runtime/rootfs_access.h"
#include "snapshot/snapshotter.h"
#include "sys/syscalls.h"

namespace berth::engine {
namespace {

constexpr uint64_t kInRoot = sys::kResolveInRoot | sys::kResolveNoMagiclinks;

std::string SnapshotKey(const std::string& id) { return "container-" + id; }

// What the runtime adds to every container's tree as mount points: Docker keeps these in the
// container's init layer, so neither its diff nor its commit shows them.
const std::vector<std::string>& InitLayerPaths() {
  static const auto* paths =
      new std::vector<std::string>{"/dev",      "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
                                   "/etc/mtab", "/proc",         "/sys",       "/.dockerenv"};
  return *paths;
}

// Docker's commit history line: the container's Cmd joined by spaces.
std::string CreatedBy(const std::string& config_json) {
  nlohmann::json j = nlohmann::json::parse(config_json, nullptr, false);
  if (!j.is_object()) return "";
  auto it = j.find("Cmd");
  if (it == j.end() || !it->is_array()) return "";
  std::string out;
  for (const auto& a : *it) {
    if (!a.is_string()) continue;
    if (!out.empty()) out += ' ';
    out += a.get<std::string>();
  }
  return out;
}

// The lowerdirs of an overlay mount list, highest first.
std::vector<std::string> LowerDirs(const std::vector<snapshot::MountSpec>& mounts) {
  std::vector<std::string> dirs;
  for (const auto& m : mounts) {
    for (const std::string& o : m.options) {
      if (o.rfind("lowerdir=", 0) == 0) {
        for (auto& d : Split(o.substr(9), ':')) dirs.push_back(d);
      }
    }
  }
  return dirs;
}

Result<UniqueFd> OpenDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path);
  return UniqueFd(fd);
}

// A request path cleaned the way Docker does, with what its trailing form asks for.
struct CpPath {
  std::string clean;      // "/a/b", "/" for the root
  std::string parent;     // "/a"
  std::string base;       // "b" ("" for the root)
  bool follow = false;    // ends in "/" or "/.": the final component is followed
  bool contents = false;  // ends in "/.": the directory's contents
};

CpPath ParseCpPath(std::string_view raw) {
  CpPath p;
  std::string s(raw);
  if (s.empty() || s[0] != '/') s = "/" + s;
  p.contents = s.size() >= 2 && s.ends_with("/.");
  p.follow = p.contents || s.ends_with("/");
  std::vector<std::string> parts;
  for (const std::string& part : Split(s, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  p.clean = "/" + Join(parts, "/");
  if (!parts.empty()) {
    p.base = parts.back();
    parts.pop_back();
  }
  p.parent = "/" + Join(parts, "/");
  return p;
}

// Docker's containerFileNotFound.
Error FileNotFound(const std::string& path, std::string_view container) {
  return MakeError(Code::kNotFound,
                   "Could not find the file " + path + " in container " + std::string(container));
}

Result<UniqueFd> OpenInRoot(sys::Syscalls& sys, int root, const std::string& path, uint64_t flags,
                            std::string_view container) {
  sys::OpenHow how;
  how.flags = flags | O_CLOEXEC;
  how.resolve = kInRoot;
  std::string rel = path == "/" ? "." : path.substr(1);
  Result<UniqueFd> fd = sys.Openat2(root, rel, how);
  if (!fd) {
    int e = fd.error().sys_errno;
    if (e == ENOENT || e == ENOTDIR) return FileNotFound(path, container);
    return std::move(fd).error();
  }
  return fd;
}

// The entry a cp path names: its parent dir fd and name in it ("." for a followed path).
struct Resolved {
  UniqueFd dir;
  std::string name;
  struct stat st {};
  PathStat stat;
};

Result<Resolved> Resolve(sys::Syscalls& sys, int root, const CpPath& p,
                         std::string_view container) {
  Resolved r;
  if (p.follow || p.base.empty()) {
    BERTH_ASSIGN_OR_RETURN(r.dir, OpenInRoot(sys, root, p.clean, O_PATH, container));
    r.name = ".";
  } else {
    BERTH_ASSIGN_OR_RETURN(r.dir, OpenInRoot(sys, root, p.parent, O_PATH | O_DIRECTORY, container));
    r.name = p.base;
  }
  Result<struct stat> st = sys.Fstatat(r.dir.get(), r.name == "." ? "" : r.name,
                                       r.name == "." ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW);
  if (!st) {
    if (st.error().sys_errno == ENOENT) return FileNotFound(p.clean, container);
    return std::move(st).error();
  }
  r.st = *st;
  if (p.follow && !S_ISDIR(st->st_mode)) {
    return MakeError(Code::kInvalidArgument, "not a directory: " + p.clean);
  }
  r.stat.name = p.base.empty() ? "/" : p.base;
  r.stat.size = st->st_size;
  r.stat.mode = st->st_mode;
  r.stat.mtime_ns = int64_t{st->st_mtim.tv_sec} * 1000000000 + st->st_mtim.tv_nsec;
  if (S_ISLNK(st->st_mode)) {
    BERTH_ASSIGN_OR_RETURN(std::string target, sys.Readlinkat(r.dir.get(), r.name));
    r.stat.link_target =
        target.starts_with("/") ? target : ParseCpPath(p.parent + "/" + target).clean;
  }
  return r;
}

}  // namespace

ContainerFs::ContainerFs(ContainerService& containers, snapshot::Snapshotter& snapshots,
                         image::ImageStore& images, sys::Syscalls& sys, std::string tmp_dir)
    : containers_(containers),
      snapshots_(snapshots),
      images_(images),
      sys_(sys),
      tmp_dir_(std::move(tmp_dir)) {}

Result<oci::Digest> ContainerFs::Commit(const CommitRequest& request) {
  std::optional<oci::Reference> tag;
  if (!request.repo.empty()) {
    BERTH_ASSIGN_OR_RETURN(oci::Reference r, oci::RepoTagReference(request.repo, request.tag));
    tag = r;
  } else if (!request.tag.empty()) {
    return MakeError(Code::kInvalidArgument, "invalid reference: tag without a repository");
  }
  BERTH_ASSIGN_OR_RETURN(Container c, containers_.Get(request.container));
  bool paused_here = false;
  if (request.pause && c.state.running() && !c.state.paused) {
    BERTH_RETURN_IF_ERROR(containers_.Pause(c.id));
    paused_here = true;
  }
  Cleanup unpause([&] {
    if (paused_here) (void)containers_.Unpause(c.id);
  });

  BERTH_ASSIGN_OR_RETURN(std::string upper, snapshots_.UpperPath(SnapshotKey(c.id)));
  BERTH_ASSIGN_OR_RETURN(UniqueFd upper_fd, OpenDir(upper));
  // The diff is spooled to an unnamed file: nothing is left on disk, whatever happens.
  int tmp = ::open(tmp_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (tmp < 0) return ErrnoError("commit: open a temporary file in " + tmp_dir_);
  UniqueFd spool(tmp);
  FdWriter writer(spool.get());
  archive::WriteTreeOptions wo;
  wo.convert_whiteouts = true;
  wo.exclude = InitLayerPaths();
  wo.sys = &sys_;
  Status written = archive::WriteTree(upper_fd.get(), writer, wo);
  if (!written) return std::move(written).error().WithContext("commit");
  if (::lseek(spool.get(), 0, SEEK_SET) < 0) return ErrnoError("commit: lseek");
  if (paused_here) {  // the diff is taken: the container runs on while the layer is stored
    paused_here = false;
    (void)containers_.Unpause(c.id);
  }

  image::CommitOptions co;
  co.image_id = c.image_id;
  co.container_id = c.id;
  co.container_config_json = c.config_json;
  co.changes = request.changes;
  co.created_by = CreatedBy(c.config_json);
  co.comment = request.comment;
  co.author = request.author;
  co.tag = tag;
  FdReader reader(spool.get());
  BERTH_ASSIGN_OR_RETURN(image::Image image, images_.Commit(reader, co));
  return image.id;
}

Result<std::vector<archive::Change>> ContainerFs::Changes(std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(Container c, containers_.Get(ref));
  BERTH_ASSIGN_OR_RETURN(std::string upper, snapshots_.UpperPath(SnapshotKey(c.id)));
  BERTH_ASSIGN_OR_RETURN(auto mounts, snapshots_.Mounts(SnapshotKey(c.id)));
  BERTH_ASSIGN_OR_RETURN(UniqueFd upper_fd, OpenDir(upper));
  std::vector<UniqueFd> lowers;
  std::vector<int> lower_fds;
  for (const std::string& d : LowerDirs(mounts)) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenDir(d));
    lower_fds.push_back(fd.get());
    lowers.push_back(std::move(fd));
  }
  return archive::OverlayChanges(upper_fd.get(), lower_fds, InitLayerPaths(), sys_);
}

Result<UniqueFd> ContainerFs::OpenRoot(const Container& c, std::vector<std::string>* mounts) {
  if (c.state.running() && c.state.pid > 0) {
    if (mounts != nullptr) {
      BERTH_ASSIGN_OR_RETURN(*mounts, runtime::ProcessMountPoints(c.state.pid));
    }
    return runtime::OpenProcessRoot(c.state.pid);
  }
  BERTH_ASSIGN_OR_RETURN(auto specs, snapshots_.Mounts(SnapshotKey(c.id)));
  return runtime::MountPrivately(specs, tmp_dir_, sys_);
}

Status ContainerFs::Export(std::string_view ref, Writer& out) {
  BERTH_ASSIGN_OR_RETURN(Container c, containers_.Get(ref));
  archive::WriteTreeOptions wo;
  wo.sys = &sys_;
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(c, &wo.exclude));
  return archive::WriteTree(root.get(), out, wo);
}

Result<PathStat> ContainerFs::StatPath(std::string_view ref, std::string_view path) {
  BERTH_ASSIGN_OR_RETURN(Container c, containers_.Get(ref));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(c, nullptr));
  BERTH_ASSIGN_OR_RETURN(Resolved r, Resolve(sys_, root.get(), ParseCpPath(path), ref));
  return r.stat;
}

Status ContainerFs::GetArchive(std::string_view ref, std::string_view path,
                               const std::function<Result<Writer*>(const PathStat&)>& begin) {
  BERTH_ASSIGN_OR_RETURN(Container c, containers_.Get(ref));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(c, nullptr));
  CpPath p = ParseCpPath(path);
  BERTH_ASSIGN_OR_RETURN(Resolved r, Resolve(sys_, root.get(), p, ref));
  BERTH_ASSIGN_OR_RETURN(Writer * out, begin(r.stat));
  archive::WriteTreeOptions wo;
  wo.sys = &sys_;
  std::string as = p.contents ? "." : (p.base.empty() ? "." : p.base);
  return archive::WriteTreeEntry(r.dir.get(), r.name, as, *out, wo);
}

Status ContainerFs::PutArchive(std::string_view ref, std::string_view path, Reader& tar,
                               bool no_overwrite_dir_non_dir) {
  BERTH_ASSIGN_OR_RETURN(Container c, containers_.Get(ref));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(c, nullptr));
  CpPath p = ParseCpPath(path);
  Result<UniqueFd> dir = OpenInRoot(sys_, root.get(), p.clean, O_PATH, ref);
  if (!dir) return std::move(dir).error();
  BERTH_ASSIGN_OR_RETURN(struct stat st, sys_.Fstatat(dir->get(), "", AT_EMPTY_PATH));
  if (!S_ISDIR(st.st_mode)) {
    return MakeError(Code::kInvalidArgument, "extraction point is not a directory");
  }
  archive::ApplyOptions ao;
  ao.whiteout_mode = archive::WhiteoutMode::kDelete;
  ao.chown = ::geteuid() == 0;
  ao.no_overwrite_dir_non_dir = no_overwrite_dir_non_dir;
  Result<archive::ApplyResult> applied = archive::ApplyLayer(tar, dir->get(), ao, sys_);
  if (!applied) return std::move(applied).error().WithContext("copy to container");
  return Ok();
}

}  // namespace berth::engine
