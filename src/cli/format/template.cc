#include "cli/format/template.h"

#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/internal/template_ast.h"

namespace berth::cli::format {

using json = nlohmann::ordered_json;

namespace {

// ---------------------------------------------------------------------------------------------
// Lexing of one action's contents

struct Token {
  enum class Kind {
    kField,
    kDot,
    kVariable,
    kIdent,
    kString,
    kNumber,
    kPipe,
    kLeft,
    kRight,
    kDeclare,
    kComma
  };
  Kind kind;
  std::string text;
  size_t pos;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::vector<Node>> ParseAll() {
    std::string stop;
    BERTH_ASSIGN_OR_RETURN(std::vector<Node> nodes, ParseList(&stop));
    if (!stop.empty()) return ParseError(fmt::format("unexpected {{{{{}}}}}", stop));
    return nodes;
  }

 private:
  Error ParseError(std::string_view message) const {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("template: :{}: {}", LineCol(text_, action_pos_).first, message));
  }

  // Parses nodes until EOF or a {{end}} / {{else}} / {{else if}}; `stop` says which ("" at EOF).
  Result<std::vector<Node>> ParseList(std::string* stop) {
    std::vector<Node> nodes;
    while (pos_ < text_.size()) {
      size_t open = text_.find("{{", pos_);
      std::string literal(text_.substr(pos_, open == std::string_view::npos ? open : open - pos_));
      if (open == std::string_view::npos) {
        pos_ = text_.size();
        if (trim_next_) literal = std::string(LeftTrim(literal));
        if (!literal.empty()) nodes.push_back(Node{Node::Kind::kText, literal, {}, {}, {}});
        break;
      }
      action_pos_ = open;
      bool trim_left = open + 3 < text_.size() && text_[open + 2] == '-' &&
                       std::isspace(static_cast<unsigned char>(text_[open + 3]));
      if (trim_next_) literal = std::string(LeftTrim(literal));
      if (trim_left) literal = std::string(RightTrim(literal));
      if (!literal.empty()) nodes.push_back(Node{Node::Kind::kText, literal, {}, {}, {}});
      size_t body_start = open + (trim_left ? 4 : 2);
      BERTH_ASSIGN_OR_RETURN(size_t close, FindClose(body_start));
      bool trim_right = close >= body_start + 2 && text_[close - 1] == '-' &&
                        std::isspace(static_cast<unsigned char>(text_[close - 2]));
      size_t body_end = trim_right ? close - 2 : close;
      pos_ = close + 2;
      trim_next_ = trim_right;
      std::string_view body = TrimSpace(text_.substr(body_start, body_end - body_start));
      if (body.starts_with("/*")) {
        if (!body.ends_with("*/")) return ParseError("unclosed comment");
        continue;
      }
      BERTH_ASSIGN_OR_RETURN(tokens_, Lex(body_start, body_end));
      tok_ = 0;
      if (tokens_.empty()) return ParseError("missing value for command");
      const Token& first = tokens_[0];
      if (first.kind == Token::Kind::kIdent) {
        if (first.text == "end") {
          if (tokens_.size() != 1) return ParseError("unexpected token in end");
          *stop = "end";
          return nodes;
        }
        if (first.text == "else") {
          if (tokens_.size() > 1 && tokens_[1].kind == Token::Kind::kIdent &&
              tokens_[1].text == "if") {
            tok_ = 2;
            *stop = "else if";
            return nodes;
          }
          if (tokens_.size() != 1) return ParseError("unexpected token in else");
          *stop = "else";
          return nodes;
        }
        if (first.text == "if" || first.text == "range" || first.text == "with") {
          tok_ = 1;
          Node::Kind kind = first.text == "if"      ? Node::Kind::kIf
                            : first.text == "range" ? Node::Kind::kRange
                                                    : Node::Kind::kWith;
          BERTH_ASSIGN_OR_RETURN(Node node, ParseControl(kind, first.text));
          nodes.push_back(std::move(node));
          continue;
        }
        if (first.text == "define" || first.text == "template" || first.text == "block" ||
            first.text == "break" || first.text == "continue") {
          return ParseError(fmt::format("{{{{{}}}}} is not supported", first.text));
        }
      }
      Node node{Node::Kind::kAction, "", {}, {}, {}};
      BERTH_ASSIGN_OR_RETURN(node.pipe, ParsePipeline(/*allow_decl=*/true));
      if (tok_ != tokens_.size()) return ParseError(UnexpectedToken(tokens_[tok_]));
      nodes.push_back(std::move(node));
    }
    stop->clear();
    return nodes;
  }

