// Image commands that are plain Engine API calls: images (image ls), image inspect (inspect),
// history, tag, rmi (image rm), image prune. Rows and wording follow docker/cli's formatter.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/list.h"
#include "cli/format/template.h"
#include "cli/internal/command.h"
#include "cli/internal/rows.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kNone = "<none>";

std::string Familiar(std::string_view name) {
  if (name.starts_with("docker.io/library/"))
    name.remove_prefix(18);
  else if (name.starts_with("docker.io/"))
    name.remove_prefix(10);
  return std::string(name);
}

// "host:5000/a/b:tag" -> {"host:5000/a/b", "tag"}; no tag -> tag "".
std::pair<std::string, std::string> SplitTag(std::string_view ref) {
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return {std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
  }
  return {std::string(ref), ""};
}

int64_t Int(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : fallback;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// images

struct ImagesOptions {
  bool all = false;
  bool quiet = false;
  bool digests = false;
  bool no_trunc = false;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
  CommandInfo info;
};

const format::ListFormat& ImagesFormat(bool digests) {
  static const json headers = {{"ID", "IMAGE ID"},
                               {"Repository", "REPOSITORY"},
                               {"Tag", "TAG"},
                               {"Digest", "DIGEST"},
                               {"CreatedSince", "CREATED"},
                               {"CreatedAt", "CREATED AT"},
                               {"Size", "SIZE"},
                               {"Containers", "CONTAINERS"},
                               {"SharedSize", "SHARED SIZE"},
                               {"UniqueSize", "UNIQUE SIZE"},
                               {"VirtualSize", "VIRTUAL SIZE"}};
  static const format::ListFormat plain{
      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}", "{{.ID}}", headers};
  static const format::ListFormat with_digests{
      "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
      "{{.ID}}", headers};
  return digests ? with_digests : plain;
}

}  // namespace

std::vector<json> ImageRows(const json& image, bool show_digests, bool need_digest, bool no_trunc,
                            int64_t now) {
  std::vector<std::pair<std::string, std::vector<std::string>>> repo_tags, repo_digests;
  auto add = [](auto& groups, const std::string& repo, const std::string& value) {
    for (auto& [r, values] : groups) {
      if (r == repo) {
        values.push_back(value);
        return;
      }
    }
    groups.push_back({repo, {value}});
  };
  for (const std::string& ref : Strings(image, "RepoTags")) {
    auto [repo, tag] = SplitTag(ref);
    if (repo == kNone || tag.empty() || tag == kNone) continue;
    add(repo_tags, Familiar(repo), tag);
  }
  for (const std::string& ref : Strings(image, "RepoDigests")) {
    size_t at = ref.find('@');
    if (at == std::string::npos || ref.substr(0, at) == kNone) continue;
    add(repo_digests, Familiar(ref.substr(0, at)), ref.substr(at + 1));
  }

  std::string id = image.value("Id", "");
  int64_t created = Int(image, "Created");
  int64_t size = Int(image, "Size");
  int64_t shared = Int(image, "SharedSize", -1);
  int64_t containers = Int(image, "Containers", -1);
  json base = {
      {"ID", no_trunc ? id : TruncateId(id)},
      {"CreatedSince", HumanDuration(now - created) + " ago"},
      {"CreatedAt", GoTimeString(created)},
      {"Size", HumanSize(static_cast<double>(size))},
      {"Containers", containers == -1 ? "N/A" : std::to_string(containers)},
      {"VirtualSize", HumanSize(static_cast<double>(size))},  // deprecated; equals Size
      {"SharedSize", shared == -1 ? "N/A" : HumanSize(static_cast<double>(shared))},
      {"UniqueSize",
       size == -1 || shared == -1 ? "N/A" : HumanSize(static_cast<double>(size - shared))},
  };
  std::vector<json> rows;
  auto row = [&](const std::string& repo, const std::string& tag, const std::string& digest) {
    json r = base;
    r["Repository"] = repo;
    r["Tag"] = tag;
    r["Digest"] = digest;
    rows.push_back(std::move(r));
  };
  for (const auto& [repo, tags] : repo_tags) {
    std::vector<std::string> repo_digest_values;
    for (auto it = repo_digests.begin(); it != repo_digests.end(); ++it) {
      if (it->first == repo) {
        repo_digest_values = it->second;
        repo_digests.erase(it);  // not shown as rows of their own
        break;
      }
    }
    for (const std::string& tag : tags) {
      if (!need_digest || repo_digest_values.empty()) {
        row(repo, tag, std::string(kNone));
        continue;
      }
      for (const std::string& d : repo_digest_values) row(repo, tag, d);
    }
  }
  for (const auto& [repo, values] : repo_digests) {
    if (show_digests) {
      for (const std::string& d : values) row(repo, std::string(kNone), d);
    } else {
      row(repo, std::string(kNone), "");
    }
  }
  if (rows.empty()) row(std::string(kNone), std::string(kNone), std::string(kNone));
  return rows;
}

