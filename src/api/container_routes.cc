#include "api/container_routes.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/internal/filters.h"
#include "api/internal/splice.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "base/strings.h"
#include "engine/containers.h"
#include "engine/execs.h"
#include "image/image_store.h"
#include "shim/protocol.h"

namespace berth::api {
namespace {

using OJson = nlohmann::ordered_json;
using engine::Container;

std::string Time(int64_t ns) { return ns == 0 ? "0001-01-01T00:00:00Z" : FormatRfc3339Nano(ns); }

OJson ParsedOr(const std::string& text, OJson fallback) {
  OJson j = OJson::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

// Docker's State.String(): what `docker ps` shows in STATUS.
std::string StatusText(const Container& c) {
  const auto& s = c.state;
  int64_t now = NowUnixNanos();
  auto ago = [&](int64_t t) { return HumanDuration((now - t) / 1000000000); };
  if (s.status == "running" || s.status == "paused") {
    std::string text = "Up " + ago(s.started_at);
    if (s.paused) text += " (Paused)";
    return text;
  }
  if (s.status == "restarting") {
    return fmt::format("Restarting ({}) {} ago", s.exit_code, ago(s.finished_at));
  }
  if (s.status == "removing") return "Removal In Progress";
  if (s.status == "dead") return "Dead";
  if (s.status == "created") return "Created";
  if (s.finished_at == 0) return "";
  return fmt::format("Exited ({}) {} ago", s.exit_code, ago(s.finished_at));
}

std::string NetworkMode(const Container& c) {
  return c.host_config.network_mode.empty() ? "default" : c.host_config.network_mode;
}

// Docker's MountPoint list: Name and Driver only for volumes (omitempty).
OJson MountsJson(const Container& c) {
  OJson out = OJson::array();
  for (const engine::MountPoint& m : c.mounts) {
    OJson j;
    j["Type"] = m.type;
    if (!m.name.empty()) j["Name"] = m.name;
    j["Source"] = m.source;
    j["Destination"] = m.destination;
    if (!m.driver.empty()) j["Driver"] = m.driver;
    j["Mode"] = m.mode;
    j["RW"] = m.rw;
    j["Propagation"] = m.propagation;
    out.push_back(std::move(j));
  }
  return out;
}

OJson StateJson(const Container& c) {
  const auto& s = c.state;
  return OJson{{"Status", s.status},
               {"Running", s.running()},
               {"Paused", s.paused},
               {"Restarting", s.restarting},
               {"OOMKilled", s.oom_killed},
               {"Dead", s.dead},
               {"Pid", s.pid},
               {"ExitCode", s.exit_code},
               {"Error", s.error},
               {"StartedAt", Time(s.started_at)},
               {"FinishedAt", Time(s.finished_at)}};
}

// Go's struct order for the objects the client sent (docker decodes them into structs, so its
// output follows the declaration order whatever order the creating client used).
OJson InGoOrder(const OJson& obj, std::initializer_list<const char*> order) {
  if (!obj.is_object()) return obj;
  OJson out = OJson::object();
  for (const char* key : order) {
    if (auto it = obj.find(key); it != obj.end()) out[key] = *it;
  }
  for (const auto& [key, value] : obj.items()) {
    if (!out.contains(key)) out[key] = value;
  }
  return out;
}

OJson ConfigInGoOrder(const OJson& c) {
  return InGoOrder(c, {"Hostname",     "Domainname",  "User",        "AttachStdin",
                       "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
                       "OpenStdin",    "StdinOnce",   "Env",         "Cmd",
                       "Healthcheck",  "ArgsEscaped", "Image",       "Volumes",
                       "WorkingDir",   "Entrypoint",  "NetworkDisabled", "MacAddress",
                       "OnBuild",      "Labels",      "StopSignal",  "StopTimeout",
                       "Shell"});
}

OJson HostConfigInGoOrder(const OJson& h) {
  OJson out = InGoOrder(
      h, {"Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings",
          "RestartPolicy", "AutoRemove", "VolumeDriver", "VolumesFrom", "ConsoleSize",
          "Annotations", "CapAdd", "CapDrop", "CgroupnsMode", "Dns", "DnsOptions", "DnsSearch",
          "ExtraHosts", "GroupAdd", "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode",
          "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt", "StorageOpt",
          "Tmpfs", "UTSMode", "UsernsMode", "ShmSize", "Sysctls", "Runtime", "Isolation",
          "CpuShares", "Memory", "NanoCpus", "CgroupParent", "BlkioWeight",
          "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
          "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota",
          "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Devices",
          "DeviceCgroupRules", "DeviceRequests", "KernelMemory", "KernelMemoryTCP",
          "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable", "PidsLimit",
          "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth",
          "Mounts", "MaskedPaths", "ReadonlyPaths", "Init"});
  if (out.contains("RestartPolicy")) {
    out["RestartPolicy"] = InGoOrder(out["RestartPolicy"], {"Name", "MaximumRetryCount"});
  }
  if (out.contains("LogConfig")) out["LogConfig"] = InGoOrder(out["LogConfig"], {"Type", "Config"});
  return out;
}

OJson InspectJson(const Container& c) {
  OJson j;
  j["Id"] = c.id;
  j["Created"] = Time(c.created);
  j["Path"] = c.path;
  j["Args"] = c.args;
  j["State"] = StateJson(c);
  j["Image"] = c.image_id.ToString();
  j["ResolvConfPath"] = c.bundle + "/resolv.conf";
  j["HostnamePath"] = c.bundle + "/hostname";
  j["HostsPath"] = c.bundle + "/hosts";
  j["LogPath"] = c.log_path;
  j["Name"] = "/" + c.name;
  j["RestartCount"] = c.restart_count;
  j["Driver"] = "overlay2";
  j["Platform"] = "linux";
  j["MountLabel"] = "";
  j["ProcessLabel"] = "";
  j["AppArmorProfile"] = "";
  j["ExecIDs"] = nullptr;
  OJson host = ParsedOr(c.host_config_json, OJson::object());
  if (!host.contains("NetworkMode") || host["NetworkMode"] == "") host["NetworkMode"] = "default";
  if (!host.contains("LogConfig")) {
    host["LogConfig"] = {{"Type", "json-file"}, {"Config", OJson::object()}};
  }
  j["HostConfig"] = HostConfigInGoOrder(host);
  j["GraphDriver"] = {{"Data", nullptr}, {"Name", "overlay2"}};
  j["Mounts"] = MountsJson(c);
  j["Config"] = ConfigInGoOrder(ParsedOr(c.config_json, OJson::object()));
  std::string mode = NetworkMode(c);
  OJson networks = OJson::object();
  if (mode != "host" && mode.rfind("container:", 0) != 0) {
    networks[mode == "default" ? "none" : mode] = {
        {"IPAMConfig", nullptr}, {"Links", nullptr},   {"Aliases", nullptr},
        {"NetworkID", ""},       {"EndpointID", ""},   {"Gateway", ""},
        {"IPAddress", ""},       {"IPPrefixLen", 0},   {"IPv6Gateway", ""},
        {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"MacAddress", ""},
        {"DriverOpts", nullptr}};
  }
  j["NetworkSettings"] = {{"Bridge", ""},
                          {"SandboxID", ""},
                          {"HairpinMode", false},
                          {"LinkLocalIPv6Address", ""},
                          {"LinkLocalIPv6PrefixLen", 0},
                          {"Ports", OJson::object()},
                          {"SandboxKey", ""},
                          {"SecondaryIPAddresses", nullptr},
                          {"SecondaryIPv6Addresses", nullptr},
                          {"EndpointID", ""},
                          {"Gateway", ""},
                          {"GlobalIPv6Address", ""},
                          {"GlobalIPv6PrefixLen", 0},
                          {"IPAddress", ""},
                          {"IPPrefixLen", 0},
                          {"IPv6Gateway", ""},
                          {"MacAddress", ""},
                          {"Networks", networks}};
  return j;
}

OJson SummaryJson(const Container& c, image::ImageStore& images) {
  std::string command = c.path;
  for (const auto& a : c.args) command += " " + a;
  std::string image = c.config.image;
  // Docker shows the image's ID when the name given at create no longer points to it.
  auto resolved = images.Resolve(c.config.image);
  if (!resolved || *resolved != c.image_id) image = c.image_id.ToString();
  OJson labels = OJson::object();
  for (const auto& [k, v] : c.config.labels) labels[k] = v;
  return OJson{{"Id", c.id},
               {"Names", OJson::array({"/" + c.name})},
               {"Image", image},
               {"ImageID", c.image_id.ToString()},
               {"Command", command},
               {"Created", c.created / 1000000000},
               {"Ports", OJson::array()},
               {"Labels", labels},
               {"State", c.state.status},
               {"Status", StatusText(c)},
               {"HostConfig", {{"NetworkMode", NetworkMode(c)}}},
               {"NetworkSettings", {{"Networks", OJson::object()}}},
               {"Mounts", MountsJson(c)}};
}

bool MatchesFilters(const Container& c, const std::map<std::string, std::vector<std::string>>& f,
                    image::ImageStore& images) {
  for (const auto& [key, values] : f) {
    if (values.empty()) continue;
    bool any = false;
    for (const auto& v : values) {
      if (key == "id") {
        any |= c.id.rfind(v, 0) == 0;
      } else if (key == "name") {
        any |= c.name.find(v[0] == '/' ? v.substr(1) : v) != std::string::npos;
      } else if (key == "status") {
        any |= c.state.status == v;
      } else if (key == "exited") {
        any |= c.state.status == "exited" && std::to_string(c.state.exit_code) == v;
      } else if (key == "label") {
        auto eq = v.find('=');
        auto it = c.config.labels.find(v.substr(0, eq));
        any |= it != c.config.labels.end() &&
               (eq == std::string::npos || it->second == v.substr(eq + 1));
      } else if (key == "ancestor") {
        auto id = images.Resolve(v);
        any |= (id && *id == c.image_id) || c.config.image == v;
      } else {
        any = true;  // unknown keys were rejected before
      }
    }
    if (!any) return false;
  }
  return true;
}

Result<std::optional<int>> OptionalInt(Request& req, std::string_view key) {
  if (!req.HasQuery(key) || req.Query(key).empty()) return std::optional<int>();
  BERTH_ASSIGN_OR_RETURN(int64_t v, req.QueryInt(key));
  return std::optional<int>(static_cast<int>(v));
}

Status Create(engine::ContainerService& cs, Request& req, ResponseWriter& w) {
  BERTH_ASSIGN_OR_RETURN(nlohmann::json body, req.ReadJson());
  // The body is Config with HostConfig and NetworkingConfig inside; keep the client's order.
  OJson ordered = OJson::parse(body.dump());
  std::string host = "{}";
  if (ordered.is_object()) {
    if (auto it = ordered.find("HostConfig"); it != ordered.end()) {
      if (!it->is_null()) host = it->dump();
      ordered.erase(it);
    }
    if (auto it = ordered.find("NetworkingConfig"); it != ordered.end()) ordered.erase(it);
  }
  BERTH_ASSIGN_OR_RETURN(auto created, cs.Create(req.Query("name"), ordered.dump(), host));
  return w.WriteJson(201, OJson{{"Id", created.id}, {"Warnings", created.warnings}});
}

}  // namespace

void RegisterContainerRoutes(Router& router, engine::ContainerService& cs,
                             image::ImageStore& images, engine::ExecService* execs) {
  router.Handle("POST", "/containers/create",
                [&cs](Request& req, ResponseWriter& w) -> Status { return Create(cs, req, w); });

  router.Handle("GET", "/containers/json", [&cs, &images](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
    static const std::vector<std::string> kKnown = {"id",    "name",     "status", "exited",
                                                    "label", "ancestor", "before", "since",
                                                    "network", "volume", "health", "is-task",
                                                    "publish", "expose"};
    for (const auto& [key, values] : filters) {
      if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
        return MakeError(Code::kInvalidArgument, fmt::format("invalid filter '{}'", key));
      }
    }
    BERTH_ASSIGN_OR_RETURN(int64_t limit, req.QueryInt("limit", -1));
    bool all = req.QueryBool("all") || limit > 0 || filters.count("status") ||
               filters.count("exited");
    auto list = cs.List();
    std::sort(list.begin(), list.end(),
              [](const Container& a, const Container& b) { return a.created > b.created; });
    OJson out = OJson::array();
    for (const auto& c : list) {
      if (!all && !c.state.running()) continue;
      if (!MatchesFilters(c, filters, images)) continue;
      if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
      out.push_back(SummaryJson(c, images));
    }
    return w.WriteJson(200, out);
  });

