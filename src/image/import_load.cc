// Import (a rootfs tar becomes a one-layer image) and load (docker-archive / OCI layout tars).
//
// load spools the archive first, because manifest.json may come last: blobs named
// blobs/<alg>/<hex> go straight into the content store (verified against their names as they
// stream), every other regular file into a private directory under the data root's tmp/.
// Symlinks and hard links inside the archive (Docker's legacy <id>/layer.tar links) are resolved
// lexically within the archive; nothing from the archive is ever created as a link on disk.
#include <fcntl.h>

#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "archive/tar_reader.h"
#include "base/cleanup.h"
#include "base/file.h"
#include "base/strings.h"
#include "image/changes.h"
#include "image/internal/impl.h"
#include "oci/chain_id.h"
#include "oci/image_layout.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace berth::image {
namespace {

constexpr size_t kMaxSmallFile = 16 << 20;  // manifests, configs, index.json

// Lexically cleans "a/./b/../c" -> "a/c"; nullopt if it climbs above the root.
std::optional<std::string> CleanArchivePath(std::string_view p) {
  std::vector<std::string> parts;
  for (const std::string& part : Split(p, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return std::nullopt;
  return Join(parts, "/");
}

// Owns an fd and reads it from the start.
class OwnedFdReader : public Reader {
 public:
  explicit OwnedFdReader(UniqueFd fd) : fd_(std::move(fd)), reader_(fd_.get()) {}
  Result<size_t> Read(char* buf, size_t size) override { return reader_.Read(buf, size); }

 private:
  UniqueFd fd_;
  FdReader reader_;
};

// Counts the bytes read through it.
class CountingReader : public Reader {
 public:
  explicit CountingReader(Reader& src) : src_(src) {}
  Result<size_t> Read(char* buf, size_t size) override {
    BERTH_ASSIGN_OR_RETURN(size_t n, src_.Read(buf, size));
    count_ += n;
    return n;
  }
  uint64_t count() const { return count_; }

 private:
  Reader& src_;
  uint64_t count_ = 0;
};

// The files of a spooled archive.
class Spool {
 public:
  Spool(ImageStore::Impl& impl, std::string dir, std::string lease, Undo& undo)
      : impl_(impl), dir_(std::move(dir)), lease_(std::move(lease)), undo_(undo) {}

  Status Read(Reader& raw) {
    CountingReader input(raw);
    Result<std::unique_ptr<archive::TarReader>> opened = archive::TarReader::Open(input);
    if (!opened) {
      if (input.count() == 0) return EmptyArchive();
      return std::move(opened).error().WithContext("load: read archive");
    }
    std::unique_ptr<archive::TarReader> tar = std::move(*opened);
    int64_t entries = 0;
    while (true) {
      Result<std::optional<archive::TarEntry>> next = tar->Next();
      if (!next) {
        if (input.count() == 0) return EmptyArchive();
        return std::move(next).error().WithContext("load: read archive");
      }
      if (!next->has_value()) break;
      const archive::TarEntry& e = **next;
      ++entries;
      std::optional<std::string> path = CleanArchivePath(e.path);
      if (e.type == archive::EntryType::kDir) continue;
      if (!path) {
        return MakeError(Code::kInvalidArgument,
                         "load: archive entry \"" + e.path + "\" is outside the archive");
      }
      switch (e.type) {
        case archive::EntryType::kFile:
          BERTH_RETURN_IF_ERROR(AddFile(*path, e, tar->data()));
          break;
        case archive::EntryType::kSymlink:
        case archive::EntryType::kHardlink:
          BERTH_RETURN_IF_ERROR(AddLink(*path, e));
          break;
        default:
          return MakeError(Code::kInvalidArgument,
                           "load: unexpected " + std::string(archive::EntryTypeName(e.type)) +
                               " entry \"" + e.path + "\" in an image archive");
      }
    }
    if (entries == 0) return EmptyArchive();
    return Ok();
  }

  bool Has(const std::string& path) { return Resolve(path).has_value(); }

  // Opens a file of the archive. NotFound names the path.
  Result<std::unique_ptr<Reader>> Open(const std::string& archive_path) {
    std::optional<std::string> p = Resolve(archive_path);
    if (!p) return Missing(archive_path);
    if (auto it = blobs_.find(*p); it != blobs_.end()) {
      BERTH_ASSIGN_OR_RETURN(auto blob, impl_.content.Open(it->second));
      return std::unique_ptr<Reader>(std::move(blob));
    }
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(files_.at(*p), O_RDONLY));
    return std::unique_ptr<Reader>(std::make_unique<OwnedFdReader>(std::move(fd)));
  }

  Result<std::string> ReadSmall(const std::string& archive_path) {
    BERTH_ASSIGN_OR_RETURN(auto r, Open(archive_path));
    Result<std::string> data = ReadAll(*r, kMaxSmallFile);
    if (!data) return std::move(data).error().WithContext("load: " + archive_path);
    return data;
  }

  // The content blob a path is, if it came in as blobs/<alg>/<hex>.
  std::optional<oci::Digest> BlobOf(const std::string& archive_path) {
    std::optional<std::string> p = Resolve(archive_path);
    if (!p) return std::nullopt;
    auto it = blobs_.find(*p);
    if (it == blobs_.end()) return std::nullopt;
    return it->second;
  }

  const std::vector<oci::Digest>& new_blobs() const { return new_blobs_; }

 private:
  static Error EmptyArchive() {
    return MakeError(Code::kInvalidArgument, "load: the archive is empty (no tar entries)");
  }
  static Error Missing(const std::string& path) {
    return MakeError(Code::kInvalidArgument,
                     "load: the archive names \"" + path + "\", which it does not contain");
  }

  std::optional<std::string> Resolve(std::string path) {
    for (int hops = 0; hops < 32; ++hops) {
      if (blobs_.count(path) || files_.count(path)) return path;
      auto it = links_.find(path);
      if (it == links_.end()) return std::nullopt;
      path = it->second;
    }
    return std::nullopt;  // a link loop
  }

  // A symlink's target is relative to its directory, a hard link's to the archive's root;
  // either must stay inside the archive. Links are only remembered, never created.
  Status AddLink(const std::string& path, const archive::TarEntry& e) {
    std::optional<std::string> target;
    if (e.type == archive::EntryType::kHardlink) {
      target = CleanArchivePath(e.linkname);
    } else if (!e.linkname.starts_with("/")) {
      std::string dir = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/'));
      target = CleanArchivePath(dir + "/" + e.linkname);
    }
    if (!target) {
      return MakeError(Code::kInvalidArgument, "load: link \"" + e.path + "\" -> \"" + e.linkname +
                                                   "\" points outside the archive");
    }
    links_[path] = *target;
    return Ok();
  }

  Status AddFile(const std::string& path, const archive::TarEntry& e, Reader& data) {
    std::vector<std::string> parts = Split(path, '/');
    if (parts.size() == 3 && parts[0] == "blobs") {
      Result<oci::Digest> d = oci::Digest::Parse(parts[1] + ":" + parts[2]);
      if (d) return AddBlob(path, *d, e.size, data);
    }
    std::string local = dir_ + "/f" + std::to_string(files_.size());
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(local, O_WRONLY | O_CREAT | O_EXCL, 0600));
    FdWriter w(fd.get());
    Result<uint64_t> n = Copy(data, w);
    if (!n) return std::move(n).error().WithContext("load: " + path);
    files_[path] = local;
    return Ok();
  }

  Status AddBlob(const std::string& path, const oci::Digest& d, int64_t size, Reader& data) {
    bool existed = impl_.content.Info(d).ok();
    BERTH_RETURN_IF_ERROR(impl_.content.AddReference(d, lease_));
    if (!existed) {
      BERTH_ASSIGN_OR_RETURN(auto w, impl_.content.Writer(lease_ + "-" + d.hex(), d, size));
      Result<uint64_t> n = Copy(data, *w);
      if (!n) {
        (void)w->Abort();
        return std::move(n).error().WithContext("load: " + path);
      }
      Result<oci::Digest> committed = w->Commit(d, size);
      if (!committed) return std::move(committed).error().WithContext("load: " + path);
      undo_.blobs.push_back(d);
      new_blobs_.push_back(d);
    }
    blobs_[path] = d;
    return Ok();
  }

  ImageStore::Impl& impl_;
  std::string dir_;
  std::string lease_;
  Undo& undo_;
  std::map<std::string, oci::Digest> blobs_;
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> links_;
  std::vector<oci::Digest> new_blobs_;
};

struct LoadTarget {
  std::string config_path;
  std::vector<std::string> layer_paths;
  std::vector<oci::Reference> tags;
};

}  // namespace

