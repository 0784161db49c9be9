// images / image ls, inspect, history, tag, rmi, image prune against a FakeTransport: the
// request each flag produces and the output docker would print.
#include <gtest/gtest.h>

#include "base/file.h"
#include "cli/internal/rows.h"
#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;
using testing::CliTest;
using testing::RecordedRequest;

constexpr char kImages[] = R"([
  {"Id":"sha256:f888f3618c2b0ade342aecb89db346abdb7801c5086cd420e3f5388c27276e6f",
   "Created":1699395200,"Size":4261550,"SharedSize":-1,"VirtualSize":4261550,"Containers":-1,
   "RepoTags":["busybox:latest","busybox:1.36","registry.local:5000/team/busybox:v1"],
   "RepoDigests":["busybox@sha256:aaaa"],"Labels":{}},
  {"Id":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
   "Created":1699913600,"Size":538855084,"SharedSize":-1,"Containers":2,
   "RepoTags":null,"RepoDigests":null}
])";

class ImagesTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("GET /v1.43/images/json", {200, kImages, {}});
  }
};

TEST_F(ImagesTest, DefaultTable) {
  ASSERT_EQ(RunCli({"images"}), 0) << err_;
  EXPECT_EQ(out_,
            "REPOSITORY                         TAG       IMAGE ID       CREATED        SIZE\n"
            "busybox                            latest    f888f3618c2b   7 days ago     4.26MB\n"
            "busybox                            1.36      f888f3618c2b   7 days ago     4.26MB\n"
            "registry.local:5000/team/busybox   v1        f888f3618c2b   7 days ago     4.26MB\n"
            "<none>                             <none>    0123456789ab   24 hours ago   539MB\n");
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.method, "GET");
  EXPECT_TRUE(req.query.empty());
}

TEST_F(ImagesTest, FlagsBecomeQueryParameters) {
  ASSERT_EQ(
      RunCli({"image", "ls", "-a", "--filter", "dangling=true", "-f", "label=a=b", "busybox"}), 0)
      << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.path, "/v1.43/images/json");
  EXPECT_EQ(req.Query("all"), "1");
  EXPECT_EQ(req.Query("filters"),
            R"({"dangling":{"true":true},"label":{"a=b":true},"reference":{"busybox":true}})");
  EXPECT_EQ(req.Query("shared-size"), "<absent>");
}

TEST_F(ImagesTest, BadFilterIsAnError) {
  EXPECT_EQ(RunCli({"images", "--filter", "dangling"}), 1);
  EXPECT_EQ(err_, "bad format of filter (expected name=value)\n");
  EXPECT_TRUE(fake_.ApiRequests().empty());
}

TEST_F(ImagesTest, QuietPrintsIdsPerRow) {
  ASSERT_EQ(RunCli({"images", "-q"}), 0);
  EXPECT_EQ(out_, "f888f3618c2b\nf888f3618c2b\nf888f3618c2b\n0123456789ab\n");
  ASSERT_EQ(RunCli({"images", "-q", "--no-trunc"}), 0);
  EXPECT_TRUE(out_.starts_with(
      "sha256:f888f3618c2b0ade342aecb89db346abdb7801c5086cd420e3f5388c27276e6f\n"));
}

