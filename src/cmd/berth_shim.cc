// berth-shim <bundle> <ready-fd>: the monitor of one container (src/shim/server.h). berthd
// spawns it; it detaches (setsid + fork, the first process exits at once so berthd reaps it),
// then runs the container and reports on <ready-fd>. Its own log is <run-dir>/shim.log.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/file.h"
#include "base/log.h"
#include "shim/protocol.h"
#include "shim/server.h"

int main(int argc, char** argv) {
  using namespace berth;
  if (argc != 3) {
    std::fprintf(stderr, "usage: berth-shim BUNDLE READY_FD\n");
    return 2;
  }
  UniqueFd ready(std::atoi(argv[2]));
  // Whoever spawned us, keep only stdio and the ready pipe: no descriptor of the spawner may
  // live on in a long-lived shim (or reach a container).
  ::close_range(static_cast<unsigned>(std::max(ready.get(), 2) + 1), ~0U, 0);
  auto text = ReadFile(std::string(argv[1]) + "/" + std::string(shim::kOptionsFile));
  auto options = text ? shim::ParseOptions(*text) : Result<shim::ShimOptions>(text.error());
  if (!options) {
    (void)WriteAll(ready.get(), shim::EncodeError(options.error()) + "\n");
    return 1;
  }
  ::fcntl(ready.get(), F_SETFD, FD_CLOEXEC);
  if (::setsid() < 0) return 1;
  pid_t child = ::fork();
  if (child < 0) return 1;
  if (child > 0) _exit(0);
  if (::chdir("/") != 0) return 1;
  int log_fd = ::open((options->run_dir + "/shim.log").c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd >= 0) {
    ::dup2(log_fd, 2);
    ::close(log_fd);
  }
  log::Init(spdlog::level::info);
  return shim::RunShim(*options, std::move(ready));
}
