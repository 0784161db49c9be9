#include "archive/testing/fs_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "base/file.h"
#include "oci/digest.h"

namespace berth::archive::testing {

ScopedTempDir::ScopedTempDir() {
  char tmpl[] = "/tmp/berth-archive-test.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::abort();
  path_ = tmpl;
}

ScopedTempDir::~ScopedTempDir() {
  // RemoveAll does not follow symlinks, so a test tree pointing at / is safe to remove.
  (void)RemoveAll(path_);
}

namespace {

std::string Xattrs(const std::string& path) {
  std::string names(65536, '\0');
  ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n <= 0) return "";
  names.resize(static_cast<size_t>(n));
  std::string out;
  size_t pos = 0;
  while (pos < names.size()) {
    std::string name = names.substr(pos, names.find('\0', pos) - pos);
    pos += name.size() + 1;
    std::string value(65536, '\0');
    ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    value.resize(v > 0 ? static_cast<size_t>(v) : 0);
    out += fmt::format(" {}={}", name, oci::Digest::Of(value).Short());
  }
  return out;
}

void Add(const std::string& root, const std::string& rel, bool ignore_dir_times,
         std::map<std::string, std::string>& out) {
  std::string path = rel == "." ? root : root + "/" + rel;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    out[rel] = "lstat failed";
    return;
  }
  std::string desc = fmt::format("mode={:o} owner={}:{} nlink={} rdev={}:{}", st.st_mode, st.st_uid,
                                 st.st_gid, st.st_nlink, major(st.st_rdev), minor(st.st_rdev));
  if (!(S_ISDIR(st.st_mode) && ignore_dir_times)) {
    desc += fmt::format(" mtime={}.{:09} ctime={}.{:09}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                        st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  }
  if (S_ISREG(st.st_mode)) {
    Result<std::string> content = ReadFile(path);
    desc += fmt::format(" size={} sha256={}", st.st_size,
                        content ? oci::Digest::Of(*content).Short() : "unreadable");
  } else if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
    desc += " link=" + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  }
  desc += Xattrs(path);
  out[rel] = desc;
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& ent : std::filesystem::directory_iterator(path, ec)) {
      names.push_back(ent.path().filename().string());
    }
    for (const std::string& name : names) {
      Add(root, rel == "." ? name : rel + "/" + name, ignore_dir_times, out);
    }
  }
}

}  // namespace

std::map<std::string, std::string> SnapshotTree(const std::string& root, bool ignore_dir_times) {
  std::map<std::string, std::string> out;
  Add(root, ".", ignore_dir_times, out);
  return out;
}

std::string DiffSnapshots(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [path, desc] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      out += fmt::format("- {}: {}\n", path, desc);
    } else if (it->second != desc) {
      out += fmt::format("~ {}: {}\n  -> {}\n", path, desc, it->second);
    }
  }
  for (const auto& [path, desc] : after) {
    if (!before.contains(path)) out += fmt::format("+ {}: {}\n", path, desc);
  }
  return out;
}

}  // namespace berth::archive::testing
