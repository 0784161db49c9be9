#include "base/io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/file.h"

namespace berth {

Result<size_t> FdReader::Read(char* buf, size_t size) {
  while (true) {
    ssize_t n = ::read(fd_, buf, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoError("read");
  }
}

Status FdWriter::Write(std::string_view data) { return WriteAll(fd_, data); }

Result<size_t> StringReader::Read(char* buf, size_t size) {
  size_t n = std::min(size, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<uint64_t> Copy(Reader& src, Writer& dst) {
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(size_t n, src.Read(buf.data(), buf.size()));
    if (n == 0) return total;
    BERTH_RETURN_IF_ERROR(dst.Write(std::string_view(buf.data(), n)));
    total += n;
  }
}

Result<std::string> ReadAll(Reader& src, size_t limit) {
  std::string out;
  char buf[65536];
  while (true) {
    BERTH_ASSIGN_OR_RETURN(size_t n, src.Read(buf, sizeof(buf)));
    if (n == 0) return out;
    if (out.size() + n > limit) {
      return MakeError(Code::kResourceExhausted,
                       "stream larger than the limit of " + std::to_string(limit) + " bytes");
    }
    out.append(buf, n);
  }
}

}  // namespace berth
