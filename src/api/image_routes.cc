#include "api/image_routes.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/internal/filters.h"
#include "api/internal/url_reader.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "base/strings.h"
#include "distribution/auth.h"
#include "distribution/puller.h"
#include "distribution/pusher.h"
#include "engine/events.h"
#include "oci/platform.h"
#include "oci/reference.h"

namespace berth::api {
namespace {

// Keys in the order Docker's Go structs declare them (encoding/json writes fields in
// declaration order; only Go maps come out sorted). Swagger-generated types such as
// ImageSummary and HistoryResponseItem declare theirs alphabetically.
using Json = nlohmann::ordered_json;

std::string Rfc3339FromUnixNanos(int64_t ns) {
  if (ns == 0) return "0001-01-01T00:00:00Z";
  return FormatRfc3339Nano(ns);
}

Json StringsOrNull(const std::optional<std::vector<std::string>>& v) {
  if (!v) return nullptr;
  return Json(*v);
}

Json SetAsObject(const std::set<std::string>& s) {
  if (s.empty()) return nullptr;
  Json o = Json::object();
  for (const std::string& k : s) o[k] = Json::object();
  return o;
}

// Docker's container.Config as the image inspect shows it, fields in its declaration order.
Json ContainerConfigJson(const oci::ContainerConfig& c) {
  Json j = Json::object();
  j["Hostname"] = "";
  j["Domainname"] = "";
  j["User"] = c.user;
  j["AttachStdin"] = false;
  j["AttachStdout"] = false;
  j["AttachStderr"] = false;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = SetAsObject(c.exposed_ports);
  j["Tty"] = false;
  j["OpenStdin"] = false;
  j["StdinOnce"] = false;
  j["Env"] = c.env.empty() ? Json(nullptr) : Json(c.env);
  j["Cmd"] = StringsOrNull(c.cmd);
  if (c.args_escaped) j["ArgsEscaped"] = true;
  j["Image"] = "";
  j["Volumes"] = SetAsObject(c.volumes);
  j["WorkingDir"] = c.working_dir;
  j["Entrypoint"] = StringsOrNull(c.entrypoint);
  j["OnBuild"] = c.on_build.empty() ? Json(nullptr) : Json(c.on_build);
  j["Labels"] = c.labels.empty() ? Json(nullptr) : Json(c.labels);
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (!c.shell.empty()) j["Shell"] = c.shell;
  return j;
}

std::vector<std::string> Familiar(const std::vector<oci::Reference>& refs) {
  std::vector<std::string> out;
  for (const oci::Reference& r : refs) out.push_back(r.FamiliarString());
  return out;
}

Result<image::ListFilters> ListFiltersFrom(Request& req) {
  image::ListFilters f;
  f.all = req.QueryBool("all");
  BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
  for (auto& [key, values] : filters) {
    if (key == "dangling") {
      for (const std::string& v : values) {
        if (v == "true" || v == "1") {
          f.dangling = true;
        } else if (v == "false" || v == "0") {
          f.dangling = false;
        } else {
          return MakeError(Code::kInvalidArgument, "invalid filter 'dangling=" + v + "'");
        }
      }
    } else if (key == "label") {
      f.labels = values;
    } else if (key == "reference") {
      f.references = values;
    } else if (key == "before") {
      if (!values.empty()) f.before = values[0];
    } else if (key == "since") {
      if (!values.empty()) f.since = values[0];
    } else {
      return MakeError(Code::kInvalidArgument, "invalid filter '" + key + "'");
    }
  }
  return f;
}

Json DeleteItemsJson(const std::vector<image::DeleteItem>& items) {
  Json out = Json::array();
  for (const image::DeleteItem& d : items) {
    if (!d.untagged.empty()) out.push_back({{"Untagged", d.untagged}});
    if (!d.deleted.empty()) out.push_back({{"Deleted", d.deleted}});
  }
  return out;
}

// Starts a stream on the first write, so that an error found before any output is still a
// proper HTTP error status.
class LazyStream : public Writer {
 public:
  LazyStream(ResponseWriter& w, std::string content_type)
      : w_(w), content_type_(std::move(content_type)) {}
  Status Write(std::string_view data) override {
    if (!w_.started()) BERTH_RETURN_IF_ERROR(w_.StartStream(200, content_type_));
    return w_.Write(data);
  }
  Status Finish() {
    if (!w_.started()) BERTH_RETURN_IF_ERROR(w_.StartStream(200, content_type_));
    return w_.End();
  }

