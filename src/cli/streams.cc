#include "cli/internal/streams.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "base/unique_fd.h"
#include "cli/stdcopy.h"

namespace berth::cli {
namespace {

constexpr size_t kChunk = 32 * 1024;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
  static Result<Pipe> Make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoError("pipe2");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
  void Notify() const {
    char c = 0;
    (void)!::write(write.get(), &c, 1);
  }
};

// Waits until `fd` is readable; false when `stop` became readable first.
bool WaitReadable(int fd, int stop) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop, POLLIN, 0}};
  while (true) {
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return true;  // let the read report the problem
    if (fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

}  // namespace

Result<PumpEnd> PumpStreams(Environment& env, HijackedConn& conn, const AttachStreams& streams) {
  std::atomic<bool> detached{false};
  Status input_status;
  BERTH_ASSIGN_OR_RETURN(Pipe stop, Pipe::Make());
  std::thread input;
  if (streams.in) {
    input = std::thread([&] {
      DetachFilter filter(streams.tty ? streams.detach_keys : "");
      std::vector<char> buf(kChunk);
      while (true) {
        if (env.in_fd >= 0 && !WaitReadable(env.in_fd, stop.read.get())) return;
        Result<size_t> n = env.in->Read(buf.data(), buf.size());
        if (!n) {
          input_status = std::move(n).error();
          return;
        }
        if (*n == 0) {
          Status closed = conn.CloseWrite();
          if (!closed) input_status = closed;
          return;
        }
        std::string forward;
        bool detach = filter.Feed(std::string_view(buf.data(), *n), forward);
        if (!forward.empty()) {
          Status written = conn.Write(forward);
          if (!written) {
            input_status = written;
            return;
          }
        }
        if (detach) {
          detached = true;
          conn.Shutdown();  // ends the output loop below
          return;
        }
      }
    });
  }

  StdDemuxer demux(env.out, env.err);
  Status output_status;
  std::vector<char> buf(kChunk);
  while (true) {
    Result<size_t> n = conn.Read(buf.data(), buf.size());
    if (!n) {
      if (!detached) output_status = std::move(n).error();
      break;
    }
    if (*n == 0) break;
    std::string_view chunk(buf.data(), *n);
    Status written = streams.tty ? env.out->Write(chunk) : demux.Write(chunk);
    if (!written) {
      output_status = written;
      break;
    }
  }
  if (output_status.ok() && !streams.tty && !detached) output_status = demux.Finish();
  if (input.joinable()) {
    stop.Notify();
    input.join();
  }
  if (detached) return PumpEnd::kDetached;
  BERTH_RETURN_IF_ERROR(output_status);
  if (!input_status.ok()) spdlog::debug("stdin: {}", input_status.error().message);
  return PumpEnd::kOutputDone;
}

std::unique_ptr<RawTerminal> RawTerminal::Enter(int fd) {
  if (fd < 0 || ::isatty(fd) != 1) return nullptr;
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return nullptr;
  termios raw = saved;
  // moby/term MakeRaw.
  raw.c_iflag &=
      ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  raw.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &raw) != 0) return nullptr;
  return std::unique_ptr<RawTerminal>(new RawTerminal(fd, saved));
}

RawTerminal::~RawTerminal() { (void)::tcsetattr(fd_, TCSANOW, &saved_); }

// ---------------------------------------------------------------------------------------------
// ResizeMonitor

namespace {

// The write end of the SIGWINCH self-pipe; a signal handler can reach nothing else.
std::atomic<int> g_winch_fd{-1};

void OnWinch(int) {
  int fd = g_winch_fd.load();
  if (fd >= 0) {
    char c = 0;
    (void)!::write(fd, &c, 1);
  }
}

void SendSize(ApiClient& api, const std::string& path, int tty_fd) {
  winsize ws{};
  if (::ioctl(tty_fd, TIOCGWINSZ, &ws) != 0 || (ws.ws_row == 0 && ws.ws_col == 0)) return;
  Request req;
  req.method = "POST";
  req.path = path;
  req.query = {{"h", std::to_string(ws.ws_row)}, {"w", std::to_string(ws.ws_col)}};
  Result<Response> got = api.Do(req);
  if (!got) spdlog::debug("resize: {}", got.error().message);
}

}  // namespace

