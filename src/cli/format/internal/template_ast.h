// The syntax tree of a parsed Template, shared by its parser (template.cc) and its executor
// (template_exec.cc). Private to cli/format.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/format/template.h"

namespace berth::cli::format {

using json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Syntax tree

struct Pipeline;

struct Operand {
  enum class Kind { kField, kDot, kVariable, kLiteral, kFunction, kPipeline };
  Kind kind = Kind::kDot;
  std::string name;                 // "$x" for variables, the name of a function
  std::vector<std::string> fields;  // .A.B -> {"A", "B"}; also after a variable: $x.A
  json literal;
  std::shared_ptr<Pipeline> pipeline;
  size_t pos = 0;
  std::string text;  // source text, for "at <...>" in errors
};

struct Command {
  std::vector<Operand> operands;
  size_t pos = 0;
};

struct Pipeline {
  std::vector<std::string> decls;  // variables declared with ":="
  std::vector<Command> commands;
  size_t pos = 0;
};

struct Node {
  enum class Kind { kText, kAction, kIf, kRange, kWith };
  Kind kind = Kind::kText;
  std::string text;
  Pipeline pipe;
  std::vector<Node> list;
  std::vector<Node> else_list;
};

struct Template::Impl {
  std::string text;
  std::vector<Node> root;
};

// Go's line of an offset, and its column as Go's ErrorContext reports it.
std::pair<size_t, size_t> LineCol(std::string_view text, size_t pos);

}  // namespace berth::cli::format
