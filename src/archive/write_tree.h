// WriteTree: a deterministic tar of a directory tree, for a container's diff (commit, docker
// diff/export of an overlay upper dir) and for building layers from directories.
//
// Deterministic: entries in byte order of their names, depth first (a directory before its
// contents), whole-second mtimes (as Docker writes them), numeric owners only, no atime/ctime,
// no user or group names. Long names, xattrs and large ids go into PAX records (libarchive's
// "restricted" pax, like Go's writer). Hard links are detected by inode: the first path is
// written as a file, later ones as links to it. Devices and FIFOs are kept; sockets are skipped
// (tar cannot hold them; Docker skips them too). xattrs are kept except trusted.overlay.* and
// security.selinux (host-specific labels).
//
// With convert_whiteouts, overlayfs whiteouts become OCI ones (moby's overlay whiteout
// converter): a 0/0 character device NAME -> empty file ".wh.NAME" (mode 0600), and a directory
// with trusted.overlay.opaque="y" -> the directory followed by "DIR/.wh..wh..opq".
//
// The tree is read through fds only (each entry opened relative to its parent with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): symlinks are archived, never followed.
// Thread-compatible; the tree should not change while it is written.
#pragma once

#include <string>
#include <vector>

#include "base/io.h"
#include "base/result.h"

namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::archive {

struct WriteTreeOptions {
  bool convert_whiteouts = false;
  // Paths relative to the root ("var/cache/apt", "/etc/hostname" is cleaned the same way) left
  // out together with everything under them.
  std::vector<std::string> exclude;
  // The Syscalls to read the tree with; null means the real kernel (sys::LinuxSyscalls).
  sys::Syscalls* sys = nullptr;
};

// Writes the tar of the tree under `root_dirfd` (the root itself is not an entry) and ends the
// archive. `root_dirfd` may be O_PATH.
Status WriteTree(int root_dirfd, Writer& out, const WriteTreeOptions& options);

// docker cp's archive: the entry `name` of directory `parent_dirfd` (never followed; "." for
// the directory itself) written as `as` ("etc", "."), followed by everything under it when it is
// a directory, then the end of the archive. `exclude` is relative to `as`'s parent.
Status WriteTreeEntry(int parent_dirfd, const std::string& name, const std::string& as, Writer& out,
                      const WriteTreeOptions& options);

}  // namespace berth::archive
