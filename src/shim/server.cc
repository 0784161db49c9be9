#include "shim/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "oci/runtime_spec.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "shim/internal/exec_session.h"
#include "shim/internal/pipes.h"
#include "shim/json_log.h"
#include "sys/linux_syscalls.h"

namespace berth::shim {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 32 * 1024;
constexpr size_t kMaxQueued = 1 << 20;  // per client, before output is paused
constexpr auto kDrainLimit = std::chrono::seconds(2);
constexpr auto kFlushLimit = std::chrono::seconds(5);

std::string OkLine(Json extra = Json::object()) {
  extra["ok"] = true;
  return extra.dump() + "\n";
}

using internal::MakePipe;
using internal::Pipe;
using internal::SetNonBlocking;

// Binds `name` in `dir` (the shim's cwd becomes `dir`, so the socket path stays short
// whatever the length of the exec root: sun_path holds 108 bytes).
Result<UniqueFd> Listen(const std::string& dir, std::string_view name) {
  if (::chdir(dir.c_str()) != 0) return ErrnoError(fmt::format("chdir {}", dir));
  std::string path(name);
  ::unlink(path.c_str());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return ErrnoError("socket");
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(fmt::format("bind {}/{}", dir, path));
  }
  if (::listen(fd.get(), 64) != 0) return ErrnoError("listen");
  return fd;
}

enum class Mode { kRequest, kAttach, kWait, kExec };

// Exec sessions outlive their stream connection so exec-state can report the exit code.
using Exec = internal::ExecSession;

struct Conn {
  UniqueFd fd;
  Mode mode = Mode::kRequest;
  std::string in;   // request bytes not yet parsed
  std::string out;  // bytes queued to the client
  bool want_stdout = false;
  bool want_stderr = false;
  bool stdin = false;
  bool read_closed = false;
  bool close_after_flush = false;
  Exec* exec = nullptr;  // Mode::kExec
};

class Shim {
 public:
  explicit Shim(const ShimOptions& o) : o_(o) {}
  int Run(UniqueFd ready);

 private:
  Status Setup();
  void Loop();
  void Accept();
  void OnReadable(Conn& c);
  void OnRequest(Conn& c, const std::string& line);
  void OnOutput(int fd, StreamType stream);
  void Broadcast(StreamType stream, std::string_view data);
  void ReapChildren();
  void Finish();
  void FlushStdin();
  void CloseStdin();
  bool Backlogged() const;
  std::string StateJson() const;
  void StartExec(Conn& c, const Json& req);
  void OnExecOutput(Exec& x, int fd, StreamType stream);
  void StreamExecOutput(Exec& x, StreamType stream, std::string_view data);
  void MaybeEndExec(Exec& x);
  Conn* ExecConn(const Exec& x);

  const ShimOptions& o_;
  sys::LinuxSyscalls sys_;
  oci::RuntimeSpec spec_;
  std::unique_ptr<JsonLogWriter> log_;
  std::unique_ptr<runtime::CgroupManager> cgroups_;
  std::unique_ptr<runtime::Cgroup> cgroup_;
  std::unique_ptr<runtime::ContainerProcess> proc_;
  pid_t pid_ = 0;
  bool tty_ = false;
  UniqueFd pty_;
  UniqueFd out_;    // stdout pipe (read end)
  UniqueFd err_;    // stderr pipe (read end)
  UniqueFd stdin_;  // the container's stdin (pipe write end, or a dup of the pty)
  std::string stdin_buf_;
  bool stdin_close_pending_ = false;
  UniqueFd listen_;
  UniqueFd sigfd_;
  std::list<Conn> conns_;
  std::map<std::string, std::unique_ptr<Exec>> execs_;
  bool started_ = false;
  bool exited_ = false;
  int wait_status_ = 0;
  std::optional<Clock::time_point> exited_at_;
  std::optional<ExitStatus> final_;
  std::string start_error_;
  int start_exit_code_ = 0;
};