  router.Handle("GET", "/containers/{name}/json", [&cs, execs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
    OJson j = InspectJson(c);
    if (c.host_config.network_mode.rfind("container:", 0) == 0) {
      // Its network files are the other one's (dockerd's initializeNetworkingPaths).
      if (auto other = cs.Get(c.host_config.network_mode.substr(10))) {
        j["ResolvConfPath"] = other->bundle + "/resolv.conf";
        j["HostnamePath"] = other->bundle + "/hostname";
        j["HostsPath"] = other->bundle + "/hosts";
      }
    }
    if (execs != nullptr) {
      auto ids = execs->IdsOf(c.id);
      if (!ids.empty()) j["ExecIDs"] = ids;
    }
    return w.WriteJson(200, j);
  });

  router.Handle("POST", "/containers/{name}/start", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
    if (c.state.running()) return w.WriteEmpty(304);
    BERTH_RETURN_IF_ERROR(cs.Start(c.id));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/{name}/stop", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
    if (!c.state.running() && c.state.status != "restarting") return w.WriteEmpty(304);
    BERTH_ASSIGN_OR_RETURN(auto t, OptionalInt(req, "t"));
    BERTH_RETURN_IF_ERROR(cs.Stop(c.id, t, req.Query("signal")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/{name}/restart", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto t, OptionalInt(req, "t"));
    BERTH_RETURN_IF_ERROR(cs.Restart(req.Param("name"), t, req.Query("signal")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/{name}/kill", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(cs.Kill(req.Param("name"), req.Query("signal")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/{name}/pause", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(cs.Pause(req.Param("name")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/{name}/unpause", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(cs.Unpause(req.Param("name")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/{name}/rename", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(cs.Rename(req.Param("name"), req.Query("name")));
    return w.WriteEmpty(204);
  });

  router.Handle("DELETE", "/containers/{name}", [&cs](Request& req, ResponseWriter& w) -> Status {
    if (req.QueryBool("link")) {
      return MakeError(Code::kInvalidArgument, "Conflict, cannot remove the default link name "
                                               "of the container");
    }
    BERTH_RETURN_IF_ERROR(cs.Remove(req.Param("name"), req.QueryBool("force"), req.QueryBool("v")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/containers/prune", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
    (void)filters;
    BERTH_ASSIGN_OR_RETURN(auto removed, cs.Prune());
    return w.WriteJson(200, OJson{{"ContainersDeleted", removed.empty() ? OJson(nullptr)
                                                                         : OJson(removed)},
                                    {"SpaceReclaimed", 0}});
  });

  router.Handle("POST", "/containers/{name}/wait", [&cs](Request& req, ResponseWriter& w) -> Status {
    std::string cond(req.Query("condition"));
    engine::WaitCondition condition = engine::WaitCondition::kNotRunning;
    if (cond == "next-exit") {
      condition = engine::WaitCondition::kNextExit;
    } else if (cond == "removed") {
      condition = engine::WaitCondition::kRemoved;
    } else if (!cond.empty() && cond != "not-running") {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("invalid condition: \"{}\"", cond));
    }
    // Headers once the wait is in place, as dockerd does: a client that reads them before it
    // starts the container (berth does) cannot miss the exit, nor find the container gone.
    bool streaming = false;
    auto r = cs.Wait(
        req.Param("name"), condition, [&w] { return w.ClientGone(); },
        [&]() -> Status {
          streaming = true;
          return w.StartStream(200, "application/json");
        });
    if (!r && !streaming) return r.error();  // no such container: an ordinary error reply
    OJson body;
    if (r) {
      // Error is about the wait itself, never the container's State.Error (dockerd's
      // ContainerWaitResponse): the CLI prints it as "Error waiting for container".
      body = {{"Error", nullptr}, {"StatusCode", r->exit_code}};
    } else {
      body = {{"Error", {{"Message", r.error().message}}}, {"StatusCode", -1}};
    }
    BERTH_RETURN_IF_ERROR(w.Write(body.dump() + "\n"));
    return w.End();
  });

  router.Handle("POST", "/containers/{name}/resize", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(int64_t h, req.QueryInt("h"));
    BERTH_ASSIGN_OR_RETURN(int64_t wd, req.QueryInt("w"));
    if (h < 0 || wd < 0) return MakeError(Code::kInvalidArgument, "invalid size");
    BERTH_RETURN_IF_ERROR(
        cs.Resize(req.Param("name"), static_cast<unsigned>(h), static_cast<unsigned>(wd)));
    return w.WriteEmpty(200);
  });

  router.Handle("POST", "/containers/{name}/attach", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
    if (!req.QueryBool("stream") && !req.QueryBool("logs")) {
      return MakeError(Code::kInvalidArgument, "Bad parameters: you must choose at least one "
                                               "stream");
    }
    bool in = req.QueryBool("stdin") && c.config.open_stdin;
    bool out = req.QueryBool("stdout");
    bool err = req.QueryBool("stderr");
    std::string type = c.config.tty ? "application/vnd.docker.raw-stream"
                                    : "application/vnd.docker.multiplexed-stream";
    if (req.api_version() < "1.42" && req.api_version().size() == 4) {
      type = "application/vnd.docker.raw-stream";
    }
    // Counted before the 101: the client sends start as soon as it has it.
    BERTH_ASSIGN_OR_RETURN(auto reservation, cs.ReserveAttach(c.id));
    auto client = w.Hijack(type);
    if (!client) {
      if (reservation.reserved) cs.CancelAttach(c.id);
      return client.error();
    }
    auto stream = cs.Attach(c.id, in, out, err, reservation);
    if (!stream) {
      // The 101 is out: say what went wrong on the stream, as dockerd does.
      std::string msg = stream.error().message + "\n";
      if (!c.config.tty) {
        (void)(*client)->Write(shim::FrameHeader(shim::StreamType::kStderr,
                                              static_cast<uint32_t>(msg.size())));
      }
      (void)(*client)->Write(msg);
      return {};
    }
    return internal::Splice(**client, stream->get(), in);
  });

  router.Handle("GET", "/containers/{name}/logs", [&cs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
    engine::LogOptions o;
    o.stdout = req.QueryBool("stdout");
    o.stderr = req.QueryBool("stderr");
    if (!o.stdout && !o.stderr) {
      return MakeError(Code::kInvalidArgument,
                       "Bad parameters: you must choose at least one stream");
    }
    o.follow = req.QueryBool("follow");
    o.timestamps = req.QueryBool("timestamps");
    auto parse_time = [&](std::string_view key) -> Result<int64_t> {
      std::string_view v = req.Query(key);
      if (v.empty() || v == "0") return int64_t{0};
      // Seconds with an optional fraction, as the CLI sends after converting --since.
      double secs = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
      if (ec != std::errc() || end != v.data() + v.size()) {
        return MakeError(Code::kInvalidArgument, fmt::format("invalid value for {}: {}", key, v));
      }
      return static_cast<int64_t>(secs * 1e9);
    };
    BERTH_ASSIGN_OR_RETURN(o.since, parse_time("since"));
    BERTH_ASSIGN_OR_RETURN(o.until, parse_time("until"));
    std::string tail(req.Query("tail"));
    if (!tail.empty() && tail != "all") {
      BERTH_ASSIGN_OR_RETURN(o.tail, req.QueryInt("tail", -1));
    }
    bool tty = c.config.tty;
    BERTH_RETURN_IF_ERROR(w.StartStream(200, tty ? "application/vnd.docker.raw-stream"
                                                 : "application/vnd.docker.multiplexed-stream"));
    bool ok = true;
    auto st = cs.Logs(c.id, o, [&](std::string_view stream, std::string_view bytes, int64_t t) {
      std::string payload;
      if (o.timestamps) payload = FormatRfc3339Nano(t) + " ";
      payload.append(bytes);
      std::string chunk;
      if (!tty) {
        chunk = shim::FrameHeader(stream == "stderr" ? shim::StreamType::kStderr
                                                     : shim::StreamType::kStdout,
                                  static_cast<uint32_t>(payload.size()));
      }
      chunk += payload;
      ok = static_cast<bool>(w.Write(chunk)) && !w.ClientGone();
      return ok;
    });
    if (!st && ok) return st;  // after the headers: the server cuts the connection
    return w.End();
  });
}

}  // namespace berth::api
