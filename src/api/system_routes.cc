#include "api/system_routes.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "api/version.h"

namespace berth::api {
namespace {

// Keys in the order dockerd writes them: its Go structs' declaration order (types.Version,
// types.Info, ...); Go maps (Details, IndexConfigs, Runtimes) come out sorted by key.
using Json = nlohmann::ordered_json;

Json Strings(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const std::string& s : v) out.push_back(s);
  return out;
}

Status Ping(Request& req, ResponseWriter& w) {
  w.SetHeader("Cache-Control", "no-cache, no-store, must-revalidate");
  w.SetHeader("Pragma", "no-cache");
  w.SetHeader("Swarm", "inactive");
  // The CLI reads Api-Version (on every response) from HEAD /_ping to negotiate.
  return w.WriteBody(200, "text/plain; charset=utf-8", req.method() == "HEAD" ? "" : "OK");
}

}  // namespace

Json VersionJson(const engine::VersionInfo& v) {
  std::string version(v.build.version);
  std::string commit(v.build.git_commit);
  std::string build_time(v.build.build_time);
  std::string compiler(v.build.compiler);
  Json details = {
      {"ApiVersion", kDefaultApiVersion},
      {"Arch", v.arch},
      {"BuildTime", build_time},
      {"Experimental", "false"},
      {"GitCommit", commit},
      {"GoVersion", compiler},
      {"KernelVersion", v.kernel_version},
      {"MinAPIVersion", kMinApiVersion},
      {"Os", v.os},
  };
  return Json{
      {"Platform", {{"Name", v.platform_name}}},
      {"Components",
       Json::array({{{"Name", "Engine"}, {"Version", version}, {"Details", details}}})},
      {"Version", version},
      {"ApiVersion", kDefaultApiVersion},
      {"MinAPIVersion", kMinApiVersion},
      {"GitCommit", commit},
      {"GoVersion", compiler},
      {"Os", v.os},
      {"Arch", v.arch},
      {"KernelVersion", v.kernel_version},
      {"BuildTime", build_time},
  };
}

Json InfoJson(const engine::SystemInfo& i) {
  const engine::HostInfo& h = i.host;
  const engine::CgroupInfo& cg = h.cgroup;

  Json driver_status = Json::array();
  for (const auto& [k, v] : i.driver_status) driver_status.push_back(Json::array({k, v}));

  std::map<std::string, Json> indexes;  // a Go map: sorted by key
  for (const engine::IndexInfo& idx : i.registry.indexes) {
    indexes[idx.name] = {{"Name", idx.name},
                         {"Mirrors", Strings(idx.mirrors)},
                         {"Secure", idx.secure},
                         {"Official", idx.official}};
  }
  Json index_configs = Json::object();
  for (auto& [name, config] : indexes) index_configs[name] = std::move(config);
  std::set<std::string> runtime_names(i.runtimes.begin(), i.runtimes.end());
  Json runtimes = Json::object();
  for (const std::string& r : runtime_names) runtimes[r] = {{"path", "berthd"}};

  return Json{
      {"ID", i.id},
      {"Containers", i.counts.containers},
      {"ContainersRunning", i.counts.running},
      {"ContainersPaused", i.counts.paused},
      {"ContainersStopped", i.counts.stopped},
      {"Images", i.counts.images},
      {"Driver", i.driver},
      {"DriverStatus", driver_status},
      {"Plugins",
       {{"Volume", Json::array({"local"})},
        {"Network", Json::array({"bridge", "host", "none"})},
        {"Authorization", nullptr},
        {"Log", Json::array({"json-file"})}}},
      {"MemoryLimit", cg.memory_limit},
      {"SwapLimit", cg.swap_limit},
      {"KernelMemoryTCP", cg.kernel_memory_tcp},
      {"CpuCfsPeriod", cg.cpu_cfs_period},
      {"CpuCfsQuota", cg.cpu_cfs_quota},
      {"CPUShares", cg.cpu_shares},
      {"CPUSet", cg.cpu_set},
      {"PidsLimit", cg.pids_limit},
      {"IPv4Forwarding", h.ipv4_forwarding},
      {"BridgeNfIptables", h.bridge_nf_iptables},
      {"BridgeNfIp6tables", h.bridge_nf_ip6tables},
      {"Debug", i.debug},
      {"NFd", i.open_fds},
      {"OomKillDisable", cg.oom_kill_disable},
      {"NGoroutines", i.threads},
      {"SystemTime", i.system_time},
      {"LoggingDriver", "json-file"},
      {"CgroupDriver", "cgroupfs"},
      {"CgroupVersion", cg.version},
      {"NEventsListener", 0},
      {"KernelVersion", h.kernel_version},
      {"OperatingSystem", h.operating_system},
      {"OSVersion", h.os_version},
      {"OSType", "linux"},
      {"Architecture", h.architecture},
      {"IndexServerAddress", "https://index.docker.io/v1/"},
      {"RegistryConfig",
       {{"AllowNondistributableArtifactsCIDRs", nullptr},
        {"AllowNondistributableArtifactsHostnames", nullptr},
        {"InsecureRegistryCIDRs", Strings(i.registry.insecure_cidrs)},
        {"IndexConfigs", index_configs},
        {"Mirrors", Strings(i.registry.mirrors)}}},
      {"NCPU", h.ncpu},
      {"MemTotal", h.mem_total},
      {"GenericResources", nullptr},
      {"DockerRootDir", i.root_dir},
      {"HttpProxy", i.http_proxy},
      {"HttpsProxy", i.https_proxy},
      {"NoProxy", i.no_proxy},
      {"Name", h.hostname},
      {"Labels", Json::array()},
      {"ExperimentalBuild", false},
      {"ServerVersion", i.server_version},
      {"Runtimes", runtimes},
      {"DefaultRuntime", i.default_runtime},
      {"Swarm",
       {{"NodeID", ""},
        {"NodeAddr", ""},
        {"LocalNodeState", "inactive"},
        {"ControlAvailable", false},
        {"Error", ""},
        {"RemoteManagers", nullptr}}},
      {"LiveRestoreEnabled", false},
      {"Isolation", ""},
      {"InitBinary", ""},
      {"ContainerdCommit", {{"ID", ""}, {"Expected", ""}}},
      {"RuncCommit", {{"ID", ""}, {"Expected", ""}}},
      {"InitCommit", {{"ID", ""}, {"Expected", ""}}},
      {"SecurityOptions", Strings(i.security_options)},
      {"Warnings", Strings(i.warnings)},
  };
}

void RegisterSystemRoutes(Router& router, engine::SystemBackend& backend) {
  router.Handle("GET", "/_ping", Ping);
  router.Handle("HEAD", "/_ping", Ping);
  router.Handle("GET", "/version", [&backend](Request&, ResponseWriter& w) {
    return w.WriteJson(200, VersionJson(backend.Version()));
  });
  router.Handle("GET", "/info", [&backend](Request&, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(engine::SystemInfo info, backend.Info());
    return w.WriteJson(200, InfoJson(info));
  });
}

}  // namespace berth::api
