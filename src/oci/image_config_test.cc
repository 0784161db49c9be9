#include "oci/image_config.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

// config.md's example.
constexpr std::string_view kOciConfig = R"({
    "created": "2015-10-31T22:22:56.015925234Z",
    "author": "Alyssa P. Hacker <alyspdev@example.com>",
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": "alice",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a"],
        "Entrypoint": ["/bin/my-app-binary"],
        "Cmd": ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
        "Volumes": {"/var/job-result-data": {}, "/var/log/my-app-logs": {}},
        "WorkingDir": "/home/alice",
        "Labels": {"com.example.project.git.url": "https://example.com/project.git"}
    },
    "rootfs": {
      "diff_ids": [
        "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
      ],
      "type": "layers"
    },
    "history": [
      {"created": "2015-10-31T22:22:54.690851953Z",
       "created_by": "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"},
      {"created": "2015-10-31T22:22:55.613815829Z",
       "created_by": "/bin/sh -c #(nop) CMD [\"sh\"]", "empty_layer": true},
      {"created": "2015-10-31T22:22:56.329850019Z", "created_by": "/bin/sh -c apk add curl"}
    ]
})";

// What `docker build` writes (abridged busybox-like config), with Docker-only fields.
constexpr std::string_view kDockerConfig =
    R"({"architecture":"arm","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{},"53/udp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin"],"Cmd":null,"Healthcheck":{"Test":["CMD-SHELL","wget -q -O- localhost || exit 1"],"Interval":30000000000,"Timeout":5000000000,"StartPeriod":1000000000,"Retries":3},"ArgsEscaped":true,"Image":"sha256:2d3f0a2c4b6e8b1f2d3f0a2c4b6e8b1f2d3f0a2c4b6e8b1f2d3f0a2c4b6e8b1f","Volumes":null,"WorkingDir":"","Entrypoint":[],"OnBuild":["RUN echo hi"],"Labels":null,"StopSignal":"SIGQUIT","Shell":["/bin/ash","-c"],"Memory":0},"container":"3e4d1c5f","container_config":{"Hostname":"3e4d1c5f","Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"],"Image":"sha256:aa"},"created":"2023-07-18T23:19:33.655005962+02:00","docker_version":"20.10.23","history":[{"created":"2023-07-18T23:19:33.538571854Z","created_by":"/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / ","x-future":1}],"os":"linux","variant":"v7","rootfs":{"type":"layers","diff_ids":["sha256:3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f"]},"size":12345678901234})";

TEST(ImageConfigTest, ParsesOciExample) {
  Result<ImageConfig> c = ParseImageConfig(kOciConfig);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->created, "2015-10-31T22:22:56.015925234Z");
  EXPECT_EQ(c->author, "Alyssa P. Hacker <alyspdev@example.com>");
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->config.user, "alice");
  EXPECT_EQ(c->config.exposed_ports, std::set<std::string>{"8080/tcp"});
  EXPECT_EQ(c->config.env.size(), 2u);
  ASSERT_TRUE(c->config.entrypoint);
  EXPECT_EQ(*c->config.entrypoint, std::vector<std::string>{"/bin/my-app-binary"});
  ASSERT_TRUE(c->config.cmd);
  EXPECT_EQ(c->config.cmd->size(), 3u);
  EXPECT_EQ(c->config.volumes.size(), 2u);
  EXPECT_EQ(c->config.working_dir, "/home/alice");
  EXPECT_EQ(c->config.labels.size(), 1u);
  EXPECT_EQ(c->rootfs.type, "layers");
  ASSERT_EQ(c->rootfs.diff_ids.size(), 2u);
  ASSERT_EQ(c->history.size(), 3u);
  EXPECT_TRUE(c->history[1].empty_layer);
  EXPECT_FALSE(c->history[2].empty_layer);
  EXPECT_TRUE(c->extra.empty());
  EXPECT_TRUE(c->config.extra.empty());
  EXPECT_EQ(ImageConfigPlatform(*c).architecture, "amd64");
}