Status Shim::Setup() {
  BERTH_ASSIGN_OR_RETURN(std::string config, ReadFile(o_.bundle + "/" + std::string(kConfigFile)));
  BERTH_ASSIGN_OR_RETURN(spec_, oci::ParseRuntimeSpec(config));
  tty_ = spec_.process.terminal;
  if (!o_.log_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(log_,
                           JsonLogWriter::Open(o_.log_path, o_.log_max_size, o_.log_max_file));
  }
  if (!spec_.linux_.cgroups_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(cgroups_, runtime::CgroupManager::Detect(o_.cgroup_root));
    BERTH_ASSIGN_OR_RETURN(
        cgroup_, cgroups_->Create(spec_.linux_.cgroups_path,
                                  spec_.linux_.resources.value_or(oci::LinuxResources{})));
  }
  runtime::CreateOptions co;
  co.spec = &spec_;
  co.bundle = o_.bundle;
  co.rootfs_mounts = o_.rootfs_mounts;
  co.cgroup = cgroup_.get();
  co.seccomp_cache_dir = o_.seccomp_cache_dir;
  std::optional<Pipe> in, out, err;
  if (!tty_) {
    if (o_.open_stdin) {
      BERTH_ASSIGN_OR_RETURN(in, MakePipe());
      co.stdio.in = in->read.get();
    }
    BERTH_ASSIGN_OR_RETURN(out, MakePipe());
    BERTH_ASSIGN_OR_RETURN(err, MakePipe());
    co.stdio.out = out->write.get();
    co.stdio.err = err->write.get();
  }
  auto created = runtime::CreateContainer(co, sys_);
  if (!created) {
    if (cgroup_) (void)cgroup_->Destroy();
    return created.error();
  }
  proc_ = std::move(*created);
  pid_ = proc_->pid();
  if (tty_) {
    pty_ = proc_->TakePtyMaster();
    BERTH_RETURN_IF_ERROR(SetNonBlocking(pty_.get()));
    if (o_.open_stdin) {
      stdin_ = UniqueFd(::fcntl(pty_.get(), F_DUPFD_CLOEXEC, 3));
      if (!stdin_) return ErrnoError("dup pty");
    }
  } else {
    out_ = std::move(out->read);
    err_ = std::move(err->read);
    BERTH_RETURN_IF_ERROR(SetNonBlocking(out_.get()));
    BERTH_RETURN_IF_ERROR(SetNonBlocking(err_.get()));
    if (in) {
      stdin_ = std::move(in->write);
      BERTH_RETURN_IF_ERROR(SetNonBlocking(stdin_.get()));
    }
  }
  BERTH_ASSIGN_OR_RETURN(listen_, Listen(o_.run_dir, kSocketFile));
  BERTH_RETURN_IF_ERROR(
      ReplaceFile(o_.run_dir + "/" + std::string(kPidFile), std::to_string(::getpid())));
  return {};
}

int Shim::Run(UniqueFd ready) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  sigfd_ = UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  Status st = sigfd_ ? Setup() : Status(ErrnoError("signalfd"));
  if (!st) {
    (void)WriteAll(ready.get(), EncodeError(st.error()) + "\n");
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (cgroup_) (void)cgroup_->Destroy();
    return 1;
  }
  (void)WriteAll(ready.get(), OkLine({{"pid", pid_}, {"shim_pid", ::getpid()}}));
  ready.Reset();
  Loop();
  ::unlink((o_.run_dir + "/" + std::string(kSocketFile)).c_str());
  ::unlink((o_.run_dir + "/" + std::string(kPidFile)).c_str());
  return 0;
}

bool Shim::Backlogged() const {
  for (const auto& c : conns_) {
    if ((c.mode == Mode::kAttach) && c.out.size() > kMaxQueued) return true;
  }
  return false;
}

