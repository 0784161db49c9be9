#include "engine/daemon.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "content/local_store.h"
#include "distribution/blob_sources.h"
#include "distribution/puller.h"
#include "distribution/pusher.h"
#include "engine/build_info.h"
#include "engine/container_fs.h"
#include "engine/container_probe.h"
#include "engine/containers.h"
#include "engine/events.h"
#include "engine/execs.h"
#include "engine/internal/pull_sink.h"
#include "image/image_store.h"
#include "snapshot/overlay/overlay_snapshotter.h"
#include "sql/database.h"
#include "sys/linux_syscalls.h"
#include "volume/volume_store.h"

namespace berth::engine {
namespace {

constexpr std::string_view kStorageDriver = "overlay2";
constexpr std::string_view kRuntimeName = "berth";

// Directories each module expects under the data root (the tree in daemon.h).
constexpr std::string_view kLayoutDirs[] = {
    "content/blobs/sha256", "content/ingest", "snapshots", "containers", "volumes", "tmp",
};

// A random (version 4) UUID, the form dockerd uses for its engine ID.
std::string NewUuid() {
  std::string hex = RandomHex(16);
  hex[12] = '4';
  const char variant[] = "89ab";
  hex[16] = variant[(hex[16] - (hex[16] >= 'a' ? 'a' - 10 : '0')) & 3];
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

Result<std::string> LoadOrCreateId(const std::string& path) {
  if (PathExists(path)) {
    BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    std::string id(TrimSpace(text));
    if (!id.empty()) return id;
  }
  std::string id = NewUuid();
  BERTH_RETURN_IF_ERROR(WriteFileAtomic(path, id + "\n", 0600));
  return id;
}

std::string BackingFilesystem(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return "<unknown>";
  switch (static_cast<uint64_t>(st.f_type)) {
    case EXT4_SUPER_MAGIC:
      return "extfs";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case TMPFS_MAGIC:
      return "tmpfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlayfs";
    case 0x2fc12fc1:
      return "zfs";
    case 0x65735546:
      return "fuseblk";
    default:
      return fmt::format("<unknown: {:#x}>", static_cast<uint64_t>(st.f_type));
  }
}

int64_t CountEntries(const char* dir) {
  int64_t n = 0;
  DIR* d = ::opendir(dir);
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// dockerd's MaskCredentials: "http://user:pass@proxy" -> "http://xxxxx:xxxxx@proxy".
std::string MaskCredentials(std::string url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t at = url.find('@', start);
  size_t slash = url.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  return url.substr(0, start) + "xxxxx:xxxxx" + url.substr(at);
}

std::string ProxyEnv(const char* upper, const char* lower) {
  const char* v = std::getenv(upper);
  if (v == nullptr || *v == '\0') v = std::getenv(lower);
  return v == nullptr ? "" : MaskCredentials(v);
}

bool IsCidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || slash + 1 >= s.size()) return false;
  std::string ip = s.substr(0, slash);
  unsigned char buf[16];
  bool v4 = ::inet_pton(AF_INET, ip.c_str(), buf) == 1;
  bool v6 = !v4 && ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
  if (!v4 && !v6) return false;
  int prefix = 0;
  for (char c : s.substr(slash + 1)) {
    if (c < '0' || c > '9') return false;
    prefix = prefix * 10 + (c - '0');
    if (prefix > 128) return false;
  }
  return prefix <= (v4 ? 32 : 128);
}

std::vector<std::string> Warnings(const HostInfo& h) {
  std::vector<std::string> w;
  const CgroupInfo& c = h.cgroup;
  if (!c.memory_limit) w.emplace_back("WARNING: No memory limit support");
  if (!c.swap_limit) w.emplace_back("WARNING: No swap limit support");
  if (c.version == "1" && !c.kernel_memory_tcp) {
    w.emplace_back("WARNING: No kernel memory TCP limit support");
  }
  if (c.version == "1" && !c.oom_kill_disable) {
    w.emplace_back("WARNING: No oom kill disable support");
  }
  if (!c.cpu_cfs_quota) w.emplace_back("WARNING: No cpu cfs quota support");
  if (!c.cpu_cfs_period) w.emplace_back("WARNING: No cpu cfs period support");
  if (!c.cpu_shares) w.emplace_back("WARNING: No cpu shares support");
  if (!c.cpu_set) w.emplace_back("WARNING: No cpuset support");
  if (!h.ipv4_forwarding) w.emplace_back("WARNING: IPv4 forwarding is disabled");
  if (!h.bridge_nf_iptables) w.emplace_back("WARNING: bridge-nf-call-iptables is disabled");
  if (!h.bridge_nf_ip6tables) w.emplace_back("WARNING: bridge-nf-call-ip6tables is disabled");
  return w;
}

// The engine's answer to /info and /version. Host facts are probed once, on first use, so
// start-up stays fast; counts and the clock are read on every call.
class DaemonSystem : public SystemBackend {
 public:
  DaemonSystem(const Config& config, std::string id, std::string host_root,
               image::ImageStore& images)
      : config_(config), id_(std::move(id)), host_root_(std::move(host_root)), images_(images) {}

