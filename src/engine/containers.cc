#include "engine/containers.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/events.h"
#include "engine/internal/container_files.h"
#include "engine/internal/container_rows.h"
#include "engine/internal/volume_copy.h"
#include "engine/internal/volume_mounts.h"
#include "image/image_store.h"
#include "oci/runtime_spec.h"
#include "runtime/cgroup.h"
#include "runtime/rootfs_access.h"
#include "shim/client.h"
#include "shim/json_log.h"
#include "snapshot/snapshotter.h"
#include "sql/database.h"
#include "volume/volume_store.h"

namespace berth::engine {

// One container in memory. `c` is guarded by `mu`; `cv` is notified on every state change.
struct Entry {
  std::mutex mu;
  std::condition_variable cv;
  Container c;
  uint64_t exits = 0;          // incremented at every exit
  uint64_t spawns = 0;         // incremented when a shim is spawned (attach waits on it)
  int pending_attaches = 0;    // attaches waiting for the next shim
  bool removed = false;
  bool busy = false;           // a start/stop/remove is in progress
  int wait_fd = -1;            // the monitor's connection to the shim
};

struct ContainerService::Impl {
  ContainerServiceOptions o;
  // Guards `entries` and `names` (the maps, not the entries). Lock order: an Entry's mu
  // before this one, never the other way.
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Entry>> entries;
  std::map<std::string, std::string> names;  // name -> id
  std::atomic<bool> shutting_down{false};
  std::mutex monitors_mu;
  std::condition_variable monitors_cv;
  int monitors = 0;

  std::string SnapshotKey(const std::string& id) const { return "container-" + id; }
  std::string RunDir(const std::string& id) const {
    return o.exec_root + "/containers/" + id;
  }
  Result<std::shared_ptr<Entry>> Find(std::string_view ref);
  Status Persist(const Container& c) { return internal::UpdateContainer(*o.db, c); }
  // Docker's LogContainerEventWithAttributes: the labels, image and name, then `extra`.
  void Emit(const Container& c, std::string action,
            std::map<std::string, std::string> extra = {}) {
    if (o.events == nullptr) return;
    Event ev{"container", std::move(action), c.id, {}, 0};
    ev.attributes.insert(c.config.labels.begin(), c.config.labels.end());
    ev.attributes["image"] = c.config.image;
    ev.attributes["name"] = c.name;
    for (auto& [k, v] : extra) ev.attributes[k] = std::move(v);
    o.events->Publish(std::move(ev));
  }

  Result<CreateResult> Create(std::string_view name, std::string_view config_json,
                              std::string_view host_config_json);
  Status StartLocked(const std::shared_ptr<Entry>& e, std::unique_lock<std::mutex>& lock);
  Status WriteBundle(const Entry* e, Container& c, shim::ShimOptions& so);
  Status WriteSpecAndOptions(const Container& c, const oci::RuntimeSpec& spec,
                             std::vector<snapshot::MountSpec> mounts, shim::ShimOptions& so);
  void Watch(const std::shared_ptr<Entry>& e, UniqueFd wait_fd);
  void OnExit(const std::shared_ptr<Entry>& e, const shim::ExitStatus& status);
  // Mount / Unmount of the container's named volumes in the volume store (only volumes with
  // driver options do anything).
  Status MountVolumes(const Container& c) {
    if (o.volumes == nullptr) return {};
    std::vector<std::string> done;
    for (const MountPoint& m : c.mounts) {
      if (m.type != "volume" || m.name.empty()) continue;
      if (auto st = o.volumes->Mount(m.name, c.id); !st) {
        for (const std::string& n : done) (void)o.volumes->Unmount(n, c.id);
        return st;
      }
      done.push_back(m.name);
    }
    return {};
  }
  void UnmountVolumes(const Container& c) {
    if (o.volumes == nullptr) return;
    for (const MountPoint& m : c.mounts) {
      if (m.type != "volume" || m.name.empty()) continue;
      if (auto st = o.volumes->Unmount(m.name, c.id); !st) {
        spdlog::warn("container {}: {}", c.id, st.error().message);
      }
    }
  }
  Status KillLocked(Entry& e, int sig, bool all);
  Status StopLocked(const std::shared_ptr<Entry>& e, std::unique_lock<std::mutex>& lock,
                    std::optional<int> timeout, std::string_view signal);
  Status RemoveLocked(const std::shared_ptr<Entry>& e, std::unique_lock<std::mutex>& lock,
                      bool force, bool remove_volumes = false);
  void ApplyRestartPolicy(const std::shared_ptr<Entry>& e, std::unique_lock<std::mutex>& lock);
  Status SetPaused(std::string_view ref, bool pause);
  void RestartAfter(const std::shared_ptr<Entry>& e, std::unique_lock<std::mutex>& lock,
                    std::chrono::milliseconds delay, uint64_t exits);
};

namespace {

Error NoSuchContainer(std::string_view ref) {
  return MakeError(Code::kNotFound, fmt::format("No such container: {}", ref));
}

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

Error NameConflict(std::string_view name, std::string_view id) {
  return MakeError(Code::kConflict,
                   fmt::format("Conflict. The container name \"/{}\" is already in use by "
                               "container \"{}\". You have to remove (or rename) that "
                               "container to be able to reuse that name.",
                               name, id));
}

}  // namespace

Result<std::shared_ptr<Entry>> ContainerService::Impl::Find(std::string_view ref) {
  std::string r(ref);
  if (!r.empty() && r[0] == '/') r = r.substr(1);
  if (r.empty()) return NoSuchContainer(ref);
  std::lock_guard lock(mu);
  auto it = entries.find(r);
  if (it != entries.end()) return it->second;
  if (auto n = names.find(r); n != names.end()) {
    if (auto byname = entries.find(n->second); byname != entries.end()) return byname->second;
  }
  std::shared_ptr<Entry> found;
  for (auto& [id, e] : entries) {
    if (id.compare(0, r.size(), r) == 0) {
      if (found) {
        return MakeError(Code::kInvalidArgument,
                         fmt::format("multiple IDs found with provided prefix: {}", ref));
      }
      found = e;
    }
  }
  if (!found) return NoSuchContainer(ref);
  return found;
}

Result<std::unique_ptr<ContainerService>> ContainerService::Open(
    ContainerServiceOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  BERTH_RETURN_IF_ERROR(internal::CreateContainerTable(*impl->o.db));
  BERTH_RETURN_IF_ERROR(MakeDirs(impl->o.data_root + "/containers", 0711));
  BERTH_RETURN_IF_ERROR(MakeDirs(impl->o.exec_root + "/containers", 0700));
  BERTH_ASSIGN_OR_RETURN(auto rows, internal::LoadContainers(*impl->o.db));
  for (auto& c : rows) {
    auto e = std::make_shared<Entry>();
    std::string id = c.id;
    impl->names[c.name] = id;
    e->c = std::move(c);
    impl->entries.emplace(id, std::move(e));
  }
  return std::unique_ptr<ContainerService>(new ContainerService(std::move(impl)));
}

ContainerService::ContainerService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ContainerService::~ContainerService() { Shutdown(); }

void ContainerService::Shutdown() {
  if (impl_->shutting_down.exchange(true)) return;
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [id, e] : impl_->entries) all.push_back(e);
  }
  for (auto& e : all) {
    std::lock_guard el(e->mu);
    if (e->wait_fd >= 0) ::shutdown(e->wait_fd, SHUT_RDWR);
    e->cv.notify_all();
  }
  std::unique_lock lock(impl_->monitors_mu);
  impl_->monitors_cv.wait(lock, [&] { return impl_->monitors == 0; });
}