 private:
  ResponseWriter& w_;
  std::string content_type_;
};

// Docker's JSON progress stream for pull and push, started on the first message (an error
// before it is an HTTP error; after it, the stream's last message). A client that goes away
// does not stop the operation.
class ProgressStream {
 public:
  explicit ProgressStream(ResponseWriter& w) : w_(w), out_(w, "application/json") {}
  void Send(const distribution::ProgressMessage& m) {
    if (gone_) return;
    Json j = Json::object();
    if (!m.status.empty() || m.aux.empty()) j["status"] = m.status;
    if (m.has_detail) {
      Json detail = Json::object();
      if (m.current >= 0) detail["current"] = m.current;
      if (m.total >= 0) detail["total"] = m.total;
      j["progressDetail"] = detail;
    }
    if (!m.id.empty()) j["id"] = m.id;
    if (!m.aux.empty()) j["aux"] = Json::parse(m.aux, nullptr, false);
    if (!out_.Write(j.dump() + "\r\n")) gone_ = true;
  }
  Status Fail(Error e) {
    if (!w_.started()) return e;
    if (!gone_) {
      (void)out_.Write(
          Json{{"errorDetail", {{"message", e.message}}}, {"error", e.message}}.dump() + "\r\n");
    }
    return out_.Finish();
  }
  Status Finish() { return out_.Finish(); }

