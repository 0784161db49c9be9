#include "cli/format/tabwriter.h"

#include "base/strings.h"

namespace berth::cli::format {

size_t TextWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

void TabWriter::Write(std::string_view text) { buffer_.append(text); }

std::string TabWriter::Flush() {
  lines_.clear();
  std::string_view rest = buffer_;
  bool trailing_newline = !rest.empty() && rest.back() == '\n';
  if (trailing_newline) rest.remove_suffix(1);
  if (!buffer_.empty()) {
    for (const std::string& line : Split(rest, '\n')) lines_.push_back(Split(line, '\t'));
  }
  std::string out;
  widths_.clear();
  Format(0, lines_.size(), out);
  if (trailing_newline) out += '\n';
  buffer_.clear();
  lines_.clear();
  return out;
}

// Go's tabwriter.format: recursively finds column blocks left to right.
void TabWriter::Format(size_t line0, size_t line1, std::string& out) {
  size_t column = widths_.size();
  for (size_t current = line0; current < line1; ++current) {
    if (column + 1 >= lines_[current].size()) continue;  // no cell in this column
    WriteLines(line0, current, out);
    line0 = current;
    size_t width = min_width_;
    for (; current < line1; ++current) {
      const Line& line = lines_[current];
      if (column + 1 >= line.size()) break;
      width = std::max(width, TextWidth(line[column]) + padding_);
    }
    widths_.push_back(width);
    Format(line0, current, out);
    widths_.pop_back();
    line0 = current;  // the line that ended the block has no cell here; the loop skips it
  }
  WriteLines(line0, line1, out);
}

void TabWriter::WriteLines(size_t line0, size_t line1, std::string& out) {
  for (size_t i = line0; i < line1; ++i) {
    const Line& line = lines_[i];
    for (size_t j = 0; j < line.size(); ++j) {
      out += line[j];
      if (j < widths_.size() && j + 1 < line.size()) {
        out.append(widths_[j] - TextWidth(line[j]), ' ');
      }
    }
    if (i + 1 < lines_.size()) out += '\n';
  }
}

}  // namespace berth::cli::format
