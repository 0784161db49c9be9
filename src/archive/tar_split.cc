#include "archive/tar_split.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "archive/internal/tree.h"
#include "sys/syscalls.h"

namespace berth::archive {
namespace {

constexpr std::string_view kMagic = "berth-tar-split 1\n";
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr char kRaw = 'R';
constexpr char kFile = 'F';
constexpr char kEntry = 'E';
constexpr char kEnd = 'Z';
// Files in the tree: never a symlink on the way (the recorder's rules guarantee none).
constexpr uint64_t kTreeResolve =
    sys::kResolveInRoot | sys::kResolveNoSymlinks | sys::kResolveNoMagiclinks;

// Entry kinds in 'E' records: the EntryType values, then these.
constexpr uint64_t kKindWhiteout = 100;
constexpr uint64_t kKindOpaque = 101;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

Error Corrupt(std::string_view what) {
  return MakeError(Code::kDataLoss, fmt::format("tar-split metadata: {}", what));
}

// Reads records from a metadata stream, buffered.
class MetaParser {
 public:
  explicit MetaParser(Reader& src) : src_(src) {}

  struct Record {
    char tag = 0;
    uint64_t size = 0;       // R: byte count; F: file size; E: entry size; Z: total
    std::string path;        // F, E
    std::string link;        // E
    uint64_t kind = 0;       // E
    uint64_t mode = 0;       // E
  };

  Status Start() {
    std::string magic;
    BERTH_RETURN_IF_ERROR(Bytes(kMagic.size(), magic));
    if (magic != kMagic) return Corrupt("bad header");
    return Ok();
  }

  // The next record, or nullopt at the end of the input (`partial` allows a missing 'Z').
  // For 'R' records the bytes are not read: call RawBytes().
  Result<std::optional<Record>> Next(bool partial) {
    if (done_) return std::optional<Record>();
    BERTH_ASSIGN_OR_RETURN(bool more, Fill(1));
    if (!more) {
      if (partial) return std::optional<Record>();
      return Corrupt("truncated (no end record)");
    }
    Record r;
    r.tag = buf_[pos_++];
    switch (r.tag) {
      case kRaw: {
        BERTH_ASSIGN_OR_RETURN(r.size, Varint());
        break;
      }
      case kFile: {
        BERTH_ASSIGN_OR_RETURN(r.size, Varint());
        BERTH_RETURN_IF_ERROR(String(r.path));
        break;
      }
      case kEntry: {
        BERTH_ASSIGN_OR_RETURN(r.kind, Varint());
        BERTH_ASSIGN_OR_RETURN(r.mode, Varint());
        BERTH_ASSIGN_OR_RETURN(r.size, Varint());
        BERTH_RETURN_IF_ERROR(String(r.path));
        BERTH_RETURN_IF_ERROR(String(r.link));
        break;
      }
      case kEnd: {
        BERTH_ASSIGN_OR_RETURN(r.size, Varint());
        done_ = true;
        break;
      }
      default:
        return Corrupt(fmt::format("unknown record 0x{:02x}", static_cast<unsigned char>(r.tag)));
    }
    return std::optional<Record>(std::move(r));
  }

  // Up to `max` bytes of the current 'R' record's remaining `left` bytes, without copying.
  Result<std::string_view> RawBytes(uint64_t left, size_t max) {
    BERTH_ASSIGN_OR_RETURN(bool more, Fill(1));
    if (!more) return Corrupt("truncated raw record");
    size_t n = static_cast<size_t>(std::min<uint64_t>({left, max, buf_.size() - pos_}));
    std::string_view out(buf_.data() + pos_, n);
    pos_ += n;
    return out;
  }

 private:
  // Ensures `n` unread bytes are buffered if the input has them; false at a clean end.
  Result<bool> Fill(size_t n) {
    if (buf_.size() - pos_ >= n) return true;
    buf_.erase(0, pos_);
    pos_ = 0;
    while (buf_.size() < n) {
      size_t old = buf_.size();
      buf_.resize(std::max<size_t>(old + (1 << 16), n));
      BERTH_ASSIGN_OR_RETURN(size_t got, src_.Read(buf_.data() + old, buf_.size() - old));
      buf_.resize(old + got);
      if (got == 0) return false;
    }
    return true;
  }
  Result<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      BERTH_ASSIGN_OR_RETURN(bool more, Fill(1));
      if (!more) return Corrupt("truncated number");
      auto b = static_cast<unsigned char>(buf_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Corrupt("number too long");
  }
  Status Bytes(size_t n, std::string& out) {
    BERTH_ASSIGN_OR_RETURN(bool more, Fill(n));
    if (!more) return Corrupt("truncated");
    out.assign(buf_, pos_, n);
    pos_ += n;
    return Ok();
  }
  Status String(std::string& out) {
    BERTH_ASSIGN_OR_RETURN(uint64_t n, Varint());
    if (n > (1 << 20)) return Corrupt("string too long");
    return Bytes(static_cast<size_t>(n), out);
  }

