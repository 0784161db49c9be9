#include "cli/format/list.h"

#include <algorithm>

#include "cli/format/tabwriter.h"
#include "cli/format/template.h"

namespace berth::cli::format {
namespace {

constexpr std::string_view kTablePrefix = "table";

bool IsTable(std::string_view format) { return format.starts_with(kTablePrefix); }

// docker's Format: drops the "table" keyword and turns literal "\t" and "\n" into the bytes.
std::string Expand(std::string_view format) {
  if (IsTable(format)) format.remove_prefix(kTablePrefix.size());
  while (!format.empty() && format.front() == ' ') format.remove_prefix(1);
  while (!format.empty() && format.back() == ' ') format.remove_suffix(1);
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '\\' && i + 1 < format.size() &&
        (format[i + 1] == 't' || format[i + 1] == 'n')) {
      out += format[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += format[i];
    }
  }
  return out;
}

// docker's formatter contexts marshal a row as a map, so `{{json .}}` prints its keys sorted.
nlohmann::ordered_json SortedObject(const nlohmann::ordered_json& row) {
  if (!row.is_object()) return row;
  std::vector<std::string> keys;
  for (auto it = row.begin(); it != row.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  nlohmann::ordered_json sorted = nlohmann::ordered_json::object();
  for (const std::string& key : keys) sorted[key] = row[key];
  return sorted;
}

Error Wrap(Error e) { return std::move(e).WithContext("template parsing error"); }

}  // namespace

std::string ResolveFormat(std::string_view user_format, const ListFormat& list, bool quiet) {
  if (user_format.empty() || user_format == kTablePrefix) {
    return quiet ? list.quiet : list.default_table;
  }
  if (user_format == "json") return "{{json .}}";
  return std::string(user_format);
}

Result<std::string> RenderList(std::string_view format,
                               const std::vector<nlohmann::ordered_json>& rows,
                               const nlohmann::ordered_json& headers) {
  Result<Template> tmpl = Template::Parse(Expand(format));
  if (!tmpl) return Wrap(std::move(tmpl).error());
  std::string body;
  for (const nlohmann::ordered_json& row : rows) {
    Result<std::string> line = tmpl->Execute(SortedObject(row));
    if (!line) return Wrap(std::move(line).error());
    body += *line;
    body += '\n';
  }
  if (!IsTable(format)) return body;
  TabWriter writer(10, 3);
  Result<std::string> header = tmpl->Execute(headers, MissingField::kNoValue, Functions::kHeader);
  if (!header) return Wrap(std::move(header).error());
  writer.Write(*header);
  writer.Write("\n");
  writer.Write(body);
  return writer.Flush();
}

Result<std::string> RenderOne(std::string_view format, const nlohmann::ordered_json& value,
                              bool lenient) {
  std::string expanded = format == "json" ? "{{json .}}" : Expand(format);
  Result<Template> tmpl = Template::Parse(expanded);
  if (!tmpl) return Wrap(std::move(tmpl).error());
  Result<std::string> out =
      tmpl->Execute(value, lenient ? MissingField::kNoValue : MissingField::kError);
  if (!out) return Wrap(std::move(out).error());
  return out;
}

bool FormatMentions(std::string_view format, std::string_view field) {
  std::string needle = "." + std::string(field);
  size_t pos = 0;
  while ((pos = format.find(needle, pos)) != std::string_view::npos) {
    size_t end = pos + needle.size();
    if (end >= format.size() ||
        !(std::isalnum(static_cast<unsigned char>(format[end])) || format[end] == '_')) {
      return true;
    }
    pos = end;
  }
  return false;
}

}  // namespace berth::cli::format