void Shim::Loop() {
  std::optional<Clock::time_point> flush_deadline;
  for (;;) {
    if (final_) {
      bool pending = false;
      for (const auto& c : conns_) pending |= !c.out.empty();
      if (!pending) break;
      if (!flush_deadline) flush_deadline = Clock::now() + kFlushLimit;
      if (Clock::now() > *flush_deadline) break;
    }
    std::vector<pollfd> fds;
    enum Kind {
      kListen,
      kSignal,
      kOut,
      kErr,
      kPty,
      kStdin,
      kConn,
      kExecOut,
      kExecErr,
      kExecPty,
      kExecStdin
    };
    struct Target {
      Kind kind;
      Conn* conn;
      Exec* exec;
    };
    std::vector<Target> kinds;
    auto add = [&](int fd, short events, Kind k, Conn* c = nullptr, Exec* x = nullptr) {
      fds.push_back(pollfd{fd, events, 0});
      kinds.push_back(Target{k, c, x});
    };
    if (!final_) add(listen_.get(), POLLIN, kListen);
    add(sigfd_.get(), POLLIN, kSignal);
    bool paused = Backlogged();
    if (!paused) {
      if (out_) add(out_.get(), POLLIN, kOut);
      if (err_) add(err_.get(), POLLIN, kErr);
      if (pty_) add(pty_.get(), POLLIN, kPty);
    }
    if (stdin_ && !stdin_buf_.empty()) add(stdin_.get(), POLLOUT, kStdin);
    bool exec_timer = false;
    for (auto& entry : execs_) {
      Exec* x = entry.second.get();
      Conn* xc = ExecConn(*x);
      bool x_paused = xc != nullptr && xc->out.size() > kMaxQueued;
      if (!x_paused) {
        if (x->out) add(x->out.get(), POLLIN, kExecOut, nullptr, x);
        if (x->err) add(x->err.get(), POLLIN, kExecErr, nullptr, x);
        if (x->pty) add(x->pty.get(), POLLIN, kExecPty, nullptr, x);
      }
      if (x->stdin && !x->stdin_buf.empty()) {
        add(x->stdin.get(), POLLOUT, kExecStdin, nullptr, x);
      }
      exec_timer |= x->exited && x->streaming;
    }
    for (auto& c : conns_) {
      short ev = 0;
      bool can_read =
          !c.read_closed && (c.mode != Mode::kAttach || stdin_buf_.size() < kMaxQueued) &&
          (c.mode != Mode::kExec || c.exec == nullptr || c.exec->stdin_buf.size() < kMaxQueued);
      if (can_read) ev |= POLLIN;
      if (!c.out.empty()) ev |= POLLOUT;
      add(c.fd.get(), ev, kConn, &c);
    }
    int timeout = -1;
    if (exited_ && !final_) timeout = 50;
    if (final_) timeout = 100;
    if (exec_timer && timeout < 0) timeout = 50;
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("shim {}: poll: {}", o_.id, std::strerror(errno));
      break;
    }
    for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      switch (kinds[i].kind) {
        case kListen:
          Accept();
          break;
        case kSignal:
          ReapChildren();
          break;
        case kOut:
          OnOutput(out_.get(), StreamType::kStdout);
          break;
        case kErr:
          OnOutput(err_.get(), StreamType::kStderr);
          break;
        case kPty:
          OnOutput(pty_.get(), StreamType::kStdout);
          break;
        case kStdin:
          FlushStdin();
          break;
        case kExecOut:
          OnExecOutput(*kinds[i].exec, kinds[i].exec->out.get(), StreamType::kStdout);
          break;
        case kExecErr:
          OnExecOutput(*kinds[i].exec, kinds[i].exec->err.get(), StreamType::kStderr);
          break;
        case kExecPty:
          OnExecOutput(*kinds[i].exec, kinds[i].exec->pty.get(), StreamType::kStdout);
          break;
        case kExecStdin:
          internal::FlushExecStdin(*kinds[i].exec);
          break;
        case kConn: {
          Conn& c = *kinds[i].conn;
          if (fds[i].revents & POLLOUT) {
            ssize_t w = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
              c.out.erase(0, static_cast<size_t>(w));
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
              c.out.clear();
              c.read_closed = true;
              c.close_after_flush = true;
            }
            if (c.out.empty() && c.close_after_flush) c.read_closed = true;
          }
          if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) OnReadable(c);
          break;
        }
      }
    }
    for (auto& entry : execs_) MaybeEndExec(*entry.second);
    conns_.remove_if([](const Conn& c) {
      bool gone = c.read_closed && c.out.empty() &&
                  (c.close_after_flush || (c.mode != Mode::kAttach && c.mode != Mode::kExec));
      if (gone && c.exec != nullptr) c.exec->streaming = false;
      return gone;
    });
    if (exited_ && !final_) {
      bool drained = !out_ && !err_ && !pty_;
      if (drained || Clock::now() - *exited_at_ > kDrainLimit) Finish();
    }
  }
}

void Shim::Accept() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    conns_.push_back(Conn{});
    conns_.back().fd = UniqueFd(fd);
  }
}

