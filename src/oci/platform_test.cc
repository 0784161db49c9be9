#include "oci/platform.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

Platform P(std::string os, std::string arch, std::string variant = "") {
  Platform p;
  p.os = std::move(os);
  p.architecture = std::move(arch);
  p.variant = std::move(variant);
  return p;
}

TEST(PlatformTest, HostIsLinuxWithGoArchName) {
  Platform host = HostPlatform();
  EXPECT_EQ(host.os, "linux");
#if defined(__x86_64__)
  EXPECT_EQ(host.architecture, "amd64");
#elif defined(__aarch64__)
  EXPECT_EQ(host.architecture, "arm64");
  EXPECT_EQ(host.variant, "v8");
#endif
  EXPECT_TRUE(PlatformMatcher(host).Match(host));
}

TEST(PlatformTest, ParseTable) {
  // After containerd's platforms_test.go TestParseSelector.
  struct Case {
    std::string_view input;
    Platform want;
    std::string_view formatted;
  } cases[] = {
      {"linux/amd64", P("linux", "amd64"), "linux/amd64"},
      {"Linux/AMD64", P("linux", "amd64"), "linux/amd64"},
      {"linux/x86_64", P("linux", "amd64"), "linux/amd64"},
      {"linux/x86-64", P("linux", "amd64"), "linux/amd64"},
      {"linux/i386", P("linux", "386"), "linux/386"},
      {"linux/aarch64", P("linux", "arm64"), "linux/arm64"},
      {"linux/arm64", P("linux", "arm64"), "linux/arm64"},
      {"linux/arm64/v8", P("linux", "arm64", "v8"), "linux/arm64/v8"},
      {"linux/aarch64/8", P("linux", "arm64", "v8"), "linux/arm64/v8"},
      {"linux/arm64/v9.0", P("linux", "arm64", "v9"), "linux/arm64/v9"},
      {"linux/arm", P("linux", "arm"), "linux/arm"},
      {"linux/arm/v7", P("linux", "arm", "v7"), "linux/arm/v7"},
      {"linux/arm/7", P("linux", "arm", "v7"), "linux/arm/v7"},
      {"linux/arm/v6", P("linux", "arm", "v6"), "linux/arm/v6"},
      {"linux/arm/6", P("linux", "arm", "v6"), "linux/arm/v6"},
      {"linux/armhf", P("linux", "arm"), "linux/arm"},
      {"linux/armel", P("linux", "arm", "v6"), "linux/arm/v6"},
      {"linux/amd64/v3", P("linux", "amd64", "v3"), "linux/amd64/v3"},
      {"linux/amd64/v1", P("linux", "amd64"), "linux/amd64"},
      {"windows/amd64", P("windows", "amd64"), "windows/amd64"},
      {"macos/arm64", P("darwin", "arm64"), "darwin/arm64"},
      {"linux/ppc64le", P("linux", "ppc64le"), "linux/ppc64le"},
      {"linux/s390x", P("linux", "s390x"), "linux/s390x"},
      {"linux/riscv64", P("linux", "riscv64"), "linux/riscv64"},
      {"amd64", P("linux", "amd64"), "linux/amd64"},
      {"arm64", P("linux", "arm64"), "linux/arm64"},
      {"armel", P("linux", "arm", "v6"), "linux/arm/v6"},
  };
  for (const Case& c : cases) {
    Result<Platform> got = ParsePlatform(c.input);
    ASSERT_TRUE(got) << c.input << ": " << got.error().message;
    EXPECT_EQ(got->os, c.want.os) << c.input;
    EXPECT_EQ(got->architecture, c.want.architecture) << c.input;
    EXPECT_EQ(got->variant, c.want.variant) << c.input;
    EXPECT_EQ(FormatPlatform(*got), c.formatted) << c.input;
  }
}

TEST(PlatformTest, LoneOsTakesHostArchitecture) {
  Result<Platform> p = ParsePlatform("linux");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->os, "linux");
  EXPECT_EQ(p->architecture, HostPlatform().architecture);
}

TEST(PlatformTest, ParseRejectsBadSpecifiers) {
  for (std::string_view bad : {"", "/", "linux/", "/amd64", "linux//amd64", "linux/amd64/v8/x",
                               "linux/*", "linux/amd 64", "nonsense", "linux/amd64/v8:x"}) {
    Result<Platform> r = ParsePlatform(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << bad;
    }
  }
}

TEST(PlatformTest, FormatUnknownWithoutOs) { EXPECT_EQ(FormatPlatform(Platform{}), "unknown"); }

