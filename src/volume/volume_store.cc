#include "volume/volume_store.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "sql/database.h"

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
                                                       std::function<int64_t()> now) {
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
  std::unique_ptr<VolumeStore> store(new VolumeStore(db, std::move(root), std::move(now)));
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

}  // namespace berth::volume
