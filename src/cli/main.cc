// Run(): CLI11 parsing of docker's global flags and command tree, then the selected command.
// CLI11 reports parse problems with exceptions; they are caught here and never leave Run().
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/internal/build_info.h"
#include "cli/internal/command.h"

namespace berth::cli {
namespace {

// Every app accepts extras so that Run() can word unknown flags and commands like docker.
void AllowExtrasEverywhere(CLI::App& app) {
  app.allow_extras();
  for (CLI::App* sub : app.get_subcommands({})) AllowExtrasEverywhere(*sub);
}

// The deepest subcommand that was parsed, and its path ("berth image ls").
std::pair<CLI::App*, std::string> ParsedLeaf(CLI::App& root) {
  CLI::App* leaf = &root;
  std::string path = "berth";
  while (true) {
    std::vector<CLI::App*> parsed = leaf->get_subcommands();
    if (parsed.empty()) return {leaf, path};
    leaf = parsed.front();
    path += " " + leaf->get_name();
  }
}

Status Write(Writer* w, std::string_view text) { return w->Write(text); }

// pflag accepts "-H=false"; CLI11 would read that as the short flags -H -= ... . Rewrites such an
// argument to the long form of the option ("--human=false") of the command it belongs to.
std::vector<std::string> RewriteShortEquals(CLI::App& root, const std::vector<std::string>& args) {
  std::vector<std::string> out;
  CLI::App* current = &root;
  for (const std::string& arg : args) {
    if (arg == "--") {
      current = nullptr;  // the rest are positional
    } else if (current != nullptr && !arg.starts_with("-")) {
      std::vector<CLI::App*> subs =
          current->get_subcommands([&arg](CLI::App* sub) { return sub->check_name(arg); });
      if (!subs.empty()) current = subs.front();
    } else if (current != nullptr && arg.size() > 2 && arg[0] == '-' && arg[1] != '-' &&
               arg[2] == '=') {
      const CLI::Option* opt = current->get_option_no_throw(arg.substr(0, 2));
      if (opt != nullptr && !opt->get_lnames().empty()) {
        out.push_back("--" + opt->get_lnames().front() + arg.substr(2));
        continue;
      }
    }
    out.push_back(arg);
  }
  return out;
}

// Flags expect no value (CLI11 gives them expected(0)).
bool TakesValue(const CLI::Option* opt) {
  return opt != nullptr && opt->get_items_expected_max() > 0;
}

// docker stops parsing flags at the first positional of run, create and exec (SetInterspersed
// false): "berth run -it busybox ls -la" leaves "-la" to ls. Cuts `args` after that positional
// (IMAGE or CONTAINER) of a prefix_command() subcommand and returns the cut part.
std::vector<std::string> SplitTrailing(CLI::App& root, std::vector<std::string>& args) {
  CLI::App* current = &root;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      // "run [OPTIONS] -- IMAGE CMD...": the next argument is the first positional.
      if (!current->get_prefix_command() || i + 1 >= args.size()) return {};
      std::string first = args[i + 1];
      std::vector<std::string> tail(args.begin() + static_cast<std::ptrdiff_t>(i) + 2, args.end());
      args.resize(i);
      args.push_back(std::move(first));
      return tail;
    }
    if (!arg.starts_with("-") || arg == "-") {
      if (current->get_prefix_command()) {
        std::vector<std::string> tail(args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                      args.end());
        args.resize(i + 1);
        return tail;
      }
      std::vector<CLI::App*> subs =
          current->get_subcommands([&arg](CLI::App* sub) { return sub->check_name(arg); });
      if (!subs.empty()) current = subs.front();
      continue;
    }
    if (arg.starts_with("--")) {
      if (arg.find('=') == std::string::npos && TakesValue(current->get_option_no_throw(arg))) {
        ++i;
      }
      continue;
    }
    // A cluster of short flags: the first that takes a value takes the rest, or the next arg.
    for (size_t j = 1; j < arg.size(); ++j) {
      if (TakesValue(current->get_option_no_throw(std::string("-") + arg[j]))) {
        if (j + 1 == arg.size()) ++i;
        break;
      }
    }
  }
  return {};
}

}  // namespace