namespace {

Status RunImages(Context& ctx, const ImagesOptions& opts) {
  BERTH_RETURN_IF_ERROR(RangeArgs(opts.info, opts.args, 0, 1));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(opts.filters));
  if (!opts.args.empty()) filters["reference"][opts.args[0]] = true;
  std::string user_format = opts.format;
  if (user_format.empty() && !opts.quiet) user_format = ctx.ConfigString("imagesFormat");
  std::string fmt_string =
      format::ResolveFormat(user_format, ImagesFormat(opts.digests), opts.quiet);
  if (opts.digests && fmt_string.starts_with("table") &&
      fmt_string.find("{{.Digest}}") == std::string::npos) {
    fmt_string += "\t{{.Digest}}";  // docker's NewImageFormat
  }
  bool need_digest = opts.digests || fmt_string.find("{{.Digest}}") != std::string::npos;
  Params query;
  if (opts.all) query.emplace_back("all", "1");
  if (!filters.empty()) query.emplace_back("filters", filters.dump());
  if (format::FormatMentions(fmt_string, "SharedSize") ||
      format::FormatMentions(fmt_string, "UniqueSize")) {
    query.emplace_back("shared-size", "1");
  }
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json images, api->GetJson("/images/json", query));
  std::vector<json> rows;
  if (images.is_array()) {
    for (const json& image : images) {
      for (json& r : ImageRows(image, opts.digests, need_digest, opts.no_trunc, ctx.Now())) {
        rows.push_back(std::move(r));
      }
    }
  }
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         format::RenderList(fmt_string, rows, ImagesFormat(opts.digests).headers));
  return ctx.Out(out);
}

void AddImagesCommand(CLI::App& parent, const std::string& name, const std::string& path,
                      Action* selected) {
  auto opts = std::make_shared<ImagesOptions>();
  opts->info = {path, path + " [OPTIONS] [REPOSITORY[:TAG]]", "List images"};
  CLI::App* cmd = AddCommand(parent, name, "List images", selected,
                             [opts](Context& ctx) { return RunImages(ctx, *opts); });
  cmd->add_flag("-a,--all", opts->all, "Show all images (default hides intermediate images)");
  cmd->add_flag("-q,--quiet", opts->quiet, "Only show image IDs");
  cmd->add_flag("--digests", opts->digests, "Show digests");
  cmd->add_flag("--no-trunc", opts->no_trunc, "Don't truncate output");
  cmd->add_option("-f,--filter", opts->filters, "Filter output based on conditions provided")
      ->allow_extra_args(false);
  cmd->add_option("--format", opts->format,
                  "Format output using a custom template ('table', 'table TEMPLATE', 'json', "
                  "'TEMPLATE')");
  cmd->add_option("REPOSITORY", opts->args, "List only images matching REPOSITORY[:TAG]");
}

// ---------------------------------------------------------------------------------------------
// image inspect / inspect

struct InspectOptions {
  std::string format;
  std::string type;
  bool size = false;
  std::vector<std::string> args;
  CommandInfo info;
};