 private:
  ResponseWriter& w_;
  LazyStream out_;
  bool gone_ = false;
};

// dockerd's LogImageEvent: the image's labels and `name` (a reference or the ID).
void EmitImage(engine::EventBus* events, image::ImageStore& images, const std::string& id,
               const std::string& name, const char* action) {
  if (events == nullptr) return;
  engine::Event e{"image", action, id, {}, 0};
  if (auto img = images.Get(id)) {
    e.attributes.insert(img->config.config.labels.begin(), img->config.config.labels.end());
  }
  e.attributes["name"] = name;
  events->Publish(std::move(e));
}

// dockerd's save event: the image's ID, named as it was asked for.
void EmitSave(engine::EventBus* events, image::ImageStore& images, const std::string& name) {
  if (auto id = images.Resolve(name)) EmitImage(events, images, id->ToString(), name, "save");
}

Status StreamMessages(ResponseWriter& w, const std::vector<Json>& messages) {
  BERTH_RETURN_IF_ERROR(w.StartStream(200, "application/json"));
  for (const Json& m : messages) BERTH_RETURN_IF_ERROR(w.Write(m.dump() + "\r\n"));
  return w.End();
}

Status Import(image::ImageStore& images, engine::EventBus* events, Request& req,
              ResponseWriter& w) {
  std::string src(req.Query("fromSrc"));
  image::ImportOptions opts;
  opts.source = src;
  opts.message = std::string(req.Query("message"));
  opts.changes = req.QueryAll("changes");
  std::string repo(req.Query("repo"));
  if (!repo.empty()) {
    Result<oci::Reference> ref = oci::RepoTagReference(repo, req.Query("tag"));
    if (!ref) return std::move(ref).error();
    if (ref->has_name()) opts.tag = *ref;
  }
  if (std::string_view p = req.Query("platform"); !p.empty()) {
    BERTH_ASSIGN_OR_RETURN(oci::Platform platform, oci::ParsePlatform(p));
    opts.platform = platform;
  }
  Result<image::Image> img = [&]() -> Result<image::Image> {
    if (src == "-") return images.Import(req.body(), opts);
    std::string url = src;
    if (url.find("://") == std::string::npos) url = "http://" + url;
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Reader> body, internal::OpenUrl(url));
    return images.Import(*body, opts);
  }();
  if (!img) return std::move(img).error();
  std::string id = img->id.ToString();
  if (opts.tag) EmitImage(events, images, id, opts.tag->FamiliarString(), "tag");
  EmitImage(events, images, id, id, "import");
  return StreamMessages(w, {Json{{"status", img->id.ToString()}}});
}

// docker pull: POST /images/create?fromImage=NAME&tag=TAG|DIGEST[&platform=]. Progress goes out
// as JSON messages once the registry has answered; an error before that is an HTTP error, one
// after it the stream's last message ({"errorDetail":{"message"},"error"}), as dockerd does.
Status Pull(distribution::Puller* puller, image::ImageStore& images, engine::EventBus* events,
            Request& req, ResponseWriter& w) {
  if (puller == nullptr) {
    return MakeError(Code::kNotImplemented, "pulling from a registry is not configured");
  }
  // No tag (and none in fromImage): every tag of the repository (pull -a).
  BERTH_ASSIGN_OR_RETURN(oci::Reference ref, oci::ImageTagOrDigestReference(
                                                 req.Query("fromImage"), req.Query("tag")));
  distribution::PullOptions opts;
  opts.platform = oci::HostPlatform();
  if (std::string_view p = req.Query("platform"); !p.empty()) {
    BERTH_ASSIGN_OR_RETURN(opts.platform, oci::ParsePlatform(p));
  }
  Result<distribution::AuthConfig> auth =
      distribution::DecodeRegistryAuth(req.Header("X-Registry-Auth"));
  if (!auth) return std::move(auth).error();
  opts.auth = std::move(*auth);
  ProgressStream out(w);
  opts.progress = [&out](const distribution::ProgressMessage& m) { out.Send(m); };
  Result<distribution::PullResult> pulled =
      ref.IsNameOnly() ? puller->PullAllTags(ref, opts) : puller->Pull(ref, opts);
  if (!pulled) return out.Fail(std::move(pulled).error());
  EmitImage(events, images, pulled->image_id.ToString(), ref.FamiliarString(), "pull");
  return out.Finish();
}

// docker push: POST /images/{name}/push?tag=TAG (no tag: every tag of the repository).
Status Push(distribution::Pusher* pusher, image::ImageStore& images, engine::EventBus* events,
            Request& req, ResponseWriter& w) {
  if (pusher == nullptr) {
    return MakeError(Code::kNotImplemented, "pushing to a registry is not configured");
  }
  BERTH_ASSIGN_OR_RETURN(oci::Reference ref, oci::ParseNormalizedNamed(req.Param("name")));
  if (!ref.IsNameOnly()) {
    return MakeError(Code::kInvalidArgument, "push: the name must not carry a tag or digest");
  }
  if (std::string_view tag = req.Query("tag"); !tag.empty()) {
    BERTH_ASSIGN_OR_RETURN(ref, ref.WithTag(tag));
  }
  Result<distribution::AuthConfig> auth =
      distribution::DecodeRegistryAuth(req.Header("X-Registry-Auth"));
  if (!auth) return std::move(auth).error();
  ProgressStream out(w);
  Status pushed = pusher->Push(ref, *auth, [&out](const distribution::ProgressMessage& m) {
    out.Send(m);
  });
  if (!pushed) return out.Fail(std::move(pushed).error());
  if (auto id = images.Resolve(ref.String())) {
    EmitImage(events, images, id->ToString(), ref.FamiliarString(), "push");
  }
  return out.Finish();
}

}  // namespace

Json ImageSummaryJson(const image::Image& img) {
  std::vector<std::string> tags = Familiar(img.tags);
  std::vector<std::string> digests = Familiar(img.repo_digests);
  if (tags.empty() && digests.empty()) {
    tags = {"<none>:<none>"};
    digests = {"<none>@<none>"};
  }
  // types.ImageSummary (generated from the swagger spec: fields sorted by name).
  return Json{
      {"Containers", -1},
      {"Created", img.created_unix},
      {"Id", img.id.ToString()},
      {"Labels",
       img.config.config.labels.empty() ? Json::object() : Json(img.config.config.labels)},
      {"ParentId", ""},
      {"RepoDigests", digests},
      {"RepoTags", tags},
      {"SharedSize", -1},
      {"Size", img.size},
      {"VirtualSize", img.size},
  };
}

Json HistoryItemJson(const image::HistoryItem& h) {
  // image.HistoryResponseItem, generated from the swagger spec: fields sorted by name.
  return Json{
      {"Comment", h.comment},
      {"Created", h.created},
      {"CreatedBy", h.created_by},
      {"Id", h.id},
      {"Size", h.size},
      {"Tags", h.tags.empty() ? Json(nullptr) : Json(h.tags)},
  };
}

