#include "volume/volume_store.h"

#include <dirent.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "sql/database.h"
#include "sys/syscalls.h"
#include "volume/internal/mount_options.h"

namespace berth::volume {
namespace {

using Json = nlohmann::json;

bool NameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

std::string Record(const Volume& v) {
  Json j = {{"labels", v.labels}, {"options", v.options}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Sum of the sizes of the regular files under `dir` (symlinks not followed), as Docker's
// directory.Size; unreadable parts count as zero.
uint64_t TreeSize(const std::string& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  return total;
}

bool LabelMatches(const Volume& v, const std::string& filter) {
  size_t eq = filter.find('=');
  if (eq == std::string::npos) return v.labels.count(filter) != 0;
  auto it = v.labels.find(filter.substr(0, eq));
  return it != v.labels.end() && it->second == filter.substr(eq + 1);
}

bool LabelsMatch(const Volume& v, const std::vector<std::string>& labels) {
  return std::all_of(labels.begin(), labels.end(),
                     [&](const std::string& l) { return LabelMatches(v, l); });
}

}  // namespace

Status ValidateVolumeName(const std::string& name) {
  if (name.size() < 2) {
    return MakeError(Code::kInvalidArgument,
                     "volume name is too short, names should be at least two alphanumeric "
                     "characters");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0)) {
      return MakeError(
          Code::kInvalidArgument,
          fmt::format("\"{}\" includes invalid characters for a local volume name, only "
                      "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                      "directory, use absolute path",
                      name));
    }
  }
  // The rule already excludes '/'; ".." alone cannot start a name, but "a..b" is Docker's too.
  return Ok();
}

Result<std::unique_ptr<VolumeStore>> VolumeStore::Open(sql::Database& db, std::string root,
                                                       std::function<int64_t()> now,
                                                       sys::Syscalls* sys) {
  if (!now) now = [] { return NowUnixNanos(); };
  BERTH_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS volumes("
      " name TEXT PRIMARY KEY,"
      " driver TEXT NOT NULL,"
      " created INTEGER NOT NULL,"
      " record TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS volume_refs("
      " volume TEXT NOT NULL REFERENCES volumes(name),"
      " container TEXT NOT NULL,"
      " PRIMARY KEY(volume, container));"
      "CREATE INDEX IF NOT EXISTS volume_refs_container ON volume_refs(container)"));
  std::unique_ptr<VolumeStore> store(new VolumeStore(db, std::move(root), std::move(now), sys));
  BERTH_RETURN_IF_ERROR(store->SweepOrphans());
  return store;
}

Status VolumeStore::SweepOrphans() {
  auto lock = db_.Lock();
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(root_.c_str()), ::closedir);
  if (!dir) return ErrnoError("open " + root_);
  std::vector<std::string> entries;
  while (dirent* e = ::readdir(dir.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") entries.push_back(n);
  }
  for (const std::string& n : entries) {
    BERTH_ASSIGN_OR_RETURN(auto found, Find(n));
    if (found) continue;
    if (IsMountPoint(root_ + "/" + n + "/_data")) continue;  // never remove through a mount
    if (Status s = RemoveAll(root_ + "/" + n); !s) return s.error().WithContext("sweep volumes");
  }
  return Ok();
}

Result<std::optional<Volume>> VolumeStore::Find(const std::string& name) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.Prepare("SELECT driver, created, record FROM volumes WHERE name = ?"));
  st.Bind(1, name);
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<Volume>();
  Volume v;
  v.name = name;
  v.driver = st.ColumnText(0);
  v.created_at = st.ColumnInt(1);
  v.mountpoint = root_ + "/" + name + "/_data";
  Json j = Json::parse(st.ColumnText(2), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return MakeError(Code::kDataLoss, "volume " + name + ": corrupt record");
  try {
    v.labels = j.value("labels", std::map<std::string, std::string>{});
    v.options = j.value("options", std::map<std::string, std::string>{});
  } catch (const Json::exception& e) {
    return MakeError(Code::kDataLoss, fmt::format("volume {}: record: {}", name, e.what()));
  }
  BERTH_ASSIGN_OR_RETURN(auto refs, db_.Prepare("SELECT container FROM volume_refs WHERE volume = ? "
                                                "ORDER BY container"));
  refs.Bind(1, name);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool r, refs.Step());
    if (!r) break;
    v.users.push_back(refs.ColumnText(0));
  }
  return std::optional<Volume>(std::move(v));
}

