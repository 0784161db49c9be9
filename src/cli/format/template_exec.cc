#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/internal/template_ast.h"
#include "cli/format/template.h"

namespace berth::cli::format {

std::pair<size_t, size_t> LineCol(std::string_view text, size_t pos) {
  std::string_view before = text.substr(0, std::min(pos, text.size()));
  size_t line = 1;
  for (char c : before) line += (c == '\n');
  size_t nl = before.rfind('\n');
  return {line, nl == std::string_view::npos ? pos : pos - nl - 1};
}

namespace {

bool Truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::number_integer:
      return v.get<int64_t>() != 0;
    case json::value_t::number_unsigned:
      return v.get<uint64_t>() != 0;
    case json::value_t::number_float:
      return v.get<double>() != 0;
    case json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
      return !v.empty();
    default:
      return false;
  }
}

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "int";
    case json::value_t::number_float:
      return "float64";
    case json::value_t::array:
      return "[]interface {}";
    case json::value_t::object:
      return "map[string]interface {}";
    default:
      return "interface {}";
  }
}

// An object's members sorted by key: the order Go gives a map in range and fmt. Data keeps the
// daemon's order (ordered_json); only these Go map views sort.
std::vector<std::pair<std::string, const json*>> SortedItems(const json& object) {
  std::vector<std::pair<std::string, const json*>> items;
  for (auto it = object.begin(); it != object.end(); ++it) items.emplace_back(it.key(), &*it);
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return items;
}

std::string AsString(const json& v) { return v.is_string() ? v.get<std::string>() : GoString(v); }

Result<int64_t> AsInt(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    auto parsed = json::parse(v.get<std::string>(), nullptr, false);
    if (parsed.is_number_integer()) return parsed.get<int64_t>();
  }
  return MakeError(Code::kInvalidArgument, fmt::format("expected integer; found {}", GoString(v)));
}

// Go's fmt.Sprint: a space between operands when neither side is a string.
std::string Sprint(const std::vector<json>& args, bool always_space) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && (always_space || (!args[i - 1].is_string() && !args[i].is_string()))) {
      out += ' ';
    }
    out += GoString(args[i]);
  }
  return out;
}

Result<std::string> Sprintf(const std::string& format, const std::vector<json>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    char verb = format[++i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += fmt::format("%!{}(MISSING)", verb);
      continue;
    }
    const json& arg = args[next++];
    switch (verb) {
      case 's':
      case 'v':
      case 'd':
        out += GoString(arg);
        break;
      case 'q':
        out += GoJson(AsString(arg));
        break;
      default:
        return MakeError(Code::kInvalidArgument, fmt::format("printf: unsupported verb %{}", verb));
    }
  }
  return out;
}

class Executor {
 public:
  Executor(const std::string& text, MissingField missing, Functions functions, const json& root)
      : text_(text), missing_(missing), functions_(functions) {
    vars_.emplace_back("$", root);
  }

  Status Walk(const std::vector<Node>& nodes, const json& dot, std::string& out) {
    for (const Node& node : nodes) {
      size_t scope = vars_.size();
      switch (node.kind) {
        case Node::Kind::kText:
          out += node.text;
          break;
        case Node::Kind::kAction: {
          BERTH_ASSIGN_OR_RETURN(json value, EvalPipeline(node.pipe, dot));
          if (node.pipe.decls.empty()) {
            out += GoString(value);
          } else {
            Declare(node.pipe.decls, value);
            scope = vars_.size();  // a declaration lives to the end of the enclosing list
          }
          break;
        }
        case Node::Kind::kIf:
        case Node::Kind::kWith: {
          BERTH_ASSIGN_OR_RETURN(json value, EvalPipeline(node.pipe, dot));
          Declare(node.pipe.decls, value);
          if (Truthy(value)) {
            BERTH_RETURN_IF_ERROR(
                Walk(node.list, node.kind == Node::Kind::kWith ? value : dot, out));
          } else {
            BERTH_RETURN_IF_ERROR(Walk(node.else_list, dot, out));
          }
          break;
        }
        case Node::Kind::kRange:
          BERTH_RETURN_IF_ERROR(Range(node, dot, out));
          break;
      }
      vars_.resize(scope);
    }
    return Ok();
  }

 private:
  void Declare(const std::vector<std::string>& names, const json& value) {
    for (const std::string& name : names) vars_.emplace_back(name, value);
  }

  Status Range(const Node& node, const json& dot, std::string& out) {
    BERTH_ASSIGN_OR_RETURN(json value, EvalPipeline(node.pipe, dot));
    if (value.is_null() || value.is_discarded() || (value.is_structured() && value.empty())) {
      return Walk(node.else_list, dot, out);
    }
    if (!value.is_structured()) {
      return ExecError(node.pipe.pos, "range",
                       fmt::format("range can't iterate over {}", GoString(value)));
    }
    size_t scope = vars_.size();
    // Go ranges over a map in sorted key order, over a slice in index order.
    std::vector<std::pair<json, const json*>> items;
    if (value.is_object()) {
      for (const auto& [k, v] : SortedItems(value)) items.emplace_back(json(k), v);
    } else {
      for (size_t i = 0; i < value.size(); ++i) items.emplace_back(json(i), &value[i]);
    }
    for (const auto& [key, item] : items) {
      vars_.resize(scope);
      if (node.pipe.decls.size() == 1) {
        vars_.emplace_back(node.pipe.decls[0], *item);
      } else if (node.pipe.decls.size() >= 2) {
        vars_.emplace_back(node.pipe.decls[0], key);
        vars_.emplace_back(node.pipe.decls[1], *item);
      }
      BERTH_RETURN_IF_ERROR(Walk(node.list, *item, out));
    }
    vars_.resize(scope);
    return Ok();
  }

