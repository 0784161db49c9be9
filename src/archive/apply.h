// ApplyLayer: unpacks a (possibly hostile) image layer into a directory, safely, as root.
//
// The layer is streamed once: its compression is detected by content (compression.h), the
// digest and size of the raw input and the diff_id (sha256 of the uncompressed tar) are computed
// on the way, and the raw bytes can be teed to a Writer so the caller stores the blob in the same
// pass. Semantics follow Docker/containerd for overlay snapshots:
//
//  - Every path is cleaned lexically as if rooted ("../../etc/x" -> "etc/x", "/abs" -> "abs")
//    and its parent directory is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
//    relative to root_dirfd, so symlinks (absolute or with "..") resolve inside the root exactly
//    as they do in the container (and in Docker's chrooted unpacker). The final component is
//    created with *at() calls on the parent fd and never followed. Missing parents are created
//    0755 (moby's MkdirAll).
//  - An existing entry at the path is removed (recursively for a directory) unless both are
//    directories, then the new one is created (files with O_CREAT|O_EXCL).
//  - Hard link targets are resolved inside the root the same way and must already exist.
//    Symlink targets are stored verbatim and never followed.
//  - Owners (lchown), then xattrs, then modes (incl. setuid/setgid/sticky: after chown, which
//    clears them), then times with nanoseconds; directories' times are set at the very end.
//    xattrs trusted.overlay.* are never taken from a layer; xattrs the file system or kernel
//    refuses (EPERM, EOPNOTSUPP) are skipped with a debug log, as Docker does.
//  - Whiteouts: ".wh.NAME" -> overlayfs whiteout (char device 0/0 NAME) in kOverlay mode, or
//    removal of NAME in kDelete mode; ".wh..wh..opq" in D -> xattr trusted.overlay.opaque="y"
//    on D (kOverlay) or removal of everything in D this layer did not add (kDelete). A whiteout
//    of "", "." or ".." is refused. Other top-level ".wh..wh.*" (AUFS metadata) is skipped.
//
// Errors name the entry: `apply layer: entry "etc/passwd": fchownat passwd: ...`. On error the
// root is left partially applied; the caller discards it (snapshots are removed whole).
// Thread-compatible: concurrent calls must use different roots.
#pragma once

#include <cstdint>

#include "archive/compression.h"
#include "base/io.h"
#include "base/result.h"
#include "oci/digest.h"

namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::archive {

class TarSplitRecorder;

enum class WhiteoutMode {
  kOverlay,  // whiteouts become overlayfs whiteouts (for overlay snapshots)
  kDelete,   // whiteouts remove their target (applying onto a plain directory tree)
};

struct ApplyOptions {
  WhiteoutMode whiteout_mode = WhiteoutMode::kOverlay;
  // Receives the raw (still compressed) input bytes as they stream; not owned.
  Writer* tee = nullptr;
  // The tee digests the raw input itself (a content ingest verifies what it stores), so
  // ApplyLayer does not hash it again: sha256 costs ~0.6 s per GiB. ApplyResult::digest is then
  // left empty, and so is diff_id for an uncompressed layer (it is the same digest); the caller
  // takes them from the tee. Needs `tee`.
  bool tee_digests = false;
  // Change owners to the uids/gids in the layer (needs CAP_CHOWN; off for rootless tests).
  bool chown = true;
  // syncfs(2) the root's file system once at the end, instead of an fsync per file.
  bool sync = false;
  // docker cp: an entry may not replace an existing directory with a non-directory or the
  // reverse (Conflict); by default the existing one is removed.
  bool no_overwrite_dir_non_dir = false;
  // Receives the uncompressed stream and each entry before it is applied (tar_split.h); not
  // owned. Needs an uncompressed layer and kOverlay. Finish() is called on it at the end.
  TarSplitRecorder* recorder = nullptr;
};

struct ApplyResult {
  oci::Digest diff_id;     // sha256 of the uncompressed tar stream (see tee_digests)
  uint64_t diff_size = 0;  // its size in bytes
  oci::Digest digest;      // sha256 of the raw input (the blob); empty with tee_digests
  uint64_t size = 0;       // its size in bytes
  Compression compression = Compression::kNone;
};

// `root_dirfd` is a directory fd (O_PATH is enough) for the root of the tree to apply onto.
Result<ApplyResult> ApplyLayer(Reader& layer, int root_dirfd, const ApplyOptions& options,
                               sys::Syscalls& sys);

}  // namespace berth::archive
