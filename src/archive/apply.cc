#include "archive/apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "archive/internal/tree.h"
#include "archive/tar_reader.h"
#include "archive/tar_split.h"
#include "sys/syscalls.h"

namespace berth::archive {
namespace {

// Whiteout names, from the OCI image spec (layer.md, "Whiteouts") and moby pkg/archive.
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

// A single path component, opened without following anything.
constexpr uint64_t kNoFollowResolve = sys::kResolveBeneath | sys::kResolveNoSymlinks;
// A whole path inside the root, symlinks on the way followed inside it (RootResolver's way).
constexpr uint64_t kInRootResolve = sys::kResolveInRoot | sys::kResolveNoMagiclinks;

// Passes bytes through, counting them and, when asked, digesting and teeing them.
class TapReader final : public Reader {
 public:
  TapReader(Reader& src, Writer* tee) : src_(src), tee_(tee) {}
  void set_digest(bool on) { digest_ = on; }

  Result<size_t> Read(char* buf, size_t size) override {
    BERTH_ASSIGN_OR_RETURN(size_t n, src_.Read(buf, size));
    if (n > 0) {
      if (digest_) digester_.Update(buf, n);
      size_ += n;
      if (tee_ != nullptr) {
        Status st = tee_->Write(std::string_view(buf, n));
        if (!st) return std::move(st).error().WithContext("tee");
      }
    }
    return n;
  }

  uint64_t size() const { return size_; }
  oci::Digest Finish() { return digester_.Finish(); }

 private:
  Reader& src_;
  Writer* tee_;
  bool digest_ = true;
  oci::Digester digester_;
  uint64_t size_ = 0;
};

bool IsSkippableXattrError(const Error& e) {
  return e.sys_errno == EPERM || e.sys_errno == EOPNOTSUPP || e.sys_errno == EACCES;
}

class Applier {
 public:
  Applier(int root, const ApplyOptions& options, sys::Syscalls& sys)
      : root_(root), options_(options), sys_(sys), resolver_(sys, root) {}

  Status Entry(const TarEntry& e, TarReader& tar);
  Status Finish();

 private:
  struct DirTimes {
    std::string clean;
    struct timespec times[2];
  };

  Status Whiteout(const TarEntry& e, const std::string& parent, const std::string& base);
  Status ClearOpaque(const std::string& dir);
  Status Create(const TarEntry& e, int dir, const std::string& base, const std::string& clean,
                TarReader& tar);
  Status CreateFile(const TarEntry& e, int dir, const std::string& base, TarReader& tar);
  // Data, owner, xattrs, mode and times of a regular file just created as `fd`.
  Status WriteFile(const TarEntry& e, int fd, TarReader& tar);
  // Owner, xattrs, mode and times of a non-regular entry, through its parent fd and name.
  Status SetAttributesAt(const TarEntry& e, int dir, const std::string& base,
                         const std::string& clean, bool is_symlink);
  template <typename SetFn>
  Status SetXattrs(const TarEntry& e, SetFn set);
  void RecordUnpacked(const std::string& clean);

  static void Times(const TarEntry& e, struct timespec out[2]) {
    Timestamp atime = e.atime.value_or(e.mtime);
    out[0] = {static_cast<time_t>(atime.sec), static_cast<long>(atime.nsec)};      // NOLINT
    out[1] = {static_cast<time_t>(e.mtime.sec), static_cast<long>(e.mtime.nsec)};  // NOLINT
  }
  static mode_t Perm(const TarEntry& e) { return static_cast<mode_t>(e.mode & 07777); }