  Result<SystemInfo> Info() override {
    SystemInfo info;
    info.id = id_;
    info.counts = ObjectCounts{};
    info.counts.images = images_.Count();
    if (containers_ != nullptr) {
      for (const Container& c : containers_->List()) {
        ++info.counts.containers;
        if (c.state.paused) {
          ++info.counts.paused;
        } else if (c.state.running()) {
          ++info.counts.running;
        } else {
          ++info.counts.stopped;
        }
      }
    }
    info.driver = std::string(kStorageDriver);
    info.driver_status = {{"Backing Filesystem", BackingFilesystem(config_.data_root)}};
    info.root_dir = config_.data_root;
    info.debug = config_.debug || config_.log_level == "debug";
    info.open_fds = CountEntries("/proc/self/fd");
    info.threads = CountEntries("/proc/self/task");
    info.system_time = FormatRfc3339Nano(NowUnixNanos());
    info.host = Host();
    info.registry = MakeRegistryInfo(config_);
    info.http_proxy = ProxyEnv("HTTP_PROXY", "http_proxy");
    info.https_proxy = ProxyEnv("HTTPS_PROXY", "https_proxy");
    info.no_proxy = ProxyEnv("NO_PROXY", "no_proxy");
    info.server_version = std::string(GetBuildInfo().version);
    info.default_runtime = std::string(kRuntimeName);
    info.runtimes = {std::string(kRuntimeName)};
    info.security_options = {"name=seccomp,profile=builtin"};
    if (info.host.cgroup.version == "2") info.security_options.emplace_back("name=cgroupns");
    info.warnings = Warnings(info.host);
    return info;
  }

  VersionInfo Version() override {
    const HostInfo& h = Host();
    return VersionInfo{GetBuildInfo(), "Berth Engine", "linux", h.go_arch, h.kernel_version};
  }

 private:
  const HostInfo& Host() {
    std::call_once(host_once_, [this] { host_ = ProbeHost(host_root_); });
    return host_;
  }

  const Config& config_;
  const std::string id_;
  const std::string host_root_;
  image::ImageStore& images_;

 public:
  ContainerService* containers_ = nullptr;

 private:
  std::once_flag host_once_;
  HostInfo host_;
};

// berth-shim is installed beside berthd (and built beside it).
std::string ShimBinary() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "/usr/local/bin/berth-shim";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/')) + "/berth-shim";
}

}  // namespace

// Tells the image store which images containers use (rmi refuses them without -f).
class ImageUsage : public image::UsageChecker {
 public:
  explicit ImageUsage(ContainerService& containers) : containers_(containers) {}
  std::vector<std::string> ContainersUsing(const oci::Digest& image_id) override {
    return containers_.ContainersUsing(image_id);
  }

 private:
  ContainerService& containers_;
};

RegistryInfo MakeRegistryInfo(const Config& config) {
  RegistryInfo r;
  r.insecure_cidrs.emplace_back("127.0.0.0/8");
  r.mirrors = config.registry_mirrors;
  r.indexes.push_back(IndexInfo{"docker.io", config.registry_mirrors, true, true});
  for (const std::string& entry : config.insecure_registries) {
    if (IsCidr(entry)) {
      if (entry != "127.0.0.0/8") r.insecure_cidrs.push_back(entry);
    } else {
      r.indexes.push_back(IndexInfo{entry, {}, false, false});
    }
  }
  return r;
}

