// TarWriter: writes a tar stream (POSIX pax, "restricted": plain ustar headers unless a field
// needs an extension, as Docker's Go writer does) into a berth::Writer with libarchive.
//
// Entries: AddFile / AddDirectory for the common cases (image save: manifest.json, index.json,
// blobs/sha256/...), or WriteHeader + WriteData for any TarEntry (WriteTree uses that).
// Sub-second mtimes are written only for entries that need a PAX header anyway (long names,
// xattrs, large ids), as "restricted" pax does; WriteTree writes whole seconds, like Docker.
// Close() writes the end-of-archive marker; without it the stream is incomplete. The output is
// not padded to a record size. Not thread-safe; `out` must outlive the TarWriter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "archive/tar_entry.h"
#include "base/io.h"
#include "base/result.h"

namespace berth::archive {

class TarWriter {
 public:
  static Result<std::unique_ptr<TarWriter>> Open(Writer& out);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // A regular file with `content`.
  Status AddFile(const std::string& path, std::string_view content, uint32_t mode = 0644,
                 Timestamp mtime = {});
  // A regular file of exactly `size` bytes read from `content` (fails if it has more or less).
  Status AddFile(const std::string& path, Reader& content, uint64_t size, uint32_t mode = 0644,
                 Timestamp mtime = {});
  Status AddDirectory(const std::string& path, uint32_t mode = 0755, Timestamp mtime = {});

  // Any entry; a kFile entry must be followed by WriteData calls totalling entry.size bytes.
  Status WriteHeader(const TarEntry& entry);
  Status WriteData(std::string_view data);

  // Ends the archive. Idempotent.
  Status Close();

 private:
  struct Impl;
  explicit TarWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::archive