  Reader& src_;
  std::string buf_;
  size_t pos_ = 0;
  bool done_ = false;
};

Result<UniqueFd> OpenTreeFile(sys::Syscalls& sys, int root, const std::string& path) {
  Result<UniqueFd> fd =
      sys.Openat2(root, path, sys::OpenHow{O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0, kTreeResolve});
  if (!fd) {
    return Error{Code::kDataLoss,
                 fmt::format("layer file \"{}\": {}", path, fd.error().message),
                 fd.error().sys_errno};
  }
  return fd;
}

// The regenerated stream: raw records as they are, file records from the tree.
class TarSplitReader final : public Reader {
 public:
  TarSplitReader(std::unique_ptr<Reader> owned, Reader& meta, int root, sys::Syscalls& sys,
                 bool partial)
      : owned_(std::move(owned)), parser_(meta), root_(root), sys_(sys), partial_(partial) {}

  Status Start() { return parser_.Start(); }

  Result<size_t> Read(char* buf, size_t size) override {
    while (true) {
      if (raw_left_ > 0) {
        BERTH_ASSIGN_OR_RETURN(std::string_view b, parser_.RawBytes(raw_left_, size));
        std::copy(b.begin(), b.end(), buf);
        raw_left_ -= b.size();
        produced_ += b.size();
        return b.size();
      }
      if (file_left_ > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(file_left_, size));
        ssize_t n = ::read(file_.get(), buf, want);
        if (n < 0) {
          return Error{Code::kDataLoss, fmt::format("layer file \"{}\": read", file_path_), errno};
        }
        if (n == 0) {
          return MakeError(Code::kDataLoss,
                           fmt::format("layer file \"{}\" is shorter than recorded", file_path_));
        }
        file_left_ -= static_cast<uint64_t>(n);
        produced_ += static_cast<uint64_t>(n);
        if (file_left_ == 0) file_.Reset();
        return static_cast<size_t>(n);
      }
      BERTH_ASSIGN_OR_RETURN(std::optional<MetaParser::Record> r, parser_.Next(partial_));
      if (!r) return size_t{0};
      switch (r->tag) {
        case kRaw:
          raw_left_ = r->size;
          break;
        case kFile: {
          BERTH_ASSIGN_OR_RETURN(file_, OpenTreeFile(sys_, root_, r->path));
          struct stat st {};
          if (::fstat(file_.get(), &st) != 0) {
            return Error{Code::kDataLoss, fmt::format("layer file \"{}\": fstat", r->path), errno};
          }
          if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != r->size) {
            return MakeError(Code::kDataLoss,
                             fmt::format("layer file \"{}\": {} bytes, recorded {}", r->path,
                                         st.st_size, r->size));
          }
          file_path_ = std::move(r->path);
          file_left_ = r->size;
          if (file_left_ == 0) file_.Reset();
          break;
        }
        case kEntry:
          break;
        case kEnd:
          if (r->size != produced_) return Corrupt("length differs from the end record");
          return size_t{0};
      }
    }
  }

 private:
  std::unique_ptr<Reader> owned_;
  MetaParser parser_;
  int root_;
  sys::Syscalls& sys_;
  bool partial_;
  uint64_t raw_left_ = 0;
  uint64_t file_left_ = 0;
  uint64_t produced_ = 0;
  UniqueFd file_;
  std::string file_path_;
};

class VerifyingReader final : public Reader {
 public:
  VerifyingReader(std::unique_ptr<Reader> src, oci::Digest expected, int64_t size)
      : src_(std::move(src)), expected_(std::move(expected)), size_(size) {}