Result<CreateResult> ContainerService::Create(std::string_view name,
                                              std::string_view config_json,
                                              std::string_view host_config_json) {
  return impl_->Create(name, config_json, host_config_json);
}

Result<CreateResult> ContainerService::Impl::Create(std::string_view name,
                                                    std::string_view config_json,
                                                    std::string_view host_config_json) {
  std::string host_json(host_config_json.empty() ? "{}" : host_config_json);
  BERTH_ASSIGN_OR_RETURN(HostConfig host, ParseHostConfig(host_json));
  BERTH_RETURN_IF_ERROR(ValidateHostConfig(host, o.host_cpus));
  BERTH_ASSIGN_OR_RETURN(ContainerConfig request, ParseContainerConfig(config_json));
  if (request.image.empty()) {
    return MakeError(Code::kInvalidArgument, "No image was specified");
  }
  // runconfig's validateNetContainerMode: a joiner has the other one's names and files.
  if (host.network_mode.rfind("container:", 0) == 0) {
    if (host.network_mode.size() == 10) {
      return MakeError(Code::kInvalidArgument,
                       "Invalid network mode: invalid container format container:<name|id>");
    }
    if (!request.hostname.empty()) {
      return MakeError(Code::kInvalidArgument,
                       "conflicting options: hostname and the network mode");
    }
    if (!host.dns.empty()) {
      return MakeError(Code::kInvalidArgument, "conflicting options: dns and the network mode");
    }
    if (!host.extra_hosts.empty()) {
      return MakeError(Code::kInvalidArgument,
                       "conflicting options: custom host-to-IP mapping and the network mode");
    }
  }
  auto img = o.images->Get(request.image);
  if (!img) {
    if (img.error().code == Code::kNotFound) {
      return MakeError(Code::kNotFound, fmt::format("No such image: {}", request.image));
    }
    return img.error();
  }
  if (!name.empty() && !internal::ValidName(name)) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("Invalid container name ({}), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                                 "are allowed",
                                 name));
  }
  Container c;
  c.id = RandomHex(32);
  c.image_id = img->id;
  c.created = NowUnixNanos();
  BERTH_ASSIGN_OR_RETURN(c.config_json, internal::MergeConfig(config_json, img->config.config,
                                                              c.id));
  BERTH_ASSIGN_OR_RETURN(c.config, ParseContainerConfig(c.config_json));
  // dockerd's verifyContainerSettings: the stop signal (the request's or the image's) must parse.
  if (!c.config.stop_signal.empty() && internal::ParseSignal(c.config.stop_signal) == 0) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("Invalid signal: {}", c.config.stop_signal));
  }
  c.host_config_json = host_json;
  c.host_config = std::move(host);
  // Checked before anything is made: a bad -v leaves nothing behind.
  BERTH_ASSIGN_OR_RETURN(c.mounts,
                         internal::ParseMountPoints(c.host_config.binds, c.config.volumes));
  {
    // --mount: anonymous volumes of Config.Volumes at the same path give way to it.
    std::vector<MountPoint> explicit_mounts;
    for (const MountPoint& m : c.mounts) {
      if (!m.anonymous) explicit_mounts.push_back(m);
    }
    BERTH_ASSIGN_OR_RETURN(std::vector<MountPoint> api_mounts,
                           internal::ParseApiMounts(host_json, explicit_mounts));
    for (MountPoint& m : api_mounts) {
      if (m.type == "tmpfs") {
        // --mount type=tmpfs is --tmpfs with options from TmpfsOptions, as in moby.
        c.host_config.tmpfs[m.destination] = m.mode;
        continue;
      }
      std::erase_if(c.mounts, [&](const MountPoint& o2) {
        return o2.anonymous && o2.destination == m.destination;
      });
      c.mounts.push_back(std::move(m));
    }
  }
  // --volumes-from CONTAINER[:ro|rw]: its mounts, under this container's own binds and named
  // volumes (those win a shared destination); they replace anonymous ones at the same path.
  for (const std::string& spec : c.host_config.volumes_from) {
    std::vector<std::string> parts = Split(spec, ':');
    if (parts.empty() || parts[0].empty() || parts.size() > 2) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("invalid volumes-from specification: '{}'", spec));
    }
    std::optional<bool> rw;
    if (parts.size() == 2) {
      if (parts[1] != "ro" && parts[1] != "rw") {
        return MakeError(Code::kInvalidArgument, fmt::format("invalid mode: {}", parts[1]));
      }
      rw = parts[1] == "rw";
    }
    // dockerd answers 404 here, which the docker CLI takes for a missing image and tries a
    // pull; 400 with the same words reports the real cause.
    auto from = Find(parts[0]);
    if (!from) {
      if (from.error().code != Code::kNotFound) return from.error();
      return MakeError(Code::kInvalidArgument, from.error().message);
    }
    std::vector<MountPoint> theirs;
    {
      std::lock_guard from_lock((*from)->mu);
      theirs = (*from)->c.mounts;
    }
    for (MountPoint m : theirs) {
      auto same = std::find_if(c.mounts.begin(), c.mounts.end(), [&](const MountPoint& o2) {
        return o2.destination == m.destination;
      });
      if (same != c.mounts.end() && !same->anonymous) continue;
      m.anonymous = false;  // it belongs to the other container: never removed with this one
      if (rw) m.rw = *rw;
      if (same != c.mounts.end()) {
        *same = std::move(m);
      } else {
        c.mounts.push_back(std::move(m));
      }
    }
  }
  bool has_volumes = std::any_of(c.mounts.begin(), c.mounts.end(),
                                 [](const MountPoint& m) { return m.type == "volume"; });
  if (has_volumes && o.volumes == nullptr) {
    return MakeError(Code::kFailedPrecondition, "volumes are not available");
  }
  std::vector<std::string> argv = c.config.entrypoint;
  argv.insert(argv.end(), c.config.cmd.begin(), c.config.cmd.end());
  if (argv.empty()) return MakeError(Code::kInvalidArgument, "No command specified");
  c.path = argv[0];
  c.args.assign(argv.begin() + 1, argv.end());
  c.bundle = o.data_root + "/containers/" + c.id;
  c.log_path = c.bundle + "/" + c.id + "-json.log";

  // The snapshot and the directory first, the row last: a crash before the row leaves only
  // leftovers that Restore() removes (a snapshot or directory without a row).
  std::string parent = img->layers.empty() ? "" : img->layers.back().chain_id.ToString();
  BERTH_RETURN_IF_ERROR(o.snapshots->Prepare(SnapshotKey(c.id), parent));
  auto undo_snapshot = Cleanup([&] { (void)o.snapshots->Remove(SnapshotKey(c.id)); });
  BERTH_RETURN_IF_ERROR(MakeDirs(c.bundle + "/rootfs", 0711));
  auto undo_dir = Cleanup([&] { (void)RemoveAll(c.bundle); });

  // Volumes next (named ones are created on first use), then the row and the volume
  // references in one transaction: a failure removes the volumes made here.
  std::vector<std::string> made_volumes;
  auto undo_volumes = Cleanup([&] {
    for (const std::string& v : made_volumes) (void)o.volumes->Remove(v, /*force=*/true);
  });
  UniqueFd root;  // the container's rootfs, mounted privately once a volume needs filling
  for (MountPoint& m : c.mounts) {
    if (m.type != "volume") continue;
    if (!m.anonymous) {
      auto existing = o.volumes->Get(m.name);
      if (existing) {
        m.source = existing->mountpoint;
        continue;
      }
      if (existing.error().code != Code::kNotFound) return existing.error();
    }
    volume::CreateOptions vo;
    vo.name = m.name;
    BERTH_ASSIGN_OR_RETURN(volume::Volume v, o.volumes->Create(vo));
    made_volumes.push_back(v.name);
    m.name = v.name;
    m.source = v.mountpoint;
    // A new volume starts with what the image has at its path (unless "nocopy").
    if (o.sys != nullptr && m.mode.find("nocopy") == std::string::npos) {
      if (!root) {
        BERTH_ASSIGN_OR_RETURN(auto specs, o.snapshots->Mounts(SnapshotKey(c.id)));
        BERTH_ASSIGN_OR_RETURN(root, runtime::MountPrivately(specs, o.data_root + "/tmp", *o.sys));
      }
      BERTH_RETURN_IF_ERROR(internal::CopyImagePath(root.get(), m.destination, m.source,
                                                    o.data_root + "/tmp", *o.sys));
    }
  }
  root = UniqueFd();
  std::unique_lock lock(mu);
  if (!name.empty()) {
    if (auto n = names.find(std::string(name)); n != names.end()) {
      return NameConflict(name, n->second);
    }
    c.name = std::string(name);
  } else {
    for (int attempt = 0; c.name.empty(); ++attempt) {
      std::string candidate = internal::RandomName(attempt);
      if (!names.count(candidate)) c.name = candidate;
    }
  }
  {
    BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(*o.db));
    BERTH_RETURN_IF_ERROR(internal::InsertContainer(*o.db, c));
    for (const MountPoint& m : c.mounts) {
      if (m.type == "volume") BERTH_RETURN_IF_ERROR(o.volumes->AddReference(m.name, c.id));
    }
    BERTH_RETURN_IF_ERROR(tx.Commit());
  }
  undo_volumes.Cancel();
  undo_snapshot.Cancel();
  undo_dir.Cancel();
  CreateResult result{c.id, {}};
  Emit(c, "create");
  names[c.name] = c.id;
  auto e = std::make_shared<Entry>();
  e->c = std::move(c);
  entries.emplace(result.id, std::move(e));
  return result;
}