  int root_;
  const ApplyOptions& options_;
  sys::Syscalls& sys_;
  internal::RootResolver resolver_;
  std::vector<DirTimes> dir_times_;
  std::unordered_set<std::string> unpacked_;  // kDelete: paths this layer created
};

Status Applier::Entry(const TarEntry& e, TarReader& tar) {
  if (e.uid < 0 || e.gid < 0 || e.uid >= std::numeric_limits<uid_t>::max() ||
      e.gid >= std::numeric_limits<gid_t>::max()) {
    return MakeError(Code::kInvalidArgument, fmt::format("invalid owner {}:{}", e.uid, e.gid));
  }
  std::string clean = internal::CleanRootedPath(e.path);
  // AUFS metadata (".wh..wh.plnk/...", ".wh..wh.aufs") is not part of the image; moby skips it.
  if (clean.starts_with(kWhiteoutMetaPrefix) && clean != kOpaqueMarker) {
    spdlog::debug("apply layer: skipping AUFS metadata \"{}\"", e.path);
    return Ok();
  }
  auto [parent_view, base_view] = internal::SplitParent(clean);
  std::string parent(parent_view), base(base_view);
  if (base.starts_with(kWhiteoutPrefix)) return Whiteout(e, parent, base);

  if (clean.empty()) {
    // "./" or "/": the root itself. Docker applies a directory entry's attributes to it.
    if (e.type != EntryType::kDir) {
      return MakeError(Code::kInvalidArgument, "cannot replace the root directory");
    }
    return SetAttributesAt(e, root_, ".", clean, false);
  }

  if (e.type == EntryType::kFile) {
    // Fast path, one openat2 for the whole path: its parents resolve inside the root exactly
    // as RootResolver::Dir resolves them, and the file is new (O_CREAT|O_EXCL|O_NOFOLLOW never
    // follows or reuses what is there). Files come in any directory order (a cache of the last
    // parent misses on every entry of a tar not grouped by directory); this saves a parent
    // open and close per file. A missing parent or an existing entry takes the general path.
    Result<UniqueFd> fd = sys_.Openat2(
        root_, clean, sys::OpenHow{O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, kInRootResolve});
    if (fd) {
      BERTH_RETURN_IF_ERROR(WriteFile(e, fd->get(), tar));
      if (options_.whiteout_mode == WhiteoutMode::kDelete) RecordUnpacked(clean);
      return Ok();
    }
  }
  BERTH_ASSIGN_OR_RETURN(int dir, resolver_.Dir(parent, /*create=*/true));
  Status st = Create(e, dir, base, clean, tar);
  if (!st && st.error().sys_errno == EEXIST) {
    BERTH_ASSIGN_OR_RETURN(struct stat existing, sys_.Fstatat(dir, base, AT_SYMLINK_NOFOLLOW));
    if (S_ISDIR(existing.st_mode) && e.type == EntryType::kDir) {
      st = SetAttributesAt(e, dir, base, clean, false);  // a directory over a directory: merge
    } else {
      // docker cp's noOverwriteDirNonDir: neither kind replaces the other.
      if (options_.no_overwrite_dir_non_dir &&
          S_ISDIR(existing.st_mode) != (e.type == EntryType::kDir)) {
        return MakeError(Code::kConflict,
                         S_ISDIR(existing.st_mode)
                             ? "cannot overwrite directory \"/" + clean + "\" with non-directory"
                             : "cannot overwrite non-directory \"/" + clean + "\" with directory");
      }
      BERTH_RETURN_IF_ERROR(internal::RemoveTree(sys_, dir, base));
      resolver_.Removed(clean);  // the cached parent itself is unaffected: `dir` stays valid
      st = Create(e, dir, base, clean, tar);
    }
  }
  BERTH_RETURN_IF_ERROR(st);
  if (options_.whiteout_mode == WhiteoutMode::kDelete) RecordUnpacked(clean);
  return Ok();
}

void Applier::RecordUnpacked(const std::string& clean) {
  for (size_t slash = clean.find('/'); slash != std::string::npos;
       slash = clean.find('/', slash + 1)) {
    unpacked_.insert(clean.substr(0, slash));
  }
  unpacked_.insert(clean);
}

Status Applier::Whiteout(const TarEntry& e, const std::string& parent, const std::string& base) {
  bool overlay = options_.whiteout_mode == WhiteoutMode::kOverlay;
  if (base == kOpaqueMarker) {
    BERTH_RETURN_IF_ERROR(resolver_.Dir(parent, /*create=*/true));
    if (!overlay) return ClearOpaque(parent);
    BERTH_ASSIGN_OR_RETURN(UniqueFd d, resolver_.OpenDirForRead(parent));
    return sys_.Fsetxattr(d.get(), kOpaqueXattr, "y", 0);
  }
  std::string target = base.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..") {
    return MakeError(Code::kInvalidArgument, fmt::format("whiteout of \"{}\" refused", target));
  }
  std::string target_clean = parent.empty() ? target : parent + "/" + target;
  BERTH_ASSIGN_OR_RETURN(int dir, resolver_.Dir(parent, /*create=*/true));
  // In overlay mode the target can only exist if this layer made it; either way it goes.
  BERTH_RETURN_IF_ERROR(internal::RemoveTree(sys_, dir, target));
  resolver_.Removed(target_clean);
  if (!overlay) return Ok();
  BERTH_RETURN_IF_ERROR(sys_.Mknodat(dir, target, S_IFCHR, makedev(0, 0)));
  if (options_.chown) {
    BERTH_RETURN_IF_ERROR(sys_.Fchownat(dir, target, static_cast<uid_t>(e.uid),
                                        static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW));
  }
  return Ok();
}

// kDelete opaque directory: removes everything under `dir` this layer did not add.
Status Applier::ClearOpaque(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd d, resolver_.OpenDirForRead(dir));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, sys_.ReadDirNames(d.get()));
  for (const std::string& name : names) {
    std::string child = dir.empty() ? name : dir + "/" + name;
    if (!unpacked_.contains(child)) {
      BERTH_RETURN_IF_ERROR(internal::RemoveTree(sys_, d.get(), name));
      resolver_.Removed(child);
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(struct stat st, sys_.Fstatat(d.get(), name, AT_SYMLINK_NOFOLLOW));
    if (S_ISDIR(st.st_mode)) BERTH_RETURN_IF_ERROR(ClearOpaque(child));
  }
  return Ok();
}

