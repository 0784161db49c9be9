#include "archive/write_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "archive/internal/tree.h"
#include "archive/tar_writer.h"
#include "sys/linux_syscalls.h"

namespace berth::archive {
namespace {

constexpr uint64_t kNoFollowResolve = sys::kResolveBeneath | sys::kResolveNoSymlinks;
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";

bool KeepXattr(std::string_view name) {
  return !name.starts_with("trusted.overlay.") && name != "security.selinux";
}

class TreeWriter {
 public:
  TreeWriter(sys::Syscalls& sys, TarWriter& tar, const WriteTreeOptions& options)
      : sys_(sys), tar_(tar), options_(options) {
    for (const std::string& e : options.exclude) {
      std::string clean = internal::CleanRootedPath(e);
      if (!clean.empty()) exclude_.insert(std::move(clean));
    }
  }

  // Writes the entries under directory `dirfd`, whose path is `prefix` ("" or "a/b/").
  Status Dir(int dirfd, const std::string& prefix) {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, sys_.ReadDirNames(dirfd));
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::string rel = prefix + name;
      if (exclude_.contains(rel)) continue;
      Status st = Entry(dirfd, name, rel);
      if (!st) {
        if (named_) return st;  // a deeper level already named its entry
        named_ = true;
        return std::move(st).error().WithContext(fmt::format("\"{}\"", rel));
      }
    }
    return Ok();
  }

  // Writes entry `name` of `dirfd` as `rel` (and what is under it).
  Status Top(int dirfd, const std::string& name, const std::string& rel) {
    Status st = Entry(dirfd, name, rel);
    if (!st && !named_) return std::move(st).error().WithContext(fmt::format("\"{}\"", rel));
    return st;
  }

 private:
  Status Entry(int dirfd, const std::string& name, const std::string& rel) {
    BERTH_ASSIGN_OR_RETURN(struct stat st, sys_.Fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW));
    TarEntry e;
    e.path = rel;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = Timestamp{st.st_mtim.tv_sec, 0};
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR:
        return Directory(dirfd, name, rel, e);
      case S_IFREG:
        return File(dirfd, name, st, e);
      case S_IFLNK: {
        e.type = EntryType::kSymlink;
        BERTH_ASSIGN_OR_RETURN(e.linkname, sys_.Readlinkat(dirfd, name));
        return tar_.WriteHeader(e);
      }
      case S_IFCHR:
        if (options_.convert_whiteouts && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) {
          size_t slash = rel.rfind('/');
          e.path = rel.substr(0, slash + 1) + ".wh." + name;  // npos + 1 == 0
          e.type = EntryType::kFile;
          e.mode = 0600;
          return tar_.WriteHeader(e);
        }
        e.type = EntryType::kCharDevice;
        break;
      case S_IFBLK:
        e.type = EntryType::kBlockDevice;
        break;
      case S_IFIFO:
        e.type = EntryType::kFifo;
        break;
      default:
        return Ok();  // sockets
    }
    e.devmajor = major(st.st_rdev);
    e.devminor = minor(st.st_rdev);
    return tar_.WriteHeader(e);
  }

  Status Directory(int dirfd, const std::string& name, const std::string& rel, TarEntry& e) {
    BERTH_ASSIGN_OR_RETURN(
        UniqueFd fd,
        sys_.Openat2(dirfd, name,
                     sys::OpenHow{O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, kNoFollowResolve}));
    e.type = EntryType::kDir;
    e.path = rel + "/";
    bool opaque = false;
    BERTH_RETURN_IF_ERROR(Xattrs(fd.get(), e, &opaque));
    BERTH_RETURN_IF_ERROR(tar_.WriteHeader(e));
    if (opaque && options_.convert_whiteouts) {
      TarEntry wo;
      wo.path = rel + "/.wh..wh..opq";
      wo.type = EntryType::kFile;
      wo.mode = e.mode & 0777;
      wo.uid = e.uid;
      wo.gid = e.gid;
      wo.mtime = e.mtime;
      BERTH_RETURN_IF_ERROR(tar_.WriteHeader(wo));
    }
    return Dir(fd.get(), rel + "/");
  }

  Status File(int dirfd, const std::string& name, const struct stat& st, TarEntry& e) {
    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto [it, inserted] = links_.try_emplace(key, e.path);
      if (!inserted) {
        e.type = EntryType::kHardlink;
        e.linkname = it->second;
        return tar_.WriteHeader(e);
      }
    }
    BERTH_ASSIGN_OR_RETURN(
        UniqueFd fd,
        sys_.Openat2(dirfd, name, sys::OpenHow{O_RDONLY | O_NOFOLLOW, 0, kNoFollowResolve}));
    e.type = EntryType::kFile;
    e.size = st.st_size;
    BERTH_RETURN_IF_ERROR(Xattrs(fd.get(), e, nullptr));
    BERTH_RETURN_IF_ERROR(tar_.WriteHeader(e));
    FdReader reader(fd.get());
    int64_t left = e.size;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf_.size())));
      BERTH_ASSIGN_OR_RETURN(size_t n, reader.Read(buf_.data(), want));
      if (n == 0) return MakeError(Code::kConflict, "file shrank while being archived");
      BERTH_RETURN_IF_ERROR(tar_.WriteData(std::string_view(buf_.data(), n)));
      left -= static_cast<int64_t>(n);
    }
    return Ok();
  }

  Status Xattrs(int fd, TarEntry& e, bool* opaque) {
    Result<std::vector<std::string>> names = sys_.Flistxattr(fd);
    if (!names) {
      if (names.error().sys_errno == EOPNOTSUPP) return Ok();  // file system without xattrs
      return std::move(names).error();
    }
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) {
      bool is_opaque = n == kOpaqueXattr;
      if (!KeepXattr(n) && !(is_opaque && opaque != nullptr)) continue;
      Result<std::string> value = sys_.Fgetxattr(fd, n);
      if (!value) {
        if (value.error().sys_errno == ENODATA) continue;  // removed meanwhile
        return std::move(value).error();
      }
      if (is_opaque) {
        if (opaque != nullptr) *opaque = *value == "y";
        continue;
      }
      e.xattrs.emplace_back(n, std::move(*value));
    }
    return Ok();
  }

  sys::Syscalls& sys_;
  TarWriter& tar_;
  const WriteTreeOptions& options_;
  std::set<std::string> exclude_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  bool named_ = false;  // the error being returned already names its entry
};

}  // namespace

