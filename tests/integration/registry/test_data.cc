#include "test_data.h"

#include <random>

#include <nlohmann/json.hpp>

#include "oci/digest.h"

namespace berth::registry_conformance {
namespace {

std::mt19937_64& Rng() {
  static std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

nlohmann::ordered_json Descriptor(const Content& c) {
  return {{"mediaType", c.media_type}, {"digest", c.digest}, {"size", c.size()}};
}

}  // namespace

std::string Sha256(const std::string& bytes) { return oci::Digest::Of(bytes).ToString(); }

Content MakeContent(std::string bytes, std::string media_type) {
  std::string digest = Sha256(bytes);
  return {std::move(bytes), std::move(digest), std::move(media_type)};
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& c : out) c = static_cast<char>(byte(Rng()));
  return out;
}

std::string RandomName(size_t n) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kChars[pick(Rng())];
  return out;
}

Content RandomBlob(size_t n, std::string media_type) {
  return MakeContent(RandomBytes(n), std::move(media_type));
}

Content MakeConfig(std::string media_type) {
  nlohmann::ordered_json config = {
      {"author", RandomName(16)},
      {"architecture", "amd64"},
      {"os", "linux"},
      {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}},
  };
  return MakeContent(config.dump(1, '\t'), std::move(media_type));
}

Content EmptyJson() { return MakeContent("{}", kOciEmpty); }

Content MakeManifest(const ManifestSpec& spec) {
  nlohmann::ordered_json m = {{"schemaVersion", 2}};
  if (spec.media_type) m["mediaType"] = *spec.media_type;
  if (spec.artifact_type) m["artifactType"] = *spec.artifact_type;
  auto config = Descriptor(spec.config);
  if (spec.config_data) {
    config["data"] = Base64(spec.config.bytes);
    config["newUnspecifiedField"] = Base64("hello world");
  }
  m["config"] = config;
  m["layers"] = nlohmann::json::array();
  for (const auto& layer : spec.layers) m["layers"].push_back(Descriptor(layer));
  if (spec.subject) m["subject"] = Descriptor(*spec.subject);
  if (!spec.annotations.empty()) m["annotations"] = spec.annotations;
  return MakeContent(m.dump(1, '\t'), spec.media_type.value_or(kOciManifest));
}

Content MakeIndex(const IndexSpec& spec) {
  nlohmann::ordered_json m = {{"schemaVersion", 2}, {"mediaType", kOciIndex}};
  if (spec.artifact_type) m["artifactType"] = *spec.artifact_type;
  m["manifests"] = nlohmann::json::array();
  for (const auto& manifest : spec.manifests) m["manifests"].push_back(Descriptor(manifest));
  if (spec.subject) m["subject"] = Descriptor(*spec.subject);
  if (!spec.annotations.empty()) m["annotations"] = spec.annotations;
  return MakeContent(m.dump(1, '\t'), kOciIndex);
}

ManifestSpec ImageSpec(size_t layers) {
  ManifestSpec spec;
  spec.config = MakeConfig();
  spec.config_data = true;
  std::uniform_int_distribution<size_t> size(64, 256);
  for (size_t i = 0; i < layers; ++i) spec.layers.push_back(RandomBlob(size(Rng())));
  return spec;
}

std::string DescriptorJson(const Content& c) { return Descriptor(c).dump(); }

}  // namespace berth::registry_conformance
