// TarEntry: one tar header as Berth sees it, for both TarReader and TarWriter.
// Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::archive {

enum class EntryType { kFile, kDir, kSymlink, kHardlink, kCharDevice, kBlockDevice, kFifo };

std::string_view EntryTypeName(EntryType t);  // "file", "dir", "symlink", ...

struct Timestamp {
  int64_t sec = 0;
  int64_t nsec = 0;  // 0..999999999
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

struct TarEntry {
  std::string path;  // as stored (PAX "path" when present); not cleaned or confined
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits with setuid/setgid/sticky: mode & 07777
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;  // data bytes that follow (regular files only)
  Timestamp mtime;
  std::optional<Timestamp> atime;  // PAX atime, when the archive has it
  std::string linkname;            // symlink target (verbatim) or hard link target path
  uint32_t devmajor = 0;
  uint32_t devminor = 0;
  // Extended attributes (PAX SCHILY.xattr.* / LIBARCHIVE.xattr.*), name -> raw value.
  std::vector<std::pair<std::string, std::string>> xattrs;
  // A sparse file (GNU or PAX sparse headers): its data in the archive is not its contents.
  bool sparse = false;
};

}  // namespace berth::archive