Status Applier::Create(const TarEntry& e, int dir, const std::string& base,
                       const std::string& clean, TarReader& tar) {
  switch (e.type) {
    case EntryType::kFile:
      return CreateFile(e, dir, base, tar);
    case EntryType::kDir:
      BERTH_RETURN_IF_ERROR(sys_.Mkdirat(dir, base, 0700));
      return SetAttributesAt(e, dir, base, clean, false);
    case EntryType::kSymlink:
      BERTH_RETURN_IF_ERROR(sys_.Symlinkat(e.linkname, dir, base));
      return SetAttributesAt(e, dir, base, clean, true);
    case EntryType::kHardlink: {
      std::string target = internal::CleanRootedPath(e.linkname);
      if (target.empty()) {
        return MakeError(Code::kInvalidArgument, "hard link to the root directory refused");
      }
      auto [tparent, tbase] = internal::SplitParent(target);
      Result<UniqueFd> tdir = resolver_.OpenPathDir(std::string(tparent));
      Status st = tdir ? sys_.Linkat(tdir->get(), std::string(tbase), dir, base, 0)
                       : Status(std::move(tdir).error());
      if (!st && st.error().sys_errno == ENOENT) {
        return std::move(st).error().WithContext(
            fmt::format("hard link target \"{}\" not found", e.linkname));
      }
      BERTH_RETURN_IF_ERROR(st);
      BERTH_ASSIGN_OR_RETURN(struct stat linked, sys_.Fstatat(dir, base, AT_SYMLINK_NOFOLLOW));
      return SetAttributesAt(e, dir, base, clean, S_ISLNK(linked.st_mode));
    }
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice:
    case EntryType::kFifo: {
      mode_t type = e.type == EntryType::kCharDevice    ? S_IFCHR
                    : e.type == EntryType::kBlockDevice ? S_IFBLK
                                                        : S_IFIFO;
      BERTH_RETURN_IF_ERROR(
          sys_.Mknodat(dir, base, type | (Perm(e) & 0777), makedev(e.devmajor, e.devminor)));
      return SetAttributesAt(e, dir, base, clean, false);
    }
  }
  return MakeError(Code::kInternal, "unknown entry type");
}