  // Keeps at least one byte back until the source ended and the digest matched.
  Result<size_t> Read(char* buf, size_t size) override {
    if (size == 0) return size_t{0};
    while (!ended_ && held_.size() < 2) {
      std::string chunk(1 << 16, '\0');
      BERTH_ASSIGN_OR_RETURN(size_t n, src_->Read(chunk.data(), chunk.size()));
      if (n == 0) {
        ended_ = true;
        oci::Digest got = digester_.Finish();
        if (got != expected_ || total_ != size_) {
          return MakeError(Code::kDataLoss,
                           fmt::format("regenerated layer is {} ({} bytes), expected {} ({} bytes)",
                                       got.ToString(), total_, expected_.ToString(), size_));
        }
        break;
      }
      digester_.Update(chunk.data(), n);
      total_ += static_cast<int64_t>(n);
      held_.append(chunk.data(), n);
    }
    size_t give = std::min(size, ended_ ? held_.size() : held_.size() - 1);
    std::copy(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(give), buf);
    held_.erase(0, give);
    return give;
  }

 private:
  std::unique_ptr<Reader> src_;
  oci::Digest expected_;
  int64_t size_;
  oci::Digester digester_;
  int64_t total_ = 0;
  bool ended_ = false;
  std::string held_;
};

}  // namespace

TarSplitRecorder::TarSplitRecorder(int root_dirfd, sys::Syscalls& sys, Options options)
    : root_(root_dirfd), sys_(sys), options_(std::move(options)), meta_(kMagic) {}

Status TarSplitRecorder::Write(std::string_view data) {
  if (fell_back_) return fallback_ != nullptr ? fallback_->Write(data) : Ok();
  int64_t start = seen_;
  seen_ += static_cast<int64_t>(data.size());
  // Bytes before classified_ belong to a file whose range is already known: not kept.
  if (start < classified_) {
    data.remove_prefix(static_cast<size_t>(std::min<int64_t>(
        static_cast<int64_t>(data.size()), classified_ - start)));
  }
  if (pending_off_ > 0) {  // once per write, not once per entry
    pending_.erase(0, pending_off_);
    pending_off_ = 0;
  }
  pending_.append(data);
  return Ok();
}

void TarSplitRecorder::Raw(std::string_view bytes) {
  if (bytes.empty()) return;
  meta_.push_back(kRaw);
  PutString(meta_, bytes);
}

bool TarSplitRecorder::Violates(const std::string& clean, bool is_dir) {
  auto it = paths_.find(clean);
  if (it != paths_.end() && !(is_dir && it->second)) return true;
  if (!is_dir && ancestors_.contains(clean)) return true;
  // Ancestors, deepest first. One already recorded was checked when it was (and a non-directory
  // entry at it since would have been refused), and so were all above it: stop there.
  std::vector<std::string_view> fresh;
  for (size_t slash = clean.rfind('/'); slash != std::string::npos && slash > 0;
       slash = clean.rfind('/', slash - 1)) {
    std::string_view a = std::string_view(clean).substr(0, slash);
    if (ancestors_.contains(std::string(a))) break;
    auto p = paths_.find(std::string(a));
    if (p != paths_.end() && !p->second) return true;
    fresh.push_back(a);
  }
  if (it == paths_.end()) paths_.emplace(clean, is_dir);
  for (std::string_view a : fresh) ancestors_.emplace(a);
  return false;
}

