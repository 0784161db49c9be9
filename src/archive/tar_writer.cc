#include "archive/tar_writer.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

namespace berth::archive {
namespace {

// libarchive blocks output into records of this size; the last one is not padded.
constexpr int kBytesPerBlock = 64 * 1024;

mode_t FileType(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return AE_IFREG;
    case EntryType::kHardlink:
      return AE_IFREG;
    case EntryType::kDir:
      return AE_IFDIR;
    case EntryType::kSymlink:
      return AE_IFLNK;
    case EntryType::kCharDevice:
      return AE_IFCHR;
    case EntryType::kBlockDevice:
      return AE_IFBLK;
    case EntryType::kFifo:
      return AE_IFIFO;
  }
  return AE_IFREG;
}

}  // namespace

struct TarWriter::Impl {
  Writer& out;
  struct archive* a = nullptr;
  std::optional<Error> out_error;
  bool closed = false;
  bool discard = false;   // set when destroyed without Close(): write nothing more
  int64_t remaining = 0;  // data bytes the current entry still expects

  explicit Impl(Writer& o) : out(o) {}
  ~Impl() {
    // archive_write_free closes an open archive, which would append an end-of-archive marker
    // to an abandoned stream; drop those bytes instead.
    discard = true;
    if (a != nullptr) archive_write_free(a);
  }

