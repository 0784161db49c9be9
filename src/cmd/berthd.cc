// berthd: the Berth engine daemon. Flags (dockerd's names) and daemon.json -> engine::Config,
// then the Daemon (state root, lock, pidfile, backends), the Engine API routes and server,
// and a wait for SIGTERM/SIGINT. Start-up does no heavy work: the first _ping is answered
// as soon as the sockets listen.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "api/engine_routes.h"
#include "api/router.h"
#include "api/server.h"
#include "base/log.h"
#include "engine/build_info.h"
#include "engine/config.h"
#include "engine/containers.h"
#include "engine/daemon.h"

namespace {

using berth::engine::Config;

// In-flight requests get this long to finish at shutdown before their sockets are cut.
constexpr std::chrono::seconds kShutdownGrace{10};

int Fail(const berth::Error& error) {
  std::fprintf(stderr, "berthd: %s\n", error.message.c_str());
  return 1;
}

int Run(const Config& config) {
  auto level = berth::log::ParseLevel(config.log_level);
  berth::log::Init(level ? *level : spdlog::level::info);

  for (const std::string& host : config.hosts) {
    auto addr = berth::api::ParseListenAddress(host);
    if (!addr) return Fail(addr.error());
  }

  // Signals are taken synchronously by sigwait below, so block them before any thread
  // starts (threads inherit the mask). A client closing its socket is an error value on
  // send, not a signal.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto daemon = berth::engine::Daemon::Open(config);
  if (!daemon) return Fail(daemon.error());

  berth::api::Router router;
  berth::api::RegisterEngineRoutes(router, **daemon);
  const auto& build = berth::engine::GetBuildInfo();
  berth::api::Server server(
      router, berth::api::ServerOptions{"Berth/" + std::string(build.version) + " (linux)", 0660});
  for (const std::string& host : config.hosts) {
    berth::Status st = server.Listen(host);
    if (!st) return Fail(st.error());
  }
  berth::Status st = server.Start();
  if (!st) return Fail(st.error());
  for (const std::string& addr : server.addresses()) spdlog::info("API listen on {}", addr);
  spdlog::info("daemon has completed initialization (version {}, pid {})", build.version,
               ::getpid());

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  spdlog::info("processing signal '{}': shutting down",
               sig == SIGTERM ? "terminated" : "interrupt");
  // Long waits (wait, attach before start, logs -f) end first so the server's connection
  // threads can finish; containers keep running.
  (*daemon)->containers().Shutdown();
  server.Shutdown(kShutdownGrace);
  daemon->reset();  // removes the pidfile and releases the data-root lock
  spdlog::info("daemon shut down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berthd: a self-sufficient runtime for containers", "berthd"};
  Config flags;
  std::string config_file(berth::engine::kDefaultConfigFile);
  bool show_version = false;

  // Each flag with the daemon.json key that must not also appear in the file.
  std::vector<std::pair<CLI::Option*, std::string>> keyed = {
      {app.add_option("-H,--host", flags.hosts,
                      "Daemon socket(s) to listen on (unix:///path, "
                      "tcp://host:port); repeatable")
           ->expected(1)
           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
       "hosts"},
      {app.add_option("--data-root", flags.data_root, "Root directory of persistent state")
           ->capture_default_str(),
       "data-root"},
      {app.add_option("--exec-root", flags.exec_root, "Root directory for execution state files")
           ->capture_default_str(),
       "exec-root"},
      {app.add_option("-p,--pidfile", flags.pidfile, "Path to use for the daemon PID file")
           ->capture_default_str(),
       "pidfile"},
      {app.add_flag("-D,--debug", flags.debug, "Enable debug mode"), "debug"},
      {app.add_option("-l,--log-level", flags.log_level,
                      "Set the logging level (debug, info, warn, error, fatal)")
           ->capture_default_str(),
       "log-level"},
      {app.add_option("--insecure-registry", flags.insecure_registries,
                      "Enable insecure registry communication; repeatable")
           ->expected(1)
           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
       "insecure-registries"},
      {app.add_option("--cgroup-parent", flags.cgroup_parent,
                      "Parent cgroup for all containers")
           ->capture_default_str(),
       "cgroup-parent"},
      {app.add_option("--max-concurrent-downloads", flags.max_concurrent_downloads,
                      "Set the max concurrent downloads for each pull")
           ->capture_default_str(),
       "max-concurrent-downloads"},
      {app.add_option("--max-download-speed", flags.max_download_speed,
                      "Limit each layer download to this many bytes per second (0: no limit)")
           ->capture_default_str(),
       "max-download-speed"},
      {app.add_option("--certs-dir", flags.certs_dir,
                      "Per-registry CA certificates: <dir>/<host[:port]>/*.crt")
           ->capture_default_str(),
       "certs-dir"},
      {app.add_option("--registry-mirror", flags.registry_mirrors,
                      "Preferred registry mirror; repeatable")
           ->expected(1)
           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
       "registry-mirrors"},
  };
  CLI::Option* config_opt =
      app.add_option("--config-file", config_file, "Daemon configuration file")
          ->capture_default_str();
  app.add_flag("-v,--version", show_version, "Print version information and quit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (show_version) {
    const auto& build = berth::engine::GetBuildInfo();
    std::printf("Berth version %.*s, build %.*s\n", static_cast<int>(build.version.size()),
                build.version.data(), static_cast<int>(build.git_commit.size()),
                build.git_commit.data());
    return 0;
  }

  std::set<std::string> flags_set;
  for (const auto& [opt, key] : keyed) {
    if (opt->count() > 0) flags_set.insert(key);
  }
  auto loaded = berth::engine::LoadConfig(flags, flags_set, config_file, config_opt->count() > 0);
  if (!loaded) return Fail(loaded.error());
  auto config = berth::engine::ValidateConfig(std::move(*loaded));
  if (!config) return Fail(config.error());
  return Run(*config);
}
