// CliTest: a GoogleTest fixture that runs whole `berth` command lines against a FakeTransport,
// with captured stdout/stderr, a given stdin, fixed clock (and TZ=UTC), and chosen env vars.
#pragma once

#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/io.h"
#include "cli/cli.h"
#include "cli/testing/fake_transport.h"

namespace berth::cli::testing {

// Hands a borrowed transport to code that wants to own one.
class BorrowedTransport : public Transport {
 public:
  explicit BorrowedTransport(Transport& t) : t_(t) {}
  Result<Response> RoundTrip(const Request& r, Writer* sink) override {
    return t_.RoundTrip(r, sink);
  }
  Result<Upgraded> Upgrade(const Request& r) override { return t_.Upgrade(r); }
  Result<std::unique_ptr<PendingResponse>> Send(const Request& r) override { return t_.Send(r); }

 private:
  Transport& t_;
};

class CliTest : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z

  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }

  int RunCli(const std::vector<std::string>& args, std::string stdin_data = "") {
    StringReader in(std::move(stdin_data));
    StringWriter out, err;
    Environment env;
    env.in = &in;
    env.out = &out;
    env.err = &err;
    env.in_is_terminal = in_tty_;
    env.out_is_terminal = out_tty_;
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
    env.now_unix = [] { return kNow; };
    env.dial = [this](const HostSpec& host) -> Result<std::unique_ptr<Transport>> {
      dialed_.push_back(host.url);
      return std::unique_ptr<Transport>(std::make_unique<BorrowedTransport>(fake_));
    };
    int code = ::berth::cli::Run(args, env);
    out_ = out.Take();
    err_ = err.Take();
    return code;
  }

  // The only API request made (not counting /_ping).
  RecordedRequest OnlyRequest() {
    std::vector<RecordedRequest> reqs = fake_.ApiRequests();
    EXPECT_EQ(reqs.size(), 1u);
    return reqs.empty() ? RecordedRequest{} : reqs[0];
  }

  FakeTransport fake_;
  std::map<std::string, std::string> vars_ = {{"HOME", "/nonexistent-home"}};
  bool in_tty_ = false;
  bool out_tty_ = false;
  std::vector<std::string> dialed_;
  std::string out_;
  std::string err_;
};

}  // namespace berth::cli::testing