Result<Container> ContainerService::Get(std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::lock_guard lock(e->mu);
  return e->c;
}

std::vector<Container> ContainerService::List() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [id, e] : impl_->entries) all.push_back(e);
  }
  std::vector<Container> out;
  for (auto& e : all) {
    std::lock_guard lock(e->mu);
    if (!e->removed) out.push_back(e->c);
  }
  return out;
}

std::vector<std::string> ContainerService::ContainersUsing(const oci::Digest& image_id) {
  std::vector<std::string> out;
  for (const auto& c : List()) {
    if (c.image_id == image_id) out.push_back(ShortId(c.id));
  }
  return out;
}

}  // namespace berth::engine

namespace berth::engine {
namespace {

constexpr int kDefaultStopTimeout = 10;

// Docker's daemon-side mapping of a failed start (daemon/start.go translateContainerdStartErr):
// a missing command is 127, one that cannot be run 126, anything else 128; the first two are
// the client's fault (400).
int StartExitCode(const Error& e) {
  if (e.code == Code::kNotFound) return 127;
  if (e.code == Code::kPermissionDenied) return 126;
  return 128;
}

// The bundle's files (config.json, shim.json, hosts, hostname, resolv.conf) are written again
// by every start, before the shim that reads them is spawned: replaced atomically (temp +
// rename) so a reader never sees half a file, but not fsync'd. A crash loses nothing that the
// next start does not write again; the container row in meta.db is what must be durable.
// (Two fsyncs per file, ten per start, were the largest cost of a start on this VM.)
Status WriteBundleFile(const std::string& path, std::string_view data, int mode = 0644) {
  return ReplaceFile(path, data, mode);
}

std::vector<std::string> LayerDirs(const std::vector<snapshot::MountSpec>& mounts,
                                   const std::string& upper) {
  std::vector<std::string> dirs;
  if (!upper.empty()) dirs.push_back(upper);
  for (const auto& m : mounts) {
    for (const auto& opt : m.options) {
      if (opt.rfind("lowerdir=", 0) == 0) {
        for (auto& d : Split(opt.substr(9), ':')) dirs.push_back(d);
      }
    }
    if (m.type == "bind" && upper.empty()) dirs.push_back(m.source);
  }
  return dirs;
}

}  // namespace

Status ContainerService::Impl::WriteBundle(const Entry* e, Container& c, shim::ShimOptions& so) {
  BERTH_ASSIGN_OR_RETURN(auto mounts, o.snapshots->Mounts(SnapshotKey(c.id)));
  auto upper = o.snapshots->UpperPath(SnapshotKey(c.id));
  SpecInputs in;
  in.id = c.id;
  in.bundle = c.bundle;
  in.kernel_release = o.kernel_release;
  in.init_path = o.init_binary;
  in.cgroup_parent = o.cgroup_parent;
  const std::string& nm = c.host_config.network_mode;
  if (nm.rfind("container:", 0) == 0) {
    std::string ref = nm.substr(10);
    BERTH_ASSIGN_OR_RETURN(auto other, Find(ref));
    if (other.get() == e) return MakeError(Code::kInvalidArgument, "cannot join own network");
    std::lock_guard ol(other->mu);
    if (!other->c.state.running() || other->c.state.pid <= 0) {
      // dockerd's getNetworkedContainer names it as the user did.
      return MakeError(Code::kConflict,
                       fmt::format("cannot join network of a non running container: {}", ref));
    }
    if (other->c.state.restarting) {
      return MakeError(Code::kConflict,
                       fmt::format("Container {} is restarting, wait until the container is "
                                   "running",
                                   ref));
    }
    in.network_ns_path = fmt::format("/proc/{}/ns/net", other->c.state.pid);
    in.network_files_dir = other->c.bundle;
    // dockerd's initializeNetworking: the joiner's Config takes the other's names (saved with
    // the row once the start succeeds, so inspect shows them too).
    BERTH_ASSIGN_OR_RETURN(c.config_json,
                           internal::WithNames(c.config_json, other->c.config.hostname,
                                               other->c.config.domainname));
    c.config.hostname = other->c.config.hostname;
    c.config.domainname = other->c.config.domainname;
  }
  const ContainerConfig& config = c.config;
  if (c.host_config.init && o.init_binary.empty()) {
    return MakeError(Code::kFailedPrecondition,
                     "--init: no init binary found (install tini-static)");
  }
  // --security-opt seccomp=...: the docker CLI sends the profile's JSON itself (it reads the
  // file client-side); BuildSpec takes it from there.
  BERTH_ASSIGN_OR_RETURN(oci::RuntimeSpec spec, BuildSpec(config, c.host_config, in));
  for (const MountPoint& m : c.mounts) {
    // Docker creates a missing bind source of -v (not of --mount) when the container starts.
    if (m.type == "bind" && !PathExists(m.source)) {
      BERTH_RETURN_IF_ERROR(MakeDirs(m.source, 0755));
    }
    std::vector<std::string> options = {"rbind"};
    if (!m.rw) options.push_back("ro");
    spec.mounts.push_back(oci::Mount{m.destination, "bind", m.source, std::move(options)});
  }
  BERTH_ASSIGN_OR_RETURN(spec.process,
                         BuildProcess(config, c.host_config,
                                      LayerDirs(mounts, upper ? *upper : std::string())));
  if (c.host_config.init) {
    // BuildSpec put tini in front; keep its args in front of the user's program.
    std::vector<std::string> args = {"/sbin/docker-init", "--"};
    args.insert(args.end(), spec.process.args.begin(), spec.process.args.end());
    spec.process.args = std::move(args);
  }
  std::string hostname = c.host_config.network_mode == "host" ? spec.hostname : c.config.hostname;
  auto host_resolv = ReadFile("/etc/resolv.conf");
  // container:<x> binds the other one's files; this bundle's own are not written.
  if (!in.network_files_dir.empty()) return WriteSpecAndOptions(c, spec, std::move(mounts), so);
  BERTH_RETURN_IF_ERROR(WriteBundleFile(c.bundle + "/hostname", hostname + "\n"));
  BERTH_RETURN_IF_ERROR(WriteBundleFile(
      c.bundle + "/hosts",
      internal::HostsFile(hostname, c.config.domainname, c.host_config.extra_hosts)));
  BERTH_RETURN_IF_ERROR(WriteBundleFile(
      c.bundle + "/resolv.conf",
      internal::ResolvConf(host_resolv ? *host_resolv : "", c.host_config.dns,
                           c.host_config.dns_search, c.host_config.dns_options,
                           c.host_config.network_mode == "host")));
  return WriteSpecAndOptions(c, spec, std::move(mounts), so);
}

Status ContainerService::Impl::WriteSpecAndOptions(const Container& c,
                                                   const oci::RuntimeSpec& spec,
                                                   std::vector<snapshot::MountSpec> mounts,
                                                   shim::ShimOptions& so) {
  BERTH_RETURN_IF_ERROR(WriteBundleFile(c.bundle + "/" + std::string(shim::kConfigFile),
                                        oci::SerializeRuntimeSpec(spec), 0600));
  so.id = c.id;
  so.bundle = c.bundle;
  so.run_dir = RunDir(c.id);
  so.rootfs_mounts = std::move(mounts);
  so.log_path = c.log_path;
  so.open_stdin = c.config.open_stdin;
  so.stdin_once = c.config.stdin_once;
  so.cgroup_root = o.cgroup_root;
  so.seccomp_cache_dir = o.exec_root + "/seccomp";
  BERTH_RETURN_IF_ERROR(WriteBundleFile(c.bundle + "/" + std::string(shim::kOptionsFile),
                                        shim::SerializeOptions(so), 0600));
  return {};
}

Status ContainerService::Start(std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  return impl_->StartLocked(e, lock);
}

Status ContainerService::Impl::StartLocked(const std::shared_ptr<Entry>& e,
                                           std::unique_lock<std::mutex>& lock) {
  Container& c = e->c;
  if (e->removed) return NoSuchContainer(c.id);
  if (c.state.status == "paused") {
    return MakeError(Code::kConflict,
                     "cannot start a paused container, try unpause instead");
  }
  if (c.state.running()) return {};  // Docker: starting a running container is a no-op (304)
  if (c.state.status == "removing") {
    return MakeError(Code::kConflict, fmt::format("container is marked for removal and cannot "
                                                  "be started"));
  }
  shim::ShimOptions so;
  std::string run_dir = RunDir(c.id);
  ::unlink((c.bundle + "/" + std::string(shim::kExitFile)).c_str());
  (void)RemoveAll(run_dir);
  BERTH_RETURN_IF_ERROR(MakeDirs(run_dir, 0700));
  auto fail = [&](const Error& err) -> Status {
    c.state.status = c.state.started_at == 0 && c.state.status == "created" ? "created"
                                                                            : "exited";
    c.state.error = err.message;
    c.state.exit_code = StartExitCode(err);
    c.state.pid = 0;
    (void)Persist(c);
    (void)RemoveAll(run_dir);
    // Not an exit: the program never ran, so next-exit waiters keep waiting (as with dockerd),
    // but an --rm container goes (dockerd's containerStart cleans it up too).
    e->cv.notify_all();
    // --rm takes the container's anonymous volumes with it, as Docker's.
    if (c.host_config.auto_remove) (void)RemoveLocked(e, lock, /*force=*/true, true);
    if (err.code == Code::kNotFound || err.code == Code::kPermissionDenied) {
      return MakeError(Code::kInvalidArgument, err.message);
    }
    return err;
  };
  // Volumes made with driver options are mounted while a container runs (the local driver's
  // Mount); each failure path below gives them back.
  if (auto st = MountVolumes(c); !st) return fail(st.error());
  auto fail_unmounting = [&](const Error& err) -> Status {
    UnmountVolumes(c);
    return fail(err);
  };
  if (auto st = WriteBundle(e.get(), c, so); !st) return fail_unmounting(st.error());
  auto spawned = shim::Spawn(o.shim_binary, c.bundle);
  if (!spawned) return fail_unmounting(spawned.error());
  shim::Client client(run_dir);
  auto wait_fd = client.OpenWait();
  if (!wait_fd) {
    (void)client.Kill(SIGKILL, true);
    return fail_unmounting(wait_fd.error());
  }
  // Attaches that came before start connect to the new shim before the program runs.
  ++e->spawns;
  e->cv.notify_all();
  e->cv.wait_for(lock, std::chrono::seconds(5), [&] { return e->pending_attaches == 0; });
  c.state.pid = spawned->init_pid;
  auto started = client.Start();
  if (!started) {
    // The init has exited; the shim writes exit.json and leaves. Wait for it so nothing of
    // this attempt is left behind.
    lock.unlock();
    (void)shim::Client::ReadWait(wait_fd->get());
    lock.lock();
    c.state.finished_at = NowUnixNanos();
    return fail_unmounting(started.error());
  }
  c.state.status = "running";
  c.state.paused = false;
  c.state.restarting = false;
  c.state.oom_killed = false;
  c.state.dead = false;
  c.state.exit_code = 0;
  c.state.error.clear();
  c.state.started_at = NowUnixNanos();
  c.state.finished_at = 0;
  c.stopped_by_user = false;
  BERTH_RETURN_IF_ERROR(Persist(c));
  Emit(c, "start");
  e->cv.notify_all();
  Watch(e, std::move(*wait_fd));
  return {};
}

void ContainerService::Impl::Watch(const std::shared_ptr<Entry>& e, UniqueFd wait_fd) {
  {
    std::lock_guard ml(monitors_mu);
    ++monitors;
  }
  e->wait_fd = wait_fd.get();
  std::thread([this, e, fd = std::move(wait_fd)]() mutable {
    auto status = shim::Client::ReadWait(fd.get());
    {
      std::unique_lock lock(e->mu);
      e->wait_fd = -1;
    }
    if (!shutting_down) {
      if (!status) {
        // The shim went away without answering (killed): its exit.json, if it wrote one.
        auto text = ReadFile(e->c.bundle + "/" + std::string(shim::kExitFile));
        shim::ExitStatus s;
        if (text) {
          if (auto parsed = shim::ParseExit(*text)) s = *parsed;
        } else {
          s.exit_code = 255;
          s.error = "container monitor exited unexpectedly";
          s.finished_at = NowUnixNanos();
        }
        OnExit(e, s);
      } else {
        OnExit(e, *status);
      }
    }
    fd.Reset();
    std::lock_guard ml(monitors_mu);
    --monitors;
    monitors_cv.notify_all();
  }).detach();
}

void ContainerService::Impl::OnExit(const std::shared_ptr<Entry>& e,
                                    const shim::ExitStatus& status) {
  std::unique_lock lock(e->mu);
  Container& c = e->c;
  c.state.status = "exited";
  c.state.paused = false;
  c.state.pid = 0;
  c.state.exit_code = status.exit_code;
  c.state.oom_killed = status.oom_killed;
  c.state.finished_at = status.finished_at ? status.finished_at : NowUnixNanos();
  if (!status.error.empty()) c.state.error = status.error;
  UnmountVolumes(c);
  if (auto st = Persist(c); !st) spdlog::error("container {}: {}", c.id, st.error().message);
  if (c.state.oom_killed) Emit(c, "oom");
  Emit(c, "die",
       {{"exitCode", std::to_string(c.state.exit_code)},
        {"execDuration",
         std::to_string(std::max<int64_t>(0, c.state.finished_at - c.state.started_at) /
                        1000000000)}});
  (void)RemoveAll(RunDir(c.id));
  ++e->exits;
  e->cv.notify_all();
  if (e->busy) return;  // a stop/remove in progress decides what happens next
  if (c.host_config.auto_remove) {
    // --rm takes the container's anonymous volumes with it, as Docker's.
    (void)RemoveLocked(e, lock, /*force=*/false, /*remove_volumes=*/true);
    return;
  }
  ApplyRestartPolicy(e, lock);
}

void ContainerService::Impl::ApplyRestartPolicy(const std::shared_ptr<Entry>& e,
                                                std::unique_lock<std::mutex>& lock) {
  Container& c = e->c;
  const auto& p = c.host_config.restart_policy;
  bool restart = false;
  if (c.stopped_by_user || shutting_down) return;
  if (p.name == "always" || p.name == "unless-stopped") restart = true;
  if (p.name == "on-failure" && c.state.exit_code != 0) {
    restart = p.maximum_retry_count == 0 || c.restart_count < p.maximum_retry_count;
  }
  if (!restart) return;
  // Docker's back-off: 100 ms doubling per consecutive restart, at most a minute.
  int64_t delay_ms = 100;
  for (int i = 0; i < c.restart_count && delay_ms < 60000; ++i) delay_ms *= 2;
  delay_ms = std::min<int64_t>(delay_ms, 60000);
  c.state.status = "restarting";
  c.state.restarting = true;
  (void)Persist(c);
  e->cv.notify_all();
  // The back-off is waited for on a thread of its own (counted as a monitor, so Shutdown
  // waits for it): the caller may be Restore, which must not hold up the daemon's start.
  {
    std::lock_guard ml(monitors_mu);
    ++monitors;
  }
  std::thread([this, e, delay_ms, exits = e->exits] {
    {
      std::unique_lock relock(e->mu);
      RestartAfter(e, relock, std::chrono::milliseconds(delay_ms), exits);
    }
    std::lock_guard ml(monitors_mu);
    --monitors;
    monitors_cv.notify_all();
  }).detach();
  (void)lock;
}

void ContainerService::Impl::RestartAfter(const std::shared_ptr<Entry>& e,
                                          std::unique_lock<std::mutex>& lock,
                                          std::chrono::milliseconds delay, uint64_t exits) {
  Container& c = e->c;
  e->cv.wait_for(lock, delay, [&] {
    return shutting_down || e->removed || c.stopped_by_user || e->exits != exits;
  });
  c.state.restarting = false;
  if (shutting_down || e->removed || c.stopped_by_user) {
    if (c.state.status == "restarting") c.state.status = "exited";
    (void)Persist(c);
    e->cv.notify_all();
    return;
  }
  ++c.restart_count;
  if (auto st = StartLocked(e, lock); !st) {
    spdlog::warn("container {}: restart: {}", c.id, st.error().message);
  }
}

Status ContainerService::Impl::KillLocked(Entry& e, int sig, bool all) {
  if (!e.c.state.running()) {
    return MakeError(Code::kConflict,
                     fmt::format("Container {} is not running", e.c.id));
  }
  shim::Client client(RunDir(e.c.id));
  if (e.c.state.paused && (sig == SIGKILL || sig == SIGTERM)) {
    // A frozen process cannot handle a signal; thaw after sending so it dies (as runc does).
    auto st = client.Kill(sig, all);
    auto mgr = runtime::CgroupManager::Detect(o.cgroup_root);
    if (mgr) {
      if (auto cg = (*mgr)->Open(o.cgroup_parent + "/" + e.c.id)) (void)(*cg)->Thaw();
    }
    e.c.state.paused = false;
    if (st) Emit(e.c, "kill", {{"signal", std::to_string(sig)}});
    return st;
  }
  BERTH_RETURN_IF_ERROR(client.Kill(sig, all));
  Emit(e.c, "kill", {{"signal", std::to_string(sig)}});
  return {};
}

Status ContainerService::Kill(std::string_view ref, std::string_view signal) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  int sig = signal.empty() ? SIGKILL : internal::ParseSignal(signal);
  if (sig == 0) {
    return MakeError(Code::kInvalidArgument, fmt::format("Invalid signal: {}", signal));
  }
  std::unique_lock lock(e->mu);
  if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) e->c.stopped_by_user = true;
  BERTH_RETURN_IF_ERROR(impl_->KillLocked(*e, sig, false));
  if (sig == SIGKILL) {
    // Docker returns once a SIGKILLed container is gone.
    uint64_t exits = e->exits;
    e->cv.wait_for(lock, std::chrono::seconds(10), [&] { return e->exits != exits; });
  }
  return {};
}

