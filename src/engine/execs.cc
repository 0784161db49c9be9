#include "engine/execs.h"

#include <map>

#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "engine/container_config.h"
#include "engine/containers.h"
#include "engine/internal/exec_store.h"
#include "oci/runtime_spec.h"
#include "runtime/capabilities.h"
#include "shim/client.h"
#include "shim/protocol.h"

namespace berth::engine {

using internal::ExecRecord;

namespace {

Error NoSuchExec(std::string_view id) {
  return MakeError(Code::kNotFound, fmt::format("No such exec instance: {}", id));
}

// The image's layer dirs, top first, for ResolveUser: the overlay's upperdir and lowerdirs as
// the shim mounts them (shim.json).
Result<std::vector<std::string>> LayerDirsOf(const std::string& bundle) {
  BERTH_ASSIGN_OR_RETURN(std::string text,
                         ReadFile(bundle + "/" + std::string(shim::kOptionsFile)));
  BERTH_ASSIGN_OR_RETURN(shim::ShimOptions so, shim::ParseOptions(text));
  std::vector<std::string> upper;
  std::vector<std::string> lower;
  for (const auto& m : so.rootfs_mounts) {
    for (const auto& opt : m.options) {
      if (opt.rfind("upperdir=", 0) == 0) upper.push_back(opt.substr(9));
      if (opt.rfind("lowerdir=", 0) == 0) {
        for (auto& d : Split(opt.substr(9), ':')) lower.push_back(d);
      }
    }
    if (m.type == "bind") lower.push_back(m.source);
  }
  upper.insert(upper.end(), lower.begin(), lower.end());
  return upper;
}

// env: the container's, then the exec's; a later KEY replaces an earlier one in place.
std::vector<std::string> MergeEnv(std::vector<std::string> base,
                                  const std::vector<std::string>& extra) {
  for (const auto& kv : extra) {
    std::string key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (auto& b : base) {
      if (b.substr(0, b.find('=')) == key) {
        b = kv;
        replaced = true;
        break;
      }
    }
    if (!replaced) base.push_back(kv);
  }
  return base;
}

}  // namespace

struct ExecService::Impl {
  Impl(ContainerService& c, std::string root, std::function<int64_t()> now, int64_t ttl)
      : containers(c), exec_root(std::move(root)), store(std::move(now), ttl) {}
  ContainerService& containers;
  std::string exec_root;
  std::mutex mu;  // guards `store` and every record's fields
  internal::ExecStore store;

  // Drops what has expired or lost its container; then the record, if still there.
  Result<std::shared_ptr<ExecRecord>> Find(std::string_view id) {
    std::lock_guard lock(mu);
    PruneLocked();
    auto r = store.Find(id);
    if (!r) return NoSuchExec(id);
    return r;
  }
  void PruneLocked() {
    store.Prune([this](const std::string& container_id) {
      auto c = containers.Get(container_id);
      return c.has_value() || c.error().code != Code::kNotFound;
    });
  }
  // Asks the shim about a started exec not yet known to have ended; `lock` holds `mu`.
  void Refresh(ExecRecord& r, std::unique_lock<std::mutex>& lock);
  Result<oci::Process> BuildProcess(const ExecRecord& r);
};

void ExecService::Impl::Refresh(ExecRecord& r, std::unique_lock<std::mutex>& lock) {
  if (!r.info.running) return;
  std::string run_dir = r.run_dir;
  std::string id = r.info.id;
  lock.unlock();
  shim::Client client(run_dir);
  auto st = client.ExecStatus(id);
  lock.lock();
  if (!r.info.running) return;  // another caller got there first
  if (st) {
    r.info.pid = st->pid;
    if (!st->running) {
      r.info.running = false;
      r.info.exit_code = st->exit_code;
      store.MarkEnded(r);
    }
  } else if (st.error().code == Code::kUnavailable) {
    // The container (and its shim) ended: its processes were killed with it.
    r.info.running = false;
    if (!r.info.exit_code) r.info.exit_code = 137;
    store.MarkEnded(r);
  }
}

ExecService::ExecService(ContainerService& containers, std::string exec_root,
                         std::function<int64_t()> now, int64_t ended_ttl_ns)
    : impl_(std::make_unique<Impl>(containers, std::move(exec_root),
                                   now ? std::move(now) : std::function<int64_t()>(NowUnixNanos),
                                   ended_ttl_ns > 0 ? ended_ttl_ns
                                                    : internal::ExecStore::kDefaultEndedTtl)) {}

ExecService::~ExecService() = default;

Result<std::string> ExecService::Create(std::string_view container_ref, const ExecConfig& config) {
  BERTH_ASSIGN_OR_RETURN(Container c, impl_->containers.Get(container_ref));
  if (c.state.paused || c.state.status == "paused") {
    return MakeError(
        Code::kConflict,
        fmt::format("Container {} is paused, unpause the container before exec", c.id));
  }
  if (!c.state.running()) {
    return MakeError(Code::kConflict, fmt::format("Container {} is not running", c.id));
  }
  if (config.cmd.empty()) {
    return MakeError(Code::kInvalidArgument, "No exec command specified");
  }
  auto r = std::make_shared<ExecRecord>();
  r->info.id = RandomHex(32);
  r->info.container_id = c.id;
  r->info.config = config;
  r->info.entrypoint = config.cmd[0];
  r->info.arguments.assign(config.cmd.begin() + 1, config.cmd.end());
  r->info.user = config.user;
  r->run_dir = impl_->exec_root + "/containers/" + c.id;
  r->bundle = c.bundle;
  std::string id = r->info.id;
  std::lock_guard lock(impl_->mu);
  impl_->PruneLocked();
  impl_->store.Add(std::move(r));
  return id;
}

Result<oci::Process> ExecService::Impl::BuildProcess(const ExecRecord& r) {
  BERTH_ASSIGN_OR_RETURN(std::string config,
                         ReadFile(r.bundle + "/" + std::string(shim::kConfigFile)));
  BERTH_ASSIGN_OR_RETURN(oci::RuntimeSpec spec, oci::ParseRuntimeSpec(config));
  const ExecConfig& x = r.info.config;
  oci::Process p = spec.process;
  p.terminal = x.tty;
  p.console_size.reset();
  if (x.tty && x.console_size) {
    p.console_size = oci::ConsoleSize{x.console_size->first, x.console_size->second};
  }
  p.args = x.cmd;
  p.env = MergeEnv(spec.process.env, x.env);
  if (!x.working_dir.empty()) p.cwd = x.working_dir;
  if (!x.user.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto layers, LayerDirsOf(r.bundle));
    BERTH_ASSIGN_OR_RETURN(p.user, ResolveUser(x.user, layers));
  }
  if (x.privileged) {
    auto all = runtime::AllCapabilities();
    p.capabilities = oci::LinuxCapabilities{all, all, {}, all, {}};
  }
  // The init's score was applied to the init; the exec inherits nothing from it.
  p.oom_score_adj.reset();
  return p;
}