Result<Image> ImageStore::Import(Reader& tar, const ImportOptions& options) {
  oci::ImageConfig config;
  // Bad changes are refused before a byte of the tar is read.
  BERTH_RETURN_IF_ERROR(ApplyChanges(options.changes, config.config));
  std::lock_guard op(impl_->op_mu);
  Undo undo;
  Cleanup rollback([&] { impl_->Rollback(undo); });

  Result<LayerInfo> layer = impl_->UnpackLayer(tar, oci::Digest(), /*store_blob=*/true, undo);
  if (!layer) return std::move(layer).error().WithContext("import");

  std::string now = FormatRfc3339Nano(NowUnixNanos());
  oci::Platform platform = options.platform.value_or(oci::HostPlatform());
  config.created = now;
  config.architecture = platform.architecture;
  config.os = platform.os.empty() ? "linux" : platform.os;
  config.variant = platform.variant;
  config.rootfs.diff_ids = {layer->diff_id};
  oci::History h;
  h.created = now;
  h.comment = options.message.empty() ? "Imported from " + options.source : options.message;
  config.history = {h};
  // Docker keeps the message in the config's own "comment" too (image inspect's Comment).
  config.extra["comment"] = nlohmann::json(h.comment).dump();

  BERTH_ASSIGN_OR_RETURN(Image image,
                         impl_->AssembleImage(oci::SerializeImageConfig(config), {*layer}, undo));
  std::vector<oci::Reference> tags;
  if (options.tag) tags.push_back(options.tag->TagNameOnly());
  BERTH_RETURN_IF_ERROR(impl_->CommitImage(image, tags));
  rollback.Cancel();
  return impl_->LoadImage(image.id);
}

