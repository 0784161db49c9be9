// A small busybox image as an OCI image layout directory (image-spec image-layout.md), for the
// tools to push: one gzip layer with Debian's static /bin/busybox, a few applet symlinks,
// /etc/passwd and a file of random content (so every image, hence every layer digest, is new
// and no tool's blob cache can skip an upload), an image config, an OCI manifest, index.json
// (ref name "latest") and oci-layout. The layer is made as scripts/make-busybox-rootfs.sh does:
// tar --sort=name, numeric owner 0, fixed mtime; gzip -n.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "test_data.h"

namespace berth::registry_compat {

using registry_conformance::Content;

inline constexpr char kBusybox[] = "/bin/busybox";

struct OciImage {
  std::string dir;  // the layout directory
  Content layer;    // gzip tar
  std::string diff_id;
  Content config;
  Content manifest;
  // skopeo/podman transport reference: "oci:DIR:latest".
  std::string Reference() const { return "oci:" + dir + ":latest"; }
};

// Whether /bin/busybox is there and static ("" if so, else why not).
std::string BusyboxMissing();

// Writes the layout to `dir` (created), using `scratch` for the rootfs and tar.
::testing::AssertionResult MakeBusyboxImage(const std::string& dir, const std::string& scratch,
                                            OciImage* image);

}  // namespace berth::registry_compat
