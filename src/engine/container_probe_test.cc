#include "engine/container_probe.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace berth::engine {
namespace {

TEST(ParsePsOutputTest, KeepsTheContainersRowsAndJoinsTheCommand) {
  std::string out =
      "UID          PID    PPID  C STIME TTY          TIME CMD\n"
      "root           1       0  0 19:00 ?        00:00:01 /sbin/init\n"
      "root         420     400  0 19:01 ?        00:00:00 sh -c sleep 100\n"
      "root         421     420  0 19:01 ?        00:00:00 sleep 100\n";
  auto r = ParsePsOutput(out, {420, 421});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->titles.size(), 8u);
  EXPECT_EQ(r->titles[1], "PID");
  ASSERT_EQ(r->processes.size(), 2u);
  EXPECT_EQ(r->processes[0][1], "420");
  EXPECT_EQ(r->processes[0].back(), "sh -c sleep 100");
  EXPECT_EQ(r->processes[1].back(), "sleep 100");
}

TEST(ParsePsOutputTest, ThreadLinesFollowTheirProcess) {
  std::string out =
      "  PID TTY      STAT   TIME COMMAND\n"
      "    7 ?        -      0:00 a\n"
      "    - -        Ssl    0:00 -\n"
      "    9 ?        -      0:00 b\n"
      "    - -        Ssl    0:00 -\n";
  auto r = ParsePsOutput(out, {9});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->processes.size(), 2u);
  EXPECT_EQ(r->processes[0][0], "9");
  EXPECT_EQ(r->processes[1][0], "-");
}

TEST(ParsePsOutputTest, NoPidColumnIsAnError) {
  auto r = ParsePsOutput("USER COMMAND\nroot init\n", {1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
}

TEST(ParseProcStatTest, SumsTheFirstSevenColumnsInNanos) {
  auto r = ParseProcStatCpuNanos("cpu  10 1 5 100 2 0 2 7 0 0\ncpu0 5 0 2 50 1 0 1 3 0 0\n", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 120u * 10000000u);
  EXPECT_FALSE(ParseProcStatCpuNanos("intr 1 2\n", 100));
}

TEST(ContainerProbeTest, TopRunsPsAndKeepsOnlyTheGivenPids) {
  ContainerProbe probe("/nonexistent", "/berth", "/proc");
  auto r = probe.Top({::getpid()}, "-ef");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->processes.size(), 1u);
  EXPECT_EQ(r->processes[0][1], std::to_string(::getpid()));
  // Options that do not go with -q still work (ps retried without it).
  auto f = probe.Top({::getpid()}, "axf");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->processes.size(), 1u);
}

TEST(ContainerProbeTest, MissingCgroupIsAnError) {
  ContainerProbe probe(::testing::TempDir() + "/no-such-cgroup-root", "/berth", "/proc");
  EXPECT_FALSE(probe.Pids("abc"));
  EXPECT_FALSE(probe.Stats("abc"));
}

}  // namespace
}  // namespace berth::engine