Status ContainerService::Impl::StopLocked(const std::shared_ptr<Entry>& e,
                                          std::unique_lock<std::mutex>& lock,
                                          std::optional<int> timeout, std::string_view signal) {
  Container& c = e->c;
  if (c.state.status == "restarting") {
    c.stopped_by_user = true;
    e->cv.notify_all();
    e->cv.wait_for(lock, std::chrono::seconds(1), [&] { return c.state.status != "restarting"; });
  }
  if (!c.state.running()) return {};
  c.stopped_by_user = true;
  (void)Persist(c);
  int sig = SIGTERM;
  std::string_view name = !signal.empty() ? signal : std::string_view(c.config.stop_signal);
  if (!name.empty()) {
    sig = internal::ParseSignal(name);
    if (sig == 0) return MakeError(Code::kInvalidArgument, fmt::format("Invalid signal: {}", name));
  }
  int t = timeout ? *timeout
                  : static_cast<int>(c.config.stop_timeout.value_or(kDefaultStopTimeout));
  uint64_t exits = e->exits;
  (void)KillLocked(*e, sig, false);
  auto exited = [&] { return e->exits != exits || !c.state.running(); };
  if (t < 0) {
    e->cv.wait(lock, exited);
  } else if (!e->cv.wait_for(lock, std::chrono::seconds(t), exited)) {
    if (c.state.running()) (void)KillLocked(*e, SIGKILL, true);
    if (!e->cv.wait_for(lock, std::chrono::seconds(30), exited)) {
      return MakeError(Code::kInternal, fmt::format("container {} did not stop", c.id));
    }
  }
  Emit(c, "stop");
  return {};
}

