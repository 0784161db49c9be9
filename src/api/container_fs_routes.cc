#include "api/container_fs_routes.h"

#include <nlohmann/json.hpp>

#include "api/internal/path_stat.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "engine/container_fs.h"

namespace berth::api {
namespace {

using OJson = nlohmann::ordered_json;
constexpr std::string_view kStatHeader = "X-Docker-Container-Path-Stat";

// Starts the 200 response at the first byte, so an error before it is still a JSON error.
class LazyTarStream : public Writer {
 public:
  explicit LazyTarStream(ResponseWriter& w) : w_(w) {}
  Status Write(std::string_view data) override {
    if (!w_.started()) BERTH_RETURN_IF_ERROR(w_.StartStream(200, "application/x-tar"));
    return w_.Write(data);
  }
  Status Finish() {
    if (!w_.started()) BERTH_RETURN_IF_ERROR(w_.StartStream(200, "application/x-tar"));
    return w_.End();
  }

 private:
  ResponseWriter& w_;
};

Result<std::string> PathQuery(Request& req) {
  std::string path(req.Query("path"));
  if (path.empty()) return MakeError(Code::kInvalidArgument, "path must not be empty");
  return path;
}

}  // namespace

void RegisterContainerFsRoutes(Router& router, engine::ContainerFs& fs) {
  router.Handle("POST", "/commit", [&fs](Request& req, ResponseWriter& w) -> Status {
    engine::CommitRequest cr;
    cr.container = req.Query("container");
    cr.repo = req.Query("repo");
    cr.tag = req.Query("tag");
    cr.comment = req.Query("comment");
    cr.author = req.Query("author");
    cr.pause = req.QueryBool("pause", /*absent=*/true);
    cr.changes = req.QueryAll("changes");
    BERTH_ASSIGN_OR_RETURN(oci::Digest id, fs.Commit(cr));
    return w.WriteJson(201, OJson{{"Id", id.ToString()}});
  });

  router.Handle("GET", "/containers/{name}/changes",
                [&fs](Request& req, ResponseWriter& w) -> Status {
                  BERTH_ASSIGN_OR_RETURN(auto changes, fs.Changes(req.Param("name")));
                  OJson out = OJson::array();
                  for (const archive::Change& c : changes) {
                    out.push_back({{"Path", c.path}, {"Kind", static_cast<int>(c.kind)}});
                  }
                  return w.WriteJson(200, out);
                });

  router.Handle("GET", "/containers/{name}/export",
                [&fs](Request& req, ResponseWriter& w) -> Status {
                  LazyTarStream out(w);
                  BERTH_RETURN_IF_ERROR(fs.Export(req.Param("name"), out));
                  return out.Finish();
                });

  router.Handle("HEAD", "/containers/{name}/archive",
                [&fs](Request& req, ResponseWriter& w) -> Status {
                  BERTH_ASSIGN_OR_RETURN(std::string path, PathQuery(req));
                  BERTH_ASSIGN_OR_RETURN(engine::PathStat st, fs.StatPath(req.Param("name"), path));
                  w.SetHeader(kStatHeader, internal::EncodePathStat(st));
                  return w.WriteEmpty(200);
                });

  router.Handle("GET", "/containers/{name}/archive",
                [&fs](Request& req, ResponseWriter& w) -> Status {
                  BERTH_ASSIGN_OR_RETURN(std::string path, PathQuery(req));
                  LazyTarStream out(w);
                  BERTH_RETURN_IF_ERROR(fs.GetArchive(
                      req.Param("name"), path, [&](const engine::PathStat& st) -> Result<Writer*> {
                        w.SetHeader(kStatHeader, internal::EncodePathStat(st));
                        return &out;
                      }));
                  return out.Finish();
                });

  router.Handle(
      "PUT", "/containers/{name}/archive", [&fs](Request& req, ResponseWriter& w) -> Status {
        BERTH_ASSIGN_OR_RETURN(std::string path, PathQuery(req));
        bool no_overwrite = req.QueryBool("noOverwriteDirNonDir");
        BERTH_RETURN_IF_ERROR(fs.PutArchive(req.Param("name"), path, req.body(), no_overwrite));
        return w.WriteEmpty(200);
      });
}

}  // namespace berth::api
