#include "distribution/pusher.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "archive/compression.h"
#include "base/unique_fd.h"
#include "distribution/blob_sources.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace berth::distribution {
namespace {

using Clock = std::chrono::steady_clock;

std::string ShortId(const oci::Digest& d) { return d.hex().substr(0, 12); }

void Send(const ProgressFn& progress, ProgressMessage m) {
  if (progress) progress(m);
}

void Layer(const ProgressFn& progress, const oci::Digest& d, const std::string& status) {
  Send(progress, {status, ShortId(d), true, -1, -1, ""});
}

}  // namespace

Pusher::Pusher(ImageSource& images, PullerOptions options)
    : images_(images), options_(std::move(options)) {
  options_.client.actions = "pull,push";
}

Status Pusher::PushTag(RegistryClient& client, const oci::Reference& tagged,
                       const ProgressFn& progress) {
  BERTH_ASSIGN_OR_RETURN(PushableImage image, images_.Get(tagged));
  for (const oci::Descriptor& l : image.layers) Layer(progress, l.digest, "Preparing");
  std::vector<oci::Descriptor> pushed = image.layers;  // as the registry gets them
  bool rewritten = false;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const oci::Descriptor& l = image.layers[i];
    if (options_.compress_plain_layers &&
        (l.media_type == oci::kMediaTypeOciLayer || l.media_type == oci::kMediaTypeDockerLayer)) {
      BERTH_ASSIGN_OR_RETURN(pushed[i], PushCompressed(client, tagged, image, i, progress));
      rewritten = true;
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(
        bool there, AlreadyThere(client, tagged, l.digest,
                                 [&](const std::string& status) { Layer(progress, l.digest, status); }));
    if (there) continue;
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Reader> blob, images_.OpenLayer(image.id, i));
    Clock::time_point last{};
    auto sent = [&](int64_t n) {
      Clock::time_point now = Clock::now();
      if (now - last < std::chrono::milliseconds(100) && n != l.size) return;
      last = now;
      Send(progress, {"Pushing", ShortId(l.digest), true, n, l.size, ""});
    };
    Status st = client.PushBlob(l.digest, l.size, *blob, sent);
    if (!st) return std::move(st).error().WithContext("layer " + l.digest.ToString());
    Remember(tagged, l.digest);
    Layer(progress, l.digest, "Pushed");
  }
  BERTH_ASSIGN_OR_RETURN(bool config_there, client.HasBlob(image.config.digest));
  if (!config_there) {
    BERTH_ASSIGN_OR_RETURN(std::optional<std::string> mounted,
                           TryMount(client, tagged, image.config.digest));
    if (!mounted) {
      StringReader config(image.config_bytes);
      BERTH_RETURN_IF_ERROR(client.PushBlob(
          image.config.digest, static_cast<int64_t>(image.config_bytes.size()), config));
    }
  }
  Remember(tagged, image.config.digest);
  std::string manifest_bytes = image.manifest_bytes;
  if (rewritten) {
    Result<oci::Manifest> m = oci::ParseManifest(image.manifest_bytes);
    if (!m) return std::move(m).error().WithContext("manifest of " + tagged.String());
    m->layers = pushed;
    manifest_bytes = oci::SerializeManifest(*m);
  }
  BERTH_ASSIGN_OR_RETURN(oci::Digest digest, client.PutManifest(tagged.tag(), manifest_bytes,
                                                                image.manifest_media_type));
  auto size = static_cast<int64_t>(manifest_bytes.size());
  Send(progress, {fmt::format("{}: digest: {} size: {}", tagged.tag(), digest.ToString(), size), "",
                  false, -1, -1, ""});
  nlohmann::ordered_json aux = {
      {"Tag", tagged.tag()}, {"Digest", digest.ToString()}, {"Size", size}};
  Send(progress, {"", "", false, -1, -1, aux.dump()});
  return Ok();
}

namespace {

// Passes bytes on to `dst` and hashes and counts them.
class HashingWriter : public Writer {
 public:
  explicit HashingWriter(Writer& dst) : dst_(dst) {}
  Status Write(std::string_view data) override {
    digester_.Update(data);
    size_ += static_cast<int64_t>(data.size());
    return dst_.Write(data);
  }
  oci::Digest Finish() { return digester_.Finish(); }
  int64_t size() const { return size_; }

 private:
  Writer& dst_;
  oci::Digester digester_;
  int64_t size_ = 0;
};

}  // namespace