Result<std::vector<std::string>> ImageStore::Load(Reader& input, const ProgressFn& progress) {
  std::lock_guard op(impl_->op_mu);
  std::string dir = impl_->options.tmp_dir + "/load-" + RandomHex(8);
  BERTH_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::string lease = std::string(kLoadLeasePrefix) + RandomHex(8);
  Undo undo;
  Spool spool(*impl_, dir, lease, undo);
  Cleanup cleanup([&] {
    (void)impl_->content.RemoveOwner(lease);
    impl_->Rollback(undo);
    // Blobs of the archive that no image took (e.g. its own manifests) are not kept.
    for (const oci::Digest& d : spool.new_blobs()) (void)impl_->content.Delete(d);
    Status st = RemoveAll(dir);
    if (!st) spdlog::warn("load: remove {}: {}", dir, st.error().message);
  });

  BERTH_RETURN_IF_ERROR(spool.Read(input));

  // Which images the archive holds: manifest.json (docker-archive) first, else index.json.
  std::vector<LoadTarget> targets;
  std::map<oci::Digest, std::string> manifests_by_config;  // from index.json, to keep digests
  if (spool.Has(std::string(oci::kOciIndexFile))) {
    BERTH_ASSIGN_OR_RETURN(std::string bytes, spool.ReadSmall(std::string(oci::kOciIndexFile)));
    Result<oci::Index> index = oci::ParseIndex(bytes);
    if (!index) return std::move(index).error().WithContext("load: index.json");
    for (const oci::Descriptor& d : index->manifests) {
      if (!oci::IsManifest(d.media_type)) continue;  // nested indexes: not in archives we write
      std::string path = oci::BlobPath(d.digest);
      BERTH_ASSIGN_OR_RETURN(std::string mbytes, spool.ReadSmall(path));
      if (oci::Digest::Of(mbytes, d.digest.algorithm()) != d.digest) {
        return MakeError(Code::kDataLoss, "load: " + path + ": digest mismatch");
      }
      Result<oci::Manifest> m = oci::ParseManifest(mbytes);
      if (!m) return std::move(m).error().WithContext("load: " + path);
      manifests_by_config[m->config.digest] = mbytes;
      LoadTarget t;
      t.config_path = oci::BlobPath(m->config.digest);
      for (const oci::Descriptor& l : m->layers) t.layer_paths.push_back(oci::BlobPath(l.digest));
      auto name = d.annotations.find(std::string(oci::kAnnotationContainerdImageName));
      if (name != d.annotations.end()) {
        if (Result<oci::Reference> r = oci::ParseNormalizedNamed(name->second)) {
          t.tags.push_back(r->TagNameOnly());
        }
      }
      targets.push_back(std::move(t));
    }
  }
  if (spool.Has(std::string(oci::kDockerArchiveManifestFile))) {
    // manifest.json is what docker load reads; it replaces what index.json said.
    targets.clear();
    BERTH_ASSIGN_OR_RETURN(std::string bytes,
                           spool.ReadSmall(std::string(oci::kDockerArchiveManifestFile)));
    Result<std::vector<oci::DockerArchiveEntry>> entries = oci::ParseDockerArchiveManifest(bytes);
    if (!entries) return std::move(entries).error().WithContext("load: manifest.json");
    for (const oci::DockerArchiveEntry& e : *entries) {
      LoadTarget t;
      t.config_path = e.config;
      t.layer_paths = e.layers;
      for (const std::string& tag : e.repo_tags) {
        Result<oci::Reference> r = oci::ParseNormalizedNamed(tag);
        if (!r) return std::move(r).error().WithContext("load: manifest.json: RepoTags");
        t.tags.push_back(r->TagNameOnly());
      }
      targets.push_back(std::move(t));
    }
  }
  if (targets.empty()) {
    return MakeError(
        Code::kInvalidArgument,
        "load: not an image archive: it has no manifest.json and no image in index.json");
  }

  std::vector<std::string> lines;
  for (const LoadTarget& t : targets) {
    BERTH_ASSIGN_OR_RETURN(std::string config_bytes, spool.ReadSmall(t.config_path));
    Result<oci::ImageConfig> config = oci::ParseImageConfig(config_bytes);
    if (!config) return std::move(config).error().WithContext("load: " + t.config_path);
    const std::vector<oci::Digest>& diff_ids = config->rootfs.diff_ids;
    if (diff_ids.size() != t.layer_paths.size()) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("load: {}: the config lists {} layers, the archive {}",
                                   t.config_path, diff_ids.size(), t.layer_paths.size()));
    }
    std::vector<oci::Digest> chains = oci::ChainIds(diff_ids);
    std::vector<LayerInfo> layers;
    for (size_t i = 0; i < t.layer_paths.size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(std::optional<LayerInfo> have, impl_->FindLayer(chains[i]));
      if (have) {
        layers.push_back(*have);
        continue;
      }
      const std::string& path = t.layer_paths[i];
      BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Reader> r, spool.Open(path));
      std::optional<oci::Digest> as_blob = spool.BlobOf(path);
      Result<LayerInfo> layer = impl_->UnpackLayer(*r, i ? chains[i - 1] : oci::Digest(),
                                                   /*store_blob=*/!as_blob, undo);
      if (!layer) return std::move(layer).error().WithContext("load: layer " + path);
      if (layer->diff_id != diff_ids[i]) {
        return MakeError(Code::kDataLoss, "load: layer " + path + ": its content has diff_id " +
                                              layer->diff_id.ToString() + ", the config says " +
                                              diff_ids[i].ToString());
      }
      if (progress) progress("Loading layer " + layer->diff_id.Short());
      layers.push_back(std::move(*layer));
    }
    auto original = manifests_by_config.find(oci::Digest::Of(config_bytes));
    BERTH_ASSIGN_OR_RETURN(
        Image image,
        impl_->AssembleImage(config_bytes, layers, undo,
                             original == manifests_by_config.end() ? nullptr : &original->second));
    BERTH_RETURN_IF_ERROR(impl_->CommitImage(image, t.tags));
    // Committed: from here on a later failure must not undo this image.
    undo = Undo{};
    for (const oci::Reference& tag : t.tags)
      lines.push_back("Loaded image: " + tag.FamiliarString());
    if (t.tags.empty()) lines.push_back("Loaded image ID: " + image.id.ToString());
    if (progress) {
      for (size_t i = lines.size() - std::max<size_t>(t.tags.size(), 1); i < lines.size(); ++i) {
        progress(lines[i]);
      }
    }
  }
  return lines;
}

}  // namespace berth::image