Json ImageInspectJson(const image::Image& img) {
  const oci::ImageConfig& c = img.config;
  std::string comment;
  if (auto it = c.extra.find("comment"); it != c.extra.end()) {
    Json v = Json::parse(it->second, nullptr, false);
    if (v.is_string()) comment = v.get<std::string>();
  }
  std::string docker_version;
  if (auto it = c.extra.find("docker_version"); it != c.extra.end()) {
    Json v = Json::parse(it->second, nullptr, false);
    if (v.is_string()) docker_version = v.get<std::string>();
  }
  Json layers = Json::array();
  for (const oci::Digest& d : c.rootfs.diff_ids) layers.push_back(d.ToString());
  int64_t created_ns = 0;
  std::string created = c.created;
  if (ParseRfc3339(c.created, &created_ns)) created = FormatRfc3339Nano(created_ns);
  if (created.empty()) created = "0001-01-01T00:00:00Z";
  Json j = {
      {"Id", img.id.ToString()},
      {"RepoTags", Familiar(img.tags)},
      {"RepoDigests", Familiar(img.repo_digests)},
      {"Parent", ""},
      {"Comment", comment},
      {"Created", created},
      {"Container", ""},
      {"ContainerConfig", ContainerConfigJson(oci::ContainerConfig{})},
      {"DockerVersion", docker_version},
      {"Author", c.author},
      {"Config", ContainerConfigJson(c.config)},
      {"Architecture", c.architecture},
  };
  if (!c.variant.empty()) j["Variant"] = c.variant;
  j["Os"] = c.os;
  if (!c.os_version.empty()) j["OsVersion"] = c.os_version;
  j["Size"] = img.size;
  j["VirtualSize"] = img.size;
  // GraphDriverData is generated (sorted); RootFS and Metadata are declared in this order.
  j["GraphDriver"] = {{"Data", nullptr}, {"Name", "overlay2"}};
  j["RootFS"] = {{"Type", c.rootfs.type}, {"Layers", layers}};
  j["Metadata"] = {{"LastTagTime", Rfc3339FromUnixNanos(img.last_tag_time_ns)}};
  return j;
}

