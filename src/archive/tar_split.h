// Tar-split: a layer kept once, as its unpacked tree plus a small metadata blob from which the
// exact tar stream is regenerated (as Docker's layer store does with vbatts/tar-split).
//
// The metadata is every byte of the uncompressed tar stream except the data of regular files,
// which is replaced by a reference to the file in the tree (its cleaned path), plus one check
// record per entry (type, mode, size, symlink target) for VerifyTarSplitTree:
//
//   "berth-tar-split 1\n"
//   record*  'R' len bytes             raw stream bytes (headers, padding, end marker, ...)
//            'F' size path             `size` bytes: the regular file `path` in the tree
//            'E' kind mode size path link   the entry as ApplyLayer left it (no stream bytes)
//   'Z' total                          the stream's length; nothing follows
//   (numbers are unsigned LEB128; strings are a length then the bytes)
//
// A layer can be segmented only if each file's bytes in the tree are still the entry's data
// once the whole layer is applied. TarSplitRecorder checks, entry by entry, rules that make it
// so: no sparse file; no path that occurs twice (except a directory over a directory); no entry
// under a path that is, or later becomes, anything but a directory (so no symlink is ever
// followed and nothing replaces a file's parent); a whiteout counts as an entry at its target.
// On the first entry that breaks them (or when the metadata would pass `max_metadata`), the
// recorder falls back: it asks for a Writer, writes the stream so far into it (regenerated from
// its metadata and the tree, still intact at that point) and passes every later byte through.
// The caller then stores the full layer as today.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "archive/tar_entry.h"
#include "base/io.h"
#include "base/result.h"
#include "oci/digest.h"

namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::archive {

// Fed by ApplyLayer (ApplyOptions::recorder): Write() receives the uncompressed stream,
// Entry() each entry before it is applied.
class TarSplitRecorder final : public Writer {
 public:
  struct Options {
    size_t max_metadata = size_t{64} << 20;
    // Opens the writer that receives the full stream on fallback; not owned. Without it the
    // fallback only stops the recording (fell_back() is then true).
    std::function<Result<Writer*>()> open_fallback;
    // False when the files will be read back without CAP_DAC_OVERRIDE (an unprivileged
    // daemon): a file its owner cannot read, or a directory it cannot search, falls back.
    bool read_any = true;
  };
  TarSplitRecorder(int root_dirfd, sys::Syscalls& sys, Options options);

  Status Write(std::string_view data) override;
  Status Entry(const TarEntry& e, int64_t header_pos, int64_t data_pos);
  // After the whole stream went through Write(). The metadata is then complete.
  Status Finish();

  bool fell_back() const { return fell_back_; }
  std::string_view fallback_reason() const { return fallback_reason_; }
  const std::string& metadata() const { return meta_; }

 private:
  Status FallBack(std::string reason);
  void Raw(std::string_view bytes);
  bool Violates(const std::string& clean, bool is_dir);

  int root_;
  sys::Syscalls& sys_;
  Options options_;
  std::string meta_;
  // Stream bytes seen but not yet classified: pending_[pending_off_..] are the bytes from
  // offset classified_ (everything before it is in meta_, or a file's data) to seen_.
  std::string pending_;
  size_t pending_off_ = 0;
  int64_t classified_ = 0;
  int64_t seen_ = 0;  // stream bytes received
  bool fell_back_ = false;
  std::string fallback_reason_;
  Writer* fallback_ = nullptr;
  // Paths seen: true for a directory. Ancestors of every path seen (implicitly directories).
  std::unordered_map<std::string, bool> paths_;
  std::unordered_set<std::string> ancestors_;
};

// Regenerates the tar stream from metadata and the tree under `root_dirfd` (files opened with
// openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). A file missing, of
// another size, or a malformed metadata blob is DataLoss. The bytes are not checked here: wrap
// it in NewVerifyingReader.
Result<std::unique_ptr<Reader>> NewTarSplitReader(std::unique_ptr<Reader> metadata,
                                                  int root_dirfd, sys::Syscalls& sys);

// Passes `src` through, hashing it; the last bytes are held back until the end, where the
// digest must equal `expected` and the length `size` (else DataLoss): a consumer never sees
// the complete stream unless it is the right one.
std::unique_ptr<Reader> NewVerifyingReader(std::unique_ptr<Reader> src, oci::Digest expected,
                                           int64_t size);

// Checks the tree against the metadata's entry records: each entry exists with its type,
// permission bits (not for symlinks and whiteouts), size (files) and target (symlinks).
// DataLoss names the first difference.
Status VerifyTarSplitTree(Reader& metadata, int root_dirfd, sys::Syscalls& sys);

}  // namespace berth::archive
