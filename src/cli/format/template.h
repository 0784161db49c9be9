// Template: the subset of Go's text/template that `--format` flags use in docker, evaluated over
// nlohmann::ordered_json values whose keys are the field names docker's formatters expose.
//
// Supported: literal text; {{.Field}}, {{.A.B}}, {{.}}; variables {{$}}, {{$x := ...}},
// {{range $k, $v := .X}}; pipelines {{.Name | lower}}; {{if}}/{{else if}}/{{else}}/{{with}}/
// {{range}}...{{end}}; trim markers {{- -}}; comments {{/* */}}; string, number, bool literals;
// functions json, lower, upper, title, join, split, index, len, truncate, pad, println, printf
// (%s %v %d %q), eq, ne, not, and, or.
// Errors read like Go's: `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo`.
// A parsed Template is immutable and may be shared between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::cli::format {

// What a field that is not in the data does: an error (docker's typed contexts) or "<no value>"
// (Go maps: `inspect` output, table headers).
enum class MissingField { kError, kNoValue };

// Functions as docker's table headers see them: json, split, join, title, lower, upper and
// truncate return their first argument unchanged, so a header keeps the column's name.
enum class Functions { kNormal, kHeader };

class Template {
 public:
  static Result<Template> Parse(std::string_view text);

  Result<std::string> Execute(const nlohmann::ordered_json& data,
                              MissingField missing = MissingField::kError,
                              Functions functions = Functions::kNormal) const;

  struct Impl;

 private:
  explicit Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Go's fmt "%v" of a decoded JSON value: strings bare, arrays "[a b]", objects "map[k:v]",
// null "<nil>".
std::string GoString(const nlohmann::ordered_json& value);
// docker's template "json": Go's json encoder with HTML escaping off, compact. Keys keep the
// order of the data: the daemon's (struct order, maps already sorted), or rows built sorted.
std::string GoJson(const nlohmann::ordered_json& value);

}  // namespace berth::cli::format