void Shim::OnReadable(Conn& c) {
  char buf[kReadChunk];
  ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    c.read_closed = true;
    if (c.mode == Mode::kExec) {
      // A half-close is the exec's stdin EOF; the client still reads output.
      if (c.exec != nullptr && c.exec->stdin) {
        c.exec->stdin_close_pending = true;
        internal::FlushExecStdin(*c.exec);
      }
      if (n < 0) c.out.clear(), c.close_after_flush = true;
      return;
    }
    if (c.mode == Mode::kAttach) {
      if (c.stdin && o_.stdin_once) stdin_close_pending_ = true, FlushStdin();
      // The client may still read output (a half-close); keep it until the container ends.
      if (n < 0) c.out.clear(), c.close_after_flush = true;
    } else {
      c.out.clear();
      c.close_after_flush = true;
    }
    return;
  }
  if (c.mode == Mode::kAttach) {
    if (c.stdin && stdin_) {
      stdin_buf_.append(buf, static_cast<size_t>(n));
      FlushStdin();
    }
    return;
  }
  if (c.mode == Mode::kExec) {
    if (c.exec != nullptr && c.exec->stdin) {
      c.exec->stdin_buf.append(buf, static_cast<size_t>(n));
      internal::FlushExecStdin(*c.exec);
    }
    return;
  }
  if (c.mode == Mode::kWait) return;  // nothing is expected from a waiter
  c.in.append(buf, static_cast<size_t>(n));
  auto nl = c.in.find('\n');
  if (nl == std::string::npos) {
    if (c.in.size() > (1 << 16)) c.read_closed = true, c.close_after_flush = true;
    return;
  }
  std::string line = c.in.substr(0, nl);
  std::string rest = c.in.substr(nl + 1);
  c.in.clear();
  OnRequest(c, line);
  if (c.mode == Mode::kAttach && !rest.empty() && c.stdin && stdin_) {
    stdin_buf_ += rest;
    FlushStdin();
  }
  if (c.mode == Mode::kExec && !rest.empty() && c.exec != nullptr && c.exec->stdin) {
    c.exec->stdin_buf += rest;
    internal::FlushExecStdin(*c.exec);
  }
}

std::string Shim::StateJson() const {
  Json j = {{"pid", pid_}, {"started", started_}, {"running", started_ && !exited_}};
  return OkLine(j);
}

void Shim::OnRequest(Conn& c, const std::string& line) {
  auto req = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  auto reply_error = [&](const Error& e) {
    c.out += EncodeError(e) + "\n";
    c.close_after_flush = true;
    c.read_closed = true;
  };
  auto reply = [&](const std::string& l) {
    c.out += l;
    c.close_after_flush = true;
    c.read_closed = true;
  };
  if (!req.is_object() || !req.contains("op") || !req["op"].is_string()) {
    return reply_error(MakeError(Code::kInvalidArgument, "shim: bad request"));
  }
  const std::string op = req["op"].get<std::string>();
  if (op == "state") return reply(StateJson());
  if (op == "start") {
    if (started_) return reply_error(MakeError(Code::kFailedPrecondition, "already started"));
    if (exited_) return reply_error(MakeError(Code::kFailedPrecondition, "container exited"));
    started_ = true;
    Status st = proc_->Start();
    if (!st) {
      start_error_ = st.error().message;
      start_exit_code_ = st.error().code == Code::kNotFound           ? 127
                         : st.error().code == Code::kPermissionDenied ? 126
                                                                      : 128;
      return reply_error(st.error());
    }
    return reply(OkLine());
  }
  if (op == "wait") {
    if (final_) return reply(OkLine({{"exit", Json::parse(SerializeExit(*final_))}}));
    c.mode = Mode::kWait;
    return;
  }
  if (op == "kill") {
    if (exited_)
      return reply_error(MakeError(Code::kFailedPrecondition, "container is not running"));
    int sig = req.value("signal", SIGKILL);
    bool all = req.value("all", false);
    if (all && cgroup_ && sig == SIGKILL) {
      if (auto st = cgroup_->KillAll(); !st) return reply_error(st.error());
    } else if (::kill(pid_, sig) != 0) {
      return reply_error(ErrnoError(fmt::format("kill {} {}", pid_, sig)));
    }
    return reply(OkLine());
  }
  if (op == "resize") {
    int pty = pty_.get();
    if (req.contains("exec") && req["exec"].is_string()) {
      auto it = execs_.find(req["exec"].get<std::string>());
      if (it == execs_.end()) return reply_error(MakeError(Code::kNotFound, "no such exec"));
      pty = it->second->pty.get();
    }
    if (pty < 0) return reply_error(MakeError(Code::kFailedPrecondition, "no tty"));
    auto st = runtime::ResizePty(pty, req.value("height", 0u), req.value("width", 0u));
    if (!st) return reply_error(st.error());
    return reply(OkLine());
  }
  if (op == "exec") return StartExec(c, req);
  if (op == "exec-state") {
    auto it = execs_.find(req.value("id", std::string()));
    if (it == execs_.end()) return reply_error(MakeError(Code::kNotFound, "no such exec"));
    const Exec& x = *it->second;
    Json j = {{"running", !x.exited}, {"pid", x.pid}, {"exit_code", x.exit_code}};
    return reply(OkLine(j));
  }
  if (op == "attach") {
    if (final_) return reply_error(MakeError(Code::kFailedPrecondition, "container exited"));
    c.mode = Mode::kAttach;
    c.want_stdout = req.value("stdout", false);
    c.want_stderr = req.value("stderr", false);
    c.stdin = req.value("stdin", false) && static_cast<bool>(stdin_);
    c.out += OkLine();
    if (!c.stdin) {
      // Output only: the client's half-close means nothing; keep reading to see it go away.
    }
    return;
  }
  reply_error(MakeError(Code::kInvalidArgument, fmt::format("shim: unknown op {}", op)));
}