TEST(ImageConfigTest, KeepsDockerFieldsAndNullVersusEmpty) {
  Result<ImageConfig> c = ParseImageConfig(kDockerConfig);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->variant, "v7");
  EXPECT_FALSE(c->config.cmd);        // "Cmd": null
  ASSERT_TRUE(c->config.entrypoint);  // "Entrypoint": []
  EXPECT_TRUE(c->config.entrypoint->empty());
  EXPECT_TRUE(c->config.args_escaped);
  EXPECT_EQ(c->config.stop_signal, "SIGQUIT");
  EXPECT_EQ(c->config.on_build, std::vector<std::string>{"RUN echo hi"});
  EXPECT_EQ(c->config.shell, (std::vector<std::string>{"/bin/ash", "-c"}));
  ASSERT_TRUE(c->config.healthcheck);
  EXPECT_EQ(c->config.healthcheck->test.size(), 2u);
  EXPECT_EQ(c->config.healthcheck->interval, 30000000000);
  EXPECT_EQ(c->config.healthcheck->retries, 3);
  EXPECT_EQ(c->config.exposed_ports, (std::set<std::string>{"53/udp", "80/tcp"}));
  EXPECT_EQ(c->extra.at("docker_version"), "\"20.10.23\"");
  EXPECT_EQ(c->extra.at("size"), "12345678901234");
  EXPECT_TRUE(c->extra.contains("container_config"));
  EXPECT_EQ(c->config.extra.at("Hostname"), "\"\"");
  EXPECT_EQ(c->config.extra.at("Image"),
            "\"sha256:2d3f0a2c4b6e8b1f2d3f0a2c4b6e8b1f2d3f0a2c4b6e8b1f2d3f0a2c4b6e8b1f\"");
  EXPECT_EQ(c->history[0].extra.at("x-future"), "1");
}

TEST(ImageConfigTest, RoundTripPreservesEverything) {
  for (std::string_view input : {kOciConfig, kDockerConfig}) {
    Result<ImageConfig> c = ParseImageConfig(input);
    ASSERT_TRUE(c) << c.error().message;
    std::string once = SerializeImageConfig(*c);
    Result<ImageConfig> again = ParseImageConfig(once);
    ASSERT_TRUE(again) << again.error().message << "\n" << once;
    EXPECT_EQ(*again, *c);
    // Stable: a second serialisation is byte-identical.
    EXPECT_EQ(SerializeImageConfig(*again), once);
  }
}

TEST(ImageConfigTest, SerializeOrderAndOmission) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.config.cmd = std::vector<std::string>{};
  c.rootfs.diff_ids.push_back(Digest::Of("layer"));
  c.extra["zz"] = "{\"a\":[1,2]}";
  c.extra["architecture"] = "\"ignored: a known field wins\"";
  EXPECT_EQ(
      SerializeImageConfig(c),
      R"({"architecture":"amd64","os":"linux","config":{"Cmd":[]},"rootfs":{"type":"layers","diff_ids":[")" +
          Digest::Of("layer").ToString() + R"("]},"zz":{"a":[1,2]}})");
}

