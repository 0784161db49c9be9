// Image commands that move whole images as byte streams: import (tar -> image), save (images ->
// tar), load (tar -> images). Bodies are streamed both ways; nothing is held whole in memory.
#include <fcntl.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "cli/internal/command.h"
#include "cli/jsonmessage.h"

namespace berth::cli {
namespace {

// Sends `req` and shows the JSON message stream of its reply.
Status ShowJsonStream(Context& ctx, Request req) {
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  JsonMessageDisplay display(*ctx.env().out, ctx.env().out_is_terminal, ctx.env().terminal_width);
  return api->StreamLines(std::move(req),
                          [&display](std::string_view line) { return display.Handle(line); });
}

// ---------------------------------------------------------------------------------------------
// import

struct ImportOptions {
  std::vector<std::string> changes;
  std::string message;
  std::string platform;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunImport(Context& ctx, const ImportOptions& opts) {
  BERTH_RETURN_IF_ERROR(RangeArgs(opts.info, opts.args, 1, 2));
  const std::string& source = opts.args[0];
  Request req;
  req.method = "POST";
  req.path = "/images/create";
  UniqueFd file;
  std::unique_ptr<FdReader> file_reader;
  std::string from_src = "-";
  if (source == "-") {
    req.body_stream = ctx.env().in;
  } else if (source.starts_with("http://") || source.starts_with("https://")) {
    from_src = source;
  } else {
    BERTH_ASSIGN_OR_RETURN(file, OpenFile(source, O_RDONLY | O_CLOEXEC));
    file_reader = std::make_unique<FdReader>(file.get());
    req.body_stream = file_reader.get();
  }
  req.query = {{"fromSrc", from_src},
               {"repo", opts.args.size() > 1 ? opts.args[1] : ""},
               {"tag", ""},
               {"message", opts.message}};
  if (!opts.platform.empty()) req.query.emplace_back("platform", ToLower(opts.platform));
  for (const std::string& change : opts.changes) req.query.emplace_back("changes", change);
  return ShowJsonStream(ctx, std::move(req));
}

void AddImportCommand(CLI::App& parent, const std::string& name, const std::string& path,
                      Action* selected) {
  auto opts = std::make_shared<ImportOptions>();
  opts->info = {path, path + " [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                "Import the contents from a tarball to create a filesystem image"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunImport(ctx, *opts); });
  cmd->add_option("-c,--change", opts->changes, "Apply Dockerfile instruction to the created image")
      ->allow_extra_args(false);
  cmd->add_option("-m,--message", opts->message, "Set commit message for imported image");
  cmd->add_option("--platform", opts->platform, "Set platform if server is multi-platform capable");
  cmd->add_option("SOURCE", opts->args, "file|URL|- [REPOSITORY[:TAG]]");
}

// ---------------------------------------------------------------------------------------------
// save

struct SaveOptions {
  std::string output;
  std::vector<std::string> args;
  CommandInfo info;
};

// Writes into a temp file beside `path` and renames it into place only when complete.
Status SaveToFile(ApiClient& api, Request req, const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmp = dir + "/.berth_temp_" + RandomHex(8);
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  Cleanup remove_tmp([&tmp] { ::unlink(tmp.c_str()); });
  FdWriter writer(fd.get());
  BERTH_ASSIGN_OR_RETURN(Response response, api.Do(std::move(req), &writer));
  (void)response;
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + tmp);
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename " + tmp);
  remove_tmp.Cancel();
  return Ok();
}

Status RunSave(Context& ctx, const SaveOptions& opts) {
  BERTH_RETURN_IF_ERROR(MinArgs(opts.info, opts.args, 1));
  if (opts.output.empty() && ctx.env().out_is_terminal) {
    return MakeError(Code::kInvalidArgument,
                     "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  if (!opts.output.empty()) {
    size_t slash = opts.output.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      std::string dir = opts.output.substr(0, slash);
      struct stat st {};
      if (::stat(dir.c_str(), &st) != 0) {
        return MakeError(Code::kInvalidArgument,
                         fmt::format("failed to save image: invalid output path: directory "
                                     "\"{}\" does not exist",
                                     dir));
      }
      if (!S_ISDIR(st.st_mode)) {
        return MakeError(Code::kInvalidArgument,
                         fmt::format("failed to save image: invalid output path: \"{}\" is not "
                                     "a directory",
                                     dir));
      }
    }
  }
  Request req;
  req.path = "/images/get";
  for (const std::string& name : opts.args) req.query.emplace_back("names", name);
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  if (opts.output.empty()) {
    BERTH_ASSIGN_OR_RETURN(Response response, api->Do(std::move(req), ctx.env().out));
    (void)response;
    return Ok();
  }
  return SaveToFile(*api, std::move(req), opts.output);
}

void AddSaveCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    Action* selected) {
  auto opts = std::make_shared<SaveOptions>();
  opts->info = {path, path + " [OPTIONS] IMAGE [IMAGE...]",
                "Save one or more images to a tar archive (streamed to STDOUT by default)"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunSave(ctx, *opts); });
  cmd->add_option("-o,--output", opts->output, "Write to a file, instead of STDOUT");
  cmd->add_option("IMAGE", opts->args, "Images (name, ID or digest) to save");
}

// ---------------------------------------------------------------------------------------------
// load

struct LoadOptions {
  std::string input;
  bool quiet = false;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunLoad(Context& ctx, const LoadOptions& opts) {
  BERTH_RETURN_IF_ERROR(NoArgs(opts.info, opts.args));
  Request req;
  req.method = "POST";
  req.path = "/images/load";
  UniqueFd file;
  std::unique_ptr<FdReader> file_reader;
  if (opts.input.empty()) {
    if (ctx.env().in_is_terminal) {
      return MakeError(Code::kInvalidArgument, "requested load from stdin, but stdin is empty");
    }
    req.body_stream = ctx.env().in;
  } else {
    BERTH_ASSIGN_OR_RETURN(file, OpenFile(opts.input, O_RDONLY | O_CLOEXEC));
    file_reader = std::make_unique<FdReader>(file.get());
    req.body_stream = file_reader.get();
  }
  bool quiet = opts.quiet || !ctx.env().out_is_terminal;
  req.query = {{"quiet", quiet ? "1" : "0"}};
  req.headers = {{"Content-Type", "application/x-tar"}};
  return ShowJsonStream(ctx, std::move(req));
}

void AddLoadCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    Action* selected) {
  auto opts = std::make_shared<LoadOptions>();
  opts->info = {path, path + " [OPTIONS]", "Load an image from a tar archive or STDIN"};
  CLI::App* cmd = AddCommand(parent, name, opts->info.description, selected,
                             [opts](Context& ctx) { return RunLoad(ctx, *opts); });
  cmd->add_option("-i,--input", opts->input, "Read from tar archive file, instead of STDIN");
  cmd->add_flag("-q,--quiet", opts->quiet, "Suppress the load output");
  cmd->add_option("args", opts->args)->group("");  // only for "accepts no arguments"
}

}  // namespace

void AddTransferCommands(CLI::App& root, CLI::App& image, Action* selected) {
  AddImportCommand(root, "import", "berth import", selected);
  AddImportCommand(image, "import", "berth image import", selected);
  AddSaveCommand(root, "save", "berth save", selected);
  AddSaveCommand(image, "save", "berth image save", selected);
  AddLoadCommand(root, "load", "berth load", selected);
  AddLoadCommand(image, "load", "berth image load", selected);
}

}  // namespace berth::cli
