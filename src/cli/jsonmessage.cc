#include "cli/jsonmessage.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"

namespace berth::cli {
namespace {

std::string StringField(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t IntField(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

}  // namespace

Result<JsonMessage> ParseJsonMessage(std::string_view line) {
  auto j = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return MakeError(Code::kDataLoss,
                     fmt::format("invalid JSON message in the daemon's stream: {}", line));
  }
  JsonMessage m;
  m.id = StringField(j, "id");
  m.status = StringField(j, "status");
  m.stream = StringField(j, "stream");
  m.from = StringField(j, "from");
  m.progress_message = StringField(j, "progress");
  if (auto it = j.find("progressDetail"); it != j.end() && it->is_object()) {
    m.has_progress = true;
    m.current = IntField(*it, "current");
    m.total = IntField(*it, "total");
    m.units = StringField(*it, "units");
    if (auto h = it->find("hidecounts"); h != it->end() && h->is_boolean()) m.hide_counts = *h;
  }
  if (auto it = j.find("errorDetail"); it != j.end() && it->is_object()) {
    m.has_error = true;
    m.error = StringField(*it, "message");
    m.error_code = static_cast<int>(IntField(*it, "code"));
  }
  if (std::string e = StringField(j, "error"); !e.empty()) {
    m.has_error = true;
    if (m.error.empty()) m.error = e;
  }
  if (auto it = j.find("aux"); it != j.end()) m.aux = *it;
  return m;
}

std::string ProgressString(const JsonMessage& m, size_t terminal_width) {
  if (terminal_width == 0) terminal_width = 200;
  if (m.current <= 0 && m.total <= 0) return "";
  if (m.total <= 0) {
    if (m.units.empty()) return fmt::format("{:>8}", HumanSize(static_cast<double>(m.current)));
    return fmt::format("{} {}", m.current, m.units);
  }
  int64_t percentage =
      static_cast<int64_t>(static_cast<double>(m.current) / static_cast<double>(m.total) * 100) / 2;
  percentage = std::clamp<int64_t>(percentage, 0, 50);
  std::string bar;
  if (terminal_width > 110) {
    bar = "[" + std::string(static_cast<size_t>(percentage), '=') + ">" +
          std::string(static_cast<size_t>(50 - percentage), ' ') + "] ";
  }
  std::string numbers;
  if (!m.hide_counts) {
    if (m.units.empty()) {
      std::string current = HumanSize(static_cast<double>(m.current));
      numbers = m.current > m.total
                    ? fmt::format("{:>8}", current)
                    : fmt::format("{:>8}/{}", current, HumanSize(static_cast<double>(m.total)));
    } else {
      numbers = m.current > m.total ? fmt::format("{} {}", m.current, m.units)
                                    : fmt::format("{}/{} {}", m.current, m.total, m.units);
    }
  }
  return bar + numbers;
}

JsonMessageDisplay::JsonMessageDisplay(Writer& out, bool terminal, size_t terminal_width,
                                       std::function<void(const nlohmann::ordered_json&)> on_aux)
    : out_(out), terminal_(terminal), width_(terminal_width), on_aux_(std::move(on_aux)) {}

Status JsonMessageDisplay::Handle(std::string_view line) {
  if (TrimSpace(line).empty()) return Ok();
  BERTH_ASSIGN_OR_RETURN(JsonMessage m, ParseJsonMessage(line));
  if (!m.aux.is_null()) {
    if (on_aux_) on_aux_(m.aux);
    return Ok();
  }
  size_t diff = 0;
  if (!m.id.empty() && (m.has_progress || !m.progress_message.empty())) {
    auto [it, inserted] = ids_.try_emplace(m.id, ids_.size());
    if (inserted && terminal_) BERTH_RETURN_IF_ERROR(out_.Write("\n"));
    diff = ids_.size() - it->second;
    if (terminal_) BERTH_RETURN_IF_ERROR(out_.Write(fmt::format("\x1b[{}A", diff)));
  } else {
    // Something that is not progress: earlier progress lines are no longer redrawn.
    ids_.clear();
  }
  Status shown = Display(m);
  if (!m.id.empty() && terminal_ && diff > 0) {
    BERTH_RETURN_IF_ERROR(out_.Write(fmt::format("\x1b[{}B", diff)));
  }
  return shown;
}

Status JsonMessageDisplay::Display(const JsonMessage& m) {
  if (m.has_error) {
    if (m.error_code == 401) return MakeError(Code::kUnauthenticated, "authentication is required");
    return MakeError(Code::kInternal, m.error);
  }
  std::string progress = m.has_progress ? ProgressString(m, width_) : "";
  std::string endl;
  std::string out;
  if (terminal_ && m.stream.empty() && m.has_progress) {
    out += "\x1b[2K\r";
    endl = "\r";
  } else if (m.has_progress && !progress.empty()) {
    return Ok();  // no progress bars off a terminal
  }
  if (!m.id.empty()) out += m.id + ": ";
  if (!m.from.empty()) out += "(from " + m.from + ") ";
  if (m.has_progress && terminal_) {
    out += m.status + " " + progress + endl;
  } else if (!m.progress_message.empty()) {
    out += m.status + " " + m.progress_message + endl;
  } else if (!m.stream.empty()) {
    out += m.stream + endl;
  } else {
    out += m.status + endl + "\n";
  }
  return out_.Write(out);
}

}  // namespace berth::cli