Result<std::unique_ptr<Daemon>> Daemon::Open(Config config, std::string host_root) {
  const std::string& root = config.data_root;
  BERTH_RETURN_IF_ERROR(MakeDirs(root, 0711));
  BERTH_ASSIGN_OR_RETURN(StateLock lock, StateLock::Acquire(root + "/berth.lock"));
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), std::move(lock)));
  const Config& c = d->config_;

  for (std::string_view dir : kLayoutDirs) {
    BERTH_RETURN_IF_ERROR(MakeDirs(c.data_root + "/" + std::string(dir), 0700));
  }
  BERTH_RETURN_IF_ERROR(MakeDirs(c.exec_root, 0700));
  if (!c.pidfile.empty()) {
    BERTH_ASSIGN_OR_RETURN(PidFile pidfile, PidFile::Create(c.pidfile));
    d->pidfile_.emplace(std::move(pidfile));
  }
  BERTH_ASSIGN_OR_RETURN(d->db_, sql::Database::Open(c.data_root + "/meta.db"));
  BERTH_ASSIGN_OR_RETURN(d->id_, LoadOrCreateId(c.data_root + "/engine-id"));

  // Services, in dependency order.
  BERTH_RETURN_IF_ERROR(RemoveAll(c.data_root + "/tmp"));
  BERTH_RETURN_IF_ERROR(MakeDirs(c.data_root + "/tmp", 0700));
  d->sys_ = std::make_unique<sys::LinuxSyscalls>();
  BERTH_ASSIGN_OR_RETURN(d->content_, content::LocalStore::Open(c.data_root + "/content", *d->db_));
  BERTH_ASSIGN_OR_RETURN(d->snapshots_, snapshot::OverlaySnapshotter::Open(c.data_root, *d->db_));
  d->images_ = std::make_unique<image::ImageStore>(
      *d->db_, *d->content_, *d->snapshots_, *d->sys_,
      image::StoreOptions{c.data_root + "/tmp", /*chown=*/::geteuid() == 0, /*boot_id=*/""});
  BERTH_RETURN_IF_ERROR(d->images_->Init());
  d->pull_sink_ = std::make_unique<internal::StorePullSink>(*d->images_);
  BERTH_ASSIGN_OR_RETURN(d->blob_sources_, distribution::BlobSources::Open(*d->db_));
  distribution::PullerOptions po;
  po.sources = d->blob_sources_.get();
  po.temp_dir = c.data_root + "/tmp";
  po.insecure_registries = c.insecure_registries;
  po.max_concurrent_downloads = c.max_concurrent_downloads;
  po.client.certs_dir = c.certs_dir;
  po.client.user_agent = "berth/" + std::string(GetBuildInfo().version);
  po.client.max_recv_speed = c.max_download_speed;
  d->puller_ = std::make_unique<distribution::Puller>(*d->content_, *d->pull_sink_, po);
  d->push_source_ = std::make_unique<internal::StorePushSource>(*d->images_);
  d->pusher_ = std::make_unique<distribution::Pusher>(*d->push_source_, std::move(po));
  BERTH_ASSIGN_OR_RETURN(d->volumes_, volume::VolumeStore::Open(*d->db_, c.data_root + "/volumes",
                                                                nullptr, d->sys_.get()));
  // Nothing is in flight at start and every blob worth keeping is referenced (by an image or
  // a lease), so what an interrupted operation left is collected now, not a day later.
  BERTH_ASSIGN_OR_RETURN(content::GcStats gc, d->content_->GarbageCollect(std::chrono::seconds(0)));
  if (gc.blobs_removed || gc.ingests_removed) {
    spdlog::info("removed {} unreferenced blobs ({} bytes) and {} partial ingests",
                 gc.blobs_removed, gc.bytes_removed, gc.ingests_removed);
  }
  auto system =
      std::make_unique<DaemonSystem>(d->config_, d->id_, std::move(host_root), *d->images_);
  DaemonSystem* system_ptr = system.get();
  d->system_ = std::move(system);

  d->events_ = std::make_unique<EventBus>();
  ContainerServiceOptions co;
  co.events = d->events_.get();
  co.db = d->db_.get();
  co.snapshots = d->snapshots_.get();
  co.images = d->images_.get();
  co.volumes = d->volumes_.get();
  co.sys = d->sys_.get();
  co.data_root = c.data_root;
  co.exec_root = c.exec_root;
  co.shim_binary = ShimBinary();
  co.cgroup_parent = c.cgroup_parent;
  co.init_binary = PathExists("/usr/bin/tini-static") ? "/usr/bin/tini-static" : "";
  co.host_cpus = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  struct utsname u {};
  if (::uname(&u) == 0) co.kernel_release = u.release;
  d->probe_ = std::make_unique<ContainerProbe>(co.cgroup_root, co.cgroup_parent, "/proc");
  BERTH_ASSIGN_OR_RETURN(d->containers_, ContainerService::Open(std::move(co)));
  d->execs_ = std::make_unique<ExecService>(*d->containers_, c.exec_root);
  d->image_usage_ = std::make_unique<ImageUsage>(*d->containers_);
  d->images_->SetUsageChecker(d->image_usage_.get());
  system_ptr->containers_ = d->containers_.get();
  d->container_fs_ = std::make_unique<ContainerFs>(*d->containers_, *d->snapshots_, *d->images_,
                                                   *d->sys_, c.data_root + "/tmp");
  if (auto st = d->containers_->Restore(); !st) {
    spdlog::error("restoring containers: {}", st.error().message);
  }
  // Volumes with mount options that no restored running container holds are unmounted.
  if (auto st = d->volumes_->UnmountIdle(); !st) {
    spdlog::warn("unmounting idle volumes: {}", st.error().message);
  }
  spdlog::info("daemon state at {} (id {})", c.data_root, d->id_);
  return d;
}

Daemon::Daemon(Config config, StateLock lock)
    : config_(std::move(config)), lock_(std::move(lock)) {}

Daemon::~Daemon() {
  if (containers_) containers_->Shutdown();
  if (images_) images_->SetUsageChecker(nullptr);
}

}  // namespace berth::engine
