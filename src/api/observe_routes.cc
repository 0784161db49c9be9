#include "api/observe_routes.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/internal/filters.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "base/strings.h"
#include "engine/container_probe.h"
#include "engine/containers.h"
#include "engine/events.h"

namespace berth::api {
namespace {

using OJson = nlohmann::ordered_json;

// How often a waiting stream checks whether its client is still there.
constexpr std::chrono::milliseconds kPoll(200);

Status ServeEvents(engine::EventBus& bus, Request& req, ResponseWriter& w) {
  BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
  static const std::vector<std::string> kKnown = {
      "container", "image",  "event",  "type", "label",   "scope",  "daemon",
      "network",   "volume", "plugin", "node", "service", "secret", "config"};
  for (const auto& [key, values] : filters) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      return MakeError(Code::kInvalidArgument, fmt::format("invalid filter '{}'", key));
    }
  }
  int64_t since = 0, until = 0;
  if (!req.Query("since").empty()) {
    BERTH_ASSIGN_OR_RETURN(since, ParseEventTime(req.Query("since")));
    since = std::max<int64_t>(since, 1);  // given: the past is wanted, even from 0
  }
  if (!req.Query("until").empty()) {
    BERTH_ASSIGN_OR_RETURN(until, ParseEventTime(req.Query("until")));
    until = std::max<int64_t>(until, 1);
  }
  auto sub = bus.Subscribe(since, until);
  // Headers now, as dockerd flushes them: the client knows it is subscribed.
  BERTH_RETURN_IF_ERROR(w.StartStream(200, "application/json"));
  auto send = [&](const engine::Event& e) -> Status {
    if (!engine::EventMatches(e, filters)) return {};
    return w.Write(EventJson(e).dump() + "\n");
  };
  for (const auto& e : sub.past) BERTH_RETURN_IF_ERROR(send(e));
  while (!w.ClientGone()) {
    std::chrono::milliseconds wait = kPoll;
    if (until != 0) {
      int64_t left = until - bus.Now();
      if (left <= 0) break;
      wait = std::min(wait, std::chrono::milliseconds(left / 1000000 + 1));
    }
    auto e = sub.live->Next(wait);
    if (!e) continue;
    if (until != 0 && e->time_nano > until) break;
    if (since != 0 && e->time_nano < since) continue;
    BERTH_RETURN_IF_ERROR(send(*e));
  }
  return w.End();
}

Status ServeTop(engine::ContainerService& cs, engine::ContainerProbe& probe, Request& req,
                ResponseWriter& w) {
  BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
  if (!c.state.running()) {
    return MakeError(Code::kConflict, fmt::format("Container {} is not running", c.id));
  }
  if (c.state.restarting) {
    return MakeError(Code::kConflict,
                     fmt::format("Container {} is restarting, wait until the container is "
                                 "running",
                                 c.id));
  }
  BERTH_ASSIGN_OR_RETURN(auto pids, probe.Pids(c.id));
  BERTH_ASSIGN_OR_RETURN(auto top, probe.Top(pids, req.Query("ps_args")));
  return w.WriteJson(200, OJson{{"Processes", top.processes}, {"Titles", top.titles}});
}

struct Sample {
  int64_t read = 0;  // unix nanos; 0: none
  runtime::CgroupStats cg;
  engine::HostCpu host;
};

OJson CpuJson(const Sample& s) {
  OJson usage = {
      {"total_usage", s.cg.cpu_usage_ns}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}};
  OJson j = {{"cpu_usage", usage}};
  if (s.host.system_usage_ns) j["system_cpu_usage"] = s.host.system_usage_ns;
  if (s.host.online_cpus) j["online_cpus"] = s.host.online_cpus;
  j["throttling_data"] = {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}};
  return j;
}

// types.StatsJSON, in its Go field order. `pre` may be empty (read == 0).
OJson StatsJson(const engine::Container& c, const Sample& now, const Sample& pre) {
  auto time = [](int64_t ns) {
    return ns == 0 ? std::string("0001-01-01T00:00:00Z") : FormatRfc3339Nano(ns);
  };
  OJson pids = OJson::object();
  if (now.cg.pids_current) pids["current"] = now.cg.pids_current;
  OJson blkio = {{"io_service_bytes_recursive", nullptr}, {"io_serviced_recursive", nullptr},
                 {"io_queue_recursive", nullptr},         {"io_service_time_recursive", nullptr},
                 {"io_wait_time_recursive", nullptr},     {"io_merged_recursive", nullptr},
                 {"io_time_recursive", nullptr},          {"sectors_recursive", nullptr}};
  OJson memory = OJson::object();
  if (now.read != 0) {
    memory["usage"] = now.cg.memory_usage;
    memory["limit"] = now.cg.memory_limit;
  }
  return OJson{{"read", time(now.read)},
               {"preread", time(pre.read)},
               {"pids_stats", pids},
               {"blkio_stats", blkio},
               {"num_procs", 0},
               {"storage_stats", OJson::object()},
               {"cpu_stats", CpuJson(now)},
               {"precpu_stats", CpuJson(pre)},
               {"memory_stats", memory},
               {"name", "/" + c.name},
               {"id", c.id}};
}