Status ContainerService::Stop(std::string_view ref, std::optional<int> timeout,
                              std::string_view signal) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  return impl_->StopLocked(e, lock, timeout, signal);
}

Status ContainerService::Restart(std::string_view ref, std::optional<int> timeout,
                                 std::string_view signal) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  e->busy = true;
  auto st = impl_->StopLocked(e, lock, timeout, signal);
  e->busy = false;
  BERTH_RETURN_IF_ERROR(st);
  BERTH_RETURN_IF_ERROR(impl_->StartLocked(e, lock));
  impl_->Emit(e->c, "restart");
  return {};
}

Status ContainerService::Impl::RemoveLocked(const std::shared_ptr<Entry>& e,
                                            std::unique_lock<std::mutex>& lock, bool force,
                                            bool remove_volumes) {
  Container& c = e->c;
  if (e->removed) return {};
  if (c.state.running() || c.state.status == "restarting") {
    if (!force) {
      return MakeError(Code::kConflict,
                       fmt::format("You cannot remove a {} container {}. Stop the container "
                                   "before attempting removal or force remove",
                                   c.state.paused ? "paused" : "running", c.id));
    }
    c.stopped_by_user = true;
    uint64_t exits = e->exits;
    e->busy = true;
    if (c.state.running()) (void)KillLocked(*e, SIGKILL, true);
    e->cv.wait_for(lock, std::chrono::seconds(30),
                   [&] { return e->exits != exits || !c.state.running(); });
    e->busy = false;
    if (c.state.running()) {
      return MakeError(Code::kInternal, fmt::format("Could not kill running container {}, "
                                                    "cannot remove", c.id));
    }
  }
  c.state.status = "removing";
  BERTH_RETURN_IF_ERROR(Persist(c));
  if (auto st = o.snapshots->Remove(SnapshotKey(c.id)); !st && st.error().code != Code::kNotFound) {
    c.state.status = "dead";
    c.state.dead = true;
    (void)Persist(c);
    return st.error().WithContext("remove container rootfs");
  }
  BERTH_RETURN_IF_ERROR(RemoveAll(RunDir(c.id)));
  BERTH_RETURN_IF_ERROR(RemoveAll(c.bundle));
  {
    BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(*o.db));
    BERTH_RETURN_IF_ERROR(internal::DeleteContainer(*o.db, c.id));
    if (o.volumes != nullptr) {
      if (auto refs = o.volumes->RemoveReferences(c.id); !refs) return refs.error();
    }
    BERTH_RETURN_IF_ERROR(tx.Commit());
  }
  if (remove_volumes && o.volumes != nullptr) {
    for (const MountPoint& m : c.mounts) {
      // As dockerd: an anonymous volume another container still uses stays.
      if (m.type == "volume" && m.anonymous) (void)o.volumes->Remove(m.name);
    }
  }
  Emit(c, "destroy");
  e->removed = true;
  e->cv.notify_all();
  {
    std::lock_guard ml(mu);
    entries.erase(c.id);
    names.erase(c.name);
  }
  return {};
}