Result<UniqueFd> ExecService::Start(std::string_view exec_id, bool detach,
                                    std::optional<std::pair<unsigned, unsigned>> console_size) {
  BERTH_ASSIGN_OR_RETURN(auto r, impl_->Find(exec_id));
  {
    std::lock_guard lock(impl_->mu);
    if (r->info.started) {
      return MakeError(Code::kConflict,
                       fmt::format("Error: Exec command {} has already run", r->info.id));
    }
    r->info.started = true;
    if (console_size) r->info.config.console_size = console_size;
  }
  BERTH_ASSIGN_OR_RETURN(Container c, impl_->containers.Get(r->info.container_id));
  if (!c.state.running()) {
    return MakeError(Code::kConflict, fmt::format("Container {} is not running", c.id));
  }
  auto process = impl_->BuildProcess(*r);
  if (!process) {
    std::lock_guard lock(impl_->mu);
    r->info.exit_code = 126;
    impl_->store.MarkEnded(*r);
    return process.error();
  }
  shim::Client client(r->run_dir);
  bool in = r->info.config.attach_stdin && !detach;
  const ExecConfig& xc = r->info.config;
  auto fd = client.Exec(r->info.id, oci::SerializeProcess(*process), in, xc.attach_stdout,
                        xc.attach_stderr);
  if (!fd) {
    std::lock_guard lock(impl_->mu);
    r->info.exit_code = fd.error().code == Code::kNotFound ? 127 : 126;
    impl_->store.MarkEnded(*r);
    return fd.error();
  }
  {
    std::lock_guard lock(impl_->mu);
    r->info.running = true;
  }
  if (detach) return UniqueFd();
  return fd;
}

Result<ExecInfo> ExecService::Inspect(std::string_view exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto r, impl_->Find(exec_id));
  std::unique_lock lock(impl_->mu);
  impl_->Refresh(*r, lock);
  return r->info;
}

Status ExecService::Resize(std::string_view exec_id, unsigned height, unsigned width) {
  BERTH_ASSIGN_OR_RETURN(auto r, impl_->Find(exec_id));
  std::string run_dir;
  {
    std::lock_guard lock(impl_->mu);
    if (!r->info.running) {
      return MakeError(Code::kConflict, fmt::format("Exec {} is not running", r->info.id));
    }
    run_dir = r->run_dir;
  }
  shim::Client client(run_dir);
  return client.Resize(height, width, r->info.id);
}

std::vector<std::string> ExecService::IdsOf(std::string_view container_id) {
  std::unique_lock lock(impl_->mu);
  // An exec nobody inspected (-d) may have ended: ask its shim before listing it.
  for (const std::string& id : impl_->store.LiveIdsOf(container_id)) {
    if (auto r = impl_->store.Find(id)) impl_->Refresh(*r, lock);
  }
  return impl_->store.LiveIdsOf(container_id);
}

}  // namespace berth::engine
