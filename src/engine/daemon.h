// Daemon: the state of one berthd. Owns the state root and everything opened under it.
//
// Open() takes the root's lock first (a second daemon on the same --data-root fails there,
// before touching anything), creates the on-disk layout, writes the pidfile, opens meta.db
// and constructs the engine's services. Destruction releases all of it in reverse: the
// pidfile is removed and the lock dropped. The HTTP side (api::Server and the route sets)
// is wired by the caller on top of the backends exposed here: api depends on engine, never
// the other way (STYLE.md §1). Wiring is explicit; nothing registers itself.
//
// On disk (see docs/design when it exists; the tree is the contract shared with the
// modules that fill it):
//   <data-root>/                 0711
//     berth.lock                 flock held while the daemon runs; holds its pid
//     engine-id                  stable daemon ID shown by `docker info` (a UUID)
//     meta.db                    SQLite (WAL); each module creates its own tables
//     content/blobs/sha256/      verified blobs (content/)
//     content/ingest/            partial writes (content/)
//     snapshots/                 layer and container snapshots (snapshot/)
//     containers/                per-container state (runtime/)
//     volumes/                   volume data (volume/)
//     tmp/                       scratch space (spooled `load` archives); emptied at start
//   <exec-root>/                 0700, runtime state that does not survive a reboot
//
// Thread-safety: after Open() the accessors may be called from any thread; the backends are
// thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "engine/config.h"
#include "engine/state_lock.h"
#include "engine/system.h"
#include "sql/database.h"

namespace berth::content {
class Store;
}  // namespace berth::content
namespace berth::distribution {
class BlobSources;
class ImageSink;
class ImageSource;
class Puller;
class Pusher;
}  // namespace berth::distribution
namespace berth::image {
class ImageStore;
}  // namespace berth::image
namespace berth::snapshot {
class Snapshotter;
}  // namespace berth::snapshot
namespace berth::volume {
class VolumeStore;
}  // namespace berth::volume
namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::engine {

class ContainerFs;
class ContainerProbe;
class ContainerService;
class EventBus;
class ExecService;
class ImageUsage;

class Daemon {
 public:
  // `config` must have passed ValidateConfig. `host_root` is where ProbeHost looks ("/").
  static Result<std::unique_ptr<Daemon>> Open(Config config, std::string host_root = "/");
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  const Config& config() const { return config_; }
  const std::string& id() const { return id_; }
  sql::Database& db() { return *db_; }
  SystemBackend& system() { return *system_; }
  image::ImageStore& images() { return *images_; }
  distribution::Puller& puller() { return *puller_; }
  distribution::Pusher& pusher() { return *pusher_; }
  volume::VolumeStore& volumes() { return *volumes_; }
  ContainerService& containers() { return *containers_; }
  ExecService& execs() { return *execs_; }
  ContainerFs& container_fs() { return *container_fs_; }
  EventBus& events() { return *events_; }
  ContainerProbe& probe() { return *probe_; }

 private:
  Daemon(Config config, StateLock lock);

  Config config_;
  StateLock lock_;
  std::optional<PidFile> pidfile_;
  std::unique_ptr<sql::Database> db_;
  std::string id_;
  std::unique_ptr<sys::Syscalls> sys_;
  std::unique_ptr<content::Store> content_;
  std::unique_ptr<snapshot::Snapshotter> snapshots_;
  std::unique_ptr<image::ImageStore> images_;
  std::unique_ptr<distribution::BlobSources> blob_sources_;  // where pulled/pushed blobs were seen
  std::unique_ptr<distribution::ImageSink> pull_sink_;  // images_ as the puller sees it
  std::unique_ptr<distribution::Puller> puller_;
  std::unique_ptr<distribution::ImageSource> push_source_;  // images_ as the pusher sees it
  std::unique_ptr<distribution::Pusher> pusher_;
  std::unique_ptr<volume::VolumeStore> volumes_;
  std::unique_ptr<SystemBackend> system_;
  std::unique_ptr<EventBus> events_;
  std::unique_ptr<ContainerProbe> probe_;
  std::unique_ptr<ContainerService> containers_;  // destroyed first: it uses all of the above
  std::unique_ptr<ExecService> execs_;            // uses containers_
  std::unique_ptr<ImageUsage> image_usage_;
  std::unique_ptr<ContainerFs> container_fs_;  // uses containers_, declared after it
};

// Turns the insecure-registries and mirrors settings into /info's RegistryConfig, as dockerd
// does: CIDRs (plus the implicit 127.0.0.0/8) in one list, hostnames as insecure indexes.
RegistryInfo MakeRegistryInfo(const Config& config);

}  // namespace berth::engine