Status ContainerService::Remove(std::string_view ref, bool force, bool remove_volumes) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  return impl_->RemoveLocked(e, lock, force, remove_volumes);
}

Result<WaitResult> ContainerService::Wait(std::string_view ref, WaitCondition condition,
                                          const std::function<bool()>& cancelled,
                                          const std::function<Status()>& registered) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  uint64_t exits = e->exits;
  if (registered) {
    // The entry is held and the exit count fixed: whatever happens from here is seen.
    lock.unlock();
    BERTH_RETURN_IF_ERROR(registered());
    lock.lock();
  }
  auto done = [&] {
    switch (condition) {
      case WaitCondition::kNotRunning:
        return !e->c.state.running() && e->c.state.status != "restarting";
      case WaitCondition::kNextExit:
        return e->exits != exits;
      case WaitCondition::kRemoved:
        return e->removed;
    }
    return true;
  };
  while (!done()) {
    if (impl_->shutting_down) return MakeError(Code::kUnavailable, "daemon is shutting down");
    if (cancelled && cancelled()) return MakeError(Code::kCancelled, "client went away");
    e->cv.wait_for(lock, std::chrono::milliseconds(200));
  }
  WaitResult r;
  r.exit_code = e->c.state.exit_code;
  r.error = e->c.state.error;
  return r;
}

