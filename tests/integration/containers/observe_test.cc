// Events, top and stats through the stock docker CLI and berth against berthd, with real
// containers.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class ObserveTest : public ContainerFixture {
 protected:
  static std::string Timestamp(int64_t ns) {
    return fmt::format("{}.{:09d}", ns / 1000000000, ns % 1000000000);
  }
  // The container actions of `docker events` output lines "<type> <action>".
  static std::vector<std::string> Actions(const std::string& output) {
    std::vector<std::string> out;
    for (const auto& line : Split(output, '\n')) {
      if (line.rfind("container ", 0) == 0) out.push_back(line.substr(10));
    }
    return out;
  }
  // A running container whose main process is `sleep 600`; its name.
  std::string StartSleeper(const std::string& name) {
    Run run = Docker(d_, {"run", "-d", "--name", name, "busybox", "sleep", "600"});
    EXPECT_EQ(run.exit_code, 0) << run.output << Log(d_);
    return name;
  }
};

TEST_F(ObserveTest, EventsOfARunAreCreateAttachStartDieDestroy) {
  BERTH_SKIP_WITHOUT_DOCKER();
  const std::vector<std::string> expected = {"create", "attach", "start", "die", "destroy"};
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    std::string since = Timestamp(NowUnixNanos());
    std::vector<std::string> run = {"run", "--rm", "busybox", "true"};
    Run r = docker ? Docker(d_, run) : Berth(d_, run);
    ASSERT_EQ(r.exit_code, 0) << r.output << Log(d_);
    std::string until = Timestamp(NowUnixNanos());
    std::vector<std::string> events = {
        "events", "--since", since, "--until", until, "--format", "{{.Type}} {{.Action}}"};
    Run ev = docker ? Docker(d_, events) : Berth(d_, events);
    ASSERT_EQ(ev.exit_code, 0) << ev.output;
    EXPECT_EQ(Actions(ev.output), expected) << ev.output;
  }
  // The JSON carries the actor's name and image, and die its exit code.
  std::string since = Timestamp(NowUnixNanos());
  ASSERT_EQ(Docker(d_, {"run", "--rm", "--name", "ev", "busybox", "sh", "-c", "exit 3"}).exit_code,
            3);
  Run die = Docker(d_, {"events", "--since", since, "--until", Timestamp(NowUnixNanos()),
                        "--filter", "event=die", "--filter", "container=ev", "--format",
                        "{{.Actor.Attributes.name}} {{.Actor.Attributes.image}} "
                        "{{.Actor.Attributes.exitCode}} {{.Status}} {{.From}}"});
  EXPECT_EQ(die.output, "ev busybox 3 die busybox\n") << die.output;
}

TEST_F(ObserveTest, ImageEventsOfTagAndRmi) {
  BERTH_SKIP_WITHOUT_DOCKER();
  std::string since = Timestamp(NowUnixNanos());
  ASSERT_EQ(Docker(d_, {"tag", "busybox", "other:v1"}).exit_code, 0);
  ASSERT_EQ(Docker(d_, {"rmi", "other:v1"}).exit_code, 0);
  Run ev = Docker(d_, {"events", "--since", since, "--until", Timestamp(NowUnixNanos()), "--filter",
                       "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}"});
  ASSERT_EQ(ev.exit_code, 0) << ev.output;
  std::vector<std::string> lines = Split(ev.output, '\n');
  ASSERT_GE(lines.size(), 2u) << ev.output;
  EXPECT_EQ(lines[0], "tag other:v1");
  EXPECT_EQ(lines[1].substr(0, 13), "untag sha256:") << ev.output;
}

TEST_F(ObserveTest, TopListsTheContainersProcessOnly) {
  BERTH_SKIP_WITHOUT_DOCKER();
  StartSleeper("top1");
  Run top = Docker(d_, {"top", "top1"});
  ASSERT_EQ(top.exit_code, 0) << top.output << Log(d_);
  auto lines = Split(top.output, '\n');
  ASSERT_GE(lines.size(), 2u) << top.output;
  EXPECT_NE(lines[0].find("PID"), std::string::npos) << top.output;
  EXPECT_NE(lines[1].find("sleep 600"), std::string::npos) << top.output;
  EXPECT_EQ(top.output.find("berthd"), std::string::npos) << top.output;
  Run berth_top = Berth(d_, {"top", "top1", "-o", "pid,comm"});
  ASSERT_EQ(berth_top.exit_code, 0) << berth_top.output;
  EXPECT_NE(berth_top.output.find("sleep"), std::string::npos) << berth_top.output;
  EXPECT_EQ(Docker(d_, {"rm", "-f", "top1"}).exit_code, 0);
  // Not running: an error.
  ASSERT_EQ(Docker(d_, {"create", "--name", "top2", "busybox", "true"}).exit_code, 0);
  Run stopped = Docker(d_, {"top", "top2"});
  EXPECT_NE(stopped.exit_code, 0);
  EXPECT_NE(stopped.output.find("is not running"), std::string::npos) << stopped.output;
}

TEST_F(ObserveTest, StatsNoStreamShowsMemory) {
  BERTH_SKIP_WITHOUT_DOCKER();
  StartSleeper("st1");
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    std::vector<std::string> args = {"stats", "--no-stream", "--format",
                                     "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", "st1"};
    Run st = docker ? Docker(d_, args) : Berth(d_, args);
    ASSERT_EQ(st.exit_code, 0) << st.output << Log(d_);
    auto fields = Split(Trim(st.output), '|');
    ASSERT_EQ(fields.size(), 3u) << st.output;
    EXPECT_EQ(fields[0], "st1");
    // "<usage> / <limit>", with a non-zero usage (a running sleep uses memory).
    EXPECT_NE(fields[1].find(" / "), std::string::npos) << st.output;
    EXPECT_NE(fields[1].substr(0, 2), "0B") << st.output;
    EXPECT_EQ(fields[2], "1") << st.output;
  }
  // Without --format the table has the container with a memory figure.
  Run table = Docker(d_, {"stats", "--no-stream", "st1"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("st1"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("MEM USAGE"), std::string::npos) << table.output;
  EXPECT_EQ(Docker(d_, {"rm", "-f", "st1"}).exit_code, 0);
}

}  // namespace
}  // namespace berth
