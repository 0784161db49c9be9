// cp: files between a container and the local file system, as docker cp does it. The daemon
// speaks tar (GET/PUT /containers/{id}/archive, HEAD for a path's stat); `-` streams that tar
// from stdin or to stdout. Local paths are packed and unpacked with libarchive on a thread that
// talks to the request through a pipe, so nothing is held in memory whole.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "cli/internal/command.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReadPtr = std::unique_ptr<archive, ArchiveReadDeleter>;
using ArchiveWritePtr = std::unique_ptr<archive, ArchiveWriteDeleter>;

Error ArchiveError(archive* a, std::string_view what) {
  const char* msg = archive_error_string(a);
  return MakeError(Code::kInternal, fmt::format("{}: {}", what, msg ? msg : "unknown error"));
}

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string DirName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// "container:/path" -> {"container", "/path"}; a local path (no colon before a slash) -> {"", p}.
std::pair<std::string, std::string> SplitCpArg(const std::string& arg) {
  if (arg.starts_with("/") || arg.starts_with(".")) return {"", arg};
  size_t colon = arg.find(':');
  if (colon == std::string::npos) return {"", arg};
  return {arg.substr(0, colon), arg.substr(colon + 1)};
}

std::optional<std::string> Base64Decode(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

struct PathStat {
  bool exists = false;
  bool is_dir = false;
};

// HEAD /containers/{id}/archive?path=: the X-Docker-Container-Path-Stat header (Go FileMode,
// directory bit 1<<31).
Result<PathStat> StatInContainer(ApiClient& api, const std::string& container,
                                 const std::string& path) {
  Request req;
  req.method = "HEAD";
  req.path = "/containers/" + container + "/archive";
  req.query = {{"path", path}};
  Result<Response> got = api.Do(req);
  if (!got) {
    if (got.error().code == Code::kNotFound) return PathStat{};
    return std::move(got).error();
  }
  PathStat st;
  st.exists = true;
  auto it = got->headers.find("x-docker-container-path-stat");
  if (it != got->headers.end()) {
    std::optional<std::string> decoded = Base64Decode(it->second);
    auto stat = json::parse(decoded.value_or(""), nullptr, false);
    if (stat.is_object() && stat.contains("mode") && stat["mode"].is_number()) {
      st.is_dir = (stat["mode"].get<uint64_t>() & (uint64_t{1} << 31)) != 0;
    }
  }
  return st;
}

Result<std::pair<UniqueFd, UniqueFd>> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  return std::pair<UniqueFd, UniqueFd>(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

// Renames the first path element `from` to `to` ("data/x" -> "copy/x").
std::string Rebase(const std::string& name, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return name;
  if (name == from) return to;
  if (name.starts_with(from + "/")) return to + name.substr(from.size());
  return name;
}

// Unpacks a tar read from `fd` into `dir`, renaming its first element `from` to `to`. Names are
// all put under `dir` (absolute ones too); ".." and writes through symlinks are refused.
Status Extract(int fd, const std::string& dir, const std::string& from, const std::string& to) {
  ArchiveReadPtr in(archive_read_new());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_fd(in.get(), fd, 64 * 1024) != ARCHIVE_OK) {
    return ArchiveError(in.get(), "read archive");
  }
  ArchiveWritePtr out(archive_write_disk_new());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  while (true) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return ArchiveError(in.get(), "read archive");
    std::string name = Rebase(archive_entry_pathname(entry), from, to);
    archive_entry_set_pathname(entry, (dir + "/" + name).c_str());
    const char* hardlink = archive_entry_hardlink(entry);
    if (hardlink != nullptr) {
      archive_entry_set_hardlink(entry, (dir + "/" + Rebase(hardlink, from, to)).c_str());
    }
    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN) {
      return ArchiveError(out.get(), "extract " + name);
    }
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((rc = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN) {
        return ArchiveError(out.get(), "extract " + name);
      }
    }
    if (rc != ARCHIVE_EOF) return ArchiveError(in.get(), "read archive");
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
      return ArchiveError(out.get(), "extract " + name);
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) return ArchiveError(out.get(), "extract");
  return Ok();
}

