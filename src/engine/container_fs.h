// ContainerFs: the container filesystem operations of the Engine API: commit, cp (archive
// GET/HEAD/PUT), diff (changes) and export.
//
// Where the tree comes from:
//   commit, diff  the container's upper dir (snapshot "container-<id>"), read on the host: it is
//                 a plain directory, and WriteTree / OverlayChanges never follow its symlinks;
//   cp, export    the merged tree: /proc/<init>/root of a running container, else the snapshot
//                 mounted in a forked child's private mount namespace (runtime/rootfs_access.h).
//                 Request paths are resolved in it with openat2(RESOLVE_IN_ROOT).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/changes.h"
#include "base/io.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/digest.h"

namespace berth::image {
class ImageStore;
}  // namespace berth::image
namespace berth::snapshot {
class Snapshotter;
}  // namespace berth::snapshot
namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::engine {

class ContainerService;
struct Container;

struct CommitRequest {
  std::string container;  // name or ID
  std::string repo;       // "" for an untagged image
  std::string tag;
  std::string comment;
  std::string author;
  bool pause = true;
  std::vector<std::string> changes;  // Dockerfile instructions
};

// Docker's container.PathStat, with the raw st_mode (the API converts it to Go's FileMode).
struct PathStat {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
  std::string link_target;
};

class ContainerFs {
 public:
  ContainerFs(ContainerService& containers, snapshot::Snapshotter& snapshots,
              image::ImageStore& images, sys::Syscalls& sys, std::string tmp_dir);

  Result<oci::Digest> Commit(const CommitRequest& request);
  // docker diff, in Docker's order.
  Result<std::vector<archive::Change>> Changes(std::string_view ref);
  // docker export: a tar of the merged tree (without a running container's mounts).
  Status Export(std::string_view ref, Writer& out);

  // HEAD /archive. NotFound for a missing path.
  Result<PathStat> StatPath(std::string_view ref, std::string_view path);
  // GET /archive: resolves and stats the path, then calls `begin` with the stat (the API sends
  // its header there) and writes the tar to the Writer it returns. Errors before `begin` are
  // the caller's to report; a failing `begin` stops the copy.
  Status GetArchive(std::string_view ref, std::string_view path,
                    const std::function<Result<Writer*>(const PathStat&)>& begin);
  // PUT /archive: extracts `tar` into the directory `path`.
  Status PutArchive(std::string_view ref, std::string_view path, Reader& tar,
                    bool no_overwrite_dir_non_dir);

 private:
  // The merged tree (see the top of this file); for a running container `mounts` (if given)
  // receives its mount points, which export leaves out.
  Result<UniqueFd> OpenRoot(const Container& c, std::vector<std::string>* mounts);

  ContainerService& containers_;
  snapshot::Snapshotter& snapshots_;
  image::ImageStore& images_;
  sys::Syscalls& sys_;
  std::string tmp_dir_;
};

}  // namespace berth::engine
