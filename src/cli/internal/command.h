// What every command implementation shares: the Context of one run (stdio, the lazily dialed
// API client, global flags), the docker-style argument-count checks, and the registration hooks
// of the command groups. Private to cli/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cli/cli.h"
#include "cli/client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace berth::cli {

struct GlobalOptions {
  std::string host;                        // -H / BERTH_HOST / kDefaultHost
  bool debug = false;                      // -D
  std::string config_dir;                  // --config / BERTH_CONFIG / ~/.berth
  std::vector<std::string> trailing_args;  // see Context::trailing_args
};

class Context {
 public:
  Context(Environment& env, GlobalOptions globals);

  Environment& env() { return env_; }
  const GlobalOptions& globals() const { return globals_; }
  // The API client, dialed on first use.
  Result<ApiClient*> Client();
  Status Out(std::string_view text) { return env_.out->Write(text); }
  Status Err(std::string_view text) { return env_.err->Write(text); }
  int64_t Now() const { return env_.now_unix(); }
  // A string setting of config.json (e.g. "imagesFormat"); "" when absent.
  std::string ConfigString(const std::string& key);
  // Asks "<message> [y/N] " and reads a line from stdin (docker's PromptForConfirmation).
  Result<bool> Confirm(std::string_view message);
  // The exit code to use instead of ExitCode(status) (run's container status, 125, ...).
  void SetExitCode(int code) { exit_code_ = code; }
  std::optional<int> exit_code() const { return exit_code_; }
  // Arguments after a command's first positional (run/create/exec IMAGE|CONTAINER COMMAND...),
  // which docker never parses as flags.
  const std::vector<std::string>& trailing_args() const { return globals_.trailing_args; }

 private:
  Environment& env_;
  GlobalOptions globals_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<ApiClient> client_;
  std::optional<nlohmann::ordered_json> config_;
  std::optional<int> exit_code_;
};

using Action = std::function<Status(Context&)>;

// How a command presents itself in usage errors: path "berth image ls", use line
// "berth image ls [OPTIONS] [REPOSITORY[:TAG]]", one-line description.
struct CommandInfo {
  std::string path;
  std::string use;
  std::string description;
};

// docker's cli.ExactArgs / RequiresMinArgs / RequiresMaxArgs / RequiresRangeArgs / NoArgs.
Status ExactArgs(const CommandInfo& cmd, const std::vector<std::string>& args, size_t n);
Status MinArgs(const CommandInfo& cmd, const std::vector<std::string>& args, size_t n);
Status RangeArgs(const CommandInfo& cmd, const std::vector<std::string>& args, size_t min,
                 size_t max);
Status NoArgs(const CommandInfo& cmd, const std::vector<std::string>& args);

// Parses repeated --filter key=value flags into the Engine API's filters JSON
// ({"key":{"value":true}}), as docker's filters.Args does. Empty object when none. A sorted
// nlohmann::json on purpose: it is a Go map, marshalled with sorted keys.
Result<nlohmann::json> ParseFilters(const std::vector<std::string>& flags);

// Adds a subcommand `name` to `parent` whose run is stored into `selected` when parsed.
// Returns the new subcommand for its options.
CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description,
                     Action* selected, std::function<Status(Context&)> run);

// Registration of the command groups (system.cc, images.cc, transfer.cc).
void AddSystemCommands(CLI::App& root, Action* selected);
void AddImageCommands(CLI::App& root, CLI::App& image, Action* selected);
void AddTransferCommands(CLI::App& root, CLI::App& image, Action* selected);
// pull (pull.cc), login and logout (login.cc).
void AddPullCommands(CLI::App& root, CLI::App& image, Action* selected);
void AddLoginCommands(CLI::App& root, Action* selected);
// X-Registry-Auth for pulling `name` ("127.0.0.1:5000/me/x", "docker.io/library/busybox"):
// the credentials `login` stored for its registry, or "e30=" ({}) when there are none.
std::string RegistryAuthFor(Context& ctx, const std::string& name);
// What POST /images/create?fromImage=&tag= takes for an image name as typed (run.cc): the
// normalised name ("busybox" -> "docker.io/library/busybox") and the tag or digest ("latest"
// when none).
std::pair<std::string, std::string> PullTarget(const std::string& image);
// inspect (images.cc): `type` "" tries a container, then an image; "container" or "image".
void AddInspectCommand(CLI::App& parent, const std::string& name, const std::string& path,
                       const std::string& type, Action* selected);
// Container groups (run.cc, containers.cc, exec.cc). Commands whose arguments after the first
// positional are the container's own are marked prefix_command() for Run()'s splitting.
void AddRunCommands(CLI::App& root, CLI::App& container, Action* selected);
void AddContainerCommands(CLI::App& root, CLI::App& container, Action* selected);
void AddExecCommands(CLI::App& root, CLI::App& container, Action* selected);
void AddStatsCommands(CLI::App& root, CLI::App& container, Action* selected);
void AddCpCommands(CLI::App& root, CLI::App& container, Action* selected);
// `volume` subcommands (volumes.cc).
void AddVolumeCommands(CLI::App& volume, Action* selected);

// docker's GetTimestamp for --since/--until: a Go duration ("10m") is that long before `now`
// (Unix seconds), RFC 3339 becomes "seconds.nanos", anything else is sent as given.
std::string DockerTimestamp(const std::string& value, int64_t now);

// Reports an error the way docker's run/create/start do: "berth: <message>" + help hint, and
// sets exit code `code`. Returns an error with an empty message (already printed).
Status ReportRunError(Context& ctx, const std::string& command, const Error& error, int code,
                      bool period = false);

// Presentation helpers shared by the groups.
std::string TruncateId(std::string_view id);             // docker's stringid.TruncateID
std::string Ellipsis(std::string_view s, size_t width);  // docker's formatter.Ellipsis
std::string BytesSize(double bytes);                     // docker's units.BytesSize (binary)
std::string GoTimeString(int64_t unix_seconds);          // "2006-01-02 15:04:05 -0700 MST"
std::string Rfc3339(int64_t unix_seconds);               // "2006-01-02T15:04:05-07:00"

}  // namespace berth::cli