Result<Volume> VolumeStore::Create(const CreateOptions& opts) {
  std::string driver = opts.driver.empty() ? "local" : opts.driver;
  if (driver != "local") {
    return MakeError(Code::kNotFound,
                     fmt::format("error looking up volume plugin {}: plugin \"{}\" not found",
                                 driver, driver));
  }
  for (const auto& [key, value] : opts.options) {
    if (key != "type" && key != "device" && key != "o" && key != "size") {
      return MakeError(Code::kInvalidArgument, fmt::format("invalid option key: \"{}\"", key));
    }
  }
  // As moby's local driver: type and device go together, o needs both; size needs quotas.
  auto has = [&](const char* k) { return opts.options.count(k) != 0; };
  for (const auto& [opt, needs] : std::vector<std::pair<const char*, std::vector<const char*>>>{
           {"device", {"type"}}, {"type", {"device"}}, {"o", {"device", "type"}}}) {
    if (!has(opt)) continue;
    for (const char* n : needs) {
      if (!has(n)) {
        return MakeError(Code::kInvalidArgument, fmt::format("missing required option: \"{}\"", n));
      }
    }
  }
  if (has("size")) {
    return MakeError(Code::kInvalidArgument, "quota size requested but no quota support");
  }
  if (has("type") && sys_ == nullptr) {
    return MakeError(Code::kFailedPrecondition, "volumes with mount options are not available here");
  }
  bool anonymous = opts.name.empty();
  std::string name = anonymous ? RandomHex(32) : opts.name;
  if (!anonymous) BERTH_RETURN_IF_ERROR(ValidateVolumeName(name));

  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto existing, Find(name));
  if (existing) {
    if (existing->driver != driver) {
      return MakeError(Code::kConflict,
                       fmt::format("volume name {} already in use with driver {}", name,
                                   existing->driver));
    }
    return *std::move(existing);
  }
  Volume v;
  v.name = name;
  v.driver = driver;
  v.created_at = now_();
  v.mountpoint = root_ + "/" + name + "/_data";
  v.labels = opts.labels;
  if (anonymous) v.labels[kAnonymousLabel] = "";
  v.options = opts.options;

  // Directory first, row last: the row is the commit point.
  std::string dir = root_ + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir " + dir);
  if (::mkdir(v.mountpoint.c_str(), 0755) != 0 && errno != EEXIST) {
    Error err = ErrnoError("mkdir " + v.mountpoint);
    (void)RemoveAll(dir);
    return err;
  }
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("INSERT INTO volumes(name, driver, created, record) "
                                              "VALUES(?, ?, ?, ?)"));
  st.Bind(1, name).Bind(2, driver).Bind(3, v.created_at).Bind(4, Record(v));
  if (Status s = st.Run(); !s) {
    (void)RemoveAll(dir);
    return s.error().WithContext("create volume " + name);
  }
  return v;
}

Result<Volume> VolumeStore::Get(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(auto found, Find(name));
  if (!found) return MakeError(Code::kNotFound, fmt::format("get {}: no such volume", name));
  return *std::move(found);
}

Result<std::vector<Volume>> VolumeStore::List(const ListFilter& filter) {
  auto lock = db_.Lock();
  std::vector<std::string> names;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT name FROM volumes ORDER BY name"));
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      names.push_back(st.ColumnText(0));
    }
  }
  std::vector<Volume> out;
  for (const std::string& name : names) {
    BERTH_ASSIGN_OR_RETURN(auto v, Find(name));
    if (!v) continue;
    if (filter.dangling && v->users.empty() != *filter.dangling) continue;
    if (!filter.names.empty() &&
        std::none_of(filter.names.begin(), filter.names.end(),
                     [&](const std::string& n) { return v->name.find(n) != std::string::npos; })) {
      continue;
    }
    if (!filter.drivers.empty() &&
        std::find(filter.drivers.begin(), filter.drivers.end(), v->driver) ==
            filter.drivers.end()) {
      continue;
    }
    if (!LabelsMatch(*v, filter.labels)) continue;
    out.push_back(*std::move(v));
  }
  return out;
}

Status VolumeStore::RemoveLocked(const Volume& v) {
  // Never remove through a mount: a bind-mounted host directory would be emptied.
  if (IsMountPoint(v.mountpoint)) {
    if (sys_ != nullptr) (void)sys_->Umount2(v.mountpoint, MNT_DETACH);
    if (IsMountPoint(v.mountpoint)) {
      return MakeError(Code::kConflict, fmt::format("remove {}: volume is still mounted at {}",
                                                    v.name, v.mountpoint));
    }
  }
  // Row first: once it is gone the volume is gone; a leftover directory is swept at Open().
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("DELETE FROM volumes WHERE name = ?"));
  st.Bind(1, v.name);
  BERTH_RETURN_IF_ERROR(st.Run());
  if (Status s = RemoveAll(root_ + "/" + v.name); !s) {
    return s.error().WithContext("remove volume " + v.name);
  }
  return Ok();
}

Status VolumeStore::Remove(const std::string& name, bool force) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto found, Find(name));
  if (!found) {
    if (force) return Ok();
    return MakeError(Code::kNotFound, fmt::format("get {}: no such volume", name));
  }
  if (!found->users.empty()) {
    return MakeError(Code::kConflict, fmt::format("remove {}: volume is in use - [{}]", name,
                                                  Join(found->users, " ")));
  }
  return RemoveLocked(*found);
}

Result<PruneReport> VolumeStore::Prune(bool all, const std::vector<std::string>& labels) {
  auto lock = db_.Lock();
  ListFilter filter;
  filter.dangling = true;
  filter.labels = labels;
  BERTH_ASSIGN_OR_RETURN(auto volumes, List(filter));
  PruneReport report;
  for (const Volume& v : volumes) {
    if (!all && !v.anonymous()) continue;
    uint64_t size = TreeSize(v.mountpoint);
    BERTH_RETURN_IF_ERROR(RemoveLocked(v));
    report.deleted.push_back(v.name);
    report.space_reclaimed += size;
  }
  return report;
}