// Packs local `src` as a tar into `fd`, its top element named `as`.
Status Pack(const std::string& src, const std::string& as, int fd, bool follow_link) {
  ArchiveReadPtr disk(archive_read_disk_new());
  archive_read_disk_set_standard_lookup(disk.get());
  if (follow_link) {
    archive_read_disk_set_symlink_hybrid(disk.get());
  } else {
    archive_read_disk_set_symlink_physical(disk.get());
  }
  if (archive_read_disk_open(disk.get(), src.c_str()) != ARCHIVE_OK) {
    return ArchiveError(disk.get(), "open " + src);
  }
  ArchiveWritePtr out(archive_write_new());
  archive_write_set_format_pax_restricted(out.get());
  if (archive_write_open_fd(out.get(), fd) != ARCHIVE_OK) {
    return ArchiveError(out.get(), "write archive");
  }
  std::string top = src;
  while (top.size() > 1 && top.back() == '/') top.pop_back();
  while (true) {
    archive_entry* entry = archive_entry_new();
    int rc = archive_read_next_header2(disk.get(), entry);
    if (rc == ARCHIVE_EOF) {
      archive_entry_free(entry);
      break;
    }
    if (rc < ARCHIVE_WARN) {
      archive_entry_free(entry);
      return ArchiveError(disk.get(), "read " + src);
    }
    archive_read_disk_descend(disk.get());
    std::string path = archive_entry_pathname(entry);
    std::string rel = path.size() > top.size() ? path.substr(top.size()) : "";
    archive_entry_set_pathname(entry, (as + rel).c_str());
    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN) {
      archive_entry_free(entry);
      return ArchiveError(out.get(), "write archive");
    }
    if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0) {
      UniqueFd file(::open(archive_entry_sourcepath(entry), O_RDONLY | O_CLOEXEC));
      if (!file.valid()) {
        archive_entry_free(entry);
        return ErrnoError(fmt::format("open {}", path));
      }
      char buf[64 * 1024];
      ssize_t n;
      while ((n = ::read(file.get(), buf, sizeof(buf))) > 0) {
        if (archive_write_data(out.get(), buf, static_cast<size_t>(n)) < 0) {
          archive_entry_free(entry);
          return ArchiveError(out.get(), "write archive");
        }
      }
    }
    archive_entry_free(entry);
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) return ArchiveError(out.get(), "write archive");
  return Ok();
}

struct CpOptions {
  bool archive = false;
  bool follow_link = false;
  bool quiet = false;
  std::vector<std::string> args;
  CommandInfo info;
};

