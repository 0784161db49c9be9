#include "cmd/config_file.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace berth::cmd {
namespace {

struct Parsed {
  std::string data_root = "/default";
  std::string listen = "127.0.0.1:5000";
  int threads = 0;
  std::vector<std::string> insecure;
};

// Parses `config` the way berth-registry does: global flags, a `serve` subcommand.
Parsed Parse(const std::string& config, const std::string& path) {
  Parsed p;
  CLI::App app;
  app.config_formatter(std::make_shared<YamlOrTomlConfig>());
  app.set_config("--config");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.fallthrough();
  app.add_option("--data-root", p.data_root);
  CLI::App* serve = app.add_subcommand("serve");
  serve->add_option("--listen", p.listen);
  serve->add_option("--threads", p.threads);
  serve->add_option("--insecure", p.insecure);
  {
    std::ofstream(path) << config;
  }
  const char* argv[] = {"berth-registry", "serve", "--config", path.c_str()};
  app.parse(4, const_cast<char**>(argv));
  return p;
}

TEST(ConfigFileTest, YamlAndTomlSayTheSame) {
  std::string dir = ::testing::TempDir();
  Parsed y = Parse("# berth-registry\ndata-root: /srv/reg\nserve:\n  listen: 0.0.0.0:5001\n  threads: 3\n"
                   "  insecure: [a, b]\n",
                   dir + "/c.yaml");
  EXPECT_EQ(y.data_root, "/srv/reg");
  EXPECT_EQ(y.listen, "0.0.0.0:5001");
  EXPECT_EQ(y.threads, 3);
  EXPECT_EQ(y.insecure, (std::vector<std::string>{"a", "b"}));
  Parsed t = Parse("data-root = \"/srv/reg\"\n[serve]\nlisten = \"0.0.0.0:5001\"\nthreads = 3\n"
                   "insecure = [\"a\", \"b\"]\n",
                   dir + "/c.toml");
  EXPECT_EQ(t.data_root, y.data_root);
  EXPECT_EQ(t.listen, y.listen);
  EXPECT_EQ(t.threads, y.threads);
  EXPECT_EQ(t.insecure, y.insecure);
}

TEST(ConfigFileTest, UnknownKeysAreErrors) {
  EXPECT_THROW(Parse("serve:\n  bogus: 1\n", ::testing::TempDir() + "/bad.yaml"), CLI::ParseError);
}

}  // namespace
}  // namespace berth::cmd
