// JSON progress streams (docker's jsonmessage): the newline-separated JSON objects that pull,
// push, import and load reply with: {"status","id","progress","progressDetail":{current,total},
// "stream","error","errorDetail":{code,message},"aux"}. Displayed like the docker CLI does: on a
// terminal progress lines are redrawn in place per id; otherwise progress bars are dropped.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "base/result.h"

namespace berth::cli {

struct JsonMessage {
  std::string id;
  std::string status;
  std::string stream;
  std::string from;
  std::string progress_message;  // the deprecated pre-rendered "progress"
  bool has_progress = false;     // "progressDetail" present
  int64_t current = 0;
  int64_t total = 0;
  std::string units;
  bool hide_counts = false;
  bool has_error = false;
  int error_code = 0;
  std::string error;
  nlohmann::ordered_json aux;  // null when absent
};

Result<JsonMessage> ParseJsonMessage(std::string_view line);

// docker's JSONProgress.String(): "[=====>     ]  1.2MB/3.4MB" (the bar only when wider than 110).
std::string ProgressString(const JsonMessage& message, size_t terminal_width);

class JsonMessageDisplay {
 public:
  // `on_aux` receives "aux" payloads (e.g. {"ID": ...}), which are not displayed.
  JsonMessageDisplay(Writer& out, bool terminal, size_t terminal_width = 0,
                     std::function<void(const nlohmann::ordered_json&)> on_aux = {});

  // Displays one line of the stream; an "error" message becomes the returned Error.
  Status Handle(std::string_view line);

 private:
  Status Display(const JsonMessage& message);

  Writer& out_;
  bool terminal_;
  size_t width_;
  std::function<void(const nlohmann::ordered_json&)> on_aux_;
  std::map<std::string, size_t> ids_;  // id -> line index of its progress line
};

}  // namespace berth::cli
