#include "cli/internal/command.h"

#include <time.h>

#include <cmath>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "cli/format/tabwriter.h"

namespace berth::cli {

Context::Context(Environment& env, GlobalOptions globals)
    : env_(env), globals_(std::move(globals)) {}

Result<ApiClient*> Context::Client() {
  if (client_) return client_.get();
  BERTH_ASSIGN_OR_RETURN(HostSpec host, ParseHost(globals_.host));
  BERTH_ASSIGN_OR_RETURN(transport_, env_.dial(host));
  std::string version = env_.getenv("BERTH_API_VERSION").value_or("");
  client_ = std::make_unique<ApiClient>(*transport_, host.url, version);
  return client_.get();
}

std::string Context::ConfigString(const std::string& key) {
  if (!config_) {
    config_ = nlohmann::ordered_json::object();
    Result<std::string> text = ReadFile(globals_.config_dir + "/config.json");
    if (text.ok()) {
      auto parsed = nlohmann::ordered_json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_object()) config_ = std::move(parsed);
    }
  }
  auto it = config_->find(key);
  return it != config_->end() && it->is_string() ? it->get<std::string>() : "";
}

Result<bool> Context::Confirm(std::string_view message) {
  BERTH_RETURN_IF_ERROR(Out(fmt::format("{} [y/N] ", message)));
  std::string line;
  char c = 0;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(size_t n, env_.in->Read(&c, 1));
    if (n == 0 || c == '\n') break;
    line += c;
  }
  std::string_view answer = TrimSpace(line);
  return answer == "y" || answer == "Y";
}

namespace {

Error UsageError(const CommandInfo& cmd, std::string_view requirement) {
  return MakeError(Code::kInvalidArgument,
                   fmt::format("\"{}\" {}.\nSee '{} --help'.\n\nUsage:  {}\n\n{}", cmd.path,
                               requirement, cmd.path, cmd.use, cmd.description));
}

std::string Plural(size_t n) { return n == 1 ? "argument" : "arguments"; }

}  // namespace

Status ExactArgs(const CommandInfo& cmd, const std::vector<std::string>& args, size_t n) {
  if (args.size() == n) return Ok();
  return UsageError(cmd, fmt::format("requires exactly {} {}", n, Plural(n)));
}

Status MinArgs(const CommandInfo& cmd, const std::vector<std::string>& args, size_t n) {
  if (args.size() >= n) return Ok();
  return UsageError(cmd, fmt::format("requires at least {} {}", n, Plural(n)));
}

Status RangeArgs(const CommandInfo& cmd, const std::vector<std::string>& args, size_t min,
                 size_t max) {
  if (args.size() >= min && args.size() <= max) return Ok();
  return UsageError(cmd,
                    fmt::format("requires at least {} and at most {} {}", min, max, Plural(max)));
}

Status NoArgs(const CommandInfo& cmd, const std::vector<std::string>& args) {
  if (args.empty()) return Ok();
  return UsageError(cmd, "accepts no arguments");
}

Result<nlohmann::json> ParseFilters(const std::vector<std::string>& flags) {
  nlohmann::json filters = nlohmann::json::object();
  for (const std::string& flag : flags) {
    size_t eq = flag.find('=');
    if (eq == std::string::npos) {
      return MakeError(Code::kInvalidArgument, "bad format of filter (expected name=value)");
    }
    std::string name = ToLower(TrimSpace(std::string_view(flag).substr(0, eq)));
    std::string value(TrimSpace(std::string_view(flag).substr(eq + 1)));
    filters[name][value] = true;
  }
  return filters;
}

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description,
                     Action* selected, std::function<Status(Context&)> run) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->callback([selected, run = std::move(run)] { *selected = run; });
  return sub;
}

std::string TruncateId(std::string_view id) {
  size_t colon = id.find(':');
  if (colon != std::string_view::npos) id.remove_prefix(colon + 1);
  return std::string(id.substr(0, 12));
}

std::string Ellipsis(std::string_view s, size_t width) {
  if (width == 0) return "";
  if (format::TextWidth(s) <= width) return std::string(s);
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (chars == width - 1) break;
      ++chars;
    }
    out += s[i];
  }
  return out + "\xe2\x80\xa6";  // "…"
}

std::string BytesSize(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  size_t i = 0;
  while (bytes >= 1024.0 && i + 1 < std::size(kUnits)) {
    bytes /= 1024.0;
    ++i;
  }
  return fmt::format("{:.4g}{}", bytes, kUnits[i]);
}

namespace {

std::string FormatLocal(int64_t unix_seconds, const char* pattern) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[96];
  size_t n = strftime(buf, sizeof(buf), pattern, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string GoTimeString(int64_t unix_seconds) {
  return FormatLocal(unix_seconds, "%Y-%m-%d %H:%M:%S %z %Z");
}

std::string Rfc3339(int64_t unix_seconds) {
  std::string s = FormatLocal(unix_seconds, "%Y-%m-%dT%H:%M:%S%z");
  // %z gives +0000; RFC 3339 wants Z or +00:00.
  std::string zone = s.substr(s.size() - 5);
  s.resize(s.size() - 5);
  if (zone == "+0000") return s + "Z";
  return s + zone.substr(0, 3) + ":" + zone.substr(3);
}

int ExitCode(const Status& status) {
  if (status.ok()) return 0;
  switch (status.error().code) {
    case Code::kOk:
    case Code::kCancelled:
      return 0;
    default:
      return 1;
  }
}

}  // namespace berth::cli