int Run(const std::vector<std::string>& args, Environment& env) {
  CLI::App app("A self-sufficient runtime for containers", "berth");
  app.set_help_flag("-h,--help", "Print usage");
  app.footer("Run 'berth COMMAND --help' for more information on a command.");
  std::string host, config, log_level = "info";
  bool debug = false, version = false;
  app.add_option(
      "-H,--host", host,
      "Daemon socket to connect to (default: $BERTH_HOST or " + std::string(kDefaultHost) + ")");
  app.add_flag("-D,--debug", debug, "Enable debug mode");
  app.add_option("--config", config, "Location of client config files (default: ~/.berth)");
  app.add_option("-l,--log-level", log_level,
                 "Set the logging level (\"debug\", \"info\", \"warn\", \"error\", \"fatal\")");
  app.add_flag("-v,--version", version, "Print version information and quit");

  Action selected;
  AddSystemCommands(app, &selected);
  CLI::App* image = app.add_subcommand("image", "Manage images");
  AddImageCommands(app, *image, &selected);
  AddTransferCommands(app, *image, &selected);
  AddPullCommands(app, *image, &selected);
  AddLoginCommands(app, &selected);
  CLI::App* container = app.add_subcommand("container", "Manage containers");
  AddRunCommands(app, *container, &selected);
  AddContainerCommands(app, *container, &selected);
  AddExecCommands(app, *container, &selected);
  AddStatsCommands(app, *container, &selected);
  AddCpCommands(app, *container, &selected);
  CLI::App* volume = app.add_subcommand("volume", "Manage volumes");
  AddVolumeCommands(*volume, &selected);
  AllowExtrasEverywhere(app);

  std::vector<std::string> head = args;
  std::vector<std::string> trailing = SplitTrailing(app, head);
  std::vector<std::string> rewritten = RewriteShortEquals(app, head);
  std::vector<std::string> reversed(rewritten.rbegin(), rewritten.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    (void)Write(env.out, app.help());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    (void)Write(env.out, app.help("", CLI::AppFormatMode::All));
    return 0;
  } catch (const CLI::ParseError& e) {
    auto [leaf, path] = ParsedLeaf(app);
    (void)Write(env.err, fmt::format("{}\nSee '{} --help'.\n", e.what(), path));
    return 125;
  }

  auto [leaf, path] = ParsedLeaf(app);
  std::vector<std::string> extras = leaf->remaining();
  if (!extras.empty()) {
    const std::string& first = extras.front();
    if (first.starts_with("-")) {
      (void)Write(env.err, fmt::format("unknown flag: {}\nSee '{} --help'.\n", first, path));
      return 125;
    }
    std::string command = path == "berth" ? first : path.substr(6) + " " + first;
    (void)Write(env.err,
                fmt::format("berth: '{}' is not a berth command.\nSee 'berth --help'\n", command));
    return 1;
  }
  if (version) {
    (void)Write(env.out, fmt::format("Berth version {}, build {}\n", internal::kVersion,
                                     internal::kGitCommit));
    return 0;
  }
  Result<spdlog::level::level_enum> level = log::ParseLevel(debug ? "debug" : log_level);
  if (!level) {
    (void)Write(env.err, fmt::format("Unable to parse logging level: {}\n", log_level));
    return 1;
  }
  spdlog::set_level(*level);
  if (!selected) {
    (void)Write(env.out, leaf->help());
    return 0;
  }

  GlobalOptions globals;
  globals.debug = debug;
  globals.trailing_args = std::move(trailing);
  globals.host =
      !host.empty() ? host : env.getenv("BERTH_HOST").value_or(std::string(kDefaultHost));
  if (!config.empty()) {
    globals.config_dir = config;
  } else if (auto dir = env.getenv("BERTH_CONFIG")) {
    globals.config_dir = *dir;
  } else {
    globals.config_dir = env.getenv("HOME").value_or("") + "/.berth";
  }
  Context ctx(env, std::move(globals));
  Status status = selected(ctx);
  if (!status.ok() && status.error().code != Code::kCancelled && !status.error().message.empty()) {
    (void)Write(env.err, status.error().message + "\n");
  }
  return ctx.exit_code().value_or(ExitCode(status));
}

int Main(int argc, char** argv) {
  FdReader in(STDIN_FILENO);
  FdWriter out(STDOUT_FILENO);
  FdWriter err(STDERR_FILENO);
  Environment env;
  env.in = &in;
  env.out = &out;
  env.err = &err;
  env.in_is_terminal = ::isatty(STDIN_FILENO) == 1;
  env.out_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  env.in_fd = STDIN_FILENO;
  env.out_fd = STDOUT_FILENO;
  winsize ws{};
  if (env.out_is_terminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    env.terminal_width = ws.ws_col;
    env.terminal_height = ws.ws_row;
  }
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) != nullptr) env.cwd = cwd;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.now_unix = [] { return static_cast<int64_t>(std::time(nullptr)); };
  env.dial = [](const HostSpec& host) {
    return NewTransport(host, fmt::format("Berth-Client/{} (linux)", internal::kVersion));
  };
  log::Init(spdlog::level::info);
  std::vector<std::string> args(argv + 1, argv + argc);
  return Run(args, env);
}

}  // namespace berth::cli