Status VolumeStore::AddReference(const std::string& name, const std::string& container_id) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto found, Find(name));
  if (!found) return MakeError(Code::kNotFound, fmt::format("get {}: no such volume", name));
  BERTH_ASSIGN_OR_RETURN(
      auto st, db_.Prepare("INSERT OR IGNORE INTO volume_refs(volume, container) VALUES(?, ?)"));
  st.Bind(1, name).Bind(2, container_id);
  return st.Run();
}

Result<std::vector<std::string>> VolumeStore::RemoveReferences(const std::string& container_id) {
  auto lock = db_.Lock();
  std::vector<std::string> names;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT volume FROM volume_refs WHERE container = ? "
                                                "ORDER BY volume"));
    st.Bind(1, container_id);
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      names.push_back(st.ColumnText(0));
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM volume_refs WHERE container = ?"));
  del.Bind(1, container_id);
  BERTH_RETURN_IF_ERROR(del.Run());
  return names;
}

bool VolumeStore::IsMountPoint(const std::string& path) {
  // statx's STATX_ATTR_MOUNT_ROOT (Linux 5.8) sees bind mounts of the same file system too,
  // which a device comparison does not.
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS,
              &stx) != 0) {
    return false;
  }
  if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  struct stat parent {};
  if (::stat((path + "/..").c_str(), &parent) != 0) return false;
  return makedev(stx.stx_dev_major, stx.stx_dev_minor) != parent.st_dev;
}

namespace {

// "password=secret" anywhere in `text` becomes "password=********" (moby hides CIFS
// passwords from errors the same way).
std::string HidePassword(std::string text, std::string_view o) {
  for (const std::string& opt : Split(o, ',')) {
    if (opt.starts_with("password=") && opt.size() > 9) {
      for (size_t at = text.find(opt); at != std::string::npos; at = text.find(opt, at)) {
        text.replace(at, opt.size(), "password=********");
      }
    }
  }
  return text;
}

}  // namespace

Status VolumeStore::Mount(const std::string& name, const std::string& container_id) {
  BERTH_ASSIGN_OR_RETURN(Volume v, Get(name));
  auto type = v.options.find("type");
  if (type == v.options.end()) return {};
  if (sys_ == nullptr) return MakeError(Code::kFailedPrecondition, "volume mounts are not available");
  std::lock_guard lock(active_mu_);
  std::set<std::string>& users = active_[name];
  if (users.empty() && !IsMountPoint(v.mountpoint)) {
    std::string o = v.options.count("o") ? v.options.at("o") : "";
    internal::MountOptions mo = internal::ParseMountOptions(o);
    std::string device = v.options.count("device") ? v.options.at("device") : "";
    std::string fstype = type->second == "none" ? "" : type->second;
    Status st = sys_->Mount(device, v.mountpoint, fstype, mo.flags, mo.data);
    if (!st) {
      active_.erase(name);
      return MakeError(st.error().code,
                       HidePassword(fmt::format("failed to mount local volume: mount {}:{}, flags: {:#x}, data: {}: {}",
                                                device, v.mountpoint, mo.flags, mo.data, st.error().message),
                                    o));
    }
    // A bind mount takes the flags only on a remount.
    if ((mo.flags & MS_BIND) && (mo.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) {
      unsigned long remount = MS_REMOUNT | MS_BIND | (mo.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));  // NOLINT
      if (Status r = sys_->Mount("", v.mountpoint, "", remount, ""); !r) {
        (void)sys_->Umount2(v.mountpoint, MNT_DETACH);
        active_.erase(name);
        return r.error().WithContext("failed to mount local volume: remount " + v.mountpoint);
      }
    }
  }
  users.insert(container_id);
  return {};
}

Status VolumeStore::Unmount(const std::string& name, const std::string& container_id) {
  std::lock_guard lock(active_mu_);
  auto it = active_.find(name);
  if (it == active_.end()) return {};
  it->second.erase(container_id);
  if (!it->second.empty()) return {};
  active_.erase(it);
  std::string mountpoint = root_ + "/" + name + "/_data";
  if (!IsMountPoint(mountpoint)) return {};
  if (Status st = sys_->Umount2(mountpoint, MNT_DETACH); !st) {
    return st.error().WithContext("unmount volume " + name);
  }
  return {};
}

Status VolumeStore::UnmountIdle() {
  if (sys_ == nullptr) return {};
  BERTH_ASSIGN_OR_RETURN(std::vector<Volume> all, List());
  std::lock_guard lock(active_mu_);
  for (const Volume& v : all) {
    if (!v.options.count("type") || active_.count(v.name) || !IsMountPoint(v.mountpoint)) continue;
    if (Status st = sys_->Umount2(v.mountpoint, MNT_DETACH); !st) return st;
  }
  return {};
}

}  // namespace berth::volume
