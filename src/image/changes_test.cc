#include "image/changes.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

TEST(ChangesTest, ExecAndShellForms) {
  oci::ContainerConfig c;
  ASSERT_TRUE(
      ApplyChanges({"CMD [\"sh\", \"-c\", \"echo hi\"]", "ENTRYPOINT /bin/init --x"}, c).ok());
  EXPECT_FALSE(c.cmd.has_value()) << "ENTRYPOINT resets CMD";
  ASSERT_TRUE(c.entrypoint.has_value());
  EXPECT_EQ(*c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "/bin/init --x"}));
  ASSERT_TRUE(ApplyChanges({"cmd [\"sh\"]"}, c).ok());
  EXPECT_EQ(*c.cmd, std::vector<std::string>{"sh"});
}

TEST(ChangesTest, EnvLabelWorkdirUserVolumeExpose) {
  oci::ContainerConfig c;
  ASSERT_TRUE(
      ApplyChanges({"ENV A=1 B=\"two words\"", "ENV A 3", "LABEL k=v \"x y\"=z", "WORKDIR /srv",
                    "WORKDIR app", "USER nobody", "VOLUME /data /logs", "VOLUME [\"/cache\"]",
                    "EXPOSE 80 53/udp 8000-8002", "STOPSIGNAL SIGINT"},
                   c)
          .ok());
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=3", "B=two words"}));
  EXPECT_EQ(c.labels.at("k"), "v");
  EXPECT_EQ(c.labels.at("x y"), "z");
  EXPECT_EQ(c.working_dir, "/srv/app");
  EXPECT_EQ(c.user, "nobody");
  EXPECT_EQ(c.volumes, (std::set<std::string>{"/cache", "/data", "/logs"}));
  EXPECT_EQ(c.exposed_ports,
            (std::set<std::string>{"53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"}));
  EXPECT_EQ(c.stop_signal, "SIGINT");
}

TEST(ChangesTest, RefusesUnknownAndMalformed) {
  struct Case {
    const char* change;
    const char* message;
  } cases[] = {
      {"RUN echo hi", "RUN is not a valid change command"},
      {"FOO bar", "FOO is not a valid change command"},
      {"ENV", "ENV requires at least one argument"},
      {"ENV =x", "Syntax error - can't find = in \"=x\". Must be of the form: name=value"},
      {"EXPOSE 99999", "invalid containerPort: 99999"},
      {"EXPOSE 80/icmp", "invalid proto: icmp"},
      {"LABEL \"unterminated", "unmatched quote in \"\"unterminated\""},
  };
  for (const Case& c : cases) {
    oci::ContainerConfig cfg;
    Status st = ApplyChanges({c.change}, cfg);
    ASSERT_FALSE(st.ok()) << c.change;
    EXPECT_EQ(st.error().code, Code::kInvalidArgument);
    EXPECT_EQ(st.error().message, c.message) << c.change;
  }
}

}  // namespace
}  // namespace berth::image
