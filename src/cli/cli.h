// The `berth` command line: docker-compatible commands that call berthd's Engine API and print
// the replies the way the docker CLI does. No logic of its own beyond presentation.
//
// Run() takes everything it touches from the outside (stdio, environment variables, clock, the
// connection to the daemon) through Environment, so tests drive whole commands against a fake
// Transport. Main() wires the real process. Exit codes follow docker: 0 ok, 1 for daemon and
// argument errors, 125 for unknown flags and bad flag values; run/create/exec/start choose their
// own (the container's exit status, 125/126/127) through Context::SetExitCode.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "cli/client.h"

namespace berth::cli {

struct Environment {
  Reader* in = nullptr;
  Writer* out = nullptr;
  Writer* err = nullptr;
  bool in_is_terminal = false;
  bool out_is_terminal = false;
  size_t terminal_width = 0;   // 0: unknown
  size_t terminal_height = 0;  // 0: unknown
  // The fds behind `in` and `out` when they are real ones (-1 in tests): stdin is polled so its
  // copier can stop, and terminals are put in raw mode and asked for their size.
  int in_fd = -1;
  int out_fd = -1;
  // The working directory, for relative bind mounts ("-v ./data:/data").
  std::string cwd;
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<int64_t()> now_unix;  // seconds since the epoch
  // Connects to the daemon at `host`. Main() uses NewTransport.
  std::function<Result<std::unique_ptr<Transport>>(const HostSpec&)> dial;
};

// Runs one command line (without argv[0]); returns the process exit code.
int Run(const std::vector<std::string>& args, Environment& env);

// The process entry point used by src/cmd/berth.cc.
int Main(int argc, char** argv);

// The one table from errors to exit codes (STYLE.md §4): ok and a declined prompt (Cancelled)
// are 0, everything else 1. Flag errors are 125, decided where flags are parsed.
int ExitCode(const Status& status);

}  // namespace berth::cli
