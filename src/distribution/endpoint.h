// Where a reference's repository lives: the registry's base URL (scheme + host) and the URLs of
// the OCI distribution API (specs/oci-distribution/spec.md) under it. No I/O. Thread-safe.
//
//   docker.io/library/busybox:1        ->
//   https://registry-1.docker.io/v2/library/busybox/manifests/1 127.0.0.1:5000/me/busybox@sha256:x
//   -> http://127.0.0.1:5000/v2/me/busybox/manifests/sha256:x
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/digest.h"
#include "oci/reference.h"

namespace berth::distribution {

struct Endpoint {
  std::string host;       // "registry-1.docker.io", "127.0.0.1:5000", "[::1]:5000"
  bool insecure = false;  // plain HTTP
  std::string BaseUrl() const { return (insecure ? "http://" : "https://") + host; }
};

// A registry host is insecure (spoken to over plain HTTP) when it is a loopback address
// ("localhost", 127.0.0.0/8, ::1, with any port), or listed in `insecure_registries` as a
// host[:port] or contains an IPv4 address inside a listed CIDR ("10.0.0.0/8").
bool IsInsecureRegistry(std::string_view host, const std::vector<std::string>& insecure_registries);

// The endpoint for a reference's domain: docker.io goes to registry-1.docker.io.
Endpoint ResolveEndpoint(const oci::Reference& ref,
                         const std::vector<std::string>& insecure_registries);

// <base>/v2/
std::string PingUrl(const Endpoint& e);
// <base>/v2/<path>/manifests/<tag or digest>
std::string ManifestUrl(const Endpoint& e, std::string_view path, std::string_view reference);
// <base>/v2/<path>/blobs/<digest>
std::string BlobUrl(const Endpoint& e, std::string_view path, const oci::Digest& digest);

}  // namespace berth::distribution