void Shim::Broadcast(StreamType stream, std::string_view data) {
  if (log_) {
    if (auto st =
            log_->Write(stream == StreamType::kStderr ? "stderr" : "stdout", data, NowUnixNanos());
        !st) {
      spdlog::error("shim {}: log: {}", o_.id, st.error().message);
    }
  }
  for (auto& c : conns_) {
    if (c.mode != Mode::kAttach || c.close_after_flush) continue;
    bool want = stream == StreamType::kStderr ? c.want_stderr : c.want_stdout;
    if (!want) continue;
    if (!tty_) c.out += FrameHeader(stream, static_cast<uint32_t>(data.size()));
    c.out.append(data);
  }
}

void Shim::OnOutput(int fd, StreamType stream) {
  char buf[kReadChunk];
  for (int round = 0; round < 8; ++round) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      Broadcast(stream, std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // EOF, or EIO from a pty whose last slave closed.
    if (fd == out_.get()) out_.Reset();
    if (fd == err_.get()) err_.Reset();
    if (fd == pty_.get()) {
      if (!exited_) return;  // a pty reports EIO between slave opens; only final after exit
      pty_.Reset();
    }
    return;
  }
}

void Shim::FlushStdin() {
  while (stdin_ && !stdin_buf_.empty()) {
    ssize_t w = ::write(stdin_.get(), stdin_buf_.data(), stdin_buf_.size());
    if (w > 0) {
      stdin_buf_.erase(0, static_cast<size_t>(w));
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) return;
    stdin_buf_.clear();  // EPIPE: the container closed its stdin
    CloseStdin();
    return;
  }
  if (stdin_close_pending_) CloseStdin();
}

void Shim::CloseStdin() {
  if (tty_ && stdin_) {
    // A tty has no half-close; send EOF (^D) as a terminal would.
    (void)::write(stdin_.get(), "\x04", 1);
  }
  stdin_.Reset();
  stdin_close_pending_ = false;
}

void Shim::ReapChildren() {
  signalfd_siginfo si;
  while (::read(sigfd_.get(), &si, sizeof(si)) == sizeof(si)) {
  }
  for (;;) {
    int status = 0;
    pid_t p = ::waitpid(-1, &status, WNOHANG);
    if (p <= 0) break;
    if (p == pid_ && !exited_) {
      exited_ = true;
      wait_status_ = status;
      exited_at_ = Clock::now();
      continue;
    }
    for (auto& entry : execs_) {
      Exec* x = entry.second.get();
      if (x->pid == p) internal::RecordExecExit(*x, status);
    }
  }
}

void Shim::Finish() {
  // Whatever is still readable now is the last output.
  if (out_) OnOutput(out_.get(), StreamType::kStdout);
  if (err_) OnOutput(err_.get(), StreamType::kStderr);
  if (pty_) OnOutput(pty_.get(), StreamType::kStdout);
  out_.Reset();
  err_.Reset();
  pty_.Reset();
  stdin_.Reset();
  ExitStatus st;
  if (WIFEXITED(wait_status_)) {
    st.exit_code = WEXITSTATUS(wait_status_);
  } else if (WIFSIGNALED(wait_status_)) {
    st.exit_code = 128 + WTERMSIG(wait_status_);
  }
  if (!start_error_.empty()) {
    st.exit_code = start_exit_code_;
    st.error = start_error_;
  }
  st.finished_at = NowUnixNanos();
  if (cgroup_) {
    if (auto stats = cgroup_->Stats(); stats && stats->oom_kills > 0) st.oom_killed = true;
    (void)cgroup_->KillAll();
    Status d = cgroup_->Destroy();
    for (int i = 0; !d && i < 100; ++i) {
      ::usleep(10000);
      ReapChildren();
      d = cgroup_->Destroy();
    }
    if (!d) spdlog::error("shim {}: cgroup: {}", o_.id, d.error().message);
  }
  if (log_) {
    if (auto f = log_->Flush(); !f) spdlog::error("shim {}: log: {}", o_.id, f.error().message);
    log_.reset();
  }
  // Not fsync'd: exit.json serves a berthd that restarts while the host stays up. After a power
  // loss a missing or unreadable one reads as the reboot it was (exit code 255).
  if (auto w = ReplaceFile(o_.bundle + "/" + std::string(kExitFile), SerializeExit(st)); !w) {
    spdlog::error("shim {}: {}", o_.id, w.error().message);
  }
  final_ = st;
  std::string line = OkLine({{"exit", Json::parse(SerializeExit(st))}});
  for (auto& c : conns_) {
    if (c.mode == Mode::kWait) c.out += line;
    c.close_after_flush = true;
    c.read_closed = true;
  }
}