  Error ExecError(size_t pos, std::string_view context, std::string_view message) const {
    auto [line, col] = LineCol(text_, pos);
    return MakeError(
        Code::kInvalidArgument,
        fmt::format("template: :{}:{}: executing \"\" at <{}>: {}", line, col, context, message));
  }

  Result<json> EvalPipeline(const Pipeline& pipe, const json& dot) {
    json value;
    bool have = false;
    for (const Command& cmd : pipe.commands) {
      BERTH_ASSIGN_OR_RETURN(value, EvalCommand(cmd, dot, have ? &value : nullptr));
      have = true;
    }
    return value;
  }

  Result<json> EvalCommand(const Command& cmd, const json& dot, const json* piped) {
    const Operand& head = cmd.operands[0];
    if (head.kind == Operand::Kind::kFunction) {
      std::vector<json> args;
      for (size_t i = 1; i < cmd.operands.size(); ++i) {
        BERTH_ASSIGN_OR_RETURN(json arg, EvalOperand(cmd.operands[i], dot));
        args.push_back(std::move(arg));
      }
      if (piped != nullptr) args.push_back(*piped);
      Result<json> result =
          functions_ == Functions::kHeader && IsHeaderPassthrough(head.name) && !args.empty()
              ? Result<json>(args[0])
              : Call(head.name, args);
      if (!result) return ExecError(head.pos, head.text, result.error().message);
      return result;
    }
    if (cmd.operands.size() > 1 || piped != nullptr) {
      return ExecError(head.pos, head.text,
                       fmt::format("can't give argument to non-function {}", head.text));
    }
    return EvalOperand(head, dot);
  }