Result<AttachReservation> ContainerService::ReserveAttach(
    std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  // dockerd reports the attach when it is asked for, before the start it precedes.
  impl_->Emit(e->c, "attach");
  if (e->c.state.running()) return AttachReservation{};
  ++e->pending_attaches;
  return AttachReservation{true, e->spawns};
}

void ContainerService::CancelAttach(std::string_view ref) {
  auto e = impl_->Find(ref);
  if (!e) return;
  std::lock_guard lock((*e)->mu);
  if ((*e)->pending_attaches > 0) --(*e)->pending_attaches;
  (*e)->cv.notify_all();
}

Result<UniqueFd> ContainerService::Attach(std::string_view ref, bool in, bool out, bool err,
                                          const AttachReservation& reservation) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  const bool emitted = reservation.reserved;  // ReserveAttach reported it
  if (reservation.reserved || !e->c.state.running()) {
    // docker run: attach comes before start. Connect to the first shim spawned after the
    // reservation (or after now); Start holds the program until the pending attaches are in.
    // A start that came between the reservation and this call has spawned it already.
    uint64_t spawns = reservation.reserved ? reservation.spawns : e->spawns;
    if (!reservation.reserved) ++e->pending_attaches;
    e->cv.wait(lock, [&] {
      return e->spawns != spawns || e->removed || impl_->shutting_down;
    });
    --e->pending_attaches;
    e->cv.notify_all();
    if (e->spawns == spawns) {
      return MakeError(Code::kConflict, "container was removed before it started");
    }
  }
  shim::Client client(impl_->RunDir(e->c.id));
  auto fd = client.Attach(in, out, err);
  if (fd && !emitted) impl_->Emit(e->c, "attach");
  e->cv.notify_all();
  return fd;
}

Status ContainerService::Resize(std::string_view ref, unsigned height, unsigned width) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::unique_lock lock(e->mu);
  if (!e->c.state.running()) {
    return MakeError(Code::kConflict, fmt::format("Container {} is not running", e->c.id));
  }
  shim::Client client(impl_->RunDir(e->c.id));
  return client.Resize(height, width);
}

Status ContainerService::Pause(std::string_view ref) { return impl_->SetPaused(ref, true); }

Status ContainerService::Unpause(std::string_view ref) { return impl_->SetPaused(ref, false); }

