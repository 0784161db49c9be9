// TarReader: reads tar archives (ustar, pax, GNU) from a berth::Reader with libarchive.
//
// Only tar formats are enabled and no compression filters: decompression is compression.h's
// job, so the bytes libarchive sees are exactly the uncompressed layer (the diff_id's input).
// Long names (PAX path/linkpath, GNU longname), PAX sub-second times, xattrs and sparse files
// are handled by libarchive. Names are returned as stored: confining them is the caller's job.
//
//   BERTH_ASSIGN_OR_RETURN(auto tar, TarReader::Open(src));
//   while (true) {
//     BERTH_ASSIGN_OR_RETURN(std::optional<TarEntry> e, tar->Next());
//     if (!e) break;
//     ... tar->data() reads the entry's bytes ...
//   }
//
// Errors: a failure of the source is returned as is (its code kept, e.g. kDataLoss from a
// truncated gzip stream); input that is not a tar archive is kInvalidArgument; a damaged or
// truncated archive is kDataLoss. Not thread-safe; `src` must outlive the TarReader.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "archive/tar_entry.h"
#include "base/io.h"
#include "base/result.h"

namespace berth::archive {

class TarReader {
 public:
  static Result<std::unique_ptr<TarReader>> Open(Reader& src);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry, or nullopt at the end of the archive. Skips unread data of the previous one.
  Result<std::optional<TarEntry>> Next();

  // The current entry's data (holes of sparse files read as zeros). Valid until Next().
  Reader& data();

  // Zero-copy access to the current entry's data: the next block and its offset in the file.
  // Offsets skip over holes of sparse entries. An empty `data` means the end of the entry.
  struct Block {
    std::string_view data;
    int64_t offset = 0;
  };
  Result<Block> ReadBlock();

  // Offsets in the uncompressed tar stream, for the entry Next() returned last: where its first
  // header block starts (PAX / GNU long-name headers included), and where its data starts.
  int64_t HeaderPosition() const;
  int64_t DataPosition() const;

 private:
  struct Impl;
  explicit TarReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::archive