TEST(ImageConfigTest, NullOptionalFieldsReadAsAbsent) {
  Result<ImageConfig> c = ParseImageConfig(
      R"({"created":null,"author":null,"architecture":"amd64","os":"linux","config":null,"rootfs":{"type":"layers","diff_ids":null},"history":null})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->created.empty());
  EXPECT_TRUE(c->rootfs.diff_ids.empty());
  EXPECT_TRUE(c->history.empty());
}

TEST(ImageConfigTest, RejectsBadInput) {
  const std::string rootfs = R"("rootfs":{"type":"layers","diff_ids":[]})";
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"not json", "{architecture: amd64}"},
      {"array", "[{}]"},
      {"no rootfs", R"({"architecture":"amd64","os":"linux"})"},
      {"rootfs not object", R"({"rootfs":"layers"})"},
      {"rootfs no type", R"({"rootfs":{"diff_ids":[]}})"},
      {"rootfs wrong type", R"({"rootfs":{"type":"layers+base","diff_ids":[]}})"},
      {"diff_ids not array", R"({"rootfs":{"type":"layers","diff_ids":"sha256:x"}})"},
      {"diff_id not string", R"({"rootfs":{"type":"layers","diff_ids":[1]}})"},
      {"diff_id bad digest", R"({"rootfs":{"type":"layers","diff_ids":["sha256:abc"]}})"},
      {"architecture number", R"({"architecture":64,)" + rootfs + "}"},
      {"created not time", R"({"created":"yesterday",)" + rootfs + "}"},
      {"created number", R"({"created":1690000000,)" + rootfs + "}"},
      {"config array", R"({"config":[],)" + rootfs + "}"},
      {"Env string", R"({"config":{"Env":"A=B"},)" + rootfs + "}"},
      {"Cmd string", R"({"config":{"Cmd":"sh"},)" + rootfs + "}"},
      {"Cmd numbers", R"({"config":{"Cmd":[1]},)" + rootfs + "}"},
      {"ExposedPorts array", R"({"config":{"ExposedPorts":["80/tcp"]},)" + rootfs + "}"},
      {"Labels number", R"({"config":{"Labels":{"a":1}},)" + rootfs + "}"},
      {"ArgsEscaped string", R"({"config":{"ArgsEscaped":"true"},)" + rootfs + "}"},
      {"Healthcheck array", R"({"config":{"Healthcheck":[]},)" + rootfs + "}"},
      {"Healthcheck huge interval",
       R"({"config":{"Healthcheck":{"Interval":99999999999999999999}},)" + rootfs + "}"},
      {"history object", R"({"history":{},)" + rootfs + "}"},
      {"history entry string", R"({"history":["x"],)" + rootfs + "}"},
      {"history empty_layer string", R"({"history":[{"empty_layer":"yes"}],)" + rootfs + "}"},
      {"history bad created", R"({"history":[{"created":"2015-13-01T00:00:00Z"}],)" + rootfs + "}"},
  };
  for (const auto& [name, input] : cases) {
    Result<ImageConfig> r = ParseImageConfig(input);
    EXPECT_FALSE(r) << name;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << name;
    }
  }
}

TEST(ImageConfigTest, Rfc3339) {
  for (std::string_view good :
       {"2015-10-31T22:22:56Z", "2015-10-31T22:22:56.015925234Z", "2023-07-18T23:19:33+02:00",
        "2023-07-18T23:19:33.1-07:30", "1970-01-01t00:00:00z"}) {
    EXPECT_TRUE(IsRfc3339(good)) << good;
  }
  for (std::string_view bad :
       {"", "2015-10-31", "2015-10-31 22:22:56Z", "2015-10-31T22:22:56", "2015-10-31T22:22:56.Z",
        "2015-10-31T22:22:56+0200", "2015-10-31T25:22:56Z", "2015-00-31T22:22:56Z",
        "2015-10-31T22:22:56Zjunk", "15-10-31T22:22:56Z"}) {
    EXPECT_FALSE(IsRfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace berth::oci

namespace berth::oci {
namespace {

TEST(ImageConfigTest, RefusesDeeplyNestedJson) {
  const int depth = 100000;
  std::string deep = R"({"rootfs":{"type":"layers","diff_ids":[]},"x":)" + std::string(depth, '[') +
                     std::string(depth, ']') + "}";
  Result<ImageConfig> r = ParseImageConfig(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_NE(r.error().message.find("nested deeper"), std::string::npos) << r.error().message;
  // Brackets inside strings do not count.
  std::string quoted =
      R"({"rootfs":{"type":"layers","diff_ids":[]},"x":")" + std::string(depth, '[') + R"(\"["})";
  EXPECT_TRUE(ParseImageConfig(quoted));
  // Moderate nesting in an unknown field survives the round trip.
  std::string nested = R"({"rootfs":{"type":"layers","diff_ids":[]},"x":)" + std::string(100, '[') +
                       std::string(100, ']') + "}";
  Result<ImageConfig> ok = ParseImageConfig(nested);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->extra.at("x").size(), 200u);
}

TEST(ImageConfigTest, RefusesInvalidUtf8AndTrailingGarbage) {
  EXPECT_FALSE(ParseImageConfig("{\"rootfs\":{\"type\":\"layers\"},\"author\":\"\xff\"}"));
  EXPECT_FALSE(ParseImageConfig(R"({"rootfs":{"type":"layers"}} {})"));
}

}  // namespace
}  // namespace berth::oci
