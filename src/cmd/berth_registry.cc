// berth-registry: the OCI distribution registry. `serve` opens the data root (blobs and
// uploads on the file system, metadata in registry.db), listens and serves until SIGTERM or
// SIGINT, collecting garbage on a schedule; `gc` collects once and exits. Flags may also come
// from a TOML config file (--config), whose keys are the long flag names.
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "auth/htpasswd.h"
#include "base/file.h"
#include "cmd/config_file.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "meta/registry_meta.h"
#include "registry/http_server.h"
#include "registry/metrics.h"
#include "registry/registry.h"
#include "sql/database.h"
#include "storage/blob_store.h"

namespace {

using namespace berth;  // NOLINT: a main file

struct Flags {
  std::string listen = "127.0.0.1:5000";
  std::string data_root = "/var/lib/berth-registry";
  std::string log_level = "info";
  int threads = 0;
  int64_t header_timeout_seconds = 30;
  int64_t gc_interval_seconds = 3600;
  int64_t gc_grace_seconds = 3600;
  int64_t upload_expiry_seconds = 24 * 3600;
  bool access_log = false;
  std::string htpasswd;
  std::string htpasswd_read_only;
  bool allow_anonymous = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
};

bool IsLoopback(const std::string& listen) {
  return listen.starts_with("127.") || listen.starts_with("[::1]:") || listen.starts_with("localhost:");
}

int Fail(const Error& error) {
  std::fprintf(stderr, "berth-registry: %s\n", error.message.c_str());
  return 1;
}

struct Opened {
  registry::Metrics metrics;
  std::unique_ptr<auth::HtpasswdAuthenticator> authenticator;
  UniqueFd lock;
  std::unique_ptr<sql::Database> db;
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<meta::RegistryMeta> meta;
  std::unique_ptr<registry::Registry> registry;
};

Result<std::unique_ptr<Opened>> Open(const Flags& flags) {
  auto opened = std::make_unique<Opened>();
  Opened& o = *opened;
  if (Status st = MakeDirs(flags.data_root, 0700); !st) return st.error();
  auto lock = OpenFile(flags.data_root + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (!lock) return lock.error();
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
    return MakeError(Code::kUnavailable,
                     "data root " + flags.data_root + " is in use by another berth-registry");
  }
  // The pid, for `berth-registry gc` to find the server that holds the lock.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock->get(), 0) != 0 || ::pwrite(lock->get(), pid.data(), pid.size(), 0) < 0) {
    return ErrnoError("write " + flags.data_root + "/lock");
  }
  o.lock = std::move(*lock);
  auto db = sql::Database::Open(flags.data_root + "/registry.db");
  if (!db) return db.error();
  o.db = std::move(*db);
  // An acknowledged push must survive a power loss, not only a crash: fsync at each commit.
  if (Status st = o.db->Exec("PRAGMA synchronous=FULL;"); !st) return st.error();
  auto blobs = storage::OpenFilesystemBlobStore(flags.data_root);
  if (!blobs) return blobs.error();
  o.blobs = std::move(*blobs);
  auto meta = meta::OpenSqliteRegistryMeta(*o.db);
  if (!meta) return meta.error();
  o.meta = std::move(*meta);
  registry::RegistryOptions options;
  options.metrics = &o.metrics;
  if (!flags.htpasswd.empty() || !flags.htpasswd_read_only.empty()) {
    auto a = auth::HtpasswdAuthenticator::Load(flags.htpasswd, flags.htpasswd_read_only);
    if (!a) return a.error();
    o.authenticator = std::move(*a);
    options.authenticator = o.authenticator.get();
  }
  options.gc_grace = std::chrono::seconds(flags.gc_grace_seconds);
  options.upload_expiry = std::chrono::seconds(flags.upload_expiry_seconds);
  o.registry = std::make_unique<registry::Registry>(*o.db, *o.blobs, *o.meta, options);
  return opened;
}

std::string ReportText(const registry::GcReport& r) {
  return "removed " + std::to_string(r.blobs_removed) + " blobs (" + std::to_string(r.bytes_removed) +
         " bytes) and " + std::to_string(r.uploads_removed) + " uploads\n";
}

// Collects garbage; the outcome goes to the log and, for `berth-registry gc`, to gc.report.
void RunGc(registry::Registry& r, const std::string& data_root) {
  auto report = r.CollectGarbage();
  std::string text = report ? ReportText(*report) : "error: " + report.error().message + "\n";
  if (!report) {
    spdlog::error("gc: {}", report.error().message);
  } else if (report->blobs_removed || report->uploads_removed) {
    spdlog::info("gc: {}", text.substr(0, text.size() - 1));
  }
  if (Status st = ReplaceFile(data_root + "/gc.report", text, 0600); !st) {
    spdlog::warn("gc: {}", st.error().message);
  }
}