struct ResizeMonitor::State {
  Pipe winch;
  Pipe stop;
  struct sigaction old_action {};
  std::thread thread;
};

ResizeMonitor::ResizeMonitor(ApiClient& api, std::string path, int tty_fd) {
  SendSize(api, path, tty_fd);
  Result<Pipe> winch = Pipe::Make();
  Result<Pipe> stop = Pipe::Make();
  if (!winch || !stop) return;
  state_ = std::make_unique<State>();
  state_->winch = std::move(*winch);
  state_->stop = std::move(*stop);
  g_winch_fd = state_->winch.write.get();
  struct sigaction action {};
  action.sa_handler = &OnWinch;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGWINCH, &action, &state_->old_action);
  State* state = state_.get();
  state_->thread = std::thread([state, &api, path = std::move(path), tty_fd] {
    while (true) {
      pollfd fds[2] = {{state->winch.read.get(), POLLIN, 0}, {state->stop.read.get(), POLLIN, 0}};
      int rc = ::poll(fds, 2, -1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0 || fds[1].revents != 0) return;
      char drain[64];
      while (::read(state->winch.read.get(), drain, sizeof(drain)) > 0) {
      }
      SendSize(api, path, tty_fd);
    }
  });
}

ResizeMonitor::~ResizeMonitor() {
  if (!state_) return;
  ::sigaction(SIGWINCH, &state_->old_action, nullptr);
  g_winch_fd = -1;
  state_->stop.Notify();
  state_->thread.join();
}

// ---------------------------------------------------------------------------------------------
// SignalProxy

namespace {

struct ProxiedSignal {
  int number;
  const char* name;
};
constexpr ProxiedSignal kProxied[] = {{SIGINT, "INT"},   {SIGTERM, "TERM"}, {SIGHUP, "HUP"},
                                      {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}};

std::atomic<int> g_proxy_fd{-1};

void OnProxiedSignal(int sig) {
  int fd = g_proxy_fd.load();
  if (fd >= 0) {
    char c = static_cast<char>(sig);
    (void)!::write(fd, &c, 1);
  }
}

}  // namespace

struct SignalProxy::State {
  Pipe signals;
  Pipe stop;
  struct sigaction old_actions[std::size(kProxied)]{};
  std::thread thread;
};

SignalProxy::SignalProxy(ApiClient& api, std::string container) {
  Result<Pipe> signals = Pipe::Make();
  Result<Pipe> stop = Pipe::Make();
  if (!signals || !stop) return;
  state_ = std::make_unique<State>();
  state_->signals = std::move(*signals);
  state_->stop = std::move(*stop);
  g_proxy_fd = state_->signals.write.get();
  for (size_t i = 0; i < std::size(kProxied); ++i) {
    struct sigaction action {};
    action.sa_handler = &OnProxiedSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(kProxied[i].number, &action, &state_->old_actions[i]);
  }
  State* state = state_.get();
  state_->thread = std::thread([state, &api, path = "/containers/" + container + "/kill"] {
    while (true) {
      pollfd fds[2] = {{state->signals.read.get(), POLLIN, 0}, {state->stop.read.get(), POLLIN, 0}};
      int rc = ::poll(fds, 2, -1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return;
      char sigs[16];
      ssize_t n = fds[0].revents != 0 ? ::read(state->signals.read.get(), sigs, sizeof(sigs)) : 0;
      for (ssize_t i = 0; i < n; ++i) {
        for (const ProxiedSignal& p : kProxied) {
          if (p.number != sigs[i]) continue;
          Request req;
          req.method = "POST";
          req.path = path;
          req.query = {{"signal", p.name}};
          Result<Response> got = api.Do(req);
          if (!got) spdlog::debug("sig-proxy: {}", got.error().message);
        }
      }
      if (n <= 0 && fds[1].revents != 0) return;  // stop once no signal is pending
    }
  });
}

SignalProxy::~SignalProxy() {
  if (!state_) return;
  for (size_t i = 0; i < std::size(kProxied); ++i) {
    ::sigaction(kProxied[i].number, &state_->old_actions[i], nullptr);
  }
  g_proxy_fd = -1;
  state_->stop.Notify();
  state_->thread.join();
}

}  // namespace berth::cli
