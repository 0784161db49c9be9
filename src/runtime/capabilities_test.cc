#include "runtime/capabilities.h"

#include <linux/capability.h>
#include <sys/capability.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <fstream>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

using Names = std::vector<std::string>;

Names Sorted(Names v) {
  std::sort(v.begin(), v.end());
  return v;
}

int KernelLastCap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = -1;
  in >> last;
  return last;
}

TEST(CapabilitiesTest, DefaultIsDockersFourteen) {
  Names d = DefaultCapabilities();
  EXPECT_EQ(d.size(), 14u);
  EXPECT_EQ(Sorted(d),
            Sorted({"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                    "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}));
}

// This process's bounding set, from /proc/self/status.
uint64_t BoundingSet() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapBnd:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

TEST(CapabilitiesTest, AllIsTheKernelsCapabilitiesInOurBoundingSet) {
  Names all = AllCapabilities();
  ASSERT_GT(KernelLastCap(), 0);
  const uint64_t bounding = BoundingSet();
  oci::LinuxCapabilities caps;
  caps.bounding = all;
  auto r = ResolveCapabilities(caps);
  ASSERT_TRUE(r) << r.error().message;
  // Exactly the bounding set (this VM's root lacks CAP_SYS_RESOURCE: it is left out).
  EXPECT_EQ(r->bounding, bounding);
  EXPECT_EQ(static_cast<int>(all.size()), std::popcount(bounding));
  EXPECT_EQ(all.front(), "CAP_CHOWN");
  for (const std::string& name : all) EXPECT_TRUE(name.starts_with("CAP_")) << name;
}

TEST(CapabilitiesTest, NoTweaksKeepsBase) {
  auto r = MergeCapabilities(DefaultCapabilities(), {}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Sorted(DefaultCapabilities()));
}

TEST(CapabilitiesTest, AddIsCaseInsensitiveWithOrWithoutPrefix) {
  auto r = MergeCapabilities({"CAP_CHOWN"}, {"net_admin", "Cap_Sys_Ptrace", "SYS_TIME"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Names({"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_TIME"}));
}

TEST(CapabilitiesTest, DropRemovesFromBase) {
  auto r = MergeCapabilities(DefaultCapabilities(), {}, {"chown", "CAP_NET_RAW", "mknod"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 11u);
  for (const char* gone : {"CAP_CHOWN", "CAP_NET_RAW", "CAP_MKNOD"}) {
    EXPECT_EQ(std::find(r->begin(), r->end(), gone), r->end()) << gone;
  }
}

TEST(CapabilitiesTest, AddWinsOverDropOfTheSameCap) {
  // Docker drops from the base first, then appends the added ones.
  auto r = MergeCapabilities({"CAP_CHOWN", "CAP_KILL"}, {"kill"}, {"KILL"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Names({"CAP_CHOWN", "CAP_KILL"}));
}

TEST(CapabilitiesTest, AddAllGivesEverythingButDropped) {
  auto r = MergeCapabilities(DefaultCapabilities(), {"all"}, {"sys_admin", "NET_ADMIN"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), AllCapabilities().size() - 2);
  EXPECT_EQ(std::find(r->begin(), r->end(), "CAP_SYS_ADMIN"), r->end());
  EXPECT_NE(std::find(r->begin(), r->end(), "CAP_SYS_PTRACE"), r->end());
}

TEST(CapabilitiesTest, DropAllKeepsOnlyAdded) {
  auto r = MergeCapabilities(DefaultCapabilities(), {"NET_BIND_SERVICE", "chown"}, {"ALL"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Names({"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}));

  auto none = MergeCapabilities(DefaultCapabilities(), {}, {"all"});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
}

TEST(CapabilitiesTest, ResultIsSortedWithoutDuplicates) {
  auto r = MergeCapabilities({"CAP_KILL", "CAP_CHOWN"}, {"chown", "CAP_CHOWN", "audit_write"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Names({"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_KILL"}));
}

TEST(CapabilitiesTest, UnknownNameUsesDockersWording) {
  auto add = MergeCapabilities(DefaultCapabilities(), {"foo"}, {});
  ASSERT_FALSE(add);
  EXPECT_EQ(add.error().code, Code::kInvalidArgument);
  EXPECT_EQ(add.error().message, "unknown capability: \"CAP_FOO\"");

  auto drop = MergeCapabilities(DefaultCapabilities(), {}, {"CAP_BOGUS"});
  ASSERT_FALSE(drop);
  EXPECT_EQ(drop.error().code, Code::kInvalidArgument);
  EXPECT_EQ(drop.error().message, "unknown capability: \"CAP_BOGUS\"");

  // libcap's cap_from_name accepts numbers; names here must be names.
  auto number = MergeCapabilities({}, {"12"}, {});
  ASSERT_FALSE(number);
  EXPECT_EQ(number.error().message, "unknown capability: \"CAP_12\"");
}

TEST(CapabilitiesTest, ResolveMapsNamesToBits) {
  oci::LinuxCapabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"};
  caps.effective = {"CAP_KILL"};
  caps.permitted = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.inheritable = {};
  caps.ambient = {"CAP_NET_BIND_SERVICE"};
  auto r = ResolveCapabilities(caps);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bounding, (uint64_t{1} << CAP_CHOWN) | (uint64_t{1} << CAP_KILL) |
                             (uint64_t{1} << CAP_SYS_ADMIN));
  EXPECT_EQ(r->effective, uint64_t{1} << CAP_KILL);
  EXPECT_EQ(r->permitted, (uint64_t{1} << CAP_KILL) | (uint64_t{1} << CAP_NET_BIND_SERVICE));
  EXPECT_EQ(r->inheritable, 0u);
  EXPECT_EQ(r->ambient, uint64_t{1} << CAP_NET_BIND_SERVICE);
}

TEST(CapabilitiesTest, ResolveSetsEveryKernelBitItIsGiven) {
  oci::LinuxCapabilities caps;
  const int last = KernelLastCap();
  for (int bit = 0; bit <= last; ++bit) {
    char* name = cap_to_name(static_cast<cap_value_t>(bit));
    std::string upper(name);
    cap_free(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    caps.bounding.push_back(upper);
  }
  auto r = ResolveCapabilities(caps);
  ASSERT_TRUE(r) << r.error().message;
  const uint64_t want = last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
  EXPECT_EQ(r->bounding, want);
}

TEST(CapabilitiesTest, ResolveRequiresPrefixedKnownNames) {
  oci::LinuxCapabilities caps;
  caps.effective = {"CHOWN"};
  auto r = ResolveCapabilities(caps);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().message, "effective: unknown capability: \"CHOWN\"");

  caps.effective = {"CAP_FOO"};
  r = ResolveCapabilities(caps);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "effective: unknown capability: \"CAP_FOO\"");
}

}  // namespace
}  // namespace berth::runtime
