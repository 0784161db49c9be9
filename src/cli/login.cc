// login / logout, and the credentials pull sends. As the docker CLI does: the daemon checks the
// credentials (POST /auth), the CLI keeps them in <config dir>/config.json, Docker's format:
//
//   {"auths": {"127.0.0.1:5000": {"auth": "<base64 of user:password>"},
//              "https://index.docker.io/v1/": {...}}}
//
// and sends them to the daemon with each pull as X-Registry-Auth: base64url of
// {"username","password","serveraddress"}.
#include <termios.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "cli/internal/command.h"

namespace berth::cli {
namespace {

using OJson = nlohmann::ordered_json;

constexpr std::string_view kDefaultServer = "https://index.docker.io/v1/";
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in, bool url) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    acc = (acc << 8) | static_cast<uint8_t>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  if (url) {
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
  }
  return out;
}

std::optional<std::string> Unbase64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kB64.find(c);
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// docker's registry.ConvertToHostname for a server given on the command line; Docker Hub keeps
// its historical key.
std::string ServerKey(std::string server) {
  if (server.empty()) return std::string(kDefaultServer);
  std::string host = server;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (host.starts_with(scheme)) host = host.substr(scheme.size());
  }
  host = host.substr(0, host.find('/'));
  if (host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io") {
    return std::string(kDefaultServer);
  }
  return host;
}

std::string ConfigPath(Context& ctx) { return ctx.globals().config_dir + "/config.json"; }

Result<OJson> ReadConfig(Context& ctx) {
  std::string path = ConfigPath(ctx);
  if (!PathExists(path)) return OJson::object();
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  OJson j = OJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return MakeError(Code::kInvalidArgument, path + ": not a JSON object");
  }
  return j;
}

Status WriteConfig(Context& ctx, const OJson& config) {
  BERTH_RETURN_IF_ERROR(MakeDirs(ctx.globals().config_dir, 0700));
  return WriteFileAtomic(ConfigPath(ctx), config.dump(1, '\t') + "\n", 0600);
}