// docker prints the daemon's JSON re-indented (json.Indent), keys in the daemon's order.
std::string IndentedJson(const nlohmann::ordered_json& value) {
  return value.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// GET the object `name` of `type` ("container" or "image"): its body, or NotFound.
Result<std::string> InspectOne(ApiClient& api, const std::string& type, const std::string& name,
                               bool size) {
  Request req;
  if (type == "container") {
    req.path = "/containers/" + name + "/json";
    if (size) req.query.emplace_back("size", "1");
  } else {
    req.path = "/images/" + name + "/json";
  }
  BERTH_ASSIGN_OR_RETURN(Response response, api.Do(req));
  return std::move(response.body);
}

Status RunInspect(Context& ctx, const InspectOptions& opts) {
  BERTH_RETURN_IF_ERROR(MinArgs(opts.info, opts.args, 1));
  if (!opts.type.empty() && opts.type != "image" && opts.type != "container") {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("\"{}\" is not a valid value for --type", opts.type));
  }
  // Without --type docker tries each kind of object in turn.
  std::vector<std::string> types = {"container", "image"};
  if (!opts.type.empty()) types = {opts.type};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  nlohmann::ordered_json elements = nlohmann::ordered_json::array();
  std::vector<std::string> errors;
  std::string formatted;
  for (const std::string& name : opts.args) {
    std::optional<std::string> body;
    std::optional<std::string> failure;  // other than "not found"
    for (const std::string& type : types) {
      Result<std::string> got = InspectOne(*api, type, name, opts.size);
      if (got.ok()) {
        body = std::move(*got);
        break;
      }
      if (got.error().code == Code::kUnavailable) return std::move(got).error();
      if (got.error().code != Code::kNotFound) {
        failure = got.error().message;
        break;
      }
    }
    if (!body) {
      errors.push_back(failure.value_or(
          fmt::format("Error: No such {}: {}", opts.type.empty() ? "object" : opts.type, name)));
      continue;
    }
    auto element = nlohmann::ordered_json::parse(*body, nullptr, false);
    if (element.is_discarded()) {
      errors.push_back(fmt::format("{}: the daemon sent invalid JSON", name));
      continue;
    }
    if (!opts.format.empty()) {
      BERTH_ASSIGN_OR_RETURN(std::string out, format::RenderOne(opts.format, element, true));
      formatted += out + "\n";
    } else {
      elements.push_back(std::move(element));
    }
  }
  if (!opts.format.empty()) {
    BERTH_RETURN_IF_ERROR(ctx.Out(formatted));
  } else {
    BERTH_RETURN_IF_ERROR(ctx.Out(IndentedJson(elements) + "\n"));
  }
  if (!errors.empty()) return MakeError(Code::kNotFound, Join(errors, "\n"));
  return Ok();
}

}  // namespace

void AddInspectCommand(CLI::App& parent, const std::string& name, const std::string& path,
                       const std::string& type, Action* selected) {
  auto opts = std::make_shared<InspectOptions>();
  opts->type = type;
  std::string what = type.empty() ? "NAME|ID" : type == "image" ? "IMAGE" : "CONTAINER";
  std::string description = type.empty() ? "Return low-level information on Berth objects"
                            : type == "image"
                                ? "Display detailed information on one or more images"
                                : "Display detailed information on one or more containers";
  opts->info = {path, fmt::format("{} [OPTIONS] {} [{}...]", path, what, what), description};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunInspect(ctx, *opts); });
  cmd->add_option("-f,--format", opts->format, "Format output using a custom template");
  if (type != "image") {
    cmd->add_flag("-s,--size", opts->size,
                  type.empty() ? "Display total file sizes if the type is container"
                               : "Display total file sizes");
  }
  if (type.empty()) {
    cmd->add_option("--type", opts->type, "Return JSON for specified type (container, image)");
  }
  cmd->add_option("NAME", opts->args, "Objects (name, ID or digest) to inspect");
}

namespace {

// ---------------------------------------------------------------------------------------------
// history

struct HistoryOptions {
  bool human = true;
  bool no_trunc = false;
  bool quiet = false;
  std::string format;
  std::vector<std::string> args;
  CommandInfo info;
};

const format::ListFormat& HistoryFormat(bool human) {
  static const json headers = {{"ID", "IMAGE"},
                               {"CreatedSince", "CREATED"},
                               {"CreatedAt", "CREATED AT"},
                               {"CreatedBy", "CREATED BY"},
                               {"Size", "SIZE"},
                               {"Comment", "COMMENT"}};
  static const format::ListFormat human_format{
      "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", "{{.ID}}",
      headers};
  static const format::ListFormat exact_format{
      "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", "{{.ID}}", headers};
  return human ? human_format : exact_format;
}

// Layers created before 2000 (reproducible builds use the epoch) show no age, like docker.
constexpr int64_t kHistoryEpoch = 946684800;  // 2000-01-01T00:00:00Z

}  // namespace

