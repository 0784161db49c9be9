#include "oci_layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "processes.h"

namespace berth::registry_compat {
namespace {

namespace fs = std::filesystem;
using registry_conformance::MakeContent;
using registry_conformance::RandomName;

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  return static_cast<bool>(out);
}

bool WriteBlob(const std::string& dir, const Content& c) {
  return WriteFile(dir + "/blobs/sha256/" + c.digest.substr(7), c.bytes);
}

std::string Descriptor(const Content& c) {
  return nlohmann::ordered_json{
      {"mediaType", c.media_type}, {"digest", c.digest}, {"size", c.size()}}
      .dump();
}

}  // namespace

std::string BusyboxMissing() {
  if (access(kBusybox, X_OK) != 0)
    return "/bin/busybox is missing (apt-get install busybox-static)";
  CommandResult ldd = Run({"ldd", kBusybox}, {{"LC_ALL=C"}});
  if (ldd.out.find("not a dynamic executable") == std::string::npos &&
      ldd.err.find("not a dynamic executable") == std::string::npos) {
    return "/bin/busybox is not statically linked (apt-get install busybox-static)";
  }
  return "";
}

::testing::AssertionResult MakeBusyboxImage(const std::string& dir, const std::string& scratch,
                                            OciImage* image) {
  std::error_code ec;
  std::string root = scratch + "/rootfs";
  fs::create_directories(root + "/bin", ec);
  fs::create_directories(root + "/etc", ec);
  fs::create_directories(dir + "/blobs/sha256", ec);
  if (ec) return ::testing::AssertionFailure() << "mkdir: " << ec.message();
  fs::copy_file(kBusybox, root + "/bin/busybox", fs::copy_options::overwrite_existing, ec);
  if (ec) return ::testing::AssertionFailure() << "copy " << kBusybox << ": " << ec.message();
  chmod((root + "/bin/busybox").c_str(), 0755);
  for (const char* applet : {"sh", "ls", "cat", "echo", "true"}) {
    fs::create_symlink("busybox", root + "/bin/" + applet, ec);
  }
  WriteFile(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteFile(root + "/etc/berth-test-image", RandomName(32) + "\n");

  std::string tar = scratch + "/layer.tar";
  if (auto r = RunOk({"tar", "--sort=name", "--numeric-owner", "--owner=0", "--group=0",
                      "--mtime=2024-01-01 00:00:00Z", "-C", root, "-cf", tar, "."});
      !r) {
    return r;
  }
  if (auto r = RunOk({"gzip", "-n", "-k", "-f", tar}); !r) return r;
  image->dir = dir;
  image->diff_id = registry_conformance::Sha256(ReadFile(tar));
  image->layer = MakeContent(ReadFile(tar + ".gz"), "application/vnd.oci.image.layer.v1.tar+gzip");

  nlohmann::ordered_json config = {
      {"created", "2024-01-01T00:00:00Z"},
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", {{"Env", {"PATH=/bin"}}, {"Cmd", {"/bin/sh"}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {image->diff_id}}}},
      {"history", {{{"created", "2024-01-01T00:00:00Z"}, {"created_by", "berth compat test"}}}}};
  image->config = MakeContent(config.dump(), "application/vnd.oci.image.config.v1+json");
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      Descriptor(image->config) + R"(,"layers":[)" + Descriptor(image->layer) + "]}";
  image->manifest = MakeContent(manifest, "application/vnd.oci.image.manifest.v1+json");
  nlohmann::ordered_json index = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", image->manifest.media_type},
         {"digest", image->manifest.digest},
         {"size", image->manifest.size()},
         {"annotations", {{"org.opencontainers.image.ref.name", "latest"}}}}}}};
  if (!WriteBlob(dir, image->layer) || !WriteBlob(dir, image->config) ||
      !WriteBlob(dir, image->manifest) || !WriteFile(dir + "/index.json", index.dump()) ||
      !WriteFile(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})")) {
    return ::testing::AssertionFailure() << "cannot write the layout in " << dir;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace berth::registry_compat
