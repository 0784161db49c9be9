#include "content/content.h"

#include <unistd.h>

#include <cerrno>

#include "base/strings.h"

namespace berth::content {

Result<size_t> BlobReader::ReadAt(char* buf, size_t size, int64_t offset) const {
  if (offset >= size_) return size_t{0};
  while (true) {
    ssize_t n = ::pread(fd_.get(), buf, size, offset);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoError("pread " + path_);
  }
}

Result<size_t> BlobReader::Read(char* buf, size_t size) {
  BERTH_ASSIGN_OR_RETURN(size_t n, ReadAt(buf, size, pos_));
  pos_ += static_cast<int64_t>(n);
  return n;
}

Result<oci::Digest> WriteBlob(Store& store, std::string_view bytes,
                              std::optional<oci::Digest> expected) {
  const std::string ref = "write-blob-" + RandomHex(16);
  const auto size = static_cast<int64_t>(bytes.size());
  BERTH_ASSIGN_OR_RETURN(auto writer, store.Writer(ref, expected, size));
  Status st = writer->Write(bytes);
  if (!st) {
    (void)writer->Abort();
    return std::move(st).error();
  }
  return writer->Commit(expected, size);
}

Result<std::string> ReadBlob(Provider& provider, const oci::Digest& digest, size_t limit) {
  BERTH_ASSIGN_OR_RETURN(auto reader, provider.Open(digest));
  auto data = ReadAll(*reader, limit);
  if (!data) return std::move(data).error().WithContext("read " + digest.ToString());
  return data;
}

}  // namespace berth::content