  // After "{{if" / "{{range" / "{{with" (and after "{{else if").
  Result<Node> ParseControl(Node::Kind kind, const std::string& keyword) {
    Node node{kind, "", {}, {}, {}};
    BERTH_ASSIGN_OR_RETURN(node.pipe, ParsePipeline(/*allow_decl=*/true));
    if (tok_ != tokens_.size()) return ParseError(UnexpectedToken(tokens_[tok_]));
    if (node.pipe.commands.empty()) return ParseError(fmt::format("missing value for {}", keyword));
    std::string stop;
    BERTH_ASSIGN_OR_RETURN(node.list, ParseList(&stop));
    if (stop.empty()) return ParseError("unexpected EOF");
    if (stop == "else if") {
      if (kind != Node::Kind::kIf) return ParseError("unexpected {{else if}}");
      BERTH_ASSIGN_OR_RETURN(Node nested, ParseControl(Node::Kind::kIf, "if"));
      node.else_list.push_back(std::move(nested));
      return node;  // the nested if consumed the {{end}}
    }
    if (stop == "else") {
      BERTH_ASSIGN_OR_RETURN(node.else_list, ParseList(&stop));
      if (stop != "end") return ParseError(stop.empty() ? "unexpected EOF" : "expected end");
    }
    return node;
  }

  Result<Pipeline> ParsePipeline(bool allow_decl) {
    Pipeline pipe;
    pipe.pos = tok_ < tokens_.size() ? tokens_[tok_].pos : action_pos_;
    if (allow_decl) {
      // "$x :=" or "$k, $v :="
      size_t look = tok_;
      std::vector<std::string> decls;
      while (look < tokens_.size() && tokens_[look].kind == Token::Kind::kVariable &&
             tokens_[look].text.find('.') == std::string::npos) {
        decls.push_back(tokens_[look].text);
        ++look;
        if (look < tokens_.size() && tokens_[look].kind == Token::Kind::kComma) {
          ++look;
          continue;
        }
        break;
      }
      if (!decls.empty() && look < tokens_.size() && tokens_[look].kind == Token::Kind::kDeclare) {
        pipe.decls = std::move(decls);
        tok_ = look + 1;
        for (const std::string& d : pipe.decls) declared_.push_back(d);
      }
    }
    while (tok_ < tokens_.size()) {
      Command cmd;
      cmd.pos = tokens_[tok_].pos;
      while (tok_ < tokens_.size() && tokens_[tok_].kind != Token::Kind::kPipe &&
             tokens_[tok_].kind != Token::Kind::kRight) {
        BERTH_ASSIGN_OR_RETURN(Operand op, ParseOperand());
        cmd.operands.push_back(std::move(op));
      }
      if (cmd.operands.empty()) return ParseError("missing value for command");
      pipe.commands.push_back(std::move(cmd));
      if (tok_ < tokens_.size() && tokens_[tok_].kind == Token::Kind::kPipe) {
        ++tok_;
        if (tok_ >= tokens_.size()) return ParseError("missing command after |");
        continue;
      }
      break;
    }
    return pipe;
  }

  Result<Operand> ParseOperand() {
    const Token& t = tokens_[tok_++];
    Operand op;
    op.pos = t.pos;
    op.text = t.text;
    switch (t.kind) {
      case Token::Kind::kDot:
        op.kind = Operand::Kind::kDot;
        return op;
      case Token::Kind::kField:
        op.kind = Operand::Kind::kField;
        op.fields = Split(std::string_view(t.text).substr(1), '.');
        return op;
      case Token::Kind::kVariable: {
        op.kind = Operand::Kind::kVariable;
        std::vector<std::string> parts = Split(t.text, '.');
        op.name = parts[0];
        op.fields.assign(parts.begin() + 1, parts.end());
        if (op.name != "$" &&
            std::find(declared_.begin(), declared_.end(), op.name) == declared_.end()) {
          return ParseError(fmt::format("undefined variable \"{}\"", op.name));
        }
        return op;
      }
      case Token::Kind::kString: {
        op.kind = Operand::Kind::kLiteral;
        BERTH_ASSIGN_OR_RETURN(std::string s, Unquote(t.text));
        op.literal = s;
        return op;
      }
      case Token::Kind::kNumber: {
        op.kind = Operand::Kind::kLiteral;
        auto parsed = json::parse(t.text, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_number()) {
          return ParseError(fmt::format("bad number syntax: \"{}\"", t.text));
        }
        op.literal = parsed;
        return op;
      }
      case Token::Kind::kIdent:
        if (t.text == "true" || t.text == "false") {
          op.kind = Operand::Kind::kLiteral;
          op.literal = t.text == "true";
          return op;
        }
        if (t.text == "nil") {
          op.kind = Operand::Kind::kLiteral;
          op.literal = nullptr;
          return op;
        }
        if (!IsFunction(t.text)) {
          return ParseError(fmt::format("function \"{}\" not defined", t.text));
        }
        op.kind = Operand::Kind::kFunction;
        op.name = t.text;
        return op;
      case Token::Kind::kLeft: {
        op.kind = Operand::Kind::kPipeline;
        BERTH_ASSIGN_OR_RETURN(Pipeline inner, ParsePipeline(/*allow_decl=*/false));
        if (tok_ >= tokens_.size() || tokens_[tok_].kind != Token::Kind::kRight) {
          return ParseError("unclosed left paren");
        }
        ++tok_;
        op.pipeline = std::make_shared<Pipeline>(std::move(inner));
        // (pipeline).Field
        if (tok_ < tokens_.size() && tokens_[tok_].kind == Token::Kind::kField &&
            tokens_[tok_].pos == tokens_[tok_ - 1].pos + 1) {
          op.fields = Split(std::string_view(tokens_[tok_].text).substr(1), '.');
          ++tok_;
        }
        op.text = std::string(text_.substr(t.pos, tokens_[tok_ - 1].pos + 1 - t.pos));
        return op;
      }
      default:
        return ParseError(UnexpectedToken(t));
    }
  }

