// TabWriter: aligns tab-separated cells into columns with the semantics of Go's text/tabwriter
// (flags 0), which docker uses for every table: a cell is text ended by '\t'; the text after a
// line's last tab is not part of a column. Column blocks are runs of adjacent lines that have a
// cell in that column; each column is as wide as its widest cell plus `padding`, at least
// `min_width`. Widths count UTF-8 code points. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::cli::format {

class TabWriter {
 public:
  // docker's tables: TabWriter(10, 3); `docker version`: TabWriter(20, 1).
  TabWriter(size_t min_width, size_t padding) : min_width_(min_width), padding_(padding) {}

  void Write(std::string_view text);
  // Formats everything written so far (a trailing partial line counts as a line).
  std::string Flush();

 private:
  using Line = std::vector<std::string>;
  void Format(size_t line0, size_t line1, std::string& out);
  void WriteLines(size_t line0, size_t line1, std::string& out);

  size_t min_width_;
  size_t padding_;
  std::string buffer_;
  std::vector<Line> lines_;
  std::vector<size_t> widths_;
};

// Display width of UTF-8 text in code points.
size_t TextWidth(std::string_view text);

}  // namespace berth::cli::format
