#include "distribution/pusher.h"

#include <optional>

#include <spdlog/spdlog.h>

#include "distribution/blob_sources.h"

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
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const oci::Descriptor& l = image.layers[i];
    BERTH_ASSIGN_OR_RETURN(bool there, client.HasBlob(l.digest));
    if (there) {
      Remember(tagged, l.digest);
      Layer(progress, l.digest, "Layer already exists");
      continue;
    }
    // Another repository of this registry has it (we pulled it from there or pushed it
    // there): ask for a mount, as Docker does ("Mounted from ...").
    BERTH_ASSIGN_OR_RETURN(std::optional<std::string> mounted, TryMount(client, tagged, l.digest));
    if (mounted) {
      Remember(tagged, l.digest);
      Layer(progress, l.digest, "Mounted from " + *mounted);
      continue;
    }
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
  BERTH_ASSIGN_OR_RETURN(oci::Digest digest, client.PutManifest(tagged.tag(), image.manifest_bytes,
                                                                image.manifest_media_type));
  auto size = static_cast<int64_t>(image.manifest_bytes.size());
  Send(progress, {fmt::format("{}: digest: {} size: {}", tagged.tag(), digest.ToString(), size), "",
                  false, -1, -1, ""});
  nlohmann::ordered_json aux = {
      {"Tag", tagged.tag()}, {"Digest", digest.ToString()}, {"Size", size}};
  Send(progress, {"", "", false, -1, -1, aux.dump()});
  return Ok();
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