void RegisterImageRoutes(Router& router, image::ImageStore& images, engine::EventBus* events,
                         distribution::Puller* puller, distribution::Pusher* pusher) {
  router.Handle("GET", "/images/json", [&images](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(image::ListFilters f, ListFiltersFrom(req));
    BERTH_ASSIGN_OR_RETURN(std::vector<image::Image> list, images.List(f));
    Json out = Json::array();
    for (const image::Image& img : list) out.push_back(ImageSummaryJson(img));
    return w.WriteJson(200, out);
  });

  router.Handle("POST", "/images/create",
                [&images, events, puller](Request& req, ResponseWriter& w) -> Status {
    if (req.HasQuery("fromSrc")) return Import(images, events, req, w);
    if (req.HasQuery("fromImage")) return Pull(puller, images, events, req, w);
    return MakeError(Code::kInvalidArgument, "fromSrc or fromImage is required");
  });

  // docker login: the daemon checks the credentials against the registry (GET /v2/ through its
  // auth challenge); the CLI stores them. {"IdentityToken":"","Status":"Login Succeeded"}.
  router.Handle("POST", "/auth", [puller](Request& req, ResponseWriter& w) -> Status {
    if (puller == nullptr) {
      return MakeError(Code::kNotImplemented, "registry access is not configured");
    }
    BERTH_ASSIGN_OR_RETURN(nlohmann::json body, req.ReadJson());
    if (!body.is_object()) return MakeError(Code::kInvalidArgument, "auth: expected an object");
    distribution::AuthConfig auth;
    auto str = [&](const char* key) {
      auto it = body.find(key);
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auth.username = str("username");
    auth.password = str("password");
    auth.server_address = str("serveraddress");
    auth.identity_token = str("identitytoken");
    auth.registry_token = str("registrytoken");
    BERTH_RETURN_IF_ERROR(puller->Login(auth));
    return w.WriteJson(200, Json{{"IdentityToken", ""}, {"Status", "Login Succeeded"}});
  });

  router.Handle("POST", "/images/load",
                [&images, events](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> lines, images.Load(req.body(), nullptr));
    std::vector<Json> messages;
    std::vector<std::string> loaded;
    for (const std::string& l : lines) {
      messages.push_back(Json{{"stream", l + "\n"}});
      for (std::string_view prefix : {"Loaded image: ", "Loaded image ID: "}) {
        if (l.rfind(prefix, 0) != 0) continue;
        auto id = images.Resolve(l.substr(prefix.size()));
        if (id && std::find(loaded.begin(), loaded.end(), id->ToString()) == loaded.end()) {
          loaded.push_back(id->ToString());
          EmitImage(events, images, loaded.back(), loaded.back(), "load");
        }
      }
    }
    return StreamMessages(w, messages);
  });

  router.Handle("GET", "/images/get", [&images, events](Request& req, ResponseWriter& w) -> Status {
    LazyStream out(w, "application/x-tar");
    auto names = req.QueryAll("names");
    BERTH_RETURN_IF_ERROR(images.Save(names, out));
    for (const auto& n : names) EmitSave(events, images, n);
    return out.Finish();
  });

  router.Handle("POST", "/images/prune", [&images](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto filters, internal::ParseFilters(req.Query("filters")));
    bool all = false;
    for (auto& [key, values] : filters) {
      if (key == "dangling") {
        for (const std::string& v : values) all = all || v == "false" || v == "0";
      } else {
        return MakeError(Code::kInvalidArgument, "invalid filter '" + key + "'");
      }
    }
    BERTH_ASSIGN_OR_RETURN(image::PruneReport report, images.Prune(all));
    Json deleted = report.deleted.empty() ? Json(nullptr) : DeleteItemsJson(report.deleted);
    return w.WriteJson(200,
                       {{"ImagesDeleted", deleted}, {"SpaceReclaimed", report.space_reclaimed}});
  });

  router.Handle("GET", "/images/{name:.*}/json",
                [&images](Request& req, ResponseWriter& w) -> Status {
                  BERTH_ASSIGN_OR_RETURN(image::Image img, images.Get(req.Param("name")));
                  return w.WriteJson(200, ImageInspectJson(img));
                });

  router.Handle("GET", "/images/{name:.*}/history",
                [&images](Request& req, ResponseWriter& w) -> Status {
                  BERTH_ASSIGN_OR_RETURN(auto items, images.History(req.Param("name")));
                  Json out = Json::array();
                  for (const image::HistoryItem& h : items) {
                    out.push_back(HistoryItemJson(h));
                  }
                  return w.WriteJson(200, out);
                });

  router.Handle("GET", "/images/{name:.*}/get",
                [&images, events](Request& req, ResponseWriter& w) -> Status {
                  LazyStream out(w, "application/x-tar");
                  std::string name(req.Param("name"));
                  BERTH_RETURN_IF_ERROR(images.Save({name}, out));
                  EmitSave(events, images, name);
                  return out.Finish();
                });

  router.Handle("POST", "/images/{name:.*}/push",
                [&images, events, pusher](Request& req, ResponseWriter& w) -> Status {
                  return Push(pusher, images, events, req, w);
                });

  router.Handle(
      "POST", "/images/{name:.*}/tag",
      [&images, events](Request& req, ResponseWriter& w) -> Status {
        Result<oci::Reference> target = oci::RepoTagReference(req.Query("repo"), req.Query("tag"));
        if (!target) return std::move(target).error();
        if (!target->has_name())
          return MakeError(Code::kInvalidArgument,
                           "repository name must have at least one component");
        BERTH_RETURN_IF_ERROR(images.Tag(req.Param("name"), *target));
        if (auto id = images.Resolve(target->String())) {
          EmitImage(events, images, id->ToString(), target->FamiliarString(), "tag");
        }
        return w.WriteEmpty(201);
      });

  router.Handle(
      "DELETE", "/images/{name:.*}",
      [&images, events](Request& req, ResponseWriter& w) -> Status {
        auto id = images.Resolve(req.Param("name"));
        BERTH_ASSIGN_OR_RETURN(auto items, images.Remove(req.Param("name"), req.QueryBool("force"),
                                                         !req.QueryBool("noprune")));
        for (const auto& item : items) {
          // dockerd names the image by its ID in both (the tag is gone by then).
          if (!item.untagged.empty() && id) {
            EmitImage(events, images, id->ToString(), id->ToString(), "untag");
          }
          if (!item.deleted.empty()) EmitImage(events, images, item.deleted, item.deleted, "delete");
        }
        return w.WriteJson(200, DeleteItemsJson(items));
      });
}

}  // namespace berth::api