// exec: creates a process in the container (runtime::CreateExec, with the container's spec
// and cgroup) and turns the connection into its stream once it runs.
void Shim::StartExec(Conn& c, const Json& req) {
  auto fail = [&](const Error& e) {
    c.out += EncodeError(e) + "\n";
    c.close_after_flush = true;
    c.read_closed = true;
  };
  std::string id = req.value("id", std::string());
  if (id.empty() || !req.contains("process")) {
    return fail(MakeError(Code::kInvalidArgument, "shim: exec needs an id and a process"));
  }
  if (!started_ || exited_) return fail(MakeError(Code::kConflict, "container is not running"));
  if (execs_.count(id) != 0) return fail(MakeError(Code::kAlreadyExists, "exec already started"));
  auto process = oci::ParseProcess(req["process"].dump());
  if (!process) return fail(process.error());
  runtime::ExecOptions eo;
  eo.init_pid = pid_;
  eo.spec = &spec_;
  eo.cgroup = cgroup_.get();
  eo.seccomp_cache_dir = o_.seccomp_cache_dir;
  auto created = internal::CreateExecSession(id, *process, req.value("stdin", false), eo, sys_);
  if (!created) return fail(created.error());
  Exec& x = **created;
  x.attach_stdout = req.value("stdout", true);
  x.attach_stderr = req.value("stderr", true);
  execs_[id] = std::move(*created);
  if (Status st = internal::StartExecSession(x); !st) return fail(st.error());
  c.mode = Mode::kExec;
  c.exec = &x;
  x.streaming = true;
  c.out += OkLine({{"pid", x.pid}});
}

Conn* Shim::ExecConn(const Exec& x) {
  if (!x.streaming) return nullptr;
  for (auto& c : conns_) {
    if (c.exec == &x) return &c;
  }
  return nullptr;
}

void Shim::OnExecOutput(Exec& x, int fd, StreamType stream) {
  internal::ReadExecOutput(x, fd, [&](std::string_view data) { StreamExecOutput(x, stream, data); });
}

// Output goes to the exec's connection, if any, for the streams the exec attached (Docker's
// AttachStdout/AttachStderr); the rest is read and dropped so the process never blocks.
void Shim::StreamExecOutput(Exec& x, StreamType stream, std::string_view data) {
  Conn* c = ExecConn(x);
  if (c == nullptr || c->close_after_flush) return;  // detached: dropped
  if (!(stream == StreamType::kStderr ? x.attach_stderr : x.attach_stdout)) return;
  if (!x.tty) c->out += FrameHeader(stream, static_cast<uint32_t>(data.size()));
  c->out.append(data);
}

// The stream ends once the process has exited and its output is drained (or the drain limit
// passed: something it forked keeps the pipes open).
void Shim::MaybeEndExec(Exec& x) {
  if (!internal::ExecFinished(x, kDrainLimit)) return;
  if (!x.out && !x.err && !x.pty && !x.stdin && !x.streaming) return;
  auto sink = [&](StreamType stream) {
    return [&, stream](std::string_view data) { StreamExecOutput(x, stream, data); };
  };
  internal::CloseExecSession(x, sink(StreamType::kStdout), sink(StreamType::kStderr));
  if (Conn* c = ExecConn(x); c != nullptr && !c->close_after_flush) {
    c->close_after_flush = true;
    c->read_closed = true;
  }
}

}  // namespace

int RunShim(const ShimOptions& options, UniqueFd ready) {
  Shim shim(options);
  return shim.Run(std::move(ready));
}

}  // namespace berth::shim