int Serve(const Flags& flags) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);  // `berth-registry gc` asks for a collection
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (flags.htpasswd.empty() && flags.htpasswd_read_only.empty() && !IsLoopback(flags.listen) &&
      !flags.allow_anonymous) {
    return Fail(MakeError(Code::kInvalidArgument,
                          "refusing anonymous access on " + flags.listen +
                              ": give --htpasswd FILE, listen on loopback, or pass --allow-anonymous"));
  }
  auto opened = Open(flags);
  if (!opened) return Fail(opened.error());
  registry::Registry& reg = *(*opened)->registry;
  registry::Metrics& metrics = (*opened)->metrics;

  registry::HttpServerOptions options;
  options.threads = flags.threads;
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.tls_client_ca_file = flags.tls_client_ca;
  options.header_timeout = std::chrono::seconds(flags.header_timeout_seconds);
  bool access_log = flags.access_log;
  options.on_response = [&metrics, access_log](const registry::HttpExchange& ex,
                                               std::chrono::microseconds took) {
    metrics.Observe(ex.method(), ex.status(), took);
    if (access_log) {
      // The target only: credentials travel in headers, which are never logged.
      spdlog::info("access remote={} method={} target=\"{}\" status={} took_us={}", ex.remote(),
                   ex.method(), ex.target(), ex.status(), took.count());
    }
  };
  registry::HttpServer server([&reg](registry::HttpExchange& ex) { return reg.Handle(ex); },
                              options);
  auto bound = server.Listen(flags.listen);
  if (!bound) return Fail(bound.error());
  if (Status st = server.Start(); !st) return Fail(st.error());
  std::printf("listening on %s\n", bound->c_str());
  std::fflush(stdout);
  spdlog::info("berth-registry serving {} on {} with data root {}", flags.tls_cert.empty() ? "HTTP" : "HTTPS", *bound, flags.data_root);

  auto next_gc = std::chrono::steady_clock::now() + std::chrono::seconds(flags.gc_interval_seconds);
  for (;;) {
    // To the nanosecond: whole seconds would round the last fraction of each interval down to
    // a zero timeout, and collect early (every second for --gc-interval 2, without pause for 1).
    auto wait = std::max(std::chrono::nanoseconds(0),
                         std::chrono::duration_cast<std::chrono::nanoseconds>(
                             next_gc - std::chrono::steady_clock::now()));
    timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000),
                static_cast<long>(wait.count() % 1'000'000'000)};
    int sig = flags.gc_interval_seconds > 0 ? ::sigtimedwait(&stop_signals, nullptr, &ts)
                                            : ::sigwaitinfo(&stop_signals, nullptr);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGUSR1) RunGc(reg, flags.data_root);
    if (sig < 0 && errno == EAGAIN) {
      RunGc(reg, flags.data_root);
      next_gc = std::chrono::steady_clock::now() + std::chrono::seconds(flags.gc_interval_seconds);
    }
  }
  spdlog::info("berth-registry: shutting down");
  server.Stop();
  reg.Shutdown();  // before ~HttpServer frees the io_context its last completions touch
  return 0;
}

// Collects once. If a server holds the data root, it is asked to collect (SIGUSR1) and its
// report is printed: only the server may remove uploads and keep its caches right.
int Gc(const Flags& flags) {
  auto opened = Open(flags);
  if (opened) {
    auto report = (*opened)->registry->CollectGarbage();
    if (!report) return Fail(report.error());
    std::fputs(ReportText(*report).c_str(), stdout);
    return 0;
  }
  if (opened.error().code != Code::kUnavailable) return Fail(opened.error());
  auto pid_text = ReadFile(flags.data_root + "/lock");
  pid_t pid = pid_text ? static_cast<pid_t>(std::atol(pid_text->c_str())) : 0;
  if (pid <= 1) return Fail(opened.error());
  std::string report_path = flags.data_root + "/gc.report";
  (void)::unlink(report_path.c_str());
  if (::kill(pid, SIGUSR1) != 0) return Fail(ErrnoError("signal berth-registry " + std::to_string(pid)));
  for (int i = 0; i < 6000; ++i) {
    if (auto report = ReadFile(report_path); report) {
      std::fputs(report->c_str(), stdout);
      return report->starts_with("error") ? 1 : 0;
    }
    ::usleep(10'000);
  }
  return Fail(MakeError(Code::kUnavailable, "berth-registry " + std::to_string(pid) +
                                                " did not report a collection within 60 s"));
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"berth-registry: an OCI distribution registry"};
  app.config_formatter(std::make_shared<cmd::YamlOrTomlConfig>());
  app.set_config("--config", "", "YAML or TOML file with flag values (keys are the long flag names)");
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is not ignored
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand: `serve --data-root DIR`
  app.add_option("--data-root", flags.data_root, "where blobs, uploads and metadata live")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")->capture_default_str();
  app.add_option("--gc-grace", flags.gc_grace_seconds,
                 "seconds a pushed blob is kept while no manifest references it")
      ->capture_default_str();
  app.add_option("--upload-expiry", flags.upload_expiry_seconds,
                 "seconds after which an idle upload is removed")
      ->capture_default_str();
  CLI::App* serve = app.add_subcommand("serve", "serve the registry");
  serve->add_option("--listen", flags.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--threads", flags.threads, "threads serving requests (0: one per CPU)");
  serve->add_option("--gc-interval", flags.gc_interval_seconds,
                    "seconds between garbage collections (0: never)")
      ->capture_default_str();
  serve->add_option("--header-timeout", flags.header_timeout_seconds,
                    "seconds a client has to send a whole request header")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_flag("--access-log", flags.access_log, "log every request");
  serve->add_option("--htpasswd", flags.htpasswd,
                    "htpasswd file (bcrypt) of users who may pull, push and delete");
  serve->add_option("--htpasswd-read-only", flags.htpasswd_read_only,
                    "htpasswd file (bcrypt) of users who may only pull");
  serve->add_flag("--allow-anonymous", flags.allow_anonymous,
                  "serve without authentication on a non-loopback address");
  serve->add_option("--tls-cert", flags.tls_cert, "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert");
  serve->add_option("--tls-client-ca", flags.tls_client_ca,
                    "PEM CA certificates: clients must present a certificate one of them signed");
  CLI::App* gc = app.add_subcommand("gc", "collect garbage once and exit");
  CLI11_PARSE(app, argc, argv);

  auto level = log::ParseLevel(flags.log_level);
  if (!level) return Fail(level.error());
  log::Init(*level);
  if (serve->parsed()) return Serve(flags);
  if (gc->parsed()) return Gc(flags);
  return 2;
}