TEST_F(ImagesTest, DigestsColumn) {
  ASSERT_EQ(RunCli({"images", "--digests"}), 0);
  EXPECT_NE(out_.find("REPOSITORY                         TAG       DIGEST        IMAGE ID"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("busybox                            latest    sha256:aaaa   f888f3618c2b"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("registry.local:5000/team/busybox   v1        <none>        f888f3618c2b"),
            std::string::npos)
      << out_;
}

TEST_F(ImagesTest, CustomFormats) {
  ASSERT_EQ(RunCli({"images", "--format", "{{.Repository}}:{{.Tag}} {{.Containers}}"}), 0);
  EXPECT_EQ(out_,
            "busybox:latest N/A\nbusybox:1.36 N/A\nregistry.local:5000/team/busybox:v1 N/A\n"
            "<none>:<none> 2\n");
  ASSERT_EQ(RunCli({"images", "--format", "table {{.ID}}\\t{{.Size}}"}), 0);
  EXPECT_TRUE(out_.starts_with("IMAGE ID       SIZE\nf888f3618c2b   4.26MB\n")) << out_;
}

TEST_F(ImagesTest, JsonFormatHasDockersFields) {
  ASSERT_EQ(RunCli({"images", "--format", "json"}), 0);
  std::string first = out_.substr(0, out_.find('\n'));
  json row = json::parse(first);
  EXPECT_EQ(row["ID"], "f888f3618c2b");
  EXPECT_EQ(row["Repository"], "busybox");
  EXPECT_EQ(row["Tag"], "latest");
  EXPECT_EQ(row["Digest"], "<none>");
  EXPECT_EQ(row["CreatedSince"], "7 days ago");
  EXPECT_EQ(row["CreatedAt"], "2023-11-07 22:13:20 +0000 UTC");
  EXPECT_EQ(row["Size"], "4.26MB");
  EXPECT_EQ(row["SharedSize"], "N/A");
  EXPECT_EQ(row["UniqueSize"], "N/A");
  EXPECT_EQ(row["VirtualSize"], "4.26MB");
  EXPECT_EQ(row["Containers"], "N/A");
}

TEST_F(ImagesTest, DigestFollowsTheFormatLikeDocker) {
  // A format that mentions {{.Digest}} repeats tags per digest even without --digests.
  ASSERT_EQ(RunCli({"images", "--format", "{{.Tag}} {{.Digest}}"}), 0);
  EXPECT_EQ(out_, "latest sha256:aaaa\n1.36 sha256:aaaa\nv1 <none>\n<none> <none>\n");
  // --digests with a custom table adds the column at the end.
  ASSERT_EQ(RunCli({"images", "--digests", "--format", "table {{.Tag}}"}), 0);
  EXPECT_TRUE(out_.starts_with("TAG       DIGEST\nlatest    sha256:aaaa\n")) << out_;
}

TEST_F(ImagesTest, SharedSizeIsRequestedOnlyWhenShown) {
  ASSERT_EQ(RunCli({"images", "--format", "{{.ID}} {{.UniqueSize}}"}), 0);
  EXPECT_EQ(OnlyRequest().Query("shared-size"), "1");
}

TEST_F(ImagesTest, UnknownFieldFailsLikeDocker) {
  EXPECT_EQ(RunCli({"images", "--format", "{{.Foo}}"}), 1);
  EXPECT_EQ(err_,
            "template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate "
            "field Foo\n");
}

TEST_F(ImagesTest, ConfigImagesFormatIsTheDefault) {
  char tmpl[] = "/tmp/berth-cli-config-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(WriteFileAtomic(dir + "/config.json", R"({"imagesFormat":"{{.Tag}}"})").ok());
  int code = RunCli({"--config", dir, "images"});
  (void)RemoveAll(dir);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(out_, "latest\n1.36\nv1\n<none>\n");
}

TEST_F(ImagesTest, DaemonErrorExits1WithItsMessage) {
  fake_.On("GET /v1.43/images/json", {500, R"({"message":"database is locked"})", {}});
  EXPECT_EQ(RunCli({"images"}), 1);
  EXPECT_EQ(err_, "Error response from daemon: database is locked\n");
  EXPECT_EQ(out_, "");
}

TEST(ImageRowsTest, DigestOnlyImageShowsRepoWithNoneTag) {
  json image = json::parse(R"({"Id":"sha256:ab","RepoTags":[],"RepoDigests":
      ["docker.io/library/alpine@sha256:1","docker.io/library/alpine@sha256:2"],"Size":1})");
  std::vector<json> rows = ImageRows(image, false, false, false, 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Repository"], "alpine");
  EXPECT_EQ(rows[0]["Tag"], "<none>");
  EXPECT_EQ(rows[0]["Digest"], "");
  rows = ImageRows(image, true, true, false, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["Digest"], "sha256:2");
}

TEST(ImageRowsTest, LegacyNoneEntriesAreDangling) {
  json image = json::parse(
      R"({"Id":"sha256:ab","RepoTags":["<none>:<none>"],"RepoDigests":["<none>@<none>"],"SharedSize":100,"Size":300})");
  std::vector<json> rows = ImageRows(image, false, false, false, 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Repository"], "<none>");
  EXPECT_EQ(rows[0]["SharedSize"], "100B");
  EXPECT_EQ(rows[0]["UniqueSize"], "200B");
}

// ---------------------------------------------------------------------------------------------

constexpr char kHistory[] = R"([
  {"Id":"sha256:f888f3618c2b0ade342aecb89db346abdb7801c5086cd420e3f5388c27276e6f",
   "Created":1699395200,"CreatedBy":"/bin/sh -c #(nop)\tCMD [\"sh\"] and a long tail of words here",
   "Tags":["busybox:latest"],"Size":0,"Comment":""},
  {"Id":"<missing>","Created":1699395100,"CreatedBy":"/bin/sh -c #(nop) ADD file:abc in / ",
   "Tags":null,"Size":4261550,"Comment":"imported"}
])";

class HistoryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("GET /v1.43/images/busybox/history", {200, kHistory, {}});
  }
};

