#include "api/image_routes.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oci/reference.h"

namespace berth::api {
namespace {

std::vector<std::string> KeysInOrder(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

image::Image SampleImage() {
  image::Image img;
  img.id = oci::Digest::Of("config");
  img.tags = {*oci::Reference::Parse("docker.io/library/busybox:latest")};
  img.created_unix = 1700000000;
  img.size = 4096;
  img.config.created = "2023-11-14T22:13:20Z";
  img.config.architecture = "arm";
  img.config.variant = "v7";
  img.config.os = "linux";
  img.config.os_version = "1.0";
  img.config.config.env = {"A=1"};
  img.config.config.cmd = std::vector<std::string>{"sh"};
  img.config.config.exposed_ports = {"80/tcp"};
  img.config.config.labels = {{"z", "1"}, {"a", "2"}};
  img.config.config.stop_signal = "SIGTERM";
  img.config.config.shell = {"/bin/sh", "-c"};
  img.config.rootfs.diff_ids = {oci::Digest::Of("layer")};
  return img;
}

TEST(ImageRoutesJsonTest, InspectKeysComeInDockerdOrder) {
  // Serialised and parsed back, as the client sees the bytes.
  auto j = nlohmann::ordered_json::parse(ImageInspectJson(SampleImage()).dump());
  // types.ImageInspect's field order; Variant and OsVersion are omitempty, in their place.
  EXPECT_EQ(KeysInOrder(j), (std::vector<std::string>{"Id",
                                                      "RepoTags",
                                                      "RepoDigests",
                                                      "Parent",
                                                      "Comment",
                                                      "Created",
                                                      "Container",
                                                      "ContainerConfig",
                                                      "DockerVersion",
                                                      "Author",
                                                      "Config",
                                                      "Architecture",
                                                      "Variant",
                                                      "Os",
                                                      "OsVersion",
                                                      "Size",
                                                      "VirtualSize",
                                                      "GraphDriver",
                                                      "RootFS",
                                                      "Metadata"}));
  // container.Config's field order, with the omitempty ones this image sets.
  EXPECT_EQ(KeysInOrder(j["Config"]),
            (std::vector<std::string>{"Hostname",     "Domainname",   "User",         "AttachStdin",
                                      "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
                                      "OpenStdin",    "StdinOnce",    "Env",          "Cmd",
                                      "Image",        "Volumes",      "WorkingDir",   "Entrypoint",
                                      "OnBuild",      "Labels",       "StopSignal",   "Shell"}));
  EXPECT_EQ(KeysInOrder(j["Config"]["Labels"]), (std::vector<std::string>{"a", "z"}));
  EXPECT_EQ(KeysInOrder(j["GraphDriver"]), (std::vector<std::string>{"Data", "Name"}));
  EXPECT_EQ(KeysInOrder(j["RootFS"]), (std::vector<std::string>{"Type", "Layers"}));
  EXPECT_EQ(KeysInOrder(j["Metadata"]), (std::vector<std::string>{"LastTagTime"}));
}

TEST(ImageRoutesJsonTest, InspectLeavesOutEmptyOmitemptyFields) {
  image::Image img = SampleImage();
  img.config.variant.clear();
  img.config.os_version.clear();
  img.config.config = {};
  auto j = nlohmann::ordered_json::parse(ImageInspectJson(img).dump());
  std::vector<std::string> keys = KeysInOrder(j);
  EXPECT_EQ(std::vector<std::string>(keys.begin() + 10, keys.begin() + 14),
            (std::vector<std::string>{"Config", "Architecture", "Os", "Size"}));
  EXPECT_EQ(KeysInOrder(j["Config"]),
            (std::vector<std::string>{"Hostname", "Domainname", "User", "AttachStdin",
                                      "AttachStdout", "AttachStderr", "Tty", "OpenStdin",
                                      "StdinOnce", "Env", "Cmd", "Image", "Volumes", "WorkingDir",
                                      "Entrypoint", "OnBuild", "Labels"}));
}

TEST(ImageRoutesJsonTest, SummaryKeysComeInDockerdOrder) {
  // ImageSummary is generated from the swagger spec with its fields sorted by name; the
  // captured dockerd reply to GET /images/json has them in that order.
  auto j = nlohmann::ordered_json::parse(ImageSummaryJson(SampleImage()).dump());
  EXPECT_EQ(KeysInOrder(j), (std::vector<std::string>{"Containers", "Created", "Id", "Labels",
                                                      "ParentId", "RepoDigests", "RepoTags",
                                                      "SharedSize", "Size", "VirtualSize"}));
}

TEST(ImageRoutesJsonTest, HistoryKeysComeInDockerdOrder) {
  image::HistoryItem h;
  h.id = "<missing>";
  auto j = nlohmann::ordered_json::parse(HistoryItemJson(h).dump());
  EXPECT_EQ(KeysInOrder(j),
            (std::vector<std::string>{"Comment", "Created", "CreatedBy", "Id", "Size", "Tags"}));
}

}  // namespace
}  // namespace berth::api
