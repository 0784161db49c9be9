// pull and push: POST /images/create?fromImage=NAME&tag=TAG|DIGEST and
// POST /images/NAME/push?tag=TAG, with the credentials `login` stored; the daemon's JSON
// progress stream shown as docker shows it (a line per layer redrawn in place on a terminal).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/internal/command.h"
#include "cli/jsonmessage.h"

namespace berth::cli {
namespace {

struct PullOptions {
  bool all_tags = false;
  bool quiet = false;
  std::string platform;
  std::vector<std::string> args;
  CommandInfo info;
};

// Swallows the progress stream for -q.
class Discard : public Writer {
 public:
  Status Write(std::string_view) override { return Ok(); }
};

bool HasTagOrDigest(const std::string& image) {
  if (image.find('@') != std::string::npos) return true;
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  return colon != std::string::npos && (slash == std::string::npos || colon > slash);
}

// NAME and TAG|DIGEST of `image` for pull and push: a tag or digest is refused with
// --all-tags, and an implied "latest" is said unless quiet.
Result<std::pair<std::string, std::string>> ResolveTarget(Context& ctx,
                                                          const std::string& image, bool all_tags,
                                                          bool quiet) {
  if (all_tags && HasTagOrDigest(image)) {
    return MakeError(Code::kInvalidArgument, "tag can't be used with --all-tags/-a");
  }
  if (!HasTagOrDigest(image) && !all_tags && !quiet) {
    BERTH_RETURN_IF_ERROR(ctx.Out("Using default tag: latest\n"));
  }
  return PullTarget(image);
}

// Sends `req` and shows the daemon's JSON progress stream as docker does (none of it if quiet).
Status ShowProgress(Context& ctx, Request req, bool quiet) {
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  Discard discard;
  Writer& out = quiet ? static_cast<Writer&>(discard) : *ctx.env().out;
  JsonMessageDisplay display(out, ctx.env().out_is_terminal, ctx.env().terminal_width);
  return api->StreamLines(std::move(req),
                          [&display](std::string_view line) { return display.Handle(line); });
}

Status RunPull(Context& ctx, const PullOptions& opts) {
  BERTH_RETURN_IF_ERROR(ExactArgs(opts.info, opts.args, 1));
  const std::string& image = opts.args[0];
  BERTH_ASSIGN_OR_RETURN(auto target, ResolveTarget(ctx, image, opts.all_tags, opts.quiet));
  const auto& [name, tag] = target;
  Request req;
  req.method = "POST";
  req.path = "/images/create";
  req.query = {{"fromImage", name}, {"tag", opts.all_tags ? "" : tag}};
  if (!opts.platform.empty()) req.query.emplace_back("platform", ToLower(opts.platform));
  req.headers = {{"X-Registry-Auth", RegistryAuthFor(ctx, name)}};
  BERTH_RETURN_IF_ERROR(ShowProgress(ctx, std::move(req), opts.quiet));
  bool digest = tag.find(':') != std::string::npos;
  return ctx.Out(opts.all_tags ? name + "\n" : name + (digest ? "@" : ":") + tag + "\n");
}

struct PushOptions {
  bool all_tags = false;
  bool quiet = false;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunPush(Context& ctx, const PushOptions& opts) {
  BERTH_RETURN_IF_ERROR(ExactArgs(opts.info, opts.args, 1));
  const std::string& image = opts.args[0];
  if (image.find('@') != std::string::npos) {
    return MakeError(Code::kInvalidArgument, "cannot push a digest reference");
  }
  BERTH_ASSIGN_OR_RETURN(auto target, ResolveTarget(ctx, image, opts.all_tags, opts.quiet));
  const auto& [name, tag] = target;
  Request req;
  req.method = "POST";
  req.path = "/images/" + name + "/push";
  req.query = {{"tag", opts.all_tags ? "" : tag}};
  req.headers = {{"X-Registry-Auth", RegistryAuthFor(ctx, name)}};
  BERTH_RETURN_IF_ERROR(ShowProgress(ctx, std::move(req), opts.quiet));
  if (opts.quiet) return ctx.Out(opts.all_tags ? name + "\n" : name + ":" + tag + "\n");
  return Ok();
}

void AddPushCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    Action* selected) {
  auto opts = std::make_shared<PushOptions>();
  opts->info = {path, path + " [OPTIONS] NAME[:TAG]", "Upload an image to a registry"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunPush(ctx, *opts); });
  cmd->add_flag("-a,--all-tags", opts->all_tags, "Push all tags of an image to the repository");
  cmd->add_flag("-q,--quiet", opts->quiet, "Suppress verbose output");
  cmd->add_option("NAME", opts->args, "NAME[:TAG]");
}

void AddPullCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    Action* selected) {
  auto opts = std::make_shared<PullOptions>();
  opts->info = {path, path + " [OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunPull(ctx, *opts); });
  cmd->add_flag("-a,--all-tags", opts->all_tags, "Download all tagged images in the repository");
  cmd->add_flag("-q,--quiet", opts->quiet, "Suppress verbose output");
  cmd->add_option("--platform", opts->platform, "Set platform if server is multi-platform capable");
  cmd->add_option("NAME", opts->args, "NAME[:TAG|@DIGEST]");
}

}  // namespace

void AddPullCommands(CLI::App& root, CLI::App& image, Action* selected) {
  AddPullCommand(root, "pull", "berth pull", selected);
  AddPullCommand(image, "pull", "berth image pull", selected);
  AddPushCommand(root, "push", "berth push", selected);
  AddPushCommand(image, "push", "berth image push", selected);
}

}  // namespace berth::cli