TEST(PlatformMatcherTest, Arm64FallsBackToArm32Variants) {
  PlatformMatcher m(P("linux", "arm64", "v8"));
  EXPECT_TRUE(m.Match(P("linux", "arm64")));
  EXPECT_TRUE(m.Match(P("linux", "arm64", "v8")));
  EXPECT_TRUE(m.Match(P("linux", "aarch64")));
  EXPECT_TRUE(m.Match(P("linux", "arm", "v8")));
  EXPECT_TRUE(m.Match(P("linux", "arm", "v7")));
  EXPECT_TRUE(m.Match(P("linux", "arm")));  // arm with no variant means v7
  EXPECT_TRUE(m.Match(P("linux", "arm", "v6")));
  EXPECT_TRUE(m.Match(P("linux", "arm", "v5")));
  EXPECT_FALSE(m.Match(P("linux", "amd64")));
  EXPECT_FALSE(m.Match(P("windows", "arm64")));
  EXPECT_FALSE(m.Match(P("linux", "arm64", "v9")));
  EXPECT_TRUE(m.Less(P("linux", "arm64"), P("linux", "arm", "v7")));
  EXPECT_TRUE(m.Less(P("linux", "arm", "v7"), P("linux", "arm", "v6")));
  EXPECT_FALSE(m.Less(P("linux", "arm", "v6"), P("linux", "arm", "v7")));
}

TEST(PlatformMatcherTest, ArmVariantsMatchOlderOnly) {
  PlatformMatcher v7(P("linux", "arm", "v7"));
  EXPECT_TRUE(v7.Match(P("linux", "arm", "v6")));
  EXPECT_TRUE(v7.Match(P("linux", "arm", "v5")));
  EXPECT_FALSE(v7.Match(P("linux", "arm", "v8")));
  EXPECT_FALSE(v7.Match(P("linux", "arm64")));
  PlatformMatcher v6(P("linux", "armel"));
  EXPECT_TRUE(v6.Match(P("linux", "arm", "v5")));
  EXPECT_FALSE(v6.Match(P("linux", "arm", "v7")));
  EXPECT_FALSE(v6.Match(P("linux", "arm")));  // normalises to v7
}

TEST(PlatformMatcherTest, Amd64AlsoRuns386AndOlderLevels) {
  PlatformMatcher m(P("linux", "amd64"));
  EXPECT_TRUE(m.Match(P("linux", "x86_64")));
  EXPECT_TRUE(m.Match(P("linux", "386")));
  EXPECT_TRUE(m.Match(P("linux", "amd64", "v1")));
  EXPECT_FALSE(m.Match(P("linux", "amd64", "v2")));
  EXPECT_TRUE(m.Less(P("linux", "amd64"), P("linux", "386")));

  PlatformMatcher v3(P("linux", "amd64", "v3"));
  ASSERT_EQ(v3.preferences().size(), 4u);
  EXPECT_EQ(v3.Rank(P("linux", "amd64", "v3")), 0u);
  EXPECT_EQ(v3.Rank(P("linux", "amd64", "v2")), 1u);
  EXPECT_EQ(v3.Rank(P("linux", "amd64")), 2u);
  EXPECT_EQ(v3.Rank(P("linux", "386")), 3u);
  EXPECT_FALSE(v3.Match(P("linux", "amd64", "v4")));
}

TEST(PlatformMatcherTest, Arm64MinorVariants) {
  PlatformMatcher m(P("linux", "arm64", "v8.2"));
  EXPECT_TRUE(m.Match(P("linux", "arm64", "v8.1")));
  EXPECT_TRUE(m.Match(P("linux", "arm64")));
  EXPECT_FALSE(m.Match(P("linux", "arm64", "v8.3")));
  EXPECT_TRUE(m.Match(P("linux", "arm", "v7")));
  PlatformMatcher v9(P("linux", "arm64", "v9.1"));
  EXPECT_TRUE(v9.Match(P("linux", "arm64", "v9")));
  EXPECT_TRUE(v9.Match(P("linux", "arm64", "v8.6")));
  EXPECT_FALSE(v9.Match(P("linux", "arm64", "v8.7")));
}

TEST(PlatformMatcherTest, StrictMatchesOnlyTheTarget) {
  PlatformMatcher m = PlatformMatcher::Strict(P("linux", "arm", "v7"));
  EXPECT_TRUE(m.Match(P("linux", "arm")));
  EXPECT_FALSE(m.Match(P("linux", "arm", "v6")));
  EXPECT_FALSE(PlatformMatcher::Strict(P("linux", "amd64")).Match(P("linux", "386")));
}

TEST(PlatformMatcherTest, WindowsOsVersionComparesBuild) {
  Platform want = P("windows", "amd64");
  want.os_version = "10.0.17763.1234";
  Platform same_build = P("windows", "amd64");
  same_build.os_version = "10.0.17763.5000";
  Platform other_build = P("windows", "amd64");
  other_build.os_version = "10.0.20348.1";
  PlatformMatcher m(want);
  EXPECT_TRUE(m.Match(same_build));
  EXPECT_FALSE(m.Match(other_build));
  EXPECT_TRUE(m.Match(P("windows", "amd64")));  // no version: no constraint
}

}  // namespace
}  // namespace berth::oci
