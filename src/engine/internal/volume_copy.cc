#include "engine/internal/volume_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive/apply.h"
#include "archive/write_tree.h"
#include "base/io.h"
#include "base/unique_fd.h"
#include "sys/syscalls.h"

namespace berth::engine::internal {

Status CopyImagePath(int root_fd, const std::string& path, const std::string& dest_dir,
                     const std::string& tmp_dir, sys::Syscalls& sys) {
  sys::OpenHow how;
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = sys::kResolveInRoot;
  std::string rel = path.empty() || path[0] != '/' ? path : path.substr(1);
  Result<UniqueFd> src = sys.Openat2(root_fd, rel, how);
  if (!src) {
    int err = src.error().sys_errno;
    if (err == ENOENT || err == ENOTDIR) return Ok();
    return src.error().WithContext("copy image content of " + path);
  }
  struct stat st {};
  if (::fstat(src->get(), &st) != 0) return ErrnoError("fstat " + path);

  UniqueFd spool(::open(tmp_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!spool) return ErrnoError("open spool file in " + tmp_dir);
  {
    FdWriter out(spool.get());
    archive::WriteTreeOptions wo;
    wo.sys = &sys;
    BERTH_RETURN_IF_ERROR(archive::WriteTree(src->get(), out, wo));
  }
  if (::lseek(spool.get(), 0, SEEK_SET) != 0) return ErrnoError("seek spool file");
  UniqueFd dest(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dest) return ErrnoError("open " + dest_dir);
  FdReader in(spool.get());
  archive::ApplyOptions ao;
  ao.whiteout_mode = archive::WhiteoutMode::kDelete;
  ao.chown = ::geteuid() == 0;
  auto applied = archive::ApplyLayer(in, dest.get(), ao, sys);
  if (!applied) return applied.error().WithContext("copy image content of " + path);
  if (ao.chown && ::fchown(dest.get(), st.st_uid, st.st_gid) != 0) {
    return ErrnoError("chown " + dest_dir);
  }
  if (::fchmod(dest.get(), st.st_mode & 07777) != 0) return ErrnoError("chmod " + dest_dir);
  return Ok();
}

}  // namespace berth::engine::internal