// A line from stdin, without its newline; with echo off on a terminal (passwords).
Result<std::string> ReadLine(Context& ctx, bool secret) {
  termios saved{};
  bool restore = false;
  if (secret && ctx.env().in_is_terminal && ctx.env().in_fd >= 0 &&
      ::tcgetattr(ctx.env().in_fd, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    restore = ::tcsetattr(ctx.env().in_fd, TCSANOW, &quiet) == 0;
  }
  std::string line;
  char c = 0;
  Status st = Ok();
  while (true) {
    Result<size_t> n = ctx.env().in->Read(&c, 1);
    if (!n) {
      st = std::move(n).error();
      break;
    }
    if (*n == 0 || c == '\n') break;
    line += c;
  }
  if (restore) {
    ::tcsetattr(ctx.env().in_fd, TCSANOW, &saved);
    (void)ctx.Out("\n");
  }
  if (!st) return std::move(st).error();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

struct LoginOptions {
  std::string username;
  std::string password;
  bool password_stdin = false;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunLogin(Context& ctx, LoginOptions opts) {
  BERTH_RETURN_IF_ERROR(RangeArgs(opts.info, opts.args, 0, 1));
  if (!opts.password.empty()) {
    BERTH_RETURN_IF_ERROR(
        ctx.Err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"));
    if (opts.password_stdin) {
      return MakeError(Code::kInvalidArgument,
                       "--password and --password-stdin are mutually exclusive");
    }
  }
  if (opts.password_stdin) {
    if (opts.username.empty()) {
      return MakeError(Code::kInvalidArgument, "Must provide --username with --password-stdin");
    }
    BERTH_ASSIGN_OR_RETURN(std::string all, ReadAll(*ctx.env().in, 1 << 20));
    while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
    opts.password = all;
  }
  std::string server = ServerKey(opts.args.empty() ? "" : opts.args[0]);
  if (opts.username.empty()) {
    BERTH_RETURN_IF_ERROR(ctx.Out("Username: "));
    BERTH_ASSIGN_OR_RETURN(opts.username, ReadLine(ctx, false));
    opts.username = std::string(TrimSpace(opts.username));
  }
  if (opts.username.empty())
    return MakeError(Code::kInvalidArgument, "Error: Non-null Username Required");
  if (opts.password.empty()) {
    BERTH_RETURN_IF_ERROR(ctx.Out("Password: "));
    BERTH_ASSIGN_OR_RETURN(opts.password, ReadLine(ctx, true));
  }
  if (opts.password.empty()) return MakeError(Code::kInvalidArgument, "Error: Password Required");

  Request req;
  req.method = "POST";
  req.path = "/auth";
  req.headers = {{"Content-Type", "application/json"}};
  req.body =
      OJson{{"username", opts.username}, {"password", opts.password}, {"serveraddress", server}}
          .dump();
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response reply, api->Do(std::move(req)));
  (void)reply;

  BERTH_ASSIGN_OR_RETURN(OJson config, ReadConfig(ctx));
  if (!config.contains("auths") || !config["auths"].is_object()) config["auths"] = OJson::object();
  config["auths"][server] = OJson{{"auth", Base64(opts.username + ":" + opts.password, false)}};
  BERTH_RETURN_IF_ERROR(WriteConfig(ctx, config));
  BERTH_RETURN_IF_ERROR(ctx.Err(
      fmt::format("WARNING! Your password will be stored unencrypted in {}.\n", ConfigPath(ctx))));
  return ctx.Out("Login Succeeded\n");
}

struct LogoutOptions {
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunLogout(Context& ctx, const LogoutOptions& opts) {
  BERTH_RETURN_IF_ERROR(RangeArgs(opts.info, opts.args, 0, 1));
  std::string server = ServerKey(opts.args.empty() ? "" : opts.args[0]);
  BERTH_ASSIGN_OR_RETURN(OJson config, ReadConfig(ctx));
  if (!config.contains("auths") || !config["auths"].is_object() ||
      !config["auths"].contains(server)) {
    return ctx.Out("Not logged in to " + server + "\n");
  }
  BERTH_RETURN_IF_ERROR(ctx.Out("Removing login credentials for " + server + "\n"));
  config["auths"].erase(server);
  return WriteConfig(ctx, config);
}

}  // namespace

std::string RegistryAuthFor(Context& ctx, const std::string& name) {
  std::string domain = name.substr(0, name.find('/'));
  std::string server = ServerKey(domain);
  Result<OJson> config = ReadConfig(ctx);
  if (!config || !config->contains("auths") || !(*config)["auths"].is_object()) return "e30=";
  const OJson& auths = (*config)["auths"];
  auto it = auths.find(server);
  if (it == auths.end() || !it->is_object() || !it->contains("auth") ||
      !(*it)["auth"].is_string()) {
    return "e30=";
  }
  std::optional<std::string> pair = Unbase64((*it)["auth"].get<std::string>());
  if (!pair || pair->find(':') == std::string::npos) return "e30=";
  OJson auth = {{"username", pair->substr(0, pair->find(':'))},
                {"password", pair->substr(pair->find(':') + 1)},
                {"serveraddress", server}};
  return Base64(auth.dump(), /*url=*/true);
}

void AddLoginCommands(CLI::App& root, Action* selected) {
  auto login = std::make_shared<LoginOptions>();
  login->info = {"berth login", "berth login [OPTIONS] [SERVER]",
                 "Log in to a registry.\nIf no server is specified, the default is defined by the "
                 "daemon."};
  CLI::App* cmd = AddCommand(root, "login", "Log in to a registry", selected,
                             [login](Context& ctx) { return RunLogin(ctx, *login); });
  cmd->add_option("-u,--username", login->username, "Username");
  cmd->add_option("-p,--password", login->password, "Password");
  cmd->add_flag("--password-stdin", login->password_stdin, "Take the password from stdin");
  cmd->add_option("SERVER", login->args);

  auto logout = std::make_shared<LogoutOptions>();
  logout->info = {"berth logout", "berth logout [SERVER]",
                  "Log out from a registry.\nIf no server is specified, the default is defined "
                  "by the daemon."};
  CLI::App* out = AddCommand(root, "logout", "Log out from a registry", selected,
                             [logout](Context& ctx) { return RunLogout(ctx, *logout); });
  out->add_option("SERVER", logout->args);
}

}  // namespace berth::cli
