#include "image/changes.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace berth::image {
namespace {

// The JSON (exec) form if `args` is a JSON array of strings, else nullopt.
std::optional<std::vector<std::string>> ParseJsonArray(std::string_view args) {
  if (args.empty() || args.front() != '[') return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(args, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Splits on whitespace, honouring double and single quotes (Dockerfile word splitting for
// ENV/LABEL key=value pairs).
Result<std::vector<std::string>> SplitWords(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote)
    return MakeError(Code::kInvalidArgument, "unmatched quote in \"" + std::string(s) + "\"");
  if (in_word) words.push_back(std::move(cur));
  return words;
}

// "k=v k2=v2" or legacy "k v" (a single pair whose value is the rest of the line).
Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValues(std::string_view verb,
                                                                        std::string_view args) {
  std::vector<std::pair<std::string, std::string>> out;
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> words, SplitWords(args));
  if (words.empty()) {
    return MakeError(Code::kInvalidArgument, std::string(verb) + " requires at least one argument");
  }
  if (words[0].find('=') == std::string::npos) {
    // Legacy form: KEY VALUE...
    size_t sp = args.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      return MakeError(Code::kInvalidArgument, std::string(verb) + " must have two arguments");
    }
    out.emplace_back(std::string(args.substr(0, sp)), std::string(TrimSpace(args.substr(sp))));
    return out;
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return MakeError(Code::kInvalidArgument, "Syntax error - can't find = in \"" + w +
                                                   "\". Must be of the form: name=value");
    }
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

std::vector<std::string> ShellForm(std::string_view args) {
  return {"/bin/sh", "-c", std::string(args)};
}

void SetEnv(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  std::string prefix = key + "=";
  for (std::string& e : env) {
    if (e.rfind(prefix, 0) == 0) {
      e = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

Status ApplyOne(std::string_view line, oci::ContainerConfig& config) {
  line = TrimSpace(line);
  size_t sp = line.find_first_of(" \t");
  std::string verb = ToLower(line.substr(0, sp));
  std::string_view args =
      sp == std::string_view::npos ? std::string_view() : TrimSpace(line.substr(sp));
  std::string upper = verb;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  auto need_args = [&]() -> Status {
    if (args.empty())
      return MakeError(Code::kInvalidArgument, upper + " requires at least one argument");
    return Ok();
  };

  if (verb == "cmd" || verb == "entrypoint") {
    std::vector<std::string> argv;
    if (auto json = ParseJsonArray(args)) {
      argv = std::move(*json);
    } else if (!args.empty()) {
      argv = ShellForm(args);
    }
    if (verb == "cmd") {
      config.cmd = std::move(argv);
    } else {
      config.entrypoint = std::move(argv);
      // As in a Dockerfile: ENTRYPOINT resets an inherited CMD.
      config.cmd.reset();
    }
    return Ok();
  }
  if (verb == "env") {
    BERTH_RETURN_IF_ERROR(need_args());
    BERTH_ASSIGN_OR_RETURN(auto pairs, ParseKeyValues(upper, args));
    for (auto& [k, v] : pairs) SetEnv(config.env, k, v);
    return Ok();
  }
  if (verb == "label") {
    BERTH_RETURN_IF_ERROR(need_args());
    BERTH_ASSIGN_OR_RETURN(auto pairs, ParseKeyValues(upper, args));
    for (auto& [k, v] : pairs) config.labels[k] = v;
    return Ok();
  }
  if (verb == "workdir") {
    BERTH_RETURN_IF_ERROR(need_args());
    std::string dir(args);
    if (dir.front() != '/') {
      std::string base = config.working_dir.empty() ? "/" : config.working_dir;
      if (base.back() != '/') base += '/';
      dir = base + dir;
    }
    config.working_dir = dir;
    return Ok();
  }
  if (verb == "user") {
    BERTH_RETURN_IF_ERROR(need_args());
    config.user = std::string(args);
    return Ok();
  }
  if (verb == "volume") {
    BERTH_RETURN_IF_ERROR(need_args());
    std::vector<std::string> vols;
    if (auto json = ParseJsonArray(args)) {
      vols = std::move(*json);
    } else {
      BERTH_ASSIGN_OR_RETURN(vols, SplitWords(args));
    }
    for (const std::string& v : vols) {
      if (TrimSpace(v).empty()) {
        return MakeError(Code::kInvalidArgument, "VOLUME specified can not be an empty string");
      }
      config.volumes.insert(std::string(TrimSpace(v)));
    }
    return Ok();
  }
  if (verb == "expose") {
    BERTH_RETURN_IF_ERROR(need_args());
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> ports, SplitWords(args));
    for (std::string p : ports) {
      std::string proto = "tcp";
      size_t slash = p.find('/');
      if (slash != std::string::npos) {
        proto = ToLower(p.substr(slash + 1));
        p = p.substr(0, slash);
      }
      if (proto != "tcp" && proto != "udp" && proto != "sctp") {
        return MakeError(Code::kInvalidArgument, "invalid proto: " + proto);
      }
      size_t dash = p.find('-');
      auto valid_port = [](std::string_view s) {
        if (s.empty() || s.size() > 5) return false;
        int v = 0;
        for (char c : s) {
          if (c < '0' || c > '9') return false;
          v = v * 10 + (c - '0');
        }
        return v >= 1 && v <= 65535;
      };
      if (dash == std::string::npos) {
        if (!valid_port(p)) return MakeError(Code::kInvalidArgument, "invalid containerPort: " + p);
        config.exposed_ports.insert(p + "/" + proto);
      } else {
        std::string lo = p.substr(0, dash), hi = p.substr(dash + 1);
        if (!valid_port(lo) || !valid_port(hi) || std::stoi(lo) > std::stoi(hi)) {
          return MakeError(Code::kInvalidArgument, "invalid containerPort: " + p);
        }
        for (int i = std::stoi(lo); i <= std::stoi(hi); ++i) {
          config.exposed_ports.insert(std::to_string(i) + "/" + proto);
        }
      }
    }
    return Ok();
  }
  if (verb == "stopsignal") {
    BERTH_RETURN_IF_ERROR(need_args());
    config.stop_signal = std::string(args);
    return Ok();
  }
  if (verb == "onbuild") {
    BERTH_RETURN_IF_ERROR(need_args());
    config.on_build.emplace_back(args);
    return Ok();
  }
  return MakeError(Code::kInvalidArgument, upper + " is not a valid change command");
}

}  // namespace

Status ApplyChanges(const std::vector<std::string>& changes, oci::ContainerConfig& config) {
  for (const std::string& c : changes) {
    if (TrimSpace(c).empty()) continue;
    BERTH_RETURN_IF_ERROR(ApplyOne(c, config));
  }
  return Ok();
}

}  // namespace berth::image