Status WriteTreeEntry(int parent_dirfd, const std::string& name, const std::string& as, Writer& out,
                      const WriteTreeOptions& options) {
  sys::LinuxSyscalls linux_syscalls;
  sys::Syscalls& sys = options.sys != nullptr ? *options.sys : linux_syscalls;
  auto fail = [](Error e) { return std::move(e).WithContext("write tree"); };
  Result<UniqueFd> parent =
      sys.Openat2(parent_dirfd, ".", sys::OpenHow{O_RDONLY | O_DIRECTORY, 0, kNoFollowResolve});
  if (!parent) return fail(std::move(parent).error());
  Result<std::unique_ptr<TarWriter>> tar = TarWriter::Open(out);
  if (!tar) return fail(std::move(tar).error());
  TreeWriter writer(sys, **tar, options);
  Status st = writer.Top(parent->get(), name, as);
  if (st) st = (*tar)->Close();
  if (!st) return fail(std::move(st).error());
  return Ok();
}

Status WriteTree(int root_dirfd, Writer& out, const WriteTreeOptions& options) {
  sys::LinuxSyscalls linux_syscalls;
  sys::Syscalls& sys = options.sys != nullptr ? *options.sys : linux_syscalls;
  auto fail = [](Error e) { return std::move(e).WithContext("write tree"); };
  // Listing needs a readable fd; root_dirfd may be O_PATH.
  Result<UniqueFd> root =
      sys.Openat2(root_dirfd, ".", sys::OpenHow{O_RDONLY | O_DIRECTORY, 0, kNoFollowResolve});
  if (!root) return fail(std::move(root).error());
  Result<std::unique_ptr<TarWriter>> tar = TarWriter::Open(out);
  if (!tar) return fail(std::move(tar).error());
  TreeWriter writer(sys, **tar, options);
  Status st = writer.Dir(root->get(), "");
  if (st) st = (*tar)->Close();
  if (!st) return fail(std::move(st).error());
  return Ok();
}

}  // namespace berth::archive