  static bool IsFunction(std::string_view name) {
    static constexpr std::string_view kFunctions[] = {
        "json", "lower",   "upper",  "title", "join", "split", "index", "len", "truncate",
        "pad",  "println", "printf", "print", "eq",   "ne",    "not",   "and", "or"};
    return std::find(std::begin(kFunctions), std::end(kFunctions), name) != std::end(kFunctions);
  }

  static std::string UnexpectedToken(const Token& t) {
    return fmt::format("unexpected \"{}\" in operand", t.text);
  }

  Result<std::string> Unquote(std::string_view quoted) const {
    if (quoted.front() == '`') return std::string(quoted.substr(1, quoted.size() - 2));
    std::string out;
    for (size_t i = 1; i + 1 < quoted.size(); ++i) {
      char c = quoted[i];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = quoted[++i];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
          out += '\\';
          break;
        case '"':
          out += '"';
          break;
        default:
          return ParseError(fmt::format("invalid syntax: {}", quoted));
      }
    }
    return out;
  }

  // Finds the "}}" closing the action whose body starts at `from`, skipping quoted strings.
  Result<size_t> FindClose(size_t from) const {
    char quote = 0;
    for (size_t i = from; i < text_.size(); ++i) {
      char c = text_[i];
      if (quote != 0) {
        if (c == '\\' && quote == '"') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
        continue;
      }
      if (c == '"' || c == '`') {
        quote = c;
      } else if (c == '}' && i + 1 < text_.size() && text_[i + 1] == '}') {
        return i;
      }
    }
    return ParseError(quote != 0 ? "unterminated quoted string" : "unclosed action");
  }

  Result<std::vector<Token>> Lex(size_t begin, size_t end) const {
    std::vector<Token> out;
    auto is_ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    size_t i = begin;
    while (i < end) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      size_t start = i;
      if (c == '.' || c == '$') {
        ++i;
        while (i < end && is_ident(text_[i])) ++i;  // "$x" or ".Field" ("." and "$" alone)
        while (i < end && text_[i] == '.' && i + 1 < end && is_ident(text_[i + 1])) {
          ++i;
          while (i < end && is_ident(text_[i])) ++i;
        }
        std::string word(text_.substr(start, i - start));
        Token::Kind kind = c == '$'      ? Token::Kind::kVariable
                           : word == "." ? Token::Kind::kDot
                                         : Token::Kind::kField;
        out.push_back({kind, word, start});
      } else if (c == '"' || c == '`') {
        ++i;
        while (i < end && text_[i] != c) {
          if (c == '"' && text_[i] == '\\') ++i;
          ++i;
        }
        if (i >= end) return ParseError("unterminated quoted string");
        ++i;
        out.push_back({Token::Kind::kString, std::string(text_.substr(start, i - start)), start});
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && i + 1 < end &&
                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        ++i;
        while (i < end && (std::isalnum(static_cast<unsigned char>(text_[i])) || text_[i] == '.')) {
          ++i;
        }
        out.push_back({Token::Kind::kNumber, std::string(text_.substr(start, i - start)), start});
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i < end && is_ident(text_[i])) ++i;
        out.push_back({Token::Kind::kIdent, std::string(text_.substr(start, i - start)), start});
      } else if (c == '|') {
        out.push_back({Token::Kind::kPipe, "|", i++});
      } else if (c == '(') {
        out.push_back({Token::Kind::kLeft, "(", i++});
      } else if (c == ')') {
        out.push_back({Token::Kind::kRight, ")", i++});
      } else if (c == ',') {
        out.push_back({Token::Kind::kComma, ",", i++});
      } else if (c == ':' && i + 1 < end && text_[i + 1] == '=') {
        out.push_back({Token::Kind::kDeclare, ":=", i});
        i += 2;
      } else {
        return ParseError(fmt::format("unexpected \"{}\" in command", c));
      }
    }
    return out;
  }

  static std::string_view LeftTrim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return s;
  }
  static std::string_view RightTrim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t action_pos_ = 0;
  bool trim_next_ = false;
  std::vector<Token> tokens_;
  size_t tok_ = 0;
  std::vector<std::string> declared_;
};

}  // namespace

Result<Template> Template::Parse(std::string_view text) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  Parser parser(impl->text);
  BERTH_ASSIGN_OR_RETURN(impl->root, parser.ParseAll());
  return Template(std::move(impl));
}

}  // namespace berth::cli::format