Result<oci::Descriptor> Pusher::PushCompressed(RegistryClient& client, const oci::Reference& tagged,
                                               const PushableImage& image, size_t index,
                                               const ProgressFn& progress) {
  const oci::Descriptor& plain = image.layers[index];
  bool docker = plain.media_type == oci::kMediaTypeDockerLayer;
  oci::Descriptor out = plain;
  out.media_type = std::string(docker ? oci::kMediaTypeDockerLayerGzip : oci::kMediaTypeOciLayerGzip);
  // Progress speaks of the layer by its uncompressed digest, as it was "Preparing".
  auto layer_status = [&](const std::string& status) { Layer(progress, plain.digest, status); };
  if (options_.sources != nullptr) {
    BERTH_ASSIGN_OR_RETURN(std::optional<BlobSources::CompressedLayer> known,
                           options_.sources->Compressed(plain.digest));
    if (known && known->media_type == out.media_type) {
      out.digest = known->digest;
      out.size = known->size;
      BERTH_ASSIGN_OR_RETURN(bool there, AlreadyThere(client, tagged, out.digest, layer_status));
      if (there) return out;
    }
  }
  // Compress once into an unnamed temporary file, hashing as it goes.
  int raw = ::open(options_.temp_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (raw < 0) return ErrnoError("push: temporary file in " + options_.temp_dir);
  UniqueFd tmp(raw);
  {
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Reader> layer, images_.OpenLayer(image.id, index));
    FdWriter file(tmp.get());
    HashingWriter hashed(file);
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<archive::CompressingWriter> gz,
                           archive::NewGzipWriter(hashed, 1));
    std::vector<char> buf(1 << 20);
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(size_t n, layer->Read(buf.data(), buf.size()));
      if (n == 0) break;
      BERTH_RETURN_IF_ERROR(gz->Write(std::string_view(buf.data(), n)));
    }
    BERTH_RETURN_IF_ERROR(gz->Close());
    out.digest = hashed.Finish();
    out.size = hashed.size();
  }
  if (options_.sources != nullptr) {
    Status st = options_.sources->RememberCompressed(plain.digest, {out.digest, out.size, out.media_type});
    if (!st) spdlog::warn("push: remember {}: {}", out.digest.ToString(), st.error().message);
  }
  BERTH_ASSIGN_OR_RETURN(bool there, AlreadyThere(client, tagged, out.digest, layer_status));
  if (there) return out;
  if (::lseek(tmp.get(), 0, SEEK_SET) != 0) return ErrnoError("push: rewind the compressed layer");
  FdReader compressed(tmp.get());
  Clock::time_point last{};
  auto sent = [&](int64_t n) {
    Clock::time_point now = Clock::now();
    if (now - last < std::chrono::milliseconds(100) && n != out.size) return;
    last = now;
    Send(progress, {"Pushing", ShortId(plain.digest), true, n, out.size, ""});
  };
  Status st = client.PushBlob(out.digest, out.size, compressed, sent);
  if (!st) return std::move(st).error().WithContext("layer " + plain.digest.ToString());
  Remember(tagged, out.digest);
  layer_status("Pushed");
  return out;
}

Result<bool> Pusher::AlreadyThere(RegistryClient& client, const oci::Reference& tagged,
                                  const oci::Digest& digest,
                                  const std::function<void(const std::string&)>& status) {
  BERTH_ASSIGN_OR_RETURN(bool there, client.HasBlob(digest));
  if (there) {
    Remember(tagged, digest);
    status("Layer already exists");
    return true;
  }
  // Another repository of this registry has it (we pulled it from there or pushed it there):
  // ask for a mount, as Docker does ("Mounted from ...").
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> mounted, TryMount(client, tagged, digest));
  if (mounted) {
    Remember(tagged, digest);
    status("Mounted from " + *mounted);
    return true;
  }
  return false;
}

void Pusher::Remember(const oci::Reference& ref, const oci::Digest& digest) {
  if (options_.sources == nullptr) return;
  if (Status st = options_.sources->Remember(ref.domain(), ref.path(), digest); !st) {
    spdlog::warn("push: remember the source of {}: {}", digest.ToString(), st.error().message);
  }
}

Result<std::optional<std::string>> Pusher::TryMount(RegistryClient& client,
                                                    const oci::Reference& ref,
                                                    const oci::Digest& digest) {
  if (options_.sources == nullptr) return std::optional<std::string>();
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> from,
                         options_.sources->Repositories(ref.domain(), digest));
  for (const std::string& repo : from) {
    if (repo == ref.path()) continue;
    Result<bool> mounted = client.MountBlob(digest, repo);
    if (!mounted) {
      // Denied (a token without pull on that repository) or refused: upload instead.
      spdlog::debug("push: mount {} from {}: {}", digest.ToString(), repo, mounted.error().message);
      continue;
    }
    if (*mounted) return std::optional<std::string>(repo);
    // The registry no longer has it there.
    (void)options_.sources->Forget(ref.domain(), repo, digest);
  }
  return std::optional<std::string>();
}

Status Pusher::Push(const oci::Reference& ref, const AuthConfig& auth, const ProgressFn& progress) {
  if (!ref.has_name() || ref.has_digest()) {
    return MakeError(Code::kInvalidArgument,
                     "push: \"" + ref.String() + "\" must be a repository with a tag, or none");
  }
  std::vector<oci::Reference> tags;
  if (ref.has_tag()) {
    tags.push_back(ref);
  } else {
    BERTH_ASSIGN_OR_RETURN(tags, images_.Tags(ref));
    if (tags.empty()) {
      return MakeError(Code::kNotFound,
                       "An image does not exist locally with the tag: " + ref.FamiliarName());
    }
  }
  // Fail before any output for a missing image (an HTTP error, as dockerd).
  BERTH_ASSIGN_OR_RETURN(PushableImage first, images_.Get(tags.front()));
  (void)first;
  Endpoint endpoint = ResolveEndpoint(ref, options_.insecure_registries);
  RegistryClient client(endpoint, ref.path(), auth, options_.client);
  Send(progress, {"The push refers to repository [" + ref.Name() + "]", "", false, -1, -1, ""});
  for (const oci::Reference& t : tags) BERTH_RETURN_IF_ERROR(PushTag(client, t, progress));
  return Ok();
}

}  // namespace berth::distribution