json HistoryRow(const json& layer, bool human, bool no_trunc, int64_t now) {
  std::string id = layer.value("Id", "");
  int64_t created = Int(layer, "Created");
  int64_t size = Int(layer, "Size");
  std::string created_by = layer.value("CreatedBy", "");
  for (char& c : created_by) {
    if (c == '\t') c = ' ';
  }
  return json{
      {"ID", no_trunc ? id : TruncateId(id)},
      {"CreatedSince", !human                     ? Rfc3339(created)
                       : created <= kHistoryEpoch ? ""
                                                  : HumanDuration(now - created) + " ago"},
      {"CreatedAt", Rfc3339(created)},
      {"CreatedBy", no_trunc ? created_by : Ellipsis(created_by, 45)},
      {"Size", human ? HumanSize(static_cast<double>(size)) : std::to_string(size)},
      {"Comment", layer.value("Comment", "")},
  };
}

namespace {

Status RunHistory(Context& ctx, const HistoryOptions& opts) {
  BERTH_RETURN_IF_ERROR(ExactArgs(opts.info, opts.args, 1));
  std::string fmt_string =
      format::ResolveFormat(opts.format, HistoryFormat(opts.human), opts.quiet);
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json layers, api->GetJson("/images/" + opts.args[0] + "/history"));
  std::vector<json> rows;
  if (layers.is_array()) {
    for (const json& layer : layers) {
      rows.push_back(HistoryRow(layer, opts.human, opts.no_trunc, ctx.Now()));
    }
  }
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         format::RenderList(fmt_string, rows, HistoryFormat(opts.human).headers));
  return ctx.Out(out);
}

void AddHistoryCommand(CLI::App& parent, const std::string& name, const std::string& path,
                       Action* selected) {
  auto opts = std::make_shared<HistoryOptions>();
  opts->info = {path, path + " [OPTIONS] IMAGE", "Show the history of an image"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunHistory(ctx, *opts); });
  cmd->add_flag("-H,--human", opts->human,
                "Print sizes and dates in human readable format (default true)");
  cmd->add_flag("--no-trunc", opts->no_trunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", opts->quiet, "Only show image IDs");
  cmd->add_option("--format", opts->format, "Format output using a custom template");
  cmd->add_option("IMAGE", opts->args, "Image (name, ID or digest)");
}

// ---------------------------------------------------------------------------------------------
// tag

