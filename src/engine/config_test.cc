#include "engine/config.h"

#include <stdlib.h>

#include <string>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::engine {
namespace {

TEST(ConfigTest, FileValuesApplyOverDefaults) {
  Result<Config> c = MergeConfigFile(Config{}, {}, R"({
    "data-root": "/srv/berth", "exec-root": "/run/b", "hosts": ["unix:///tmp/b.sock"],
    "pidfile": "/run/b.pid", "debug": true, "log-level": "warn",
    "insecure-registries": ["10.0.0.0/8", "myreg:5000"],
    "registry-mirrors": ["https://mirror.example.com"]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_root, "/srv/berth");
  EXPECT_EQ(c->exec_root, "/run/b");
  EXPECT_EQ(c->hosts, std::vector<std::string>{"unix:///tmp/b.sock"});
  EXPECT_EQ(c->pidfile, "/run/b.pid");
  EXPECT_TRUE(c->debug);
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_EQ(c->insecure_registries.size(), 2u);
  EXPECT_EQ(c->registry_mirrors, std::vector<std::string>{"https://mirror.example.com"});
}

TEST(ConfigTest, FlagNotInFileIsKept) {
  Config flags;
  flags.data_root = "/from/flag";
  Result<Config> c = MergeConfigFile(flags, {"data-root"}, R"({"exec-root": "/x"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data_root, "/from/flag");
  EXPECT_EQ(c->exec_root, "/x");
}

TEST(ConfigTest, KeyInBothFlagAndFileIsAConflictNamingBoth) {
  Config flags;
  flags.data_root = "/from/flag";
  flags.hosts = {"unix:///a.sock", "tcp://127.0.0.1:2375"};
  Result<Config> c = MergeConfigFile(flags, {"data-root", "hosts"},
                                     R"({"data-root": "/from/file", "hosts": ["unix:///b.sock"]})");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kInvalidArgument);
  EXPECT_EQ(c.error().message,
            "the following directives are specified both as a flag and in the configuration "
            "file: data-root: (from flag: /from/flag, from file: /from/file), hosts: (from flag: "
            "[unix:///a.sock tcp://127.0.0.1:2375], from file: [unix:///b.sock])");
}

TEST(ConfigTest, UnknownKeysAreRefused) {
  Result<Config> c = MergeConfigFile(Config{}, {}, R"({"storage-driver": "vfs", "bogus": 1})");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "the following directives don't match any configuration option: bogus, "
            "storage-driver");
}

TEST(ConfigTest, WrongTypesAndMalformedJsonAreRefused) {
  EXPECT_FALSE(MergeConfigFile(Config{}, {}, R"({"debug": "yes"})"));
  EXPECT_FALSE(MergeConfigFile(Config{}, {}, R"({"hosts": "unix:///a"})"));
  EXPECT_FALSE(MergeConfigFile(Config{}, {}, R"({"hosts": [1]})"));
  EXPECT_FALSE(MergeConfigFile(Config{}, {}, R"({"data-root": )"));
  EXPECT_FALSE(MergeConfigFile(Config{}, {}, R"([1, 2])"));
}

TEST(ConfigTest, MissingDefaultFileIsFineButMissingExplicitFileIsNot) {
  EXPECT_TRUE(LoadConfig(Config{}, {}, "/nonexistent/daemon.json", false));
  Result<Config> c = LoadConfig(Config{}, {}, "/nonexistent/daemon.json", true);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("/nonexistent/daemon.json"), std::string::npos);
}

TEST(ConfigTest, LoadConfigReadsTheFile) {
  char dir[] = "/tmp/berth-config-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/daemon.json";
  ASSERT_TRUE(WriteFileAtomic(path, R"({"log-level": "error"})"));
  Result<Config> c = LoadConfig(Config{}, {"data-root"}, path, true);
  EXPECT_TRUE(RemoveAll(dir));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->log_level, "error");
}

TEST(ConfigTest, ValidateFillsDefaultHostAndNormalisesMirrors) {
  Config in;
  in.registry_mirrors = {"https://mirror.example.com", "http://10.0.0.1:5000/"};
  Result<Config> c = ValidateConfig(in);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->hosts, std::vector<std::string>{std::string(kDefaultHost)});
  EXPECT_EQ(c->registry_mirrors,
            (std::vector<std::string>{"https://mirror.example.com/", "http://10.0.0.1:5000/"}));
}

TEST(ConfigTest, ValidateRefusesBadValues) {
  Config relative;
  relative.data_root = "var/lib/berth";
  EXPECT_FALSE(ValidateConfig(relative));
  Config level;
  level.log_level = "loud";
  EXPECT_FALSE(ValidateConfig(level));
  Config mirror;
  mirror.registry_mirrors = {"ftp://mirror"};
  EXPECT_FALSE(ValidateConfig(mirror));
  Config mirror_path;
  mirror_path.registry_mirrors = {"https://mirror/v2/"};
  EXPECT_FALSE(ValidateConfig(mirror_path));
  Config insecure;
  insecure.insecure_registries = {"http://reg:5000"};
  EXPECT_FALSE(ValidateConfig(insecure));
}

TEST(ConfigTest, PullSettingsFromTheFileAndTheirBounds) {
  Result<Config> c = MergeConfigFile(Config{}, {}, R"({"max-concurrent-downloads": 5,
      "max-download-speed": 1000000, "certs-dir": "/x/certs.d"})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->max_concurrent_downloads, 5);
  EXPECT_EQ(c->max_download_speed, 1000000);
  EXPECT_EQ(c->certs_dir, "/x/certs.d");
  EXPECT_FALSE(MergeConfigFile(Config{}, {}, R"({"max-concurrent-downloads": "5"})"));
  Config zero;
  zero.max_concurrent_downloads = 0;
  EXPECT_FALSE(ValidateConfig(zero));
  Config negative;
  negative.max_download_speed = -1;
  EXPECT_FALSE(ValidateConfig(negative));
  EXPECT_EQ(ValidateConfig(Config{})->max_concurrent_downloads, 3);
}

TEST(ConfigTest, DebugImpliesDebugLogLevel) {
  Config in;
  in.debug = true;
  Result<Config> c = ValidateConfig(in);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->log_level, "debug");
}

}  // namespace
}  // namespace berth::engine
