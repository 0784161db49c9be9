#include "archive/tar_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace berth::archive {

std::string_view EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDir:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kCharDevice:
      return "char device";
    case EntryType::kBlockDevice:
      return "block device";
    case EntryType::kFifo:
      return "fifo";
  }
  return "unknown";
}

namespace {
constexpr size_t kReadBufferSize = 1 << 20;
}  // namespace

struct TarReader::Impl : public Reader {
  Reader& src;
  std::vector<char> buf = std::vector<char>(kReadBufferSize);
  struct archive* a = nullptr;
  std::optional<Error> src_error;  // the source's own error, returned as is
  bool at_end = false;

  explicit Impl(Reader& s) : src(s) {}
  ~Impl() override {
    if (a != nullptr) archive_read_free(a);
  }

  // Hands libarchive whole buffers: a source such as a socket returns a few KiB per read, and
  // libarchive passes its blocks on as they come, so without this every file would be written
  // in pieces of that size.
  static la_ssize_t ReadCallback(struct archive* a, void* client, const void** out) {
    auto* self = static_cast<Impl*>(client);
    size_t filled = 0;
    while (filled < self->buf.size()) {
      Result<size_t> n = self->src.Read(self->buf.data() + filled, self->buf.size() - filled);
      if (!n) {
        self->src_error = n.error();
        archive_set_error(a, EIO, "%s", n.error().message.c_str());
        return -1;
      }
      if (*n == 0) break;
      filled += *n;
    }
    *out = self->buf.data();
    return static_cast<la_ssize_t>(filled);
  }

  // The error for a libarchive failure: the source's if it failed, else libarchive's message.
  Error ArchiveError(std::string_view what) {
    if (src_error) return *src_error;
    const char* msg = archive_error_string(a);
    std::string text = msg != nullptr ? msg : "unknown error";
    int err = archive_errno(a);
    Code code = Code::kDataLoss;
    if (text.find("Unrecognized archive format") != std::string::npos) {
      return MakeError(Code::kInvalidArgument, "not a tar archive");
    }
    if (err == ENOMEM) code = Code::kResourceExhausted;
    return Error{code, fmt::format("tar: {}: {}", what, text), 0};
  }

  // Reader over the current entry's data (archive_read_data fills holes with zeros).
  Result<size_t> Read(char* out, size_t size) override {
    la_ssize_t n = archive_read_data(a, out, size);
    if (n < 0) return ArchiveError("read entry data");
    return static_cast<size_t>(n);
  }
};

TarReader::TarReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarReader::~TarReader() = default;

Result<std::unique_ptr<TarReader>> TarReader::Open(Reader& src) {
  auto impl = std::make_unique<Impl>(src);
  impl->a = archive_read_new();
  BERTH_CHECK(impl->a != nullptr);
  archive_read_support_format_tar(impl->a);
  if (archive_read_open(impl->a, impl.get(), nullptr, &Impl::ReadCallback, nullptr) != ARCHIVE_OK) {
    return impl->ArchiveError("open");
  }
  return std::unique_ptr<TarReader>(new TarReader(std::move(impl)));
}

Result<std::optional<TarEntry>> TarReader::Next() {
  if (impl_->at_end) return std::optional<TarEntry>();
  struct archive_entry* ae = nullptr;
  int rc = archive_read_next_header(impl_->a, &ae);
  if (rc == ARCHIVE_EOF) {
    impl_->at_end = true;
    return std::optional<TarEntry>();
  }
  if (rc == ARCHIVE_WARN) {
    // e.g. a name that does not convert to the locale's charset; the raw bytes are kept.
    const char* msg = archive_error_string(impl_->a);
    spdlog::debug("tar: {}", msg != nullptr ? msg : "warning");
  } else if (rc != ARCHIVE_OK) {
    return impl_->ArchiveError("read header");
  }
  TarEntry e;
  const char* path = archive_entry_pathname(ae);
  if (path == nullptr) path = archive_entry_pathname_utf8(ae);
  if (path == nullptr) return MakeError(Code::kDataLoss, "tar: entry without a name");
  e.path = path;
  e.mode = static_cast<uint32_t>(archive_entry_perm(ae)) & 07777;
  e.uid = archive_entry_uid(ae);
  e.gid = archive_entry_gid(ae);
  e.mtime = Timestamp{archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
  if (archive_entry_atime_is_set(ae)) {
    e.atime = Timestamp{archive_entry_atime(ae), archive_entry_atime_nsec(ae)};
  }
  const char* hardlink = archive_entry_hardlink(ae);
  if (hardlink == nullptr) hardlink = archive_entry_hardlink_utf8(ae);
  if (hardlink != nullptr) {
    e.type = EntryType::kHardlink;
    e.linkname = hardlink;
  } else {
    switch (archive_entry_filetype(ae)) {
      case AE_IFREG:
        e.type = EntryType::kFile;
        break;
      case AE_IFDIR:
        e.type = EntryType::kDir;
        break;
      case AE_IFLNK: {
        e.type = EntryType::kSymlink;
        const char* target = archive_entry_symlink(ae);
        if (target == nullptr) target = archive_entry_symlink_utf8(ae);
        if (target == nullptr) return MakeError(Code::kDataLoss, "tar: symlink without a target");
        e.linkname = target;
        break;
      }
      case AE_IFCHR:
        e.type = EntryType::kCharDevice;
        break;
      case AE_IFBLK:
        e.type = EntryType::kBlockDevice;
        break;
      case AE_IFIFO:
        e.type = EntryType::kFifo;
        break;
      default:
        return MakeError(Code::kInvalidArgument,
                         fmt::format("tar: entry \"{}\": unsupported type {:o}", e.path,
                                     archive_entry_filetype(ae)));
    }
  }
  if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
    e.devmajor = static_cast<uint32_t>(archive_entry_rdevmajor(ae));
    e.devminor = static_cast<uint32_t>(archive_entry_rdevminor(ae));
  }
  e.size = e.type == EntryType::kFile ? archive_entry_size(ae) : 0;
  e.sparse = archive_entry_sparse_reset(ae) > 0;
  if (archive_entry_xattr_reset(ae) > 0) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
      // libarchive reports an attribute once per PAX key that carries it (SCHILY.xattr and
      // LIBARCHIVE.xattr); the later one wins, as later PAX records do.
      std::string v(static_cast<const char*>(value), size);
      auto it = std::find_if(e.xattrs.begin(), e.xattrs.end(),
                             [&](const auto& kv) { return kv.first == name; });
      if (it != e.xattrs.end()) {
        it->second = std::move(v);
      } else {
        e.xattrs.emplace_back(name, std::move(v));
      }
    }
  }
  return std::optional<TarEntry>(std::move(e));
}

Reader& TarReader::data() { return *impl_; }

// libarchive records the stream offset of an entry's first header block before it parses it,
// and consumes the header blocks before returning the entry: the read filter's position is
// then where the data starts. Both are offsets in the bytes handed to libarchive (here the
// uncompressed layer: no filters are enabled).
int64_t TarReader::HeaderPosition() const { return archive_read_header_position(impl_->a); }
int64_t TarReader::DataPosition() const { return archive_filter_bytes(impl_->a, 0); }

Result<TarReader::Block> TarReader::ReadBlock() {
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int rc = archive_read_data_block(impl_->a, &buf, &size, &offset);
  if (rc == ARCHIVE_EOF) return Block{};
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return impl_->ArchiveError("read entry data");
  return Block{std::string_view(static_cast<const char*>(buf), size), offset};
}

}  // namespace berth::archive