Status CopyFromContainer(Context& ctx, ApiClient& api, const std::string& container,
                         const std::string& src, const std::string& dst) {
  Request req;
  req.path = "/containers/" + container + "/archive";
  req.query = {{"path", src}};
  if (dst == "-") {
    BERTH_ASSIGN_OR_RETURN(Response response, api.Do(req, ctx.env().out));
    (void)response;
    return Ok();
  }
  // docker's CopyTo: into an existing directory under the source's name, else as `dst`.
  struct stat st {};
  bool dst_is_dir = ::stat(dst.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  std::string into = dst_is_dir ? dst : DirName(dst);
  std::string from = BaseName(src);
  std::string to = dst_is_dir ? from : BaseName(dst);
  if (!dst_is_dir && ::stat(into.c_str(), &st) != 0) {
    return ErrnoError(fmt::format("destination directory \"{}\" must exist", into));
  }
  BERTH_ASSIGN_OR_RETURN(auto fds, MakePipe());
  auto [read_end, write_end] = std::move(fds);
  Status fetched;
  std::thread fetch([&, w = std::move(write_end)]() mutable {
    FdWriter writer(w.get());
    Result<Response> got = api.Do(req, &writer);
    if (!got) fetched = std::move(got).error();
    w.Reset();  // end of the tar for the extractor
  });
  Status extracted = Extract(read_end.get(), into, from, to);
  read_end.Reset();  // a failed extract unblocks the fetch
  fetch.join();
  BERTH_RETURN_IF_ERROR(fetched);
  return extracted;
}

Status CopyToContainer(Context& ctx, ApiClient& api, const std::string& container,
                       const std::string& src, const std::string& dst, bool copy_uid_gid,
                       bool follow_link) {
  BERTH_ASSIGN_OR_RETURN(PathStat dst_stat, StatInContainer(api, container, dst));
  Request req;
  req.method = "PUT";
  req.path = "/containers/" + container + "/archive";
  req.headers = {{"Content-Type", "application/x-tar"}};
  if (src == "-") {
    if (!dst_stat.exists || !dst_stat.is_dir) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("destination \"{}:{}\" must be a directory", container, dst));
    }
    req.query = {{"path", dst}, {"noOverwriteDirNonDir", "true"}};
    if (copy_uid_gid) req.query.emplace_back("copyUIDGID", "true");
    req.body_stream = ctx.env().in;
    BERTH_ASSIGN_OR_RETURN(Response response, api.Do(req));
    (void)response;
    return Ok();
  }
  struct stat st {};
  if (::stat(src.c_str(), &st) != 0) return ErrnoError(fmt::format("stat {}", src));
  std::string path = dst_stat.exists && dst_stat.is_dir ? dst : DirName(dst);
  std::string as = dst_stat.exists && dst_stat.is_dir ? BaseName(src) : BaseName(dst);
  req.query = {{"path", path}, {"noOverwriteDirNonDir", "true"}};
  if (copy_uid_gid) req.query.emplace_back("copyUIDGID", "true");
  BERTH_ASSIGN_OR_RETURN(auto fds, MakePipe());
  auto [read_end, write_end] = std::move(fds);
  Status packed;
  std::thread pack([&, w = std::move(write_end)]() mutable {
    packed = Pack(src, as, w.get(), follow_link);
    w.Reset();
  });
  FdReader body(read_end.get());
  req.body_stream = &body;
  Result<Response> sent = api.Do(req);
  read_end.Reset();  // a failed upload unblocks the packer
  pack.join();
  BERTH_RETURN_IF_ERROR(packed);
  if (!sent) return std::move(sent).error();
  return Ok();
}

Status RunCp(Context& ctx, const CpOptions& o) {
  BERTH_RETURN_IF_ERROR(ExactArgs(o.info, o.args, 2));
  auto [src_container, src] = SplitCpArg(o.args[0]);
  auto [dst_container, dst] = SplitCpArg(o.args[1]);
  if (src_container.empty() == dst_container.empty()) {
    return MakeError(Code::kInvalidArgument, src_container.empty()
                                                 ? "must specify at least one container source"
                                                 : "copying between containers is not supported");
  }
  if (src.empty() || dst.empty()) {
    return MakeError(Code::kInvalidArgument, "filepath cannot be empty");
  }
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  if (!src_container.empty()) return CopyFromContainer(ctx, *api, src_container, src, dst);
  return CopyToContainer(ctx, *api, dst_container, src, dst, o.archive, o.follow_link);
}

}  // namespace

void AddCpCommands(CLI::App& root, CLI::App& container, Action* selected) {
  for (auto [parent, path] :
       {std::pair<CLI::App*, std::string>{&root, "berth cp"},
        std::pair<CLI::App*, std::string>{&container, "berth container cp"}}) {
    auto o = std::make_shared<CpOptions>();
    o->info = {path, path + " [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-",
               "Copy files/folders between a container and the local filesystem"};
    CLI::App* cmd = AddCommand(*parent, "cp", o->info.description, selected,
                               [o](Context& ctx) { return RunCp(ctx, *o); });
    cmd->add_flag("-a,--archive", o->archive, "Archive mode (copy all uid/gid information)");
    cmd->add_flag("-L,--follow-link", o->follow_link, "Always follow symbol link in SRC_PATH");
    cmd->add_flag("-q,--quiet", o->quiet, "Suppress progress output during copy");
    cmd->add_option("PATHS", o->args, "SRC DEST");
  }
}

}  // namespace berth::cli