TEST_F(HistoryTest, DefaultTable) {
  ASSERT_EQ(RunCli({"history", "busybox"}), 0) << err_;
  EXPECT_EQ(out_,
            "IMAGE          CREATED      CREATED BY                                      SIZE      "
            "COMMENT\n"
            "f888f3618c2b   7 days ago   /bin/sh -c #(nop) CMD [\"sh\"] and a long "
            "tail\xe2\x80\xa6   0B        \n"
            "<missing>      7 days ago   /bin/sh -c #(nop) ADD file:abc in /             4.26MB    "
            "imported\n");
}

TEST_F(HistoryTest, HumanFalseNoTruncAndQuiet) {
  ASSERT_EQ(RunCli({"image", "history", "--human=false", "--no-trunc", "busybox"}), 0) << err_;
  EXPECT_NE(out_.find("2023-11-07T22:13:20Z"), std::string::npos) << out_;
  EXPECT_NE(out_.find("4261550"), std::string::npos) << out_;
  EXPECT_NE(out_.find("and a long tail of words here"), std::string::npos) << out_;
  ASSERT_EQ(RunCli({"history", "-H=false", "busybox"}), 0) << err_;
  EXPECT_NE(out_.find("4261550"), std::string::npos) << out_;
  ASSERT_EQ(RunCli({"history", "-H", "busybox"}), 0) << err_;
  EXPECT_NE(out_.find("4.26MB"), std::string::npos) << out_;
  ASSERT_EQ(RunCli({"history", "-q", "busybox"}), 0);
  EXPECT_EQ(out_, "f888f3618c2b\n<missing>\n");
}

TEST_F(HistoryTest, FormatFields) {
  ASSERT_EQ(RunCli({"history", "--format", "{{.ID}}|{{.CreatedAt}}|{{.Comment}}", "busybox"}), 0);
  EXPECT_EQ(out_, "f888f3618c2b|2023-11-07T22:13:20Z|\n<missing>|2023-11-07T22:11:40Z|imported\n");
}

TEST_F(HistoryTest, NonHumanTableShowsCreatedAt) {
  ASSERT_EQ(RunCli({"history", "--human=false", "busybox"}), 0);
  EXPECT_TRUE(out_.starts_with("IMAGE          CREATED AT             CREATED BY")) << out_;
}

TEST(HistoryRowTest, EpochTimestampsHaveNoAge) {
  json row = HistoryRow(json::parse(R"({"Id":"<missing>","Created":0,"Size":1})"), true, false,
                        1700000000);
  EXPECT_EQ(row["CreatedSince"], "");
  EXPECT_EQ(row["Size"], "1B");
}

// ---------------------------------------------------------------------------------------------

class TagTest : public CliTest {};

