#include "cli/format/list.h"

#include <gtest/gtest.h>

namespace berth::cli::format {
namespace {

using json = nlohmann::ordered_json;

const ListFormat& Images() {
  static const ListFormat f{
      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}", "{{.ID}}",
      json{{"Repository", "REPOSITORY"},
           {"Tag", "TAG"},
           {"ID", "IMAGE ID"},
           {"CreatedSince", "CREATED"},
           {"Size", "SIZE"}}};
  return f;
}

std::vector<json> Rows() {
  return {json{{"Repository", "busybox"},
               {"Tag", "latest"},
               {"ID", "f888f3618c2b"},
               {"CreatedSince", "2 weeks ago"},
               {"Size", "4.26MB"}},
          json{{"Repository", "registry.example.com/team/app"},
               {"Tag", "v1"},
               {"ID", "0123456789ab"},
               {"CreatedSince", "3 days ago"},
               {"Size", "539MB"}}};
}

TEST(ListFormatTest, ResolvesDockerShorthands) {
  EXPECT_EQ(ResolveFormat("", Images(), false), Images().default_table);
  EXPECT_EQ(ResolveFormat("table", Images(), false), Images().default_table);
  EXPECT_EQ(ResolveFormat("", Images(), true), "{{.ID}}");
  EXPECT_EQ(ResolveFormat("json", Images(), false), "{{json .}}");
  EXPECT_EQ(ResolveFormat("{{.Tag}}", Images(), true), "{{.Tag}}");
}

TEST(ListFormatTest, DefaultTableMatchesDockerImages) {
  Result<std::string> out = RenderList(Images().default_table, Rows(), Images().headers);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "REPOSITORY                      TAG       IMAGE ID       CREATED       SIZE\n"
            "busybox                         latest    f888f3618c2b   2 weeks ago   4.26MB\n"
            "registry.example.com/team/app   v1        0123456789ab   3 days ago    539MB\n");
}

TEST(ListFormatTest, EmptyTablePrintsHeaderOnly) {
  Result<std::string> out = RenderList(Images().default_table, {}, Images().headers);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
}

TEST(ListFormatTest, CustomTableWithEscapedTab) {
  Result<std::string> out = RenderList("table {{.ID}}\\t{{.Repository}}", Rows(), Images().headers);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "IMAGE ID       REPOSITORY\n"
            "f888f3618c2b   busybox\n"
            "0123456789ab   registry.example.com/team/app\n");
}

TEST(ListFormatTest, PlainFormatHasNoHeaderOrAlignment) {
  Result<std::string> out = RenderList("{{.Repository}}:{{.Tag}}\\t{{.Size}}", Rows(), {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "busybox:latest\t4.26MB\nregistry.example.com/team/app:v1\t539MB\n");
}

TEST(ListFormatTest, JsonRowPerLine) {
  std::vector<json> rows = {json{{"ID", "a"}, {"Tag", "<none>"}}};
  Result<std::string> out = RenderList("{{json .}}", rows, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "{\"ID\":\"a\",\"Tag\":\"<none>\"}\n");
}

TEST(ListFormatTest, HeaderKeepsColumnNamesThroughFunctions) {
  Result<std::string> out = RenderList(
      "table {{lower .Repository}}\\t{{json .Tag}}\\t{{pad .ID 1 1}}", Rows(), Images().headers);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "REPOSITORY                      TAG         IMAGE ID \n"
            "busybox                         \"latest\"    f888f3618c2b \n"
            "registry.example.com/team/app   \"v1\"        0123456789ab \n");
}

TEST(ListFormatTest, UnknownFieldIsATemplateError) {
  Result<std::string> out = RenderList("{{.Foo}}", Rows(), Images().headers);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message,
            "template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate "
            "field Foo");
}

TEST(ListFormatTest, RenderOneIsLenientOnlyWhenAsked) {
  json v = {{"A", {{"B", "x"}}}};
  EXPECT_EQ(*RenderOne("{{.A.B}}\\n", v, false), "x\n");
  EXPECT_EQ(*RenderOne("{{.Nope}}", v, true), "<no value>");
  EXPECT_FALSE(RenderOne("{{.Nope}}", v, false).ok());
  EXPECT_EQ(*RenderOne("json", v, false), R"({"A":{"B":"x"}})");
}

TEST(ListFormatTest, FormatMentionsWholeFieldNames) {
  EXPECT_TRUE(FormatMentions("{{.SharedSize}}", "SharedSize"));
  EXPECT_TRUE(FormatMentions("table {{.ID}}\t{{.UniqueSize}}", "UniqueSize"));
  EXPECT_FALSE(FormatMentions("{{.SharedSizes}}", "SharedSize"));
  EXPECT_FALSE(FormatMentions("{{.Size}}", "SharedSize"));
}

}  // namespace
}  // namespace berth::cli::format