// Freezes or thaws the container's cgroup; Docker's messages for a container that is not
// running, already paused, or not paused.
Status ContainerService::Impl::SetPaused(std::string_view ref, bool pause) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::unique_lock lock(e->mu);
  Container& c = e->c;
  if (pause && !c.state.running()) {
    return MakeError(Code::kConflict, fmt::format("Container {} is not running", c.id));
  }
  if (pause && c.state.paused) {
    return MakeError(Code::kConflict, fmt::format("Container {} is already paused", c.id));
  }
  if (!pause && !c.state.paused) {
    return MakeError(Code::kConflict, fmt::format("Container {} is not paused", c.id));
  }
  BERTH_ASSIGN_OR_RETURN(auto mgr, runtime::CgroupManager::Detect(o.cgroup_root));
  BERTH_ASSIGN_OR_RETURN(auto cg, mgr->Open(o.cgroup_parent + "/" + c.id));
  BERTH_RETURN_IF_ERROR(pause ? cg->Freeze() : cg->Thaw());
  c.state.paused = pause;
  c.state.status = pause ? "paused" : "running";
  BERTH_RETURN_IF_ERROR(Persist(c));
  Emit(c, pause ? "pause" : "unpause");
  e->cv.notify_all();
  return {};
}

Status ContainerService::Rename(std::string_view ref, std::string_view new_name) {
  std::string name(new_name);
  if (!name.empty() && name[0] == '/') name = name.substr(1);
  if (!internal::ValidName(name)) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("Invalid container name ({}), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                                 "are allowed",
                                 name));
  }
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::lock_guard lock(e->mu);
  if (e->c.name == name) {
    return MakeError(Code::kInvalidArgument,
                     "Renaming a container with the same name as its current name");
  }
  std::lock_guard maplock(impl_->mu);
  if (auto n = impl_->names.find(name); n != impl_->names.end()) {
    return NameConflict(name, n->second);
  }
  std::string old = e->c.name;
  e->c.name = name;
  if (auto st = impl_->Persist(e->c); !st) {
    e->c.name = old;
    return st;
  }
  impl_->names.erase(old);
  impl_->names[name] = e->c.id;
  impl_->Emit(e->c, "rename", {{"oldName", "/" + old}});
  return {};
}

Result<std::vector<std::string>> ContainerService::Prune() {
  std::vector<std::string> removed;
  for (const auto& c : List()) {
    if (c.state.running() || c.state.status == "restarting") continue;
    if (auto st = Remove(c.id, false, false); st) removed.push_back(c.id);
  }
  return removed;
}

Status ContainerService::Restore() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [id, e] : impl_->entries) all.push_back(e);
  }
  for (auto& e : all) {
    std::unique_lock lock(e->mu);
    Container& c = e->c;
    if (c.state.status == "removing" || c.state.status == "dead") {
      if (auto st = impl_->RemoveLocked(e, lock, true); !st) {
        spdlog::warn("container {}: finishing removal: {}", c.id, st.error().message);
      }
      continue;
    }
    shim::Client client(impl_->RunDir(c.id));
    auto state = client.State();
    if (state && state->started && state->running) {
      auto fd = client.OpenWait();
      if (fd) {
        c.state.pid = state->pid;
        if (c.state.status != "paused") c.state.status = "running";
        // Its option volumes are still mounted: count it as their user again.
        if (auto st = impl_->MountVolumes(c); !st) {
          spdlog::warn("container {}: {}", c.id, st.error().message);
        }
        impl_->Watch(e, std::move(*fd));
        continue;
      }
    }
    if (state && !state->started) {
      // berthd died between spawning the shim and starting: that start never happened.
      (void)client.Kill(SIGKILL, true);
    }
    if (c.state.running() || c.state.status == "restarting") {
      auto text = ReadFile(c.bundle + "/" + std::string(shim::kExitFile));
      shim::ExitStatus s;
      bool have = false;
      if (text) {
        if (auto parsed = shim::ParseExit(*text)) s = *parsed, have = true;
      }
      if (!have) {
        // The shim is gone without a word: the host rebooted, or it was killed.
        s.exit_code = 255;
        s.finished_at = NowUnixNanos();
      }
      lock.unlock();
      impl_->OnExit(e, s);
      continue;
    }
    // Restart policies that apply after a daemon start (Docker: always, and unless-stopped
    // unless stopped by the user; on-failure when it had failed).
    const auto& p = c.host_config.restart_policy;
    bool start = p.name == "always" || (p.name == "unless-stopped" && !c.stopped_by_user) ||
                 (p.name == "on-failure" && c.state.exit_code != 0 && c.state.started_at != 0);
    if (p.name == "always") c.stopped_by_user = false;
    if (start && c.state.status == "exited") {
      if (auto st = impl_->StartLocked(e, lock); !st) {
        spdlog::warn("container {}: restart at daemon start: {}", c.id, st.error().message);
      }
    }
  }
  // Leftovers of creates that crashed before their row: snapshots and directories.
  auto infos = impl_->o.snapshots->List();
  if (infos) {
    for (const auto& info : *infos) {
      if (info.name.rfind("container-", 0) != 0) continue;
      std::string id = info.name.substr(10);
      std::lock_guard lock(impl_->mu);
      if (!impl_->entries.count(id)) (void)impl_->o.snapshots->Remove(info.name);
    }
  }
  return {};
}

Status ContainerService::Logs(
    std::string_view ref, const LogOptions& options,
    const std::function<bool(std::string_view, std::string_view, int64_t)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto e, impl_->Find(ref));
  std::string path;
  {
    std::lock_guard lock(e->mu);
    path = e->c.log_path;
  }
  shim::LogQuery q;
  q.since = options.since;
  q.until = options.until;
  q.tail = options.tail;
  q.follow = options.follow;
  auto stop = [&] {
    std::lock_guard lock(e->mu);
    return e->removed || !e->c.state.running() || impl_->shutting_down;
  };
  auto cb = [&](std::string_view stream, std::string_view bytes, int64_t time) {
    if (stream == "stdout" && !options.stdout) return true;
    if (stream == "stderr" && !options.stderr) return true;
    return fn(stream, bytes, time);
  };
  BERTH_RETURN_IF_ERROR(shim::ReadJsonLog(path, q, cb, stop));
  return {};
}

}  // namespace berth::engine