TEST_F(TagTest, SendsFamiliarRepoAndTag) {
  fake_.On("POST /v1.43/images/busybox:latest/tag", {201, "", {}});
  ASSERT_EQ(RunCli({"tag", "busybox:latest", "127.0.0.1:5055/anchor/busybox:1"}), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.query, (Params{{"repo", "127.0.0.1:5055/anchor/busybox"}, {"tag", "1"}}));
  EXPECT_EQ(out_, "");
}

TEST_F(TagTest, DefaultsToLatestAndNormalisesDockerIo) {
  fake_.On("POST /v1.43/images/abc/tag", {201, "", {}});
  ASSERT_EQ(RunCli({"image", "tag", "abc", "docker.io/library/mine"}), 0) << err_;
  EXPECT_EQ(OnlyRequest().query, (Params{{"repo", "mine"}, {"tag", "latest"}}));
}

TEST_F(TagTest, RefusesDigestTargets) {
  EXPECT_EQ(RunCli({"tag", "abc", "mine@sha256:0000"}), 1);
  EXPECT_EQ(err_, "refusing to create a tag with a digest reference\n");
  EXPECT_TRUE(fake_.ApiRequests().empty());
}

TEST_F(TagTest, NoSuchImage) {
  fake_.On("POST /v1.43/images/nope/tag", {404, R"({"message":"No such image: nope:latest"})", {}});
  EXPECT_EQ(RunCli({"tag", "nope", "x"}), 1);
  EXPECT_EQ(err_, "Error response from daemon: No such image: nope:latest\n");
}

// ---------------------------------------------------------------------------------------------

class RmiTest : public CliTest {};

TEST_F(RmiTest, PrintsUntaggedAndDeletedAndCollectsErrors) {
  fake_.On(
      "DELETE /v1.43/images/busybox",
      {200,
       R"([{"Untagged":"busybox:latest"},{"Deleted":"sha256:f888"},{"Deleted":"sha256:4d6c"}])",
       {}});
  fake_.On("DELETE /v1.43/images/nope", {404, R"({"message":"No such image: nope:latest"})", {}});
  fake_.On("DELETE /v1.43/images/used",
           {409, R"({"message":"conflict: unable to remove repository reference \"used\""})", {}});
  EXPECT_EQ(RunCli({"rmi", "busybox", "nope", "used"}), 1);
  EXPECT_EQ(out_, "Untagged: busybox:latest\nDeleted: sha256:f888\nDeleted: sha256:4d6c\n");
  EXPECT_EQ(err_,
            "Error response from daemon: No such image: nope:latest\n"
            "Error response from daemon: conflict: unable to remove repository reference "
            "\"used\"\n");
  EXPECT_EQ(fake_.ApiRequests().size(), 3u);
}

TEST_F(RmiTest, ForceAndNoPrune) {
  fake_.On("DELETE /v1.43/images/registry.local:5000/a/b:1", {200, "[]", {}});
  ASSERT_EQ(RunCli({"image", "rm", "-f", "--no-prune", "registry.local:5000/a/b:1"}), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.query, (Params{{"force", "1"}, {"noprune", "1"}}));
}

// ---------------------------------------------------------------------------------------------

class InspectTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On(
        "GET /v1.43/images/busybox/json",
        {200,
         R"({"Id":"sha256:f888","RepoTags":["busybox:latest"],"Config":{"Labels":{"a":"<b>"},"Cmd":["sh"]},"Size":4261550})",
         {}});
  }
};

TEST_F(InspectTest, IndentedArrayInDaemonOrder) {
  ASSERT_EQ(RunCli({"image", "inspect", "busybox"}), 0) << err_;
  EXPECT_EQ(out_,
            "[\n"
            "    {\n"
            "        \"Id\": \"sha256:f888\",\n"
            "        \"RepoTags\": [\n"
            "            \"busybox:latest\"\n"
            "        ],\n"
            "        \"Config\": {\n"
            "            \"Labels\": {\n"
            "                \"a\": \"<b>\"\n"
            "            },\n"
            "            \"Cmd\": [\n"
            "                \"sh\"\n"
            "            ]\n"
            "        },\n"
            "        \"Size\": 4261550\n"
            "    }\n"
            "]\n");
}