Status TarSplitRecorder::Entry(const TarEntry& e, int64_t header_pos, int64_t data_pos) {
  if (fell_back_) return Ok();
  std::string clean = internal::CleanRootedPath(e.path);
  if (clean.starts_with(kWhiteoutMetaPrefix) && clean != kOpaqueMarker) return Ok();  // skipped
  auto [parent_view, base_view] = internal::SplitParent(clean);
  std::string parent(parent_view);
  uint64_t kind = static_cast<uint64_t>(e.type);
  std::string path = clean;
  bool violates = false;
  if (base_view == kOpaqueMarker) {
    kind = kKindOpaque;
    path = parent;
    violates = !parent.empty() && Violates(parent, true);
  } else if (base_view.starts_with(kWhiteoutPrefix)) {
    kind = kKindWhiteout;
    std::string target(base_view.substr(kWhiteoutPrefix.size()));
    path = parent.empty() ? target : parent + "/" + target;
    violates = Violates(path, false);
  } else if (!clean.empty()) {
    violates = Violates(clean, e.type == EntryType::kDir);
  }
  if (violates) return FallBack(fmt::format("entry \"{}\" changes an earlier one", e.path));
  if (e.sparse) return FallBack(fmt::format("entry \"{}\" is a sparse file", e.path));
  if (!options_.read_any && ((e.type == EntryType::kFile && (e.mode & 0400) == 0) ||
                             (e.type == EntryType::kDir && (e.mode & 0500) != 0500))) {
    return FallBack(fmt::format("entry \"{}\" could not be read back", e.path));
  }

  std::string link;
  if (e.type == EntryType::kSymlink) link = e.linkname;
  if (e.type == EntryType::kHardlink) link = internal::CleanRootedPath(e.linkname);
  meta_.push_back(kEntry);
  PutVarint(meta_, kind);
  PutVarint(meta_, e.mode & 07777);
  PutVarint(meta_, static_cast<uint64_t>(e.size));
  PutString(meta_, path);
  PutString(meta_, link);

  if (e.type == EntryType::kFile && e.size > 0 && kind == static_cast<uint64_t>(e.type)) {
    // The data is [data_pos, data_pos + size) of the stream; what precedes it is raw.
    if (data_pos < classified_ || data_pos > seen_ || header_pos > data_pos ||
        (data_pos - header_pos) % 512 != 0) {
      return FallBack(fmt::format("entry \"{}\": unexpected stream offsets {}..{}", e.path,
                                  header_pos, data_pos));
    }
    std::string_view pending = std::string_view(pending_).substr(pending_off_);
    Raw(pending.substr(0, static_cast<size_t>(data_pos - classified_)));
    int64_t end = data_pos + e.size;
    pending_off_ += static_cast<size_t>(
        std::min<int64_t>(end - classified_, static_cast<int64_t>(pending.size())));
    classified_ = end;
    meta_.push_back(kFile);
    PutVarint(meta_, static_cast<uint64_t>(e.size));
    PutString(meta_, clean);
  }
  if (meta_.size() + pending_.size() - pending_off_ > options_.max_metadata) {
    return FallBack("its metadata would pass " + std::to_string(options_.max_metadata) + " bytes");
  }
  return Ok();
}

Status TarSplitRecorder::FallBack(std::string reason) {
  fell_back_ = true;
  fallback_reason_ = std::move(reason);
  if (options_.open_fallback) {
    BERTH_ASSIGN_OR_RETURN(fallback_, options_.open_fallback());
    if (classified_ > seen_) return MakeError(Code::kInternal, "tar-split: fallback inside a file");
    // The stream so far, regenerated: every file recorded is still intact in the tree.
    StringReader meta(meta_);
    TarSplitReader prefix(nullptr, meta, root_, sys_, /*partial=*/true);
    BERTH_RETURN_IF_ERROR(prefix.Start());
    Result<uint64_t> copied = Copy(prefix, *fallback_);
    if (!copied) return std::move(copied).error().WithContext("tar-split fallback");
    BERTH_RETURN_IF_ERROR(fallback_->Write(std::string_view(pending_).substr(pending_off_)));
  }
  std::string().swap(meta_);
  std::string().swap(pending_);
  pending_off_ = 0;
  paths_.clear();
  ancestors_.clear();
  return Ok();
}

Status TarSplitRecorder::Finish() {
  if (fell_back_) return Ok();
  if (classified_ > seen_) return MakeError(Code::kDataLoss, "tar-split: stream ends in a file");
  Raw(std::string_view(pending_).substr(pending_off_));
  std::string().swap(pending_);
  pending_off_ = 0;
  classified_ = seen_;
  meta_.push_back(kEnd);
  PutVarint(meta_, static_cast<uint64_t>(seen_));
  return Ok();
}

Result<std::unique_ptr<Reader>> NewTarSplitReader(std::unique_ptr<Reader> metadata,
                                                  int root_dirfd, sys::Syscalls& sys) {
  Reader& meta = *metadata;
  auto r = std::make_unique<TarSplitReader>(std::move(metadata), meta, root_dirfd, sys,
                                            /*partial=*/false);
  BERTH_RETURN_IF_ERROR(r->Start());
  return std::unique_ptr<Reader>(std::move(r));
}

