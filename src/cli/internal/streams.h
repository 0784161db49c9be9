// The client side of attached containers and execs: copying a hijacked connection to the local
// stdout/stderr (demultiplexed unless Tty) and stdin to it, raw mode for the local terminal, and
// the tty size sent on start and on SIGWINCH. Private to cli/.
#pragma once

#include <termios.h>

#include <memory>
#include <string>

#include "base/result.h"
#include "cli/cli.h"
#include "cli/client.h"

namespace berth::cli {

struct AttachStreams {
  bool tty = false;
  bool in = false;          // copy local stdin to the connection, half-close at its end
  std::string detach_keys;  // the sequence's bytes; looked for on stdin with a tty
};

enum class PumpEnd { kOutputDone, kDetached };

// Copies until the container's output ends (or the detach keys are typed). Output is written as
// it arrives, never held whole. Stdin is read on a thread of its own; when env.in_fd >= 0 it
// is polled so the thread can be stopped, otherwise env.in must not block forever.
Result<PumpEnd> PumpStreams(Environment& env, HijackedConn& conn, const AttachStreams& streams);

// The local terminal in raw mode (moby/term MakeRaw) until destroyed; restored on every path.
class RawTerminal {
 public:
  // Null when `fd` is not a terminal.
  static std::unique_ptr<RawTerminal> Enter(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  RawTerminal(int fd, const termios& saved) : fd_(fd), saved_(saved) {}
  int fd_;
  termios saved_;
};

// Sends POST <path>?h=&w= now and on every SIGWINCH until destroyed (docker's MonitorTtySize).
// `path` is "/containers/<id>/resize" or "/exec/<id>/resize".
class ResizeMonitor {
 public:
  ResizeMonitor(ApiClient& api, std::string path, int tty_fd);
  ~ResizeMonitor();
  ResizeMonitor(const ResizeMonitor&) = delete;
  ResizeMonitor& operator=(const ResizeMonitor&) = delete;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// docker's --sig-proxy (non-tty runs and attaches): INT, TERM, HUP, QUIT, USR1 and USR2 sent
// to this process are forwarded as POST /containers/<id>/kill?signal=<NAME> until destroyed.
// Signals that arrived before destruction are forwarded before it returns.
class SignalProxy {
 public:
  SignalProxy(ApiClient& api, std::string container);
  ~SignalProxy();
  SignalProxy(const SignalProxy&) = delete;
  SignalProxy& operator=(const SignalProxy&) = delete;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace berth::cli
