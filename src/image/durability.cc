// Durability of layers kept as tree + tar-split: written without a sync, recorded with the boot
// ID they were written under (image_layers.unsynced_boot), synced in the background after their
// image is recorded, then marked durable. At start, what a previous run left unsynced is synced
// (same boot: the page cache still holds it) or, after a reboot, verified against the metadata
// and the diff_id: an image with a layer that fails is removed and reported lost, never served.
#include <fcntl.h>
#include <sys/stat.h>

#include <set>

#include <spdlog/spdlog.h>

#include "base/file.h"
#include "base/strings.h"
#include "image/internal/impl.h"

namespace berth::image {
namespace {

constexpr char kBootIdPath[] = "/proc/sys/kernel/random/boot_id";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void ImageStore::Impl::SyncLayersNow(const std::vector<oci::Digest>& chains) {
  std::set<dev_t> synced;  // one syncfs per file system (all layers share the snapshots' one)
  std::vector<oci::Digest> done;
  for (const oci::Digest& chain : chains) {
    Result<std::string> tree = snapshots.LayerPath(chain.ToString());
    if (!tree) continue;  // removed since: nothing to sync
    Result<UniqueFd> dir = OpenFile(*tree, O_RDONLY | O_DIRECTORY);
    Result<struct stat> st = dir ? sys.Fstatat(dir->get(), "", AT_EMPTY_PATH)
                                 : Result<struct stat>(std::move(dir).error());
    if (!st) {
      spdlog::warn("image store: sync layer {}: {}", chain.ToString(), st.error().message);
      continue;
    }
    if (!synced.contains(st->st_dev)) {
      Status s = sys.Syncfs(dir->get());
      if (!s) {
        spdlog::error("image store: sync layer {}: {}", chain.ToString(), s.error().message);
        continue;
      }
      synced.insert(st->st_dev);
    }
    done.push_back(chain);
  }
  if (done.empty()) return;
  Result<sql::Transaction> tx = sql::Transaction::Begin(db);
  Status st = tx ? Ok() : Status(std::move(tx).error());
  for (const oci::Digest& chain : done) {
    if (!st) break;
    Result<sql::Statement> up =
        db.Prepare("UPDATE image_layers SET unsynced_boot = '' WHERE chain_id = ?");
    if (!up) {
      st = std::move(up).error();
      break;
    }
    up->Bind(1, chain.ToString());
    st = up->Run();
  }
  if (st) st = tx->Commit();
  if (!st) spdlog::warn("image store: record synced layers: {}", st.error().message);
}

Status ImageStore::Impl::RecoverUnsyncedLayers() {
  if (options.boot_id.empty()) {
    Result<std::string> id = ReadFile(kBootIdPath);
    if (id) options.boot_id = Trim(*id);
    if (options.boot_id.empty()) {
      // Unknown: never taken for this boot later, so a crash is always caught by verifying.
      options.boot_id = "unknown-" + RandomHex(16);
      spdlog::warn("image store: no boot ID ({}): unsynced layers are verified at every start",
                   kBootIdPath);
    }
  }
  struct Unsynced {
    LayerInfo layer;
    std::string boot;
  };
  std::vector<Unsynced> found;
  {
    auto lock = db.Lock();
    BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                           db.Prepare("SELECT chain_id, diff_id, diff_size, tar_split, "
                                      "unsynced_boot FROM image_layers WHERE unsynced_boot != '' "
                                      "ORDER BY rowid"));
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      Unsynced u;
      Result<oci::Digest> chain = oci::Digest::Parse(st.ColumnText(0));
      Result<oci::Digest> diff = oci::Digest::Parse(st.ColumnText(1));
      if (!chain || !diff) continue;
      u.layer.chain_id = *chain;
      u.layer.diff_id = *diff;
      u.layer.diff_size = st.ColumnInt(2);
      u.layer.blob = *diff;  // a tar-split layer's blob is the uncompressed tar
      if (Result<oci::Digest> ts = oci::Digest::Parse(st.ColumnText(3))) u.layer.tar_split = *ts;
      u.boot = st.ColumnText(4);
      found.push_back(std::move(u));
    }
  }
  std::vector<oci::Digest> this_boot;
  for (Unsynced& u : found) {
    if (u.boot == options.boot_id) {
      this_boot.push_back(u.layer.chain_id);  // written before a restart, not a reboot
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(std::optional<LayerInfo> still, FindLayer(u.layer.chain_id));
    if (!still) continue;  // went with an image already dropped
    Status ok = u.layer.tar_split.valid()
                    ? VerifyLayer(u.layer)
                    : MakeError(Code::kDataLoss, "no tar-split metadata to verify it with");
    if (ok) {
      spdlog::info("image store: layer {} (unsynced when boot {} ended) verified intact",
                   u.layer.chain_id.ToString(), u.boot);
      SyncLayersNow({u.layer.chain_id});
      continue;
    }
    spdlog::error("image store: layer {} was not yet on disk when boot {} ended, and is damaged: "
                  "{}; removing the images that use it",
                  u.layer.chain_id.ToString(), u.boot, ok.error().message);
    std::vector<oci::Digest> images;
    {
      auto lock = db.Lock();
      BERTH_ASSIGN_OR_RETURN(
          sql::Statement st,
          db.Prepare("SELECT DISTINCT image_id FROM image_image_layers WHERE chain_id = ?"));
      st.Bind(1, u.layer.chain_id.ToString());
      while (true) {
        BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        if (Result<oci::Digest> d = oci::Digest::Parse(st.ColumnText(0))) images.push_back(*d);
      }
    }
    for (const oci::Digest& id : images) {
      std::string names;
      if (Result<Image> img = LoadImage(id)) {
        for (const oci::Reference& t : img->tags) names += " " + t.FamiliarString();
      }
      Result<int64_t> gone = DeleteImage(id);
      if (!gone) {
        spdlog::error("image store: remove lost image {}: {}", id.ToString(),
                      gone.error().message);
        continue;
      }
      spdlog::error("image store: image {}{} lost (power loss before its layer was synced)",
                    id.ToString(), names);
    }
  }
  SyncLayersNow(this_boot);
  return Ok();
}

}  // namespace berth::image