std::unique_ptr<Reader> NewVerifyingReader(std::unique_ptr<Reader> src, oci::Digest expected,
                                           int64_t size) {
  return std::make_unique<VerifyingReader>(std::move(src), std::move(expected), size);
}

Status VerifyTarSplitTree(Reader& metadata, int root_dirfd, sys::Syscalls& sys) {
  struct Expect {
    uint64_t kind;
    uint64_t mode;
    uint64_t size;
    std::string link;
    bool check_mode = true;
  };
  MetaParser parser(metadata);
  BERTH_RETURN_IF_ERROR(parser.Start());
  std::map<std::string, Expect> want;  // last record per path wins (a directory over one)
  while (true) {
    BERTH_ASSIGN_OR_RETURN(std::optional<MetaParser::Record> r, parser.Next(false));
    if (!r) break;
    if (r->tag == kRaw) {
      for (uint64_t left = r->size; left > 0;) {
        BERTH_ASSIGN_OR_RETURN(std::string_view b, parser.RawBytes(left, 1 << 20));
        left -= b.size();
      }
      continue;
    }
    if (r->tag != kEntry) continue;
    Expect e{r->kind, r->mode, r->size, r->link};
    if (r->kind == static_cast<uint64_t>(EntryType::kHardlink)) {
      // The link's attributes were applied to the inode it shares with its target.
      e.check_mode = false;
      auto t = want.find(r->link);
      if (t != want.end()) t->second.check_mode = false;
    }
    want[r->path] = std::move(e);
  }
  for (const auto& [path, e] : want) {
    std::string name = path.empty() ? "." : path;
    auto fail = [&](std::string_view what) {
      return MakeError(Code::kDataLoss, fmt::format("layer entry \"{}\": {}", path, what));
    };
    Result<UniqueFd> fd = sys.Openat2(root_dirfd, name,
                                      sys::OpenHow{O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, kTreeResolve});
    if (!fd) return fail(fd.error().message);
    Result<struct stat> st = sys.Fstatat(fd->get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (!st) return fail(st.error().message);
    mode_t type = st->st_mode & S_IFMT;
    bool type_ok = true;
    switch (e.kind) {
      case static_cast<uint64_t>(EntryType::kFile):
        type_ok = type == S_IFREG && static_cast<uint64_t>(st->st_size) == e.size;
        break;
      case static_cast<uint64_t>(EntryType::kDir):
      case kKindOpaque:
        type_ok = type == S_IFDIR;
        break;
      case static_cast<uint64_t>(EntryType::kSymlink): {
        type_ok = type == S_IFLNK;
        if (type_ok) {
          Result<std::string> target = sys.Readlinkat(fd->get(), "");
          type_ok = target && *target == e.link;
        }
        break;
      }
      case static_cast<uint64_t>(EntryType::kHardlink): {
        Result<UniqueFd> t = sys.Openat2(
            root_dirfd, e.link.empty() ? "." : e.link,
            sys::OpenHow{O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, kTreeResolve});
        Result<struct stat> ts =
            t ? sys.Fstatat(t->get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)
              : Result<struct stat>(std::move(t).error());
        type_ok = ts && ts->st_ino == st->st_ino && ts->st_dev == st->st_dev;
        break;
      }
      case static_cast<uint64_t>(EntryType::kCharDevice):
        type_ok = type == S_IFCHR;
        break;
      case static_cast<uint64_t>(EntryType::kBlockDevice):
        type_ok = type == S_IFBLK;
        break;
      case static_cast<uint64_t>(EntryType::kFifo):
        type_ok = type == S_IFIFO;
        break;
      case kKindWhiteout:
        type_ok = type == S_IFCHR && st->st_rdev == makedev(0, 0);
        break;
      default:
        return Corrupt(fmt::format("unknown entry kind {}", e.kind));
    }
    if (!type_ok) return fail("differs from the layer (type, size or target)");
    bool mode_applies = e.check_mode && e.kind != kKindWhiteout && e.kind != kKindOpaque &&
                        e.kind != static_cast<uint64_t>(EntryType::kSymlink) &&
                        e.kind != static_cast<uint64_t>(EntryType::kHardlink);
    if (mode_applies && (st->st_mode & 07777) != e.mode) {
      return fail(fmt::format("mode {:o}, the layer says {:o}", st->st_mode & 07777, e.mode));
    }
  }
  return Ok();
}

}  // namespace berth::archive
