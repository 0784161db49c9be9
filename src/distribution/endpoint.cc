#include "distribution/endpoint.h"

#include <arpa/inet.h>

#include <cstdint>
#include <optional>

#include "base/strings.h"

namespace berth::distribution {
namespace {

// The host without its port: "a:5000" -> "a", "[::1]:5000" -> "::1".
std::string HostName(std::string_view host) {
  if (host.starts_with("[")) {
    size_t end = host.find(']');
    return std::string(host.substr(1, end == std::string_view::npos ? end : end - 1));
  }
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(':') == colon) host = host.substr(0, colon);
  return std::string(host);
}

std::optional<uint32_t> ParseIpv4(const std::string& s) {
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

bool InCidr(uint32_t ip, std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  std::optional<uint32_t> net = ParseIpv4(std::string(cidr.substr(0, slash)));
  std::string bits_text(cidr.substr(slash + 1));
  if (!net || bits_text.empty() || bits_text.size() > 2) return false;
  for (char c : bits_text) {
    if (c < '0' || c > '9') return false;
  }
  int bits = std::stoi(bits_text);
  if (bits > 32) return false;
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (ip & mask) == (*net & mask);
}

}  // namespace

bool IsInsecureRegistry(std::string_view host, const std::vector<std::string>& insecure) {
  std::string name = ToLower(HostName(host));
  if (name == "localhost" || name == "::1") return true;
  std::optional<uint32_t> ip = ParseIpv4(name);
  if (ip && (*ip >> 24) == 127) return true;
  for (const std::string& entry : insecure) {
    if (entry.find('/') != std::string::npos) {
      if (ip && InCidr(*ip, entry)) return true;
    } else if (ToLower(entry) == ToLower(host) || ToLower(entry) == name) {
      return true;
    }
  }
  return false;
}

Endpoint ResolveEndpoint(const oci::Reference& ref, const std::vector<std::string>& insecure) {
  std::string domain = ref.domain().empty() ? std::string(oci::kDefaultDomain) : ref.domain();
  Endpoint e;
  e.host = domain == oci::kDefaultDomain || domain == oci::kLegacyDefaultDomain
               ? "registry-1.docker.io"
               : domain;
  e.insecure = IsInsecureRegistry(domain, insecure);
  return e;
}

std::string PingUrl(const Endpoint& e) { return e.BaseUrl() + "/v2/"; }

std::string ManifestUrl(const Endpoint& e, std::string_view path, std::string_view reference) {
  return e.BaseUrl() + "/v2/" + std::string(path) + "/manifests/" + std::string(reference);
}

std::string BlobUrl(const Endpoint& e, std::string_view path, const oci::Digest& digest) {
  return e.BaseUrl() + "/v2/" + std::string(path) + "/blobs/" + digest.ToString();
}

}  // namespace berth::distribution
