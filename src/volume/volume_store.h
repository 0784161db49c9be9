// VolumeStore: the local volume driver's volumes, as rows of meta.db and directories.
//
// On disk (docs/design/volumes.md):
//   <data-root>/volumes/              0700, created by the daemon
//     <name>/                         0755 (named) or 64-hex id (anonymous)
//       _data/                        0755 root:root: the volume's content, bind-mounted into
//                                     containers, written directly (no copy-on-write)
// meta.db:
//   volumes(name TEXT PRIMARY KEY, driver TEXT, created INTEGER, record TEXT)
//   volume_refs(volume TEXT REFERENCES volumes(name), container TEXT, PRIMARY KEY(both))
//
// The row is the commit point: Create makes the directory first and inserts the row last;
// Remove deletes the row first and the directory after. A directory without a row was never
// visible (or was being removed) and Open() removes it, so a crash leaves nothing half made.
//
// References name the containers using a volume; Remove refuses a referenced volume. The
// reference calls run plain statements, so a caller holding an sql::Transaction on the same
// Database (the container row's) gets them committed or rolled back with its own writes.
//
// Thread-safety: every method may be called from any thread (the database lock serialises).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::sql {
class Database;
}
namespace berth::sys {
class Syscalls;
}

namespace berth::volume {

// Docker's label on volumes made for `-v /path` and image VOLUMEs; prune removes only these
// unless asked for all.
inline constexpr char kAnonymousLabel[] = "com.docker.volume.anonymous";

struct Volume {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;  // <root>/<name>/_data
  int64_t created_at = 0;  // Unix nanoseconds
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  std::vector<std::string> users;  // ids of the containers referencing it, sorted

  bool anonymous() const { return labels.count(kAnonymousLabel) != 0; }
};

struct CreateOptions {
  std::string name;  // empty: an anonymous volume with a random 64-hex name
  std::string driver = "local";
  std::map<std::string, std::string> labels = {};
  std::map<std::string, std::string> options = {};  // type, device, o, size (as Docker's local)
};

// GET /volumes filters. Empty vectors do not filter.
struct ListFilter {
  std::optional<bool> dangling = {};  // dangling=true: no users
  std::vector<std::string> names = {};  // substring of the name, any of them
  std::vector<std::string> drivers = {};  // exact driver name, any of them
  std::vector<std::string> labels = {};  // "key" or "key=value", all of them
};

struct PruneReport {
  std::vector<std::string> deleted;
  uint64_t space_reclaimed = 0;
};

// Docker's name rule for the local driver: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (so no '/', no "..").
Status ValidateVolumeName(const std::string& name);

class VolumeStore {
 public:
  // `root` is <data-root>/volumes (it must exist). Creates the tables and removes directories
  // that have no row (a create or remove cut short).
  // `sys` does the mount(2)s of option volumes; null refuses to create them.
  static Result<std::unique_ptr<VolumeStore>> Open(sql::Database& db, std::string root,
                                                    std::function<int64_t()> now = nullptr,
                                                    sys::Syscalls* sys = nullptr);

  // Creates the volume, or returns the existing one of that name (Docker's create is
  // idempotent); a different driver for an existing name is a Conflict.
  Result<Volume> Create(const CreateOptions& opts);
  // NotFound "get NAME: no such volume".
  Result<Volume> Get(const std::string& name);
  // Sorted by name.
  Result<std::vector<Volume>> List(const ListFilter& filter = {});
  // Conflict "remove NAME: volume is in use - [ID ...]" while referenced; `force` only turns
  // "not found" into success, as dockerd's.
  Status Remove(const std::string& name, bool force = false);
  // Removes unreferenced volumes: anonymous ones only unless `all`; `labels` as in ListFilter.
  Result<PruneReport> Prune(bool all, const std::vector<std::string>& labels = {});

  // Records that `container_id` uses `name` (NotFound if there is no such volume); repeats are
  // no-ops.
  Status AddReference(const std::string& name, const std::string& container_id);
  // Drops every reference of `container_id`; returns the names it referenced.
  Result<std::vector<std::string>> RemoveReferences(const std::string& container_id);

  // Volumes made with driver options (`--opt type=tmpfs --opt device=tmpfs --opt o=size=1m`,
  // `--opt type=none --opt o=bind --opt device=/srv/data`) are mounted on their mountpoint
  // while a running container uses them, as Docker's local driver does: Mount is called when
  // a container using `name` starts (the first one mounts; a mountpoint already mounted, say
  // by a daemon that crashed, is taken as it is), Unmount when it stops (the last one
  // unmounts). Volumes without options need neither and these calls return at once.
  // Mount errors read "failed to mount local volume: ..." with any password= hidden.
  Status Mount(const std::string& name, const std::string& container_id);
  Status Unmount(const std::string& name, const std::string& container_id);
  // Unmounts option volumes that are mounted but that no container has Mount()ed since the
  // store opened (after a daemon restart has re-counted its running containers).
  Status UnmountIdle();

  const std::string& root() const { return root_; }

 private:
  VolumeStore(sql::Database& db, std::string root, std::function<int64_t()> now,
              sys::Syscalls* sys)
      : db_(db), root_(std::move(root)), now_(std::move(now)), sys_(sys) {}
  // Whether `path` is a mount point (its device differs from its parent's).
  static bool IsMountPoint(const std::string& path);
  Status SweepOrphans();
  Result<std::optional<Volume>> Find(const std::string& name);
  Status RemoveLocked(const Volume& v);

  sql::Database& db_;
  std::string root_;
  std::function<int64_t()> now_;
  sys::Syscalls* sys_;
  std::mutex active_mu_;
  std::map<std::string, std::set<std::string>> active_;  // volume -> containers that mounted it
};

}  // namespace berth::volume
