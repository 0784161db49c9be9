#include "shim/client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"

extern char** environ;

namespace berth::shim {
namespace {

using Json = nlohmann::json;

Status WriteLine(int fd, const std::string& line) { return WriteAll(fd, line + "\n"); }

Result<Json> ParseOk(const std::string& line) {
  BERTH_RETURN_IF_ERROR(DecodeError(line));
  auto j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return MakeError(Code::kInternal, "shim: response is not a JSON object");
  return j;
}

}  // namespace

Result<std::string> ReadLine(int fd, size_t max) {
  std::string line;
  for (;;) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("shim: read");
    }
    if (n == 0) return MakeError(Code::kUnavailable, "shim: connection closed");
    if (c == '\n') return line;
    line.push_back(c);
    if (line.size() > max) return MakeError(Code::kInternal, "shim: response line too long");
  }
}

Result<Spawned> Spawn(const std::string& shim_binary, const std::string& bundle) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError("shim: pipe2");
  UniqueFd rd(p[0]), wr(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 3);
  // Nothing else of berthd's reaches the shim: its API sockets, other containers' fds, ...
  // (asio's sockets are not O_CLOEXEC; an inherited listening socket outlives a killed berthd
  // and makes the next one refuse to start).
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  std::string arg0 = "berth-shim";
  std::string arg1 = bundle;
  std::string arg2 = "3";
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, shim_binary.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return ErrnoError(fmt::format("shim: spawn {}", shim_binary), rc);
  wr.Reset();
  // The direct child daemonises (forks and exits); reap it so no zombie stays with berthd.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto line = ReadLine(rd.get());
  if (!line) {
    return MakeError(
        Code::kInternal,
        fmt::format("shim for {} exited before it was ready (status {})", bundle, status));
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseOk(*line));
  Spawned s;
  s.shim_pid = j.value("shim_pid", 0);
  s.init_pid = j.value("pid", 0);
  return s;
}

Client::Client(std::string run_dir) : run_dir_(std::move(run_dir)) {}

Result<UniqueFd> Client::Connect() const {
  // sun_path holds 108 bytes and run dirs under a long --exec-root do not fit; a path through
  // an O_PATH fd of the directory always does ("/proc/self/fd/N/shim.sock").
  UniqueFd dir(::open(run_dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    Error e = ErrnoError(fmt::format("shim: open {}", run_dir_));
    if (e.code == Code::kNotFound) e.code = Code::kUnavailable;
    return e;
  }
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir.get(), kSocketFile);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError("shim: socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    Error e = ErrnoError(fmt::format("shim: connect {}/{}", run_dir_, kSocketFile), err);
    if (err == ENOENT || err == ECONNREFUSED) e.code = Code::kUnavailable;
    return e;
  }
  return fd;
}

Result<std::string> Client::Call(const std::string& request) const {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Connect());
  BERTH_RETURN_IF_ERROR(WriteLine(fd.get(), request));
  BERTH_ASSIGN_OR_RETURN(std::string line, ReadLine(fd.get()));
  BERTH_RETURN_IF_ERROR(DecodeError(line));
  return line;
}

bool Client::Alive() const { return Connect().has_value(); }

Status Client::Start() const {
  BERTH_ASSIGN_OR_RETURN(std::string line, Call(R"({"op":"start"})"));
  (void)line;
  return {};
}

Result<ShimState> Client::State() const {
  BERTH_ASSIGN_OR_RETURN(std::string line, Call(R"({"op":"state"})"));
  BERTH_ASSIGN_OR_RETURN(Json j, ParseOk(line));
  ShimState s;
  s.pid = j.value("pid", 0);
  s.started = j.value("started", false);
  s.running = j.value("running", false);
  return s;
}

Status Client::Kill(int signal, bool all) const {
  Json req = {{"op", "kill"}, {"signal", signal}, {"all", all}};
  BERTH_ASSIGN_OR_RETURN(std::string line, Call(req.dump()));
  (void)line;
  return {};
}

Status Client::Resize(unsigned height, unsigned width, const std::string& exec_id) const {
  Json req = {{"op", "resize"}, {"height", height}, {"width", width}};
  if (!exec_id.empty()) req["exec"] = exec_id;
  BERTH_ASSIGN_OR_RETURN(std::string line, Call(req.dump()));
  (void)line;
  return {};
}

Result<UniqueFd> Client::Attach(bool in, bool out, bool err) const {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Connect());
  Json req = {{"op", "attach"}, {"stdin", in}, {"stdout", out}, {"stderr", err}};
  BERTH_RETURN_IF_ERROR(WriteLine(fd.get(), req.dump()));
  BERTH_ASSIGN_OR_RETURN(std::string line, ReadLine(fd.get()));
  BERTH_RETURN_IF_ERROR(DecodeError(line));
  return fd;
}

Result<UniqueFd> Client::Exec(const std::string& exec_id, const std::string& process_json,
                              bool stdin, bool out, bool err) const {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Connect());
  Json process = Json::parse(process_json, nullptr, /*allow_exceptions=*/false);
  if (process.is_discarded()) return MakeError(Code::kInternal, "shim: exec: bad process");
  Json req = {{"op", "exec"},     {"id", exec_id},    {"process", process},
              {"stdin", stdin},   {"stdout", out},    {"stderr", err}};
  BERTH_RETURN_IF_ERROR(WriteLine(fd.get(), req.dump()));
  BERTH_ASSIGN_OR_RETURN(std::string line, ReadLine(fd.get()));
  BERTH_RETURN_IF_ERROR(DecodeError(line));
  return fd;
}

Result<ExecState> Client::ExecStatus(const std::string& exec_id) const {
  Json req = {{"op", "exec-state"}, {"id", exec_id}};
  BERTH_ASSIGN_OR_RETURN(std::string line, Call(req.dump()));
  BERTH_ASSIGN_OR_RETURN(Json j, ParseOk(line));
  ExecState s;
  s.running = j.value("running", false);
  s.pid = j.value("pid", 0);
  s.exit_code = j.value("exit_code", 0);
  return s;
}

Result<UniqueFd> Client::OpenWait() const {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Connect());
  BERTH_RETURN_IF_ERROR(WriteLine(fd.get(), R"({"op":"wait"})"));
  return fd;
}

Result<ExitStatus> Client::ReadWait(int fd) {
  BERTH_ASSIGN_OR_RETURN(std::string line, ReadLine(fd));
  BERTH_ASSIGN_OR_RETURN(Json j, ParseOk(line));
  auto it = j.find("exit");
  if (it == j.end()) return MakeError(Code::kInternal, "shim: wait response without exit");
  return ParseExit(it->dump());
}

}  // namespace berth::shim