  Result<json> EvalOperand(const Operand& op, const json& dot) {
    switch (op.kind) {
      case Operand::Kind::kDot:
        return dot;
      case Operand::Kind::kLiteral:
        return op.literal;
      case Operand::Kind::kField:
        return WalkFields(dot, op);
      case Operand::Kind::kVariable:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == op.name) return WalkFields(it->second, op);
        }
        return ExecError(op.pos, op.text, fmt::format("undefined variable: {}", op.name));
      case Operand::Kind::kPipeline: {
        BERTH_ASSIGN_OR_RETURN(json value, EvalPipeline(*op.pipeline, dot));
        return WalkFields(std::move(value), op);
      }
      case Operand::Kind::kFunction:
        return Call(op.name, {});
    }
    return json();
  }

  Result<json> WalkFields(json value, const Operand& op) {
    for (const std::string& field : op.fields) {
      if (value.is_discarded()) return value;
      if (!value.is_object()) {
        if (value.is_null() && missing_ == MissingField::kNoValue) {
          return json(json::value_t::discarded);
        }
        return ExecError(op.pos, op.text,
                         fmt::format("can't evaluate field {} in type {}", field, TypeName(value)));
      }
      auto it = value.find(field);
      if (it == value.end()) {
        // Go's struct fields and docker's JSON keys differ in case (APIVersion vs ApiVersion).
        std::string lower = ToLower(field);
        for (auto candidate = value.begin(); candidate != value.end(); ++candidate) {
          if (ToLower(candidate.key()) == lower) {
            it = candidate;
            break;
          }
        }
      }
      if (it == value.end()) {
        if (missing_ == MissingField::kNoValue) return json(json::value_t::discarded);
        return ExecError(op.pos, op.text, fmt::format("can't evaluate field {}", field));
      }
      json next = *it;
      value = std::move(next);
    }
    return value;
  }

  static bool IsHeaderPassthrough(const std::string& name) {
    return name == "json" || name == "split" || name == "join" || name == "title" ||
           name == "lower" || name == "upper" || name == "truncate";
  }

  static Status WantArgs(std::string_view name, const std::vector<json>& args, size_t want) {
    if (args.size() == want) return Ok();
    return MakeError(
        Code::kInvalidArgument,
        fmt::format("wrong number of args for {}: want {} got {}", name, want, args.size()));
  }

  static Result<json> Call(const std::string& name, const std::vector<json>& args) {
    if (name == "json") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 1));
      return json(GoJson(args[0]));
    }
    if (name == "lower" || name == "upper" || name == "title") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 1));
      std::string s = AsString(args[0]);
      bool start = true;
      for (char& c : s) {
        auto u = static_cast<unsigned char>(c);
        if (name == "lower") c = static_cast<char>(std::tolower(u));
        if (name == "upper") c = static_cast<char>(std::toupper(u));
        if (name == "title") {
          if (start) c = static_cast<char>(std::toupper(u));
          start = !std::isalnum(u);
        }
      }
      return json(s);
    }
    if (name == "join") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 2));
      std::vector<std::string> parts;
      if (args[0].is_array()) {
        for (const json& e : args[0]) parts.push_back(AsString(e));
      } else if (!args[0].is_null()) {
        return MakeError(Code::kInvalidArgument,
                         fmt::format("error calling join: wrong type for value; expected "
                                     "[]string; got {}",
                                     TypeName(args[0])));
      }
      return json(Join(parts, AsString(args[1])));
    }
    if (name == "split") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 2));
      return json(Split(AsString(args[0]), AsString(args[1]).empty() ? ' ' : AsString(args[1])[0]));
    }
    if (name == "index") {
      if (args.empty()) return WantArgs(name, args, 1).error();
      json value = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        if (value.is_object()) {
          auto it = value.find(AsString(args[i]));
          value = it == value.end() ? json("") : *it;
        } else if (value.is_array()) {
          Result<int64_t> index = AsInt(args[i]);
          if (!index) return std::move(index).error();
          if (*index < 0 || static_cast<size_t>(*index) >= value.size()) {
            return MakeError(Code::kInvalidArgument,
                             fmt::format("error calling index: index out of range: {}", *index));
          }
          json next = value[static_cast<size_t>(*index)];
          value = std::move(next);
        } else if (value.is_null()) {
          return json("");
        } else {
          return MakeError(
              Code::kInvalidArgument,
              fmt::format("error calling index: can't index item of type {}", TypeName(value)));
        }
      }
      return value;
    }
    if (name == "len") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 1));
      if (args[0].is_string()) return json(args[0].get_ref<const std::string&>().size());
      if (args[0].is_structured() || args[0].is_null()) return json(args[0].size());
      return MakeError(Code::kInvalidArgument,
                       fmt::format("error calling len: len of type {}", TypeName(args[0])));
    }
    if (name == "truncate") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 2));
      std::string s = AsString(args[0]);
      Result<int64_t> n = AsInt(args[1]);
      if (!n) return std::move(n).error();
      if (*n >= 0 && static_cast<size_t>(*n) < s.size()) s.resize(static_cast<size_t>(*n));
      return json(s);
    }
    if (name == "pad") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 3));
      Result<int64_t> left = AsInt(args[1]);
      if (!left) return std::move(left).error();
      Result<int64_t> right = AsInt(args[2]);
      if (!right) return std::move(right).error();
      if (AsString(args[0]).empty()) return json("");
      return json(std::string(static_cast<size_t>(std::max<int64_t>(*left, 0)), ' ') +
                  AsString(args[0]) +
                  std::string(static_cast<size_t>(std::max<int64_t>(*right, 0)), ' '));
    }
    if (name == "println") return json(Sprint(args, /*always_space=*/true) + "\n");
    if (name == "print") return json(Sprint(args, /*always_space=*/false));
    if (name == "printf") {
      if (args.empty()) return WantArgs(name, args, 1).error();
      Result<std::string> s =
          Sprintf(AsString(args[0]), std::vector<json>(args.begin() + 1, args.end()));
      if (!s) return std::move(s).error();
      return json(*s);
    }
    if (name == "eq") {
      if (args.size() < 2) return WantArgs(name, args, 2).error();
      for (size_t i = 1; i < args.size(); ++i) {
        if (args[0] == args[i]) return json(true);
      }
      return json(false);
    }
    if (name == "ne") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 2));
      return json(args[0] != args[1]);
    }
    if (name == "not") {
      BERTH_RETURN_IF_ERROR(WantArgs(name, args, 1));
      return json(!Truthy(args[0]));
    }
    if (name == "and" || name == "or") {
      if (args.empty()) return WantArgs(name, args, 1).error();
      for (const json& a : args) {
        if (Truthy(a) == (name == "or")) return a;
      }
      return args.back();
    }
    return MakeError(Code::kInvalidArgument, fmt::format("function \"{}\" not defined", name));
  }

  const std::string& text_;
  MissingField missing_;
  Functions functions_;
  std::vector<std::pair<std::string, json>> vars_;
};

}  // namespace

Result<std::string> Template::Execute(const json& data, MissingField missing,
                                      Functions functions) const {
  Executor executor(impl_->text, missing, functions, data);
  std::string out;
  BERTH_RETURN_IF_ERROR(executor.Walk(impl_->root, data, out));
  return out;
}

std::string GoString(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::null:
      return "<nil>";
    case json::value_t::discarded:
      return "<no value>";
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case json::value_t::number_float:
      return fmt::format("{}", value.get<double>());
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) {
        if (i) out += ' ';
        out += GoString(value[i]);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [key, item] : SortedItems(value)) {  // fmt prints maps sorted
        if (!first) out += ' ';
        first = false;
        out += key + ":" + GoString(*item);
      }
      return out + "]";
    }
    default:
      return "";
  }
}

std::string GoJson(const json& value) {
  if (value.is_discarded()) return "null";
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace berth::cli::format