Status Applier::CreateFile(const TarEntry& e, int dir, const std::string& base, TarReader& tar) {
  BERTH_ASSIGN_OR_RETURN(
      UniqueFd fd,
      sys_.Openat2(dir, base,
                   sys::OpenHow{O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, kNoFollowResolve}));
  return WriteFile(e, fd.get(), tar);
}

Status Applier::WriteFile(const TarEntry& e, int fd, TarReader& tar) {
  int64_t end = 0;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(TarReader::Block block, tar.ReadBlock());
    if (block.data.empty()) break;
    BERTH_RETURN_IF_ERROR(sys_.Pwrite(fd, block.data, static_cast<off_t>(block.offset)));
    end = std::max(end, block.offset + static_cast<int64_t>(block.data.size()));
  }
  if (end < e.size) BERTH_RETURN_IF_ERROR(sys_.Ftruncate(fd, static_cast<off_t>(e.size)));
  if (options_.chown) {
    BERTH_RETURN_IF_ERROR(
        sys_.Fchown(fd, static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)));
  }
  BERTH_RETURN_IF_ERROR(SetXattrs(e, [&](const std::string& name, std::string_view value) {
    return sys_.Fsetxattr(fd, name, value, 0);
  }));
  BERTH_RETURN_IF_ERROR(sys_.Fchmod(fd, Perm(e)));  // after chown, which clears setuid
  struct timespec times[2];
  Times(e, times);
  return sys_.Futimens(fd, times);
}

Status Applier::SetAttributesAt(const TarEntry& e, int dir, const std::string& base,
                                const std::string& clean, bool is_symlink) {
  if (options_.chown) {
    BERTH_RETURN_IF_ERROR(sys_.Fchownat(dir, base, static_cast<uid_t>(e.uid),
                                        static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW));
  }
  if (!e.xattrs.empty()) {
    // Directories take fsetxattr on a real fd; anything else is reached through an O_PATH fd.
    bool is_dir = e.type == EntryType::kDir;
    uint64_t flags = is_dir ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW : O_PATH | O_NOFOLLOW;
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd,
                           sys_.Openat2(dir, base, sys::OpenHow{flags, 0, kNoFollowResolve}));
    BERTH_RETURN_IF_ERROR(SetXattrs(e, [&](const std::string& name, std::string_view value) {
      return is_dir ? sys_.Fsetxattr(fd.get(), name, value, 0)
                    : sys_.SetxattrPathFd(fd.get(), name, value, 0);
    }));
  }
  // Linux has no lchmod; a symlink's mode is meaningless anyway.
  if (!is_symlink) BERTH_RETURN_IF_ERROR(sys_.Fchmodat(dir, base, Perm(e), 0));
  if (e.type == EntryType::kDir) {
    DirTimes dt{clean, {}};
    Times(e, dt.times);
    dir_times_.push_back(std::move(dt));  // after the directory's contents, in Finish()
    return Ok();
  }
  struct timespec times[2];
  Times(e, times);
  return sys_.Utimensat(dir, base, times, AT_SYMLINK_NOFOLLOW);
}

template <typename SetFn>
Status Applier::SetXattrs(const TarEntry& e, SetFn set) {
  for (const auto& [name, value] : e.xattrs) {
    if (std::string_view(name).starts_with(kOverlayXattrPrefix)) {
      spdlog::debug("apply layer: \"{}\": ignoring xattr {}", e.path, name);
      continue;
    }
    Status st = set(name, value);
    if (!st && IsSkippableXattrError(st.error())) {
      spdlog::debug("apply layer: \"{}\": xattr {} not set: {}", e.path, name, st.error().message);
      continue;
    }
    BERTH_RETURN_IF_ERROR(st);
  }
  return Ok();
}

