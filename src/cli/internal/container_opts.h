// The flags `create` and `run` share, and the POST /containers/create body docker builds from
// them (docker/cli cli/command/container/opts.go `parse`): Config, then HostConfig and
// NetworkingConfig, every key in the docker CLI's order with its defaults (see
// specs/docker-engine-api/docker-cli-capture.txt). Pure: no I/O but reading --env-file and a
// seccomp profile named by --security-opt. Private to cli/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace CLI {
class App;
}  // namespace CLI

namespace berth::cli {

struct ContainerFlags {
  bool interactive = false;  // -i
  bool tty = false;          // -t
  bool rm = false;
  bool read_only = false;
  bool privileged = false;
  bool publish_all = false;  // -P
  std::optional<bool> init;  // --init, only when given
  std::string name;
  std::string workdir;
  std::string user;
  std::string hostname;
  std::optional<std::string> entrypoint;  // --entrypoint, "" resets
  std::vector<std::string> attach;        // -a
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::vector<std::string> labels;
  std::vector<std::string> tmpfs;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> security_opt;
  std::vector<std::string> ulimits;
  std::vector<std::string> volumes;
  std::vector<std::string> mounts;
  std::vector<std::string> volumes_from;
  std::vector<std::string> publish;
  std::vector<std::string> expose;
  std::vector<std::string> networks;
  // Typed flags kept as given and validated in BuildCreateBody, like pflag's Set.
  std::string memory;
  std::string memory_swap;
  std::string cpus;
  std::string cpu_shares;
  std::string pids_limit;
  std::string stop_timeout;
  std::string restart = "no";
  std::string stop_signal;
  std::string pull = "missing";
  std::string platform;
};

// Registers the shared flags on `cmd` (docker's addFlags).
void AddContainerFlags(CLI::App& cmd, ContainerFlags& flags);

struct CreateInput {
  std::string image;
  std::vector<std::string> command;  // after IMAGE
  bool detach = false;               // run -d: nothing attached
  uint32_t console_height = 0;       // with -t on a terminal
  uint32_t console_width = 0;
  std::string api_version = "1.43";
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::string cwd;  // to make a relative bind source ("./x") absolute
};

// Builds the create body. Fails with the first bad value, in docker's words: a flag value error
// reads `invalid argument "1x" for "-m, --memory" flag: ...` (IsFlagValueError), anything else
// is a parse() error such as "invalid publish opts format ...".
Result<nlohmann::ordered_json> BuildCreateBody(const ContainerFlags& flags, const CreateInput& in);
bool IsFlagValueError(const Error& error);

// docker's value parsers, exposed for tests. Errors are the message after "flag: ".
Result<int64_t> RamInBytes(const std::string& size);  // go-units RAMInBytes
Result<int64_t> ParseNanoCpus(const std::string& value);
Result<nlohmann::ordered_json> ParseUlimit(const std::string& value);

}  // namespace berth::cli