TEST_F(InspectTest, MissingImageIsReportedAfterTheOthers) {
  EXPECT_EQ(RunCli({"image", "inspect", "nope", "busybox"}), 1);
  EXPECT_TRUE(out_.starts_with("[\n    {\n        \"Id\": \"sha256:f888\"")) << out_;
  EXPECT_EQ(err_, "Error: No such image: nope\n");
  EXPECT_EQ(RunCli({"inspect", "nope"}), 1);
  EXPECT_EQ(out_, "[]\n");
  EXPECT_EQ(err_, "Error: No such object: nope\n");
}

TEST_F(InspectTest, FormatPerElement) {
  ASSERT_EQ(RunCli({"inspect", "--format",
                    "{{.Id}} {{index .Config.Labels \"a\"}} {{json .Config.Cmd}} {{.Nope}}",
                    "busybox", "busybox"}),
            0)
      << err_;
  EXPECT_EQ(out_, "sha256:f888 <b> [\"sh\"] <no value>\nsha256:f888 <b> [\"sh\"] <no value>\n");
}

TEST_F(InspectTest, JsonKeepsTheDaemonsKeyOrder) {
  ASSERT_EQ(RunCli({"inspect", "-f", "{{json .Config}} {{json .}}", "busybox"}), 0) << err_;
  EXPECT_EQ(out_, R"({"Labels":{"a":"<b>"},"Cmd":["sh"]} )"
                  R"({"Id":"sha256:f888","RepoTags":["busybox:latest"],)"
                  R"("Config":{"Labels":{"a":"<b>"},"Cmd":["sh"]},"Size":4261550})"
                  "\n");
}

// ---------------------------------------------------------------------------------------------

class PruneTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On(
        "POST /v1.43/images/prune",
        {200,
         R"({"ImagesDeleted":[{"Untagged":"a:1"},{"Deleted":"sha256:abc"}],"SpaceReclaimed":1500000})",
         {}});
  }
};

TEST_F(PruneTest, AsksAndProceedsOnYes) {
  ASSERT_EQ(RunCli({"image", "prune"}, "y\n"), 0) << err_;
  EXPECT_EQ(out_,
            "WARNING! This will remove all dangling images.\nAre you sure you want to continue? "
            "[y/N] Deleted Images:\nuntagged: a:1\ndeleted: sha256:abc\n\n"
            "Total reclaimed space: 1.5MB\n");
  EXPECT_EQ(OnlyRequest().Query("filters"), R"({"dangling":{"true":true}})");
}

TEST_F(PruneTest, DecliningSendsNothingAndExits0) {
  ASSERT_EQ(RunCli({"image", "prune", "-a"}, "n\n"), 0);
  EXPECT_NE(out_.find("without at least one container associated to them"), std::string::npos);
  EXPECT_TRUE(fake_.ApiRequests().empty());
  EXPECT_EQ(err_, "");
  ASSERT_EQ(RunCli({"image", "prune"}, ""), 0);  // EOF is a no
  EXPECT_TRUE(fake_.ApiRequests().empty());
}

TEST_F(PruneTest, ForceAllAndFilters) {
  ASSERT_EQ(RunCli({"image", "prune", "-a", "-f", "--filter", "until=24h", "--filter", "label=x"}),
            0);
  EXPECT_EQ(OnlyRequest().Query("filters"),
            R"({"dangling":{"false":true},"label":{"x":true},"until":{"24h":true}})");
  EXPECT_TRUE(out_.starts_with("Deleted Images:\n")) << out_;
}

TEST_F(PruneTest, NothingToPrune) {
  fake_.On("POST /v1.43/images/prune",
           {200, R"({"ImagesDeleted":null,"SpaceReclaimed":4096})", {}});
  ASSERT_EQ(RunCli({"image", "prune", "-f"}), 0);
  EXPECT_EQ(out_, "Total reclaimed space: 0B\n");
}

}  // namespace
}  // namespace berth::cli