struct TagOptions {
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunTag(Context& ctx, const TagOptions& opts) {
  BERTH_RETURN_IF_ERROR(ExactArgs(opts.info, opts.args, 2));
  const std::string& source = opts.args[0];
  const std::string& target = opts.args[1];
  if (target.find('@') != std::string::npos) {
    return MakeError(Code::kInvalidArgument, "refusing to create a tag with a digest reference");
  }
  auto [repo, tag] = SplitTag(target);
  if (repo.empty()) {
    return MakeError(Code::kInvalidArgument, "invalid reference format");
  }
  Request req;
  req.method = "POST";
  req.path = "/images/" + source + "/tag";
  req.query = {{"repo", Familiar(repo)}, {"tag", tag.empty() ? "latest" : tag}};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  (void)response;
  return Ok();
}

void AddTagCommand(CLI::App& parent, const std::string& name, const std::string& path,
                   Action* selected) {
  auto opts = std::make_shared<TagOptions>();
  opts->info = {path, path + " SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunTag(ctx, *opts); });
  cmd->add_option("IMAGES", opts->args, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]");
}

// ---------------------------------------------------------------------------------------------
// rmi

struct RmiOptions {
  bool force = false;
  bool no_prune = false;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunRmi(Context& ctx, const RmiOptions& opts) {
  BERTH_RETURN_IF_ERROR(MinArgs(opts.info, opts.args, 1));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  std::vector<std::string> errors;
  for (const std::string& name : opts.args) {
    Request req;
    req.method = "DELETE";
    req.path = "/images/" + name;
    if (opts.force) req.query.emplace_back("force", "1");
    if (opts.no_prune) req.query.emplace_back("noprune", "1");
    Result<Response> got = api->Do(req);
    if (!got.ok()) {
      if (got.error().code == Code::kUnavailable) return std::move(got).error();
      errors.push_back(got.error().message);
      continue;
    }
    auto items = json::parse(got->body, nullptr, false);
    std::string out;
    for (const json& item : items.is_array() ? items : json::array()) {
      if (item.contains("Deleted"))
        out += "Deleted: " + format::GoString(item["Deleted"]) + "\n";
      else if (item.contains("Untagged"))
        out += "Untagged: " + format::GoString(item["Untagged"]) + "\n";
    }
    BERTH_RETURN_IF_ERROR(ctx.Out(out));
  }
  if (!errors.empty()) return MakeError(Code::kInternal, Join(errors, "\n"));
  return Ok();
}

void AddRmiCommand(CLI::App& parent, const std::string& name, const std::string& path,
                   Action* selected) {
  auto opts = std::make_shared<RmiOptions>();
  opts->info = {path, path + " [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunRmi(ctx, *opts); });
  cmd->add_flag("-f,--force", opts->force, "Force removal of the image");
  cmd->add_flag("--no-prune", opts->no_prune, "Do not delete untagged parents");
  cmd->add_option("IMAGE", opts->args, "Images (name, ID or digest) to remove");
}

// ---------------------------------------------------------------------------------------------
// image prune

struct PruneOptions {
  bool all = false;
  bool force = false;
  std::vector<std::string> filters;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunPrune(Context& ctx, const PruneOptions& opts) {
  BERTH_RETURN_IF_ERROR(NoArgs(opts.info, opts.args));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(opts.filters));
  filters["dangling"][opts.all ? "false" : "true"] = true;
  if (!opts.force) {
    std::string warning =
        opts.all ? "WARNING! This will remove all images without at least one container "
                   "associated to them.\nAre you sure you want to continue?"
                 : "WARNING! This will remove all dangling images.\nAre you sure you want to "
                   "continue?";
    BERTH_ASSIGN_OR_RETURN(bool yes, ctx.Confirm(warning));
    if (!yes) return MakeError(Code::kCancelled, "");
  }
  Request req;
  req.method = "POST";
  req.path = "/images/prune";
  req.query = {{"filters", filters.dump()}};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  auto report = json::parse(response.body, nullptr, false);
  if (!report.is_object()) report = json::object();
  json deleted = report.value("ImagesDeleted", json::array());
  if (deleted.is_array() && !deleted.empty()) {
    std::string out = "Deleted Images:\n";
    for (const json& item : deleted) {
      if (item.contains("Untagged") && !format::GoString(item["Untagged"]).empty()) {
        out += "untagged: " + format::GoString(item["Untagged"]) + "\n";
      } else if (item.contains("Deleted")) {
        out += "deleted: " + format::GoString(item["Deleted"]) + "\n";
      }
    }
    BERTH_RETURN_IF_ERROR(ctx.Out(out + "\n"));
  }
  // docker reports the reclaimed space only when images were deleted.
  double reclaimed = deleted.is_array() && !deleted.empty()
                         ? static_cast<double>(Int(report, "SpaceReclaimed"))
                         : 0.0;
  return ctx.Out("Total reclaimed space: " + HumanSize(reclaimed) + "\n");
}

void AddPruneCommand(CLI::App& parent, Action* selected) {
  auto opts = std::make_shared<PruneOptions>();
  opts->info = {"berth image prune", "berth image prune [OPTIONS]", "Remove unused images"};
  CLI::App* cmd = AddCommand(parent, "prune", opts->info.description, selected,
                             [opts](Context& ctx) { return RunPrune(ctx, *opts); });
  cmd->add_flag("-a,--all", opts->all, "Remove all unused images, not just dangling ones");
  cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
  cmd->add_option("--filter", opts->filters, "Provide filter values (e.g. \"until=<timestamp>\")")
      ->allow_extra_args(false);
  cmd->add_option("args", opts->args)->group("");  // only for "accepts no arguments"
}

}  // namespace

void AddImageCommands(CLI::App& root, CLI::App& image, Action* selected) {
  AddImagesCommand(root, "images", "berth images", selected);
  AddImagesCommand(image, "ls", "berth image ls", selected);
  image.get_subcommand("ls")->alias("list");
  AddInspectCommand(root, "inspect", "berth inspect", "", selected);
  AddInspectCommand(image, "inspect", "berth image inspect", "image", selected);
  AddHistoryCommand(root, "history", "berth history", selected);
  AddHistoryCommand(image, "history", "berth image history", selected);
  AddTagCommand(root, "tag", "berth tag", selected);
  AddTagCommand(image, "tag", "berth image tag", selected);
  AddRmiCommand(root, "rmi", "berth rmi", selected);
  AddRmiCommand(image, "rm", "berth image rm", selected);
  image.get_subcommand("rm")->alias("remove");
  AddPruneCommand(image, selected);
}

}  // namespace berth::cli
