#include "cli/format/template.h"

#include <gtest/gtest.h>

namespace berth::cli::format {
namespace {

using json = nlohmann::ordered_json;

const json& Data() {
  static const json data = json::parse(R"({
    "ID": "sha256:abc",
    "Repository": "busybox",
    "Tag": "latest",
    "Size": 4261550,
    "Labels": {"maintainer": "me", "a": "1"},
    "RepoTags": ["busybox:latest", "busybox:1"],
    "Config": {"Env": ["PATH=/bin", "A=b"], "User": ""},
    "Empty": [],
    "Nothing": null,
    "Flag": true,
    "Ratio": 0.5
  })");
  return data;
}

struct Case {
  const char* name;
  const char* tmpl;
  const char* want;
};

class TemplateOutputTest : public testing::TestWithParam<Case> {};

TEST_P(TemplateOutputTest, RendersLikeGoTemplates) {
  const Case& c = GetParam();
  Result<Template> t = Template::Parse(c.tmpl);
  ASSERT_TRUE(t.ok()) << t.error().message;
  Result<std::string> out = t->Execute(Data());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TemplateOutputTest,
    testing::Values(
        Case{"Literal", "just text", "just text"}, Case{"Field", "{{.Repository}}", "busybox"},
        Case{"FieldsAndText", "{{.Repository}}:{{.Tag}}!", "busybox:latest!"},
        Case{"Number", "{{.Size}}", "4261550"}, Case{"Float", "{{.Ratio}}", "0.5"},
        Case{"Bool", "{{.Flag}}", "true"},
        Case{"Nested", "{{.Config.User}}|{{.Config.Env}}", "|[PATH=/bin A=b]"},
        Case{"ArrayPrintsGoStyle", "{{.RepoTags}}", "[busybox:latest busybox:1]"},
        Case{"MapPrintsGoStyleSorted", "{{.Labels}}", "map[a:1 maintainer:me]"},
        Case{"NullPrintsNil", "{{.Nothing}}", "<nil>"},
        Case{"CaseInsensitiveFallback", "{{.repository}}", "busybox"},
        // json keeps the data's order (a daemon's Go map arrives sorted already).
        Case{"JsonOfField", "{{json .Labels}}", R"({"maintainer":"me","a":"1"})"},
        Case{"JsonOfString", "{{json .Tag}}", R"("latest")"},
        Case{"JsonDoesNotEscapeHtml", "{{json \"<a&b>\"}}", R"("<a&b>")"},
        Case{"Range", "{{range .RepoTags}}[{{.}}]{{end}}", "[busybox:latest][busybox:1]"},
        Case{"RangeElseOnEmpty", "{{range .Empty}}x{{else}}none{{end}}", "none"},
        Case{"RangeOverMapWithVariables", "{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}",
             "a=1;maintainer=me;"},
        Case{"RangeWithIndex", "{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}",
             "0:busybox:latest 1:busybox:1 "},
        Case{"RootVariableInsideRange", "{{range .RepoTags}}{{$.Tag}}{{end}}", "latestlatest"},
        Case{"Index", "{{index .Labels \"maintainer\"}}", "me"},
        Case{"IndexMissingKeyIsEmpty", "[{{index .Labels \"nope\"}}]", "[]"},
        Case{"IndexArray", "{{index .RepoTags 1}}", "busybox:1"},
        Case{"Join", "{{join .RepoTags \", \"}}", "busybox:latest, busybox:1"},
        Case{"Split", "{{index (split .Tag \"t\") 0}}", "la"},
        Case{"LowerUpperTitle", "{{lower \"AbC\"}} {{upper .Tag}} {{title \"hello world\"}}",
             "abc LATEST Hello World"},
        Case{"Pipeline", "{{.Repository | upper}}", "BUSYBOX"},
        Case{"Len", "{{len .RepoTags}} {{len .Tag}}", "2 6"},
        Case{"Truncate", "{{truncate .Repository 4}}", "busy"},
        Case{"Pad", "[{{pad .Tag 1 2}}]", "[ latest  ]"},
        Case{"Println", "{{println .Tag .Size}}", "latest 4261550\n"},
        Case{"Printf", "{{printf \"%s=%d %q\" .Tag .Size .Repository}}",
             "latest=4261550 \"busybox\""},
        Case{"IfElse", "{{if .Flag}}yes{{else}}no{{end}} {{if .Empty}}yes{{else}}no{{end}}",
             "yes no"},
        Case{"ElseIf", "{{if .Empty}}a{{else if .Nothing}}b{{else if .Tag}}c{{end}}", "c"},
        Case{"EqNe", "{{if eq .Tag \"latest\"}}eq{{end}} {{if ne .Tag \"x\"}}ne{{end}}", "eq ne"},
        Case{"NotAndOr", "{{not .Flag}} {{and .Flag .Tag}} {{or .Empty .Tag}}",
             "false latest latest"},
        Case{"With", "{{with .Config}}{{.Env}}{{end}}{{with .Empty}}x{{else}}-{{end}}",
             "[PATH=/bin A=b]-"},
        Case{"DeclaredVariable", "{{$r := .Repository}}{{$r}}/{{$r}}", "busybox/busybox"},
        Case{"TrimMarkers", "a  {{- .Tag -}}  \n b", "alatestb"},
        Case{"Comment", "x{{/* ignored */}}y", "xy"},
        Case{"QuotedBracesInString", "{{\"}}\"}}", "}}"}, Case{"RawString", "{{`a\\tb`}}", "a\\tb"},
        Case{"ParenthesisedField", "{{(index .RepoTags 0)}}", "busybox:latest"}),
    [](const testing::TestParamInfo<Case>& param_info) {
      return std::string(param_info.param.name);
    });

struct ErrorCase {
  const char* name;
  const char* tmpl;
  const char* want;
};

class TemplateErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(TemplateErrorTest, ReportsGoStyleErrors) {
  const ErrorCase& c = GetParam();
  Result<Template> t = Template::Parse(c.tmpl);
  std::string message;
  if (!t.ok()) {
    message = t.error().message;
  } else {
    Result<std::string> out = t->Execute(Data());
    ASSERT_FALSE(out.ok()) << "rendered: " << *out;
    message = out.error().message;
  }
  EXPECT_EQ(message, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TemplateErrorTest,
    testing::Values(
        ErrorCase{"UnknownField", "{{.Foo}}",
                  "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo"},
        ErrorCase{"UnknownFieldPosition", "ab {{.ID}} {{.Foo}}",
                  "template: :1:13: executing \"\" at <.Foo>: can't evaluate field Foo"},
        ErrorCase{"UnknownNestedField", "{{.Config.Nope}}",
                  "template: :1:2: executing \"\" at <.Config.Nope>: can't evaluate field Nope"},
        ErrorCase{"SecondLine", "x\n {{.Foo}}",
                  "template: :2:3: executing \"\" at <.Foo>: can't evaluate field Foo"},
        ErrorCase{"FieldOfString", "{{.Tag.X}}",
                  "template: :1:2: executing \"\" at <.Tag.X>: can't evaluate field X in type "
                  "string"},
        ErrorCase{"UnclosedAction", "{{.ID", "template: :1: unclosed action"},
        ErrorCase{"UnknownFunction", "{{foo .ID}}", "template: :1: function \"foo\" not defined"},
        ErrorCase{"MissingEnd", "{{range .RepoTags}}x", "template: :1: unexpected EOF"},
        ErrorCase{"StrayEnd", "x{{end}}", "template: :1: unexpected {{end}}"},
        ErrorCase{"EmptyAction", "{{}}", "template: :1: missing value for command"},
        ErrorCase{"UndefinedVariable", "{{$x}}", "template: :1: undefined variable \"$x\""},
        ErrorCase{"WrongArgCount", "{{lower}}",
                  "template: :1:2: executing \"\" at <lower>: wrong number of args for lower: "
                  "want 1 got 0"},
        ErrorCase{"IndexOutOfRange", "{{index .RepoTags 5}}",
                  "template: :1:2: executing \"\" at <index>: error calling index: index out of "
                  "range: 5"},
        ErrorCase{"ArgumentToNonFunction", "{{.Tag .ID}}",
                  "template: :1:2: executing \"\" at <.Tag>: can't give argument to non-function "
                  ".Tag"},
        ErrorCase{"RangeOverScalar", "{{range .Tag}}{{end}}",
                  "template: :1:8: executing \"\" at <range>: range can't iterate over latest"}),
    [](const testing::TestParamInfo<ErrorCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(TemplateTest, MissingFieldIsNoValueWhenLenient) {
  Result<Template> t = Template::Parse("{{.Foo}} {{.Foo.Bar}} {{.Nothing.X}}");
  ASSERT_TRUE(t.ok());
  Result<std::string> out = t->Execute(Data(), MissingField::kNoValue);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "<no value> <no value> <no value>");
}

TEST(TemplateTest, ParsedTemplateIsReusable) {
  Result<Template> t = Template::Parse("{{.A}}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->Execute(json{{"A", 1}}), "1");
  EXPECT_EQ(*t->Execute(json{{"A", "two"}}), "two");
}

TEST(GoStringTest, FormatsValuesLikeGoFmt) {
  EXPECT_EQ(GoString(json::parse(R"({"b":[1,"x"],"a":{"c":null}})")),
            "map[a:map[c:<nil>] b:[1 x]]");
  EXPECT_EQ(GoString(json(false)), "false");
  // The data's key order is kept (the daemon's struct order); Go sorts only map views.
  EXPECT_EQ(GoJson(json::parse(R"({"b":1,"a":"x"})")), R"({"b":1,"a":"x"})");
}

TEST(TemplateTest, RangeOverMapIsSortedLikeGo) {
  Result<Template> t = Template::Parse("{{range $k, $v := .}}{{$k}}={{$v}} {{end}}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->Execute(json::parse(R"({"z":1,"a":2})")), "a=2 z=1 ");
}

}  // namespace
}  // namespace berth::cli::format