  static la_ssize_t WriteCallback(struct archive* a, void* client, const void* buf, size_t n) {
    auto* self = static_cast<Impl*>(client);
    if (self->discard) return static_cast<la_ssize_t>(n);
    Status st = self->out.Write(std::string_view(static_cast<const char*>(buf), n));
    if (!st) {
      self->out_error = st.error();
      archive_set_error(a, EIO, "%s", st.error().message.c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  Error ArchiveError(std::string_view what) {
    if (out_error) return *out_error;
    const char* msg = archive_error_string(a);
    return MakeError(Code::kInternal,
                     fmt::format("tar: {}: {}", what, msg != nullptr ? msg : "unknown error"));
  }
};

TarWriter::TarWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarWriter::~TarWriter() = default;

Result<std::unique_ptr<TarWriter>> TarWriter::Open(Writer& out) {
  auto impl = std::make_unique<Impl>(out);
  impl->a = archive_write_new();
  BERTH_CHECK(impl->a != nullptr);
  if (archive_write_set_format_pax_restricted(impl->a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(impl->a, kBytesPerBlock) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(impl->a, 1) != ARCHIVE_OK) {
    return impl->ArchiveError("configure");
  }
  if (archive_write_open(impl->a, impl.get(), nullptr, &Impl::WriteCallback, nullptr) !=
      ARCHIVE_OK) {
    return impl->ArchiveError("open");
  }
  return std::unique_ptr<TarWriter>(new TarWriter(std::move(impl)));
}

Status TarWriter::WriteHeader(const TarEntry& e) {
  if (impl_->closed) return MakeError(Code::kFailedPrecondition, "tar: write after close");
  if (impl_->remaining != 0) {
    return MakeError(Code::kFailedPrecondition,
                     fmt::format("tar: previous entry is {} bytes short", impl_->remaining));
  }
  if (e.path.empty()) return MakeError(Code::kInvalidArgument, "tar: entry without a name");
  struct archive_entry* ae = archive_entry_new();
  BERTH_CHECK(ae != nullptr);
  // Names are bytes. ASCII names need no conversion and get no "hdrcharset" record (which GNU
  // tar warns about); a name the locale cannot convert to UTF-8 is written as raw bytes with
  // hdrcharset=BINARY on that entry alone, and libarchive reports ARCHIVE_WARN for it.
  archive_entry_copy_pathname(ae, e.path.c_str());
  archive_entry_set_filetype(ae, FileType(e.type));
  archive_entry_set_perm(ae, static_cast<mode_t>(e.mode & 07777));
  archive_entry_set_uid(ae, e.uid);
  archive_entry_set_gid(ae, e.gid);
  archive_entry_set_mtime(ae, e.mtime.sec, e.mtime.nsec);
  if (e.atime) archive_entry_set_atime(ae, e.atime->sec, e.atime->nsec);
  int64_t size = e.type == EntryType::kFile ? e.size : 0;
  archive_entry_set_size(ae, size);
  switch (e.type) {
    case EntryType::kSymlink:
      archive_entry_copy_symlink(ae, e.linkname.c_str());
      break;
    case EntryType::kHardlink:
      archive_entry_copy_hardlink(ae, e.linkname.c_str());
      break;
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice:
      archive_entry_set_rdevmajor(ae, e.devmajor);
      archive_entry_set_rdevminor(ae, e.devminor);
      break;
    default:
      break;
  }
  for (const auto& [name, value] : e.xattrs) {
    archive_entry_xattr_add_entry(ae, name.c_str(), value.data(), value.size());
  }
  int rc = archive_write_header(impl_->a, ae);
  archive_entry_free(ae);
  // ARCHIVE_WARN: a name written as raw bytes (see above); the entry is complete.
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
    return impl_->ArchiveError(fmt::format("write header \"{}\"", e.path));
  }
  impl_->remaining = size;
  return Ok();
}

Status TarWriter::WriteData(std::string_view data) {
  if (static_cast<int64_t>(data.size()) > impl_->remaining) {
    return MakeError(Code::kInvalidArgument, "tar: more data than the entry's size");
  }
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(impl_->a, data.data(), data.size());
    if (n <= 0) return impl_->ArchiveError("write data");
    data.remove_prefix(static_cast<size_t>(n));
    impl_->remaining -= n;
  }
  return Ok();
}

Status TarWriter::AddFile(const std::string& path, std::string_view content, uint32_t mode,
                          Timestamp mtime) {
  TarEntry e;
  e.path = path;
  e.type = EntryType::kFile;
  e.mode = mode;
  e.mtime = mtime;
  e.size = static_cast<int64_t>(content.size());
  BERTH_RETURN_IF_ERROR(WriteHeader(e));
  return WriteData(content);
}

Status TarWriter::AddFile(const std::string& path, Reader& content, uint64_t size, uint32_t mode,
                          Timestamp mtime) {
  TarEntry e;
  e.path = path;
  e.type = EntryType::kFile;
  e.mode = mode;
  e.mtime = mtime;
  e.size = static_cast<int64_t>(size);
  BERTH_RETURN_IF_ERROR(WriteHeader(e));
  std::vector<char> buf(1 << 20);
  uint64_t left = size;
  while (true) {
    // Read one byte past the end too, so that a longer source is noticed.
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left + 1));
    BERTH_ASSIGN_OR_RETURN(size_t n, content.Read(buf.data(), want));
    if (n == 0) break;
    if (n > left) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("tar: \"{}\": source is longer than {} bytes", path, size));
    }
    BERTH_RETURN_IF_ERROR(WriteData(std::string_view(buf.data(), n)));
    left -= n;
  }
  if (left != 0) {
    return MakeError(Code::kDataLoss, fmt::format("tar: \"{}\": source ended {} bytes short of {}",
                                                  path, left, size));
  }
  return Ok();
}

Status TarWriter::AddDirectory(const std::string& path, uint32_t mode, Timestamp mtime) {
  TarEntry e;
  e.path = path;
  if (e.path.empty() || e.path.back() != '/') e.path += '/';
  e.type = EntryType::kDir;
  e.mode = mode;
  e.mtime = mtime;
  return WriteHeader(e);
}

Status TarWriter::Close() {
  if (impl_->closed) return Ok();
  if (impl_->remaining != 0) {
    return MakeError(Code::kFailedPrecondition,
                     fmt::format("tar: last entry is {} bytes short", impl_->remaining));
  }
  impl_->closed = true;
  if (archive_write_close(impl_->a) != ARCHIVE_OK) return impl_->ArchiveError("close");
  return Ok();
}

}  // namespace berth::archive
