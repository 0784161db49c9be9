#include "api/volume_routes.h"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/internal/filters.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"

namespace berth::api {
namespace {

using OJson = nlohmann::ordered_json;
using FilterMap = std::map<std::string, std::vector<std::string>>;

// Go's time.Time.Format(time.RFC3339) of a UTC time: seconds, "Z".
std::string CreatedAt(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  struct tm tm {};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

OJson StringMap(const std::map<std::string, std::string>& m) {
  if (m.empty()) return nullptr;  // a nil Go map
  OJson j = OJson::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

Status CheckKeys(const FilterMap& filters, std::initializer_list<const char*> allowed) {
  for (const auto& [key, values] : filters) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) return MakeError(Code::kInvalidArgument, fmt::format("invalid filter '{}'", key));
  }
  return Ok();
}

Result<bool> BoolFilter(const std::string& key, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return MakeError(Code::kInvalidArgument, fmt::format("invalid filter '{}={}'", key, value));
}

Result<volume::ListFilter> ListFilterFrom(const FilterMap& filters) {
  BERTH_RETURN_IF_ERROR(CheckKeys(filters, {"dangling", "name", "driver", "label"}));
  volume::ListFilter f;
  if (auto it = filters.find("dangling"); it != filters.end()) {
    for (const std::string& v : it->second) {
      BERTH_ASSIGN_OR_RETURN(bool b, BoolFilter("dangling", v));
      f.dangling = b;
    }
  }
  if (auto it = filters.find("name"); it != filters.end()) f.names = it->second;
  if (auto it = filters.find("driver"); it != filters.end()) f.drivers = it->second;
  if (auto it = filters.find("label"); it != filters.end()) f.labels = it->second;
  return f;
}

Result<std::map<std::string, std::string>> StringMapFrom(const nlohmann::json& body,
                                                         const char* key) {
  std::map<std::string, std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return MakeError(Code::kInvalidArgument, fmt::format("{} must be an object", key));
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return MakeError(Code::kInvalidArgument, fmt::format("{}.{} must be a string", key, k));
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

OJson VolumeJson(const volume::Volume& v) {
  return OJson{{"CreatedAt", CreatedAt(v.created_at)},
               {"Driver", v.driver},
               {"Labels", StringMap(v.labels)},
               {"Mountpoint", v.mountpoint},
               {"Name", v.name},
               {"Options", StringMap(v.options)},
               {"Scope", "local"}};
}

void RegisterVolumeRoutes(Router& router, volume::VolumeStore& volumes) {
  router.Handle("POST", "/volumes/create", [&volumes](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(nlohmann::json body, req.ReadJson());
    if (!body.is_object()) return MakeError(Code::kInvalidArgument, "invalid JSON: not an object");
    volume::CreateOptions opts;
    auto str = [&](const char* key) -> std::string {
      auto it = body.find(key);
      return it != body.end() && it->is_string() ? it->get<std::string>() : "";
    };
    opts.name = str("Name");
    opts.driver = str("Driver");
    BERTH_ASSIGN_OR_RETURN(opts.labels, StringMapFrom(body, "Labels"));
    BERTH_ASSIGN_OR_RETURN(opts.options, StringMapFrom(body, "DriverOpts"));
    BERTH_ASSIGN_OR_RETURN(volume::Volume v, volumes.Create(opts));
    return w.WriteJson(201, VolumeJson(v));
  });

  router.Handle("GET", "/volumes", [&volumes](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
    BERTH_ASSIGN_OR_RETURN(volume::ListFilter f, ListFilterFrom(filters));
    BERTH_ASSIGN_OR_RETURN(auto list, volumes.List(f));
    OJson items = OJson::array();
    for (const volume::Volume& v : list) items.push_back(VolumeJson(v));
    return w.WriteJson(200, OJson{{"Volumes", items}, {"Warnings", nullptr}});
  });

  router.Handle("GET", "/volumes/{name}", [&volumes](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(volume::Volume v, volumes.Get(std::string(req.Param("name"))));
    return w.WriteJson(200, VolumeJson(v));
  });

  router.Handle("DELETE", "/volumes/{name}", [&volumes](Request& req, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(volumes.Remove(std::string(req.Param("name")), req.QueryBool("force")));
    return w.WriteEmpty(204);
  });

  router.Handle("POST", "/volumes/prune", [&volumes](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
    BERTH_RETURN_IF_ERROR(CheckKeys(filters, {"label", "all"}));
    bool all = false;
    if (auto it = filters.find("all"); it != filters.end()) {
      for (const std::string& v : it->second) {
        BERTH_ASSIGN_OR_RETURN(all, BoolFilter("all", v));
      }
    }
    std::vector<std::string> labels;
    if (auto it = filters.find("label"); it != filters.end()) labels = it->second;
    BERTH_ASSIGN_OR_RETURN(volume::PruneReport report, volumes.Prune(all, labels));
    return w.WriteJson(200, OJson{{"VolumesDeleted", report.deleted.empty()
                                                         ? OJson(nullptr)
                                                         : OJson(report.deleted)},
                                  {"SpaceReclaimed", report.space_reclaimed}});
  });
}

}  // namespace berth::api
