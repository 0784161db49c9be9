// The flags run and create share, registered on a CLI11 command with docker's names and help
// (docker/cli cli/command/container/opts.go addFlags). Values are checked later, in
// BuildCreateBody (container_opts.cc), the way pflag's Set would.
#include <CLI/CLI.hpp>

#include "cli/internal/container_opts.h"

namespace berth::cli {

void AddContainerFlags(CLI::App& cmd, ContainerFlags& f) {
  auto list = [&cmd](const std::string& names, std::vector<std::string>& into,
                     const std::string& help) {
    cmd.add_option(names, into, help)->allow_extra_args(false)->type_name("list");
  };
  cmd.set_help_flag("--help", "Print usage");  // -h is --hostname, as in docker
  list("-a,--attach", f.attach, "Attach to STDIN, STDOUT or STDERR");
  list("--cap-add", f.cap_add, "Add Linux capabilities");
  list("--cap-drop", f.cap_drop, "Drop Linux capabilities");
  cmd.add_option("-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
  cmd.add_option("--cpus", f.cpus, "Number of CPUs");
  cmd.add_option_function<std::string>(
      "--entrypoint", [&f](const std::string& v) { f.entrypoint = v; },
      "Overwrite the default ENTRYPOINT of the image");
  list("-e,--env", f.env, "Set environment variables");
  list("--env-file", f.env_files, "Read in a file of environment variables");
  list("--expose", f.expose, "Expose a port or a range of ports");
  cmd.add_option("-h,--hostname", f.hostname, "Container host name");
  cmd.add_flag_function(
      "--init", [&f](int64_t n) { f.init = n > 0; },
      "Run an init inside the container that forwards signals and reaps processes");
  cmd.add_flag("-i,--interactive", f.interactive, "Keep STDIN open even if not attached");
  list("-l,--label", f.labels, "Set meta data on a container");
  cmd.add_option("-m,--memory", f.memory, "Memory limit");
  cmd.add_option("--memory-swap", f.memory_swap,
                 "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  list("--mount", f.mounts, "Attach a filesystem mount to the container");
  cmd.add_option("--name", f.name, "Assign a name to the container");
  list("--network,--net", f.networks, "Connect a container to a network");
  cmd.add_option("--pids-limit", f.pids_limit, "Tune container pids limit (set -1 for unlimited)");
  cmd.add_option("--platform", f.platform, "Set platform if server is multi-platform capable");
  cmd.add_flag("--privileged", f.privileged, "Give extended privileges to this container");
  list("-p,--publish", f.publish, "Publish a container's port(s) to the host");
  cmd.add_flag("-P,--publish-all", f.publish_all, "Publish all exposed ports to random ports");
  cmd.add_option("--pull", f.pull,
                 "Pull image before running (\"always\", \"missing\", \"never\")");
  cmd.add_flag("--read-only", f.read_only, "Mount the container's root filesystem as read only");
  cmd.add_option("--restart", f.restart, "Restart policy to apply when a container exits");
  cmd.add_flag("--rm", f.rm,
               "Automatically remove the container and its associated anonymous "
               "volumes when it exits");
  list("--security-opt", f.security_opt, "Security Options");
  cmd.add_option("--stop-signal", f.stop_signal, "Signal to stop the container");
  cmd.add_option("--stop-timeout", f.stop_timeout, "Timeout (in seconds) to stop a container");
  list("--tmpfs", f.tmpfs, "Mount a tmpfs directory");
  cmd.add_flag("-t,--tty", f.tty, "Allocate a pseudo-TTY");
  list("--ulimit", f.ulimits, "Ulimit options");
  cmd.add_option("-u,--user", f.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  list("-v,--volume", f.volumes, "Bind mount a volume");
  list("--volumes-from", f.volumes_from, "Mount volumes from the specified container(s)");
  cmd.add_option("-w,--workdir", f.workdir, "Working directory inside the container");
}

}  // namespace berth::cli