Status Applier::Finish() {
  for (const DirTimes& dt : dir_times_) {
    if (dt.clean.empty()) {
      BERTH_RETURN_IF_ERROR(sys_.Utimensat(root_, ".", dt.times, 0));
      continue;
    }
    auto [parent, base] = internal::SplitParent(dt.clean);
    Result<int> dir = resolver_.Dir(std::string(parent), /*create=*/false);
    if (!dir) {
      if (dir.error().code == Code::kNotFound) continue;  // removed later in the layer
      return std::move(dir).error().WithContext(fmt::format("directory \"{}\"", dt.clean));
    }
    std::string name(base);
    Result<struct stat> st = sys_.Fstatat(*dir, name, AT_SYMLINK_NOFOLLOW);
    if (!st || !S_ISDIR(st->st_mode)) continue;  // removed or replaced later in the layer
    Status ut = sys_.Utimensat(*dir, name, dt.times, AT_SYMLINK_NOFOLLOW);
    if (!ut) return std::move(ut).error().WithContext(fmt::format("directory \"{}\"", dt.clean));
  }
  if (options_.sync) {
    // syncfs(2) needs a real fd; root_ may be O_PATH.
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, resolver_.OpenDirForRead(""));
    BERTH_RETURN_IF_ERROR(sys_.Syncfs(fd.get()));
  }
  return Ok();
}

}  // namespace

Result<ApplyResult> ApplyLayer(Reader& layer, int root_dirfd, const ApplyOptions& options,
                               sys::Syscalls& sys) {
  auto fail = [](Error e) { return std::move(e).WithContext("apply layer"); };
  if (options.tee_digests && options.tee == nullptr) {
    return MakeError(Code::kInvalidArgument, "apply layer: tee_digests without a tee");
  }
  TapReader raw(layer, options.tee);
  raw.set_digest(!options.tee_digests);
  Result<std::unique_ptr<DecompressingReader>> decompressed = NewDecompressingReader(raw);
  if (!decompressed) return fail(std::move(decompressed).error());
  Compression compression = (*decompressed)->compression();
  if (options.recorder != nullptr &&
      (compression != Compression::kNone || options.whiteout_mode != WhiteoutMode::kOverlay)) {
    return MakeError(Code::kInvalidArgument,
                     "apply layer: tar-split needs an uncompressed layer and overlay whiteouts");
  }
  TapReader diff(**decompressed, options.recorder);
  diff.set_digest(compression != Compression::kNone);  // else diff_id == digest: hash once
  Result<std::unique_ptr<TarReader>> tar = TarReader::Open(diff);
  if (!tar) return fail(std::move(tar).error());

  Applier applier(root_dirfd, options, sys);
  while (true) {
    Result<std::optional<TarEntry>> entry = (*tar)->Next();
    if (!entry) return fail(std::move(entry).error());
    if (!*entry) break;
    if (options.recorder != nullptr) {
      Status rs = options.recorder->Entry(**entry, (*tar)->HeaderPosition(),
                                          (*tar)->DataPosition());
      if (!rs) return fail(std::move(rs).error());
    }
    Status st = applier.Entry(**entry, **tar);
    if (!st) {
      return std::move(st).error().WithContext(
          fmt::format("apply layer: entry \"{}\"", (*entry)->path));
    }
  }
  // The tar reader stops at the end-of-archive marker; the digests cover the whole stream
  // (padding, and for gzip the trailer check), as Docker's do.
  std::vector<char> buf(1 << 20);
  while (true) {
    Result<size_t> n = diff.Read(buf.data(), buf.size());
    if (!n) return fail(std::move(n).error());
    if (*n == 0) break;
  }
  if (options.recorder != nullptr) {
    Status rs = options.recorder->Finish();
    if (!rs) return fail(std::move(rs).error());
  }
  Status st = applier.Finish();
  if (!st) return fail(std::move(st).error());

  ApplyResult result;
  result.compression = compression;
  if (!options.tee_digests) result.digest = raw.Finish();
  result.size = raw.size();
  result.diff_id = compression == Compression::kNone ? result.digest : diff.Finish();
  result.diff_size = diff.size();
  return result;
}

}  // namespace berth::archive