Status ServeStats(engine::ContainerService& cs, engine::ContainerProbe& probe, Request& req,
                  ResponseWriter& w) {
  BERTH_ASSIGN_OR_RETURN(auto c, cs.Get(req.Param("name")));
  bool stream = req.QueryBool("stream", true);
  bool one_shot = req.QueryBool("one-shot");
  if (one_shot && stream) {
    return MakeError(Code::kInvalidArgument, "cannot have stream=true and one-shot=true");
  }
  // A sample of a container that is not running is empty, as dockerd's.
  auto take = [&]() -> Result<Sample> {
    Sample s;
    auto current = cs.Get(c.id);
    if (!current || !current->state.running()) return s;
    auto cg = probe.Stats(c.id);
    if (!cg) {
      // It stopped between the two reads: empty too.
      auto again = cs.Get(c.id);
      if (!again || !again->state.running()) return s;
      return cg.error();
    }
    s.cg = *cg;
    BERTH_ASSIGN_OR_RETURN(s.host, probe.ReadHostCpu());
    s.read = NowUnixNanos();
    return s;
  };
  // Waits a second for the next sample; false if the client went away meanwhile.
  auto pause = [&] {
    for (int i = 0; i < 5; ++i) {
      if (w.ClientGone()) return false;
      std::this_thread::sleep_for(kPoll);
    }
    return !w.ClientGone();
  };
  BERTH_ASSIGN_OR_RETURN(Sample pre, take());
  if (!stream) {
    Sample now = pre;
    pre = Sample{};
    // Not one-shot: dockerd waits for a second sample so precpu_stats (and the CLI's CPU %)
    // means something.
    if (!one_shot && now.read != 0 && pause()) {
      pre = now;
      BERTH_ASSIGN_OR_RETURN(now, take());
      if (now.read == 0) pre = Sample{};
    }
    return w.WriteJson(200, StatsJson(c, now, pre));
  }
  BERTH_RETURN_IF_ERROR(w.StartStream(200, "application/json"));
  BERTH_RETURN_IF_ERROR(w.Write(StatsJson(c, pre, Sample{}).dump() + "\n"));
  while (pause()) {
    BERTH_ASSIGN_OR_RETURN(Sample now, take());
    BERTH_RETURN_IF_ERROR(w.Write(StatsJson(c, now, pre).dump() + "\n"));
    pre = now;
  }
  return w.End();
}

}  // namespace

Result<int64_t> ParseEventTime(std::string_view value) {
  auto bad = [&] {
    return MakeError(Code::kInvalidArgument, fmt::format("invalid timestamp: {}", value));
  };
  auto dot = value.find('.');
  std::string_view secs = value.substr(0, dot);
  int64_t s = 0;
  auto [end, ec] = std::from_chars(secs.data(), secs.data() + secs.size(), s);
  if (ec != std::errc() || end != secs.data() + secs.size()) return bad();
  int64_t n = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = value.substr(dot + 1);
    if (frac.empty() || frac.size() > 9) return bad();
    auto [fend, fec] = std::from_chars(frac.data(), frac.data() + frac.size(), n);
    if (fec != std::errc() || fend != frac.data() + frac.size() || n < 0) return bad();
    for (size_t i = frac.size(); i < 9; ++i) n *= 10;
  }
  return s * 1000000000 + n;
}

OJson EventJson(const engine::Event& e) {
  OJson j = OJson::object();
  if (e.type == "container" || e.type == "image") {
    j["status"] = e.action;
    j["id"] = e.actor_id;
    if (e.type == "container") {
      auto it = e.attributes.find("image");
      if (it != e.attributes.end() && !it->second.empty()) j["from"] = it->second;
    }
  }
  j["Type"] = e.type;
  j["Action"] = e.action;
  j["Actor"] = {{"ID", e.actor_id}, {"Attributes", e.attributes}};
  j["scope"] = "local";
  j["time"] = e.time_nano / 1000000000;
  j["timeNano"] = e.time_nano;
  return j;
}

void RegisterEventRoutes(Router& router, engine::EventBus& events) {
  router.Handle("GET", "/events", [&events](Request& req, ResponseWriter& w) -> Status {
    return ServeEvents(events, req, w);
  });
}

void RegisterObserveRoutes(Router& router, engine::ContainerService& cs, engine::EventBus& events,
                           engine::ContainerProbe& probe) {
  RegisterEventRoutes(router, events);
  router.Handle("GET", "/containers/{name}/top",
                [&cs, &probe](Request& req, ResponseWriter& w) -> Status {
                  return ServeTop(cs, probe, req, w);
                });
  router.Handle("GET", "/containers/{name}/stats",
                [&cs, &probe](Request& req, ResponseWriter& w) -> Status {
                  return ServeStats(cs, probe, req, w);
                });
}

}  // namespace berth::api
