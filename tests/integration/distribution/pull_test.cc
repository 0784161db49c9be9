// berth pull and docker pull against a real registry: Debian's docker-registry (CNCF
// distribution) on 127.0.0.1, filled with skopeo from an OCI layout that berth save wrote, so
// that nothing of berth's own push is involved. Covers pull by tag and by digest, running the
// pulled image, a second pull that downloads nothing, layers shared between images, a corrupted
// blob in the registry's storage, and kill -9 of berthd mid-download followed by a resumed pull.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "daemon_fixture.h"

namespace berth {
namespace {

using testing::CountEntries;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool Connects(int port, const std::string& ip = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// An IPv4 address of this machine that is not loopback (a registry there is not insecure by
// default), or "".
std::string NonLoopbackIpv4() {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0) return "";
  std::string found;
  for (ifaddrs* i = all; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN] = {0};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    if (!std::string_view(buf).starts_with("127.")) found = buf;
  }
  ::freeifaddrs(all);
  return found;
}

class PullTest : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    if (!PathExists("/usr/bin/docker-registry") || !PathExists("/usr/bin/skopeo")) {
      GTEST_SKIP() << "needs docker-registry and skopeo (scripts/install-deps.sh test)";
    }
    std::optional<std::string> started = StartRegistry("");
    ASSERT_TRUE(started);
    registry_ = *started;
    storage_ = dir_ + "/registry-" + registry_.substr(registry_.find(':') + 1);

    rootfs_ = dir_ + "/busybox.tar.gz";
    Run made = Shell(std::string(BERTH_SOURCE_DIR) +
                     "/scripts/make-busybox-rootfs.sh | gzip -n > " + rootfs_);
    ASSERT_EQ(made.exit_code, 0) << made.output;
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
  }

  void TearDown() override {
    for (pid_t pid : registries_) {
      ::kill(pid, SIGTERM);
      if (!testing::WaitExit(pid, std::chrono::seconds(10))) {
        ::kill(pid, SIGKILL);
        testing::WaitExit(pid, std::chrono::seconds(10));
      }
    }
    DaemonFixture::TearDown();
  }

  // Starts docker-registry on a free loopback port, storage under dir_/registry-<port>, with
  // `auth` as its config's auth section and `http` added to its http section (YAML, indented
  // by two); returns "127.0.0.1:PORT".
  std::optional<std::string> StartRegistry(const std::string& auth, const std::string& http = "",
                                           const std::string& ip = "127.0.0.1") {
    int port = FreePort();
    std::string host = ip + ":" + std::to_string(port);
    std::string config = dir_ + "/registry-" + std::to_string(port) + ".yml";
    std::ofstream(config) << "version: 0.1\n"
                          << "log:\n  level: warn\n"  // the access log is on: tests count GETs
                          << "storage:\n  filesystem:\n    rootdirectory: " << dir_ << "/registry-"
                          << port << "\n  delete:\n    enabled: true\n"
                          << "http:\n  addr: " << host << "\n"
                          << http << (auth.empty() ? "" : "auth:\n" + auth);
    std::string log = dir_ + "/registry-" + std::to_string(port) + ".log";
    pid_t pid = testing::Spawn({"/usr/bin/docker-registry", "serve", config}, log);
    if (pid <= 0) return std::nullopt;
    registries_.push_back(pid);
    for (int i = 0; i < 5000; ++i) {  // readiness: the port accepts (≤ 10 s)
      if (Connects(port, ip)) return host;
      ::usleep(2000);
    }
    ADD_FAILURE() << "docker-registry did not start: " << *ReadFile(log);
    return std::nullopt;
  }

  Run Shell(const std::string& script) {
    std::string log = dir_ + "/shell-" + std::to_string(shells_++) + ".out";
    pid_t pid = testing::Spawn({"/bin/sh", "-c", script}, log);
    std::optional<int> code = testing::WaitExit(pid, std::chrono::seconds(180));
    Result<std::string> out = ReadFile(log);
    return {code.value_or(-1), out ? *out : ""};
  }

  // Puts the image `local` of daemon `d` into the registry as `remote` (repo:tag): berth save
  // writes an OCI layout, skopeo copies it (the registry never sees berth).
  void Publish(const Daemon& d, const std::string& local, const std::string& remote,
               const std::string& skopeo_flags = "", std::string registry = "") {
    if (registry.empty()) registry = registry_;
    std::string tar = dir_ + "/publish-" + std::to_string(shells_) + ".tar";
    std::string layout = tar + ".d";
    Run saved = Berth(d, {"save", "-o", tar, local});
    ASSERT_EQ(saved.exit_code, 0) << saved.output;
    std::string tag = local.substr(local.rfind(':') + 1);
    Run copied = Shell("mkdir -p " + layout + " && tar -xf " + tar + " -C " + layout +
                       " && skopeo copy -q --dest-tls-verify=false " + skopeo_flags +
                       " oci:" + layout + ":" + tag + " docker://" + registry + "/" + remote);
    ASSERT_EQ(copied.exit_code, 0) << copied.output;
  }

  // The digest the registry serves for repo:tag (what a pull reports as "Digest:").
  std::string RemoteDigest(const std::string& remote) {
    Run r = Shell("skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://" + registry_ +
                  "/" + remote);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return std::string(TrimSpace(r.output));
  }

  // The file under the registry's storage holding a blob.
  std::string RegistryBlobPath(const std::string& digest) {
    std::string hex = digest.substr(7);
    return storage_ + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
  }

  // Imports the busybox rootfs as `name`, publishes it as `remote`, and removes it locally, so
  // that the daemon has neither blob nor snapshot of it.
  void ImportAndPublish(const std::string& name, const std::string& remote) {
    Run imp = Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs_, name});
    ASSERT_EQ(imp.exit_code, 0) << imp.output;
    Publish(d_, name, remote);
    ASSERT_EQ(Berth(d_, {"rmi", name}).exit_code, 0);
    ASSERT_EQ(CountEntries(root_ + "/content/blobs/sha256"), 0u);
  }

  // me/big:1: busybox plus a layer-sized file of 24 MiB of random bytes (incompressible);
  // its sha256 in dir_/big.sum. Removed locally afterwards.
  void PublishBig() {
    Run big = Shell("set -e; d=" + dir_ +
                    "/big; mkdir -p $d; head -c 25165824 /dev/urandom > "
                    "$d/blob.bin; sha256sum $d/blob.bin | cut -c1-64 > " +
                    dir_ +
                    "/big.sum; "
                    "zcat " +
                    rootfs_ + " > " + dir_ + "/big.tar; tar -C $d -rf " + dir_ +
                    "/big.tar blob.bin; gzip -n -1 " + dir_ + "/big.tar");
    ASSERT_EQ(big.exit_code, 0) << big.output;
    Run imp = Berth(d_, {"import", dir_ + "/big.tar.gz", "src/big:1"});
    ASSERT_EQ(imp.exit_code, 0) << imp.output;
    Publish(d_, "src/big:1", "me/big:1");
    ASSERT_EQ(Berth(d_, {"rmi", "src/big:1"}).exit_code, 0);
  }

  // PublishBig, then stops d_, so that a test can start a daemon of its own on root_.
  void PublishBigAndStopDaemon() {
    ASSERT_NO_FATAL_FAILURE(PublishBig());
    ASSERT_EQ(::kill(d_.pid, SIGTERM), 0);
    ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(30)));
    Forget(d_.pid);
  }

  // Runs sha256sum of PublishBig's file in `name` on `d` and expects the sum it recorded;
  // returns the run.
  Run ExpectBigBlob(const Daemon& d, const std::string& name) {
    std::string want = std::string(TrimSpace(*ReadFile(dir_ + "/big.sum")));
    Run sum = Berth(d, {"run", "--rm", "--network", "none", name, "sha256sum", "/blob.bin"});
    EXPECT_EQ(sum.output.substr(0, 64), want) << sum.output;
    return sum;
  }

  static size_t Count(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  Daemon d_;
  std::vector<pid_t> registries_;
  std::string registry_;
  std::string storage_;
  std::string rootfs_;
  int shells_ = 0;
};

TEST_F(PullTest, BerthPullsRunsAndASecondPullDownloadsNothing) {
  ASSERT_NO_FATAL_FAILURE(ImportAndPublish("src/busybox:1", "me/busybox:1"));
  std::string digest = RemoteDigest("me/busybox:1");
  ASSERT_TRUE(digest.starts_with("sha256:")) << digest;
  const std::string name = registry_ + "/me/busybox:1";

  Run pull = Berth(d_, {"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  EXPECT_NE(pull.output.find("1: Pulling from me/busybox"), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find(": Pulling fs layer"), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find(": Download complete"), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find(": Pull complete"), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find("Digest: " + digest), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find("Status: Downloaded newer image for " + name), std::string::npos);
  EXPECT_TRUE(pull.output.ends_with("\n" + name + "\n")) << pull.output;

  Run digests =
      Berth(d_, {"images", "--digests", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}"});
  EXPECT_EQ(std::string(TrimSpace(digests.output)), registry_ + "/me/busybox:1 " + digest);
  Run ran = Berth(d_, {"run", "--rm", "--network", "none", name, "sh", "-c",
                       "echo pulled-and-ran; ls /bin/busybox"});
  EXPECT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_EQ(ran.output, "pulled-and-ran\n/bin/busybox\n");

  // Again: the layer is here, nothing is downloaded, the image is unchanged.
  Run again = Berth(d_, {"pull", name});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find(": Already exists"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("Pulling fs layer"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("Download complete"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("Status: Image is up to date for " + name), std::string::npos);

  // -a: every tag of the repository.
  ASSERT_EQ(Berth(d_, {"tag", name, registry_ + "/me/busybox:2"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"push", registry_ + "/me/busybox:2"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"rmi", registry_ + "/me/busybox:2"}).exit_code, 0);
  Run all = Berth(d_, {"pull", "-a", registry_ + "/me/busybox"});
  ASSERT_EQ(all.exit_code, 0) << all.output << Log(d_);
  EXPECT_NE(all.output.find("1: Pulling from me/busybox"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("2: Pulling from me/busybox"), std::string::npos) << all.output;
  Run tags = Berth(d_, {"images", "--format", "{{.Tag}}", registry_ + "/me/busybox"});
  EXPECT_EQ(tags.output, "1\n2\n") << tags.output;

  // Without a tag berth says it pulls :latest, which the registry does not have.
  Run latest = Berth(d_, {"pull", registry_ + "/me/busybox"});
  EXPECT_EQ(latest.exit_code, 1);
  EXPECT_NE(latest.output.find("Using default tag: latest"), std::string::npos) << latest.output;
  EXPECT_NE(latest.output.find("manifest for " + registry_ +
                               "/me/busybox:latest not found: manifest unknown"),
            std::string::npos)
      << latest.output;
}

TEST_F(PullTest, DockerCliPullsByTagAndByDigest) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_NO_FATAL_FAILURE(ImportAndPublish("src/busybox:1", "me/busybox:1"));
  std::string digest = RemoteDigest("me/busybox:1");
  const std::string name = registry_ + "/me/busybox:1";

  Run pull = Docker(d_, {"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  EXPECT_NE(pull.output.find("Pull complete"), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find("Digest: " + digest), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find("Status: Downloaded newer image for " + name), std::string::npos)
      << pull.output;
  Run inspect = Docker(d_, {"image", "inspect", "--format", "{{json .RepoDigests}}", name});
  EXPECT_EQ(std::string(TrimSpace(inspect.output)),
            "[\"" + registry_ + "/me/busybox@" + digest + "\"]");
  Run ran = Docker(d_, {"run", "--rm", "--network", "none", name, "echo", "docker-ran-it"});
  EXPECT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_EQ(ran.output, "docker-ran-it\n");

  // By digest, into a daemon that has nothing: the image gets the digest name only.
  std::string id = std::string(TrimSpace(Docker(d_, {"images", "-q", "--no-trunc"}).output));
  ASSERT_EQ(Docker(d_, {"rmi", "-f", id}).exit_code, 0);
  ASSERT_EQ(CountEntries(root_ + "/snapshots"), 0u);
  const std::string by_digest = registry_ + "/me/busybox@" + digest;
  Run pd = Docker(d_, {"pull", by_digest});
  ASSERT_EQ(pd.exit_code, 0) << pd.output << Log(d_);
  EXPECT_NE(pd.output.find("Status: Downloaded newer image for " + by_digest), std::string::npos)
      << pd.output;
  Run listed = Docker(
      d_, {"images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}"});
  EXPECT_EQ(std::string(TrimSpace(listed.output)),
            registry_ + "/me/busybox <none> " + digest + " " + id.substr(7, 12));

  // A digest the registry does not have, and a malformed one.
  Run missing = Docker(d_, {"pull", registry_ + "/me/busybox@sha256:" + std::string(64, 'e')});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("not found: manifest unknown"), std::string::npos)
      << missing.output;
}

TEST_F(PullTest, ImagesSharingALayerDownloadItOnce) {
  ASSERT_NO_FATAL_FAILURE(ImportAndPublish("src/busybox:1", "me/busybox:1"));
  const std::string base = registry_ + "/me/busybox:1";
  ASSERT_EQ(Berth(d_, {"pull", base}).exit_code, 0);
  // A second image: the pulled one plus a layer committed from a container.
  Run made = Berth(
      d_, {"run", "--name", "c1", "--network", "none", base, "sh", "-c", "echo second > /second"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_EQ(Berth(d_, {"commit", "c1", "src/two:1"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"rm", "c1"}).exit_code, 0);
  Publish(d_, "src/two:1", "me/two:1");
  ASSERT_EQ(Berth(d_, {"rmi", "src/two:1"}).exit_code, 0);

  Run pull = Berth(d_, {"pull", registry_ + "/me/two:1"});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  EXPECT_EQ(Count(pull.output, ": Already exists"), 1u) << pull.output;
  EXPECT_EQ(Count(pull.output, ": Pulling fs layer"), 1u) << pull.output;
  EXPECT_EQ(Count(pull.output, ": Pull complete"), 1u) << pull.output;
  Run ran =
      Berth(d_, {"run", "--rm", "--network", "none", registry_ + "/me/two:1", "cat", "/second"});
  EXPECT_EQ(ran.output, "second\n");
}

TEST_F(PullTest, DockerSchema2AndZstdLayersPull) {
  Run imp = Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs_, "src/busybox:1"});
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  Publish(d_, "src/busybox:1", "me/docker:1", "-f v2s2");
  // A zstd layer: berth import keeps the blob as given, save and skopeo pass it on.
  Run zst = Shell("zcat " + rootfs_ + " | zstd -q -c > " + dir_ + "/busybox.tar.zst");
  ASSERT_EQ(zst.exit_code, 0) << zst.output;
  ASSERT_EQ(Berth(d_, {"import", "-c", "CMD [\"sh\"]", dir_ + "/busybox.tar.zst", "src/zstd:1"})
                .exit_code,
            0);
  Publish(d_, "src/zstd:1", "me/zstd:1");
  ASSERT_EQ(Berth(d_, {"rmi", "src/busybox:1"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"rmi", "src/zstd:1"}).exit_code, 0);
  Run mt = Shell("skopeo inspect --raw --tls-verify=false docker://" + registry_ + "/me/docker:1");
  ASSERT_NE(mt.output.find("application/vnd.docker.distribution.manifest.v2+json"),
            std::string::npos)
      << mt.output;
  Run zt = Shell("skopeo inspect --raw --tls-verify=false docker://" + registry_ + "/me/zstd:1");
  ASSERT_NE(zt.output.find("tar+zstd"), std::string::npos) << zt.output;

  for (const std::string repo : {"me/docker:1", "me/zstd:1"}) {
    const std::string name = registry_ + "/" + repo;
    Run pull = Berth(d_, {"pull", name});
    ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
    EXPECT_NE(pull.output.find("Digest: " + RemoteDigest(repo)), std::string::npos) << pull.output;
    Run ran = Berth(d_, {"run", "--rm", "--network", "none", name, "echo", repo});
    EXPECT_EQ(ran.output, repo + "\n") << ran.output;
    // The image keeps the manifest as the registry served it: save gives back its digest.
    Run id = Berth(d_, {"image", "inspect", "--format", "{{json .RepoDigests}}", name});
    EXPECT_NE(id.output.find(RemoteDigest(repo)), std::string::npos) << id.output;
  }
}

TEST_F(PullTest, IndexResolvesToTheRequestedPlatform) {
  Run imp = Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs_, "src/busybox:1"});
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  std::string host_arch = std::string(TrimSpace(
      Berth(d_, {"image", "inspect", "--format", "{{.Architecture}}", "src/busybox:1"}).output));
  std::string other = host_arch == "arm64" ? "amd64" : "arm64";
  std::string tar = dir_ + "/multi.tar", layout = dir_ + "/multi";
  ASSERT_EQ(Berth(d_, {"save", "-o", tar, "src/busybox:1"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"rmi", "src/busybox:1"}).exit_code, 0);
  // An index of two manifests: the saved one, and a copy whose config says `other`.
  std::ofstream(dir_ + "/mkindex.py") << R"PY(
import hashlib, json, os, sys
root, other = sys.argv[1], sys.argv[2]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(root, "blobs/sha256", d), "wb").write(data)
    return "sha256:" + d
def get(digest):
    return open(os.path.join(root, "blobs/sha256", digest[7:]), "rb").read()
index = json.load(open(os.path.join(root, "index.json")))
desc = index["manifests"][0]
manifest = json.loads(get(desc["digest"]))
config = json.loads(get(manifest["config"]["digest"]))
host = {"architecture": config["architecture"], "os": "linux"}
config["architecture"] = other
cbytes = json.dumps(config).encode()
manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "digest": put(cbytes),
                      "size": len(cbytes)}
mbytes = json.dumps(manifest).encode()
entries = [
    {"mediaType": desc["mediaType"], "digest": put(mbytes), "size": len(mbytes),
     "platform": {"architecture": other, "os": "linux"}},
    {"mediaType": desc["mediaType"], "digest": desc["digest"], "size": desc["size"],
     "platform": host},
]
ibytes = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": entries}).encode()
layout_index = {"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(ibytes),
     "size": len(ibytes), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}
json.dump(layout_index, open(os.path.join(root, "index.json"), "w"))
)PY";
  Run made =
      Shell("set -e; mkdir -p " + layout + "; tar -xf " + tar + " -C " + layout + "; rm -f " +
            layout + "/manifest.json; python3 " + dir_ + "/mkindex.py " + layout + " " + other +
            "; skopeo copy -q --all --dest-tls-verify=false oci:" + layout + ":multi docker://" +
            registry_ + "/me/multi:1");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::string index_digest = RemoteDigest("me/multi:1");
  const std::string name = registry_ + "/me/multi:1";

  Run pull = Berth(d_, {"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  EXPECT_NE(pull.output.find("Digest: " + index_digest), std::string::npos) << pull.output;
  EXPECT_EQ(std::string(TrimSpace(
                Berth(d_, {"image", "inspect", "--format", "{{.Architecture}}", name}).output)),
            host_arch);
  Run ran = Berth(d_, {"run", "--rm", "--network", "none", name, "echo", "from-index"});
  EXPECT_EQ(ran.output, "from-index\n");

  Run arm = Berth(d_, {"pull", "--platform", "linux/" + other, name});
  ASSERT_EQ(arm.exit_code, 0) << arm.output << Log(d_);
  EXPECT_NE(arm.output.find("Already exists"), std::string::npos) << arm.output;
  EXPECT_NE(arm.output.find("Status: Downloaded newer image for " + name), std::string::npos)
      << arm.output;
  EXPECT_EQ(std::string(TrimSpace(
                Berth(d_, {"image", "inspect", "--format", "{{.Architecture}}", name}).output)),
            other);

  Run none = Berth(d_, {"pull", "--platform", "linux/s390x", name});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.output.find("no matching manifest for linux/s390x"), std::string::npos)
      << none.output;
}

TEST_F(PullTest, LoginThenPullFromARegistryWithBasicAuth) {
  Run pw = Shell("htpasswd -Bbn anchor anchorpw > " + dir_ + "/htpasswd");
  ASSERT_EQ(pw.exit_code, 0) << pw.output;
  std::optional<std::string> reg =
      StartRegistry("  htpasswd:\n    realm: berth-test\n    path: " + dir_ + "/htpasswd\n");
  ASSERT_TRUE(reg);
  ASSERT_EQ(Berth(d_, {"import", rootfs_, "src/busybox:1"}).exit_code, 0);
  Publish(d_, "src/busybox:1", "me/private:1", "--dest-creds anchor:anchorpw", *reg);
  ASSERT_EQ(Berth(d_, {"rmi", "src/busybox:1"}).exit_code, 0);
  const std::string name = *reg + "/me/private:1";

  ASSERT_EQ(Berth(d_, {"import", rootfs_, "src/busybox:2"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"tag", "src/busybox:2", *reg + "/me/pushed:2"}).exit_code, 0);
  Run push_denied = Berth(d_, {"push", *reg + "/me/pushed:2"});
  EXPECT_EQ(push_denied.exit_code, 1);
  EXPECT_NE(push_denied.output.find("push access denied to " + *reg + "/me/pushed"),
            std::string::npos)
      << push_denied.output;

  Run denied = Berth(d_, {"pull", name});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.output.find("pull access denied for " + *reg + "/me/private"), std::string::npos)
      << denied.output;

  Run wrong = Berth(d_, {"login", "-u", "anchor", "-p", "nope", *reg});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.output.find("login attempt to http://" + *reg +
                              "/v2/ failed with status: 401 Unauthorized"),
            std::string::npos)
      << wrong.output;
  EXPECT_FALSE(PathExists(dir_ + "/.berth/config.json"));

  std::ofstream(dir_ + "/pw.txt") << "anchorpw\n";
  Run login = Berth(d_, {"login", "-u", "anchor", "--password-stdin", *reg}, {}, dir_ + "/pw.txt");
  ASSERT_EQ(login.exit_code, 0) << login.output;
  EXPECT_NE(login.output.find("Login Succeeded"), std::string::npos) << login.output;
  Result<std::string> stored = ReadFile(dir_ + "/.berth/config.json");
  ASSERT_TRUE(stored) << stored.error().message;
  std::string config = *stored;
  // Docker's format: base64 of user:password under the registry's host.
  EXPECT_NE(config.find("\"" + *reg + "\""), std::string::npos) << config;
  EXPECT_NE(config.find("YW5jaG9yOmFuY2hvcnB3"), std::string::npos) << config;

  Run pushed = Berth(d_, {"push", *reg + "/me/pushed:2"});
  EXPECT_EQ(pushed.exit_code, 0) << pushed.output << Log(d_);
  EXPECT_NE(pushed.output.find("2: digest: sha256:"), std::string::npos) << pushed.output;

  Run pull = Berth(d_, {"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  Run ran = Berth(d_, {"run", "--rm", "--network", "none", name, "echo", "private"});
  EXPECT_EQ(ran.output, "private\n");

  Run out = Berth(d_, {"logout", *reg});
  EXPECT_EQ(out.output, "Removing login credentials for " + *reg + "\n");
  EXPECT_EQ(Berth(d_, {"logout", *reg}).output, "Not logged in to " + *reg + "\n");
  ASSERT_EQ(Berth(d_, {"rmi", name}).exit_code, 0);
  EXPECT_EQ(Berth(d_, {"pull", name}).exit_code, 1);

  if (!docker_.empty()) {
    Run dl = Docker(d_, {"login", "-u", "anchor", "-p", "anchorpw", *reg});
    ASSERT_EQ(dl.exit_code, 0) << dl.output;
    Run dp = Docker(d_, {"pull", name});
    EXPECT_EQ(dp.exit_code, 0) << dp.output << Log(d_);
    EXPECT_NE(dp.output.find("Status: Downloaded newer image for " + name), std::string::npos)
        << dp.output;
  }
}

TEST_F(PullTest, PushThenPullBackKeepsTheManifestDigest) {
  // A plain tar (kept as tree + tar-split: push regenerates its blob) and a gzip one.
  Run plain = Shell("zcat " + rootfs_ + " > " + dir_ + "/plain.tar");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  ASSERT_EQ(
      Berth(d_, {"import", "-c", "CMD [\"sh\"]", dir_ + "/plain.tar", "src/plain:1"}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs_, "src/gz:1"}).exit_code, 0);
  for (const std::string local : {"src/plain:1", "src/gz:1"}) {
    std::string repo = "me/pushed-" + local.substr(4, local.find(':') - 4);
    std::string name = registry_ + "/" + repo + ":1";
    ASSERT_EQ(Berth(d_, {"tag", local, name}).exit_code, 0);
    Run push = Berth(d_, {"push", name});
    ASSERT_EQ(push.exit_code, 0) << push.output << Log(d_);
    EXPECT_NE(push.output.find("The push refers to repository [" + registry_ + "/" + repo + "]"),
              std::string::npos)
        << push.output;
    EXPECT_NE(push.output.find(": Pushed"), std::string::npos) << push.output;
    std::string digest = RemoteDigest(repo + ":1");
    EXPECT_NE(push.output.find("1: digest: " + digest + " size: "), std::string::npos)
        << push.output;
    // Both go to the registry gzip-compressed (the plain one compressed by the push, as Docker).
    Run raw = Shell("skopeo inspect --raw --tls-verify=false docker://" + name);
    EXPECT_NE(raw.output.find("gzip"), std::string::npos) << raw.output;
    // Again: the registry has the layer.
    Run again = Berth(d_, {"push", name});
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find(": Layer already exists"), std::string::npos) << again.output;
    EXPECT_EQ(again.output.find(": Pushed"), std::string::npos) << again.output;

    // Gone locally, pulled back: same manifest digest, same image ID, it runs.
    std::string id = std::string(
        TrimSpace(Berth(d_, {"image", "inspect", "--format", "{{.Id}}", local}).output));
    ASSERT_EQ(Berth(d_, {"rmi", "-f", id}).exit_code, 0);
    Run pull = Berth(d_, {"pull", name});
    ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
    EXPECT_NE(pull.output.find("Digest: " + digest), std::string::npos) << pull.output;
    EXPECT_EQ(
        std::string(TrimSpace(Berth(d_, {"image", "inspect", "--format", "{{.Id}}", name}).output)),
        id);
    Run ran = Berth(d_, {"run", "--rm", "--network", "none", name, "echo", repo});
    EXPECT_EQ(ran.output, repo + "\n");
  }
  if (!docker_.empty()) {
    std::string name = registry_ + "/me/docker-pushed:7";
    ASSERT_EQ(Docker(d_, {"tag", registry_ + "/me/pushed-plain:1", name}).exit_code, 0);
    Run dp = Docker(d_, {"push", name});
    EXPECT_EQ(dp.exit_code, 0) << dp.output << Log(d_);
    EXPECT_NE(dp.output.find("7: digest: " + RemoteDigest("me/docker-pushed:7")), std::string::npos)
        << dp.output;
  }
  Run missing = Berth(d_, {"push", registry_ + "/me/nothing:1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("An image does not exist locally with the tag: " + registry_ +
                                "/me/nothing"),
            std::string::npos)
      << missing.output;
}

TEST_F(PullTest, LoopbackRegistryThatSpeaksTlsIsUsedOverHttps) {
  // A TLS-only registry answers plain HTTP with 400: the pull works only over https.
  Run cert = Shell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      dir_ + "/tls.key -out " + dir_ + "/tls.crt 2>&1");
  ASSERT_EQ(cert.exit_code, 0) << cert.output;
  std::optional<std::string> reg = StartRegistry(
      "", "  tls:\n    certificate: " + dir_ + "/tls.crt\n    key: " + dir_ + "/tls.key\n");
  ASSERT_TRUE(reg);
  ASSERT_EQ(Berth(d_, {"import", rootfs_, "src/busybox:1"}).exit_code, 0);
  Publish(d_, "src/busybox:1", "me/tls:1", "", *reg);
  ASSERT_EQ(Berth(d_, {"rmi", "src/busybox:1"}).exit_code, 0);
  const std::string name = *reg + "/me/tls:1";
  Run pull = Berth(d_, {"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  Run ran = Berth(d_, {"run", "--rm", "--network", "none", name, "echo", "over-tls"});
  EXPECT_EQ(ran.output, "over-tls\n");
  ASSERT_EQ(Berth(d_, {"tag", name, *reg + "/me/tls:2"}).exit_code, 0);
  Run push = Berth(d_, {"push", *reg + "/me/tls:2"});
  EXPECT_EQ(push.exit_code, 0) << push.output << Log(d_);
}

TEST_F(PullTest, HttpsRegistryIsTrustedThroughItsCertsDirectory) {
  std::string ip = NonLoopbackIpv4();
  if (ip.empty()) GTEST_SKIP() << "no non-loopback IPv4 address to serve a registry on";
  Run cert = Shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + ip +
                   " -addext subjectAltName=IP:" + ip + " -keyout " + dir_ + "/ca.key -out " +
                   dir_ + "/ca.crt 2>&1");
  ASSERT_EQ(cert.exit_code, 0) << cert.output;
  std::optional<std::string> reg = StartRegistry(
      "", "  tls:\n    certificate: " + dir_ + "/ca.crt\n    key: " + dir_ + "/ca.key\n", ip);
  ASSERT_TRUE(reg);
  ASSERT_EQ(Berth(d_, {"import", rootfs_, "src/busybox:1"}).exit_code, 0);
  Publish(d_, "src/busybox:1", "me/trusted:1", "", *reg);
  ASSERT_EQ(Berth(d_, {"rmi", "src/busybox:1"}).exit_code, 0);
  ASSERT_EQ(::kill(d_.pid, SIGTERM), 0);
  ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(30)));
  Forget(d_.pid);
  std::string certs = dir_ + "/certs.d";
  Daemon d = StartDaemon("certs", root_, {"--certs-dir", certs});
  ASSERT_TRUE(WaitReady(d));
  const std::string name = *reg + "/me/trusted:1";

  // Not loopback, not --insecure-registry: https with verification, which fails untrusted.
  Run untrusted = Berth(d, {"pull", name});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.output.find("certificate"), std::string::npos) << untrusted.output;

  ASSERT_TRUE(MakeDirs(certs + "/" + *reg));
  ASSERT_TRUE(WriteFileAtomic(certs + "/" + *reg + "/ca.crt", *ReadFile(dir_ + "/ca.crt")));
  Run trusted = Berth(d, {"pull", name});
  ASSERT_EQ(trusted.exit_code, 0) << trusted.output << Log(d);
  Run ran = Berth(d, {"run", "--rm", "--network", "none", name, "echo", "trusted"});
  EXPECT_EQ(ran.output, "trusted\n");
}

TEST_F(PullTest, CorruptBlobInTheRegistryFailsWithADigestErrorAndLeavesNoImage) {
  ASSERT_NO_FATAL_FAILURE(ImportAndPublish("src/busybox:1", "me/busybox:1"));
  Run layers = Shell(
      "skopeo inspect --tls-verify=false --format '{{range .Layers}}{{.}}{{end}}' "
      "docker://" +
      registry_ + "/me/busybox:1");
  std::string layer = std::string(TrimSpace(layers.output));
  ASSERT_TRUE(layer.starts_with("sha256:")) << layers.output;
  std::string blob = RegistryBlobPath(layer);
  std::string bytes = *ReadFile(blob);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  ASSERT_TRUE(WriteFileAtomic(blob, bytes));

  Run pull = Berth(d_, {"pull", registry_ + "/me/busybox:1"});
  EXPECT_EQ(pull.exit_code, 1) << pull.output;
  EXPECT_NE(pull.output.find("digest mismatch: expected " + layer), std::string::npos)
      << pull.output;
  EXPECT_EQ(std::string(TrimSpace(Berth(d_, {"images", "-q"}).output)), "");
  EXPECT_EQ(CountEntries(root_ + "/snapshots"), 0u);
  EXPECT_EQ(CountEntries(root_ + "/content/blobs/sha256"), 0u);
  EXPECT_EQ(CountEntries(root_ + "/content/ingest"), 0u);
  if (!docker_.empty()) {
    Run dp = Docker(d_, {"pull", registry_ + "/me/busybox:1"});
    EXPECT_NE(dp.exit_code, 0);
    EXPECT_NE(dp.output.find("digest mismatch"), std::string::npos) << dp.output;
  }
}

TEST_F(PullTest, ALayerIsUnpackedWhileItDownloads) {
  ASSERT_NO_FATAL_FAILURE(PublishBigAndStopDaemon());
  // 4 MB/s: the 24 MiB layer takes about 6 s.
  Daemon slow = StartDaemon("slow", root_, {"--max-download-speed", "4000000"});
  ASSERT_TRUE(WaitReady(slow));
  const std::string name = registry_ + "/me/big:1";
  pid_t client = StartBerth(slow, {"pull", name}, "", dir_ + "/pull.log");
  // Overlap: busybox (the layer's first entries) is in a snapshot being unpacked while the
  // layer's ingest is still open.
  auto downloading = [&] { return CountEntries(root_ + "/content/ingest") > 0; };
  auto unpacked_some = [&] {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/snapshots", ec)) {
      if (PathExists(e.path().string() + "/fs/bin/busybox")) return true;
    }
    return false;
  };
  bool overlap = false;
  for (int i = 0; i < 10000 && !overlap; ++i) {  // ≤ 20 s
    overlap = downloading() && unpacked_some();
    if (!overlap) ::usleep(2000);
  }
  EXPECT_TRUE(overlap) << Log(slow);
  ASSERT_EQ(testing::WaitExit(client, std::chrono::seconds(120)), 0)
      << *ReadFile(dir_ + "/pull.log");
  EXPECT_NE(Log(slow).find("is unpacked as it downloads"), std::string::npos) << Log(slow);
  ExpectBigBlob(slow, name);
}

TEST_F(PullTest, TwoConcurrentPullsOfOneImageDownloadItOnceAndBothSucceed) {
  ASSERT_NO_FATAL_FAILURE(PublishBigAndStopDaemon());
  // 8 MB/s: the 24 MiB layer takes about 3 s, long enough for the two pulls to meet.
  Daemon slow = StartDaemon("slow", root_, {"--max-download-speed", "8000000"});
  ASSERT_TRUE(WaitReady(slow));
  const std::string name = registry_ + "/me/big:1";
  pid_t a = StartBerth(slow, {"pull", name}, "", dir_ + "/a.log");
  pid_t b = StartBerth(slow, {"pull", name}, "", dir_ + "/b.log");
  EXPECT_EQ(testing::WaitExit(a, std::chrono::seconds(120)), 0) << *ReadFile(dir_ + "/a.log");
  EXPECT_EQ(testing::WaitExit(b, std::chrono::seconds(120)), 0) << *ReadFile(dir_ + "/b.log");
  EXPECT_EQ(std::string(TrimSpace(Berth(slow, {"images", "-q"}).output)).size(), 12u);
  // The registry served each blob once (the second pull waited for the first's download).
  Run layers = Shell(
      "skopeo inspect --tls-verify=false --format '{{range .Layers}}{{.}}{{end}}' "
      "docker://" +
      name);
  std::string layer = std::string(TrimSpace(layers.output));
  ASSERT_TRUE(layer.starts_with("sha256:")) << layers.output;
  std::string log =
      *ReadFile(dir_ + "/registry-" + registry_.substr(registry_.find(':') + 1) + ".log");
  EXPECT_EQ(Count(log, "\"GET /v2/me/big/blobs/" + layer), 1u) << log;
  EXPECT_EQ(CountEntries(root_ + "/content/ingest"), 0u);
  ExpectBigBlob(slow, name);
}

TEST_F(PullTest, KillDuringDownloadThenThePullResumesAndTheImageIsCorrect) {
  ASSERT_NO_FATAL_FAILURE(PublishBigAndStopDaemon());

  Daemon slow = StartDaemon("slow", root_, {"--max-download-speed", "4000000"});
  ASSERT_TRUE(WaitReady(slow));
  const std::string name = registry_ + "/me/big:1";
  pid_t client = StartBerth(slow, {"pull", name}, "", dir_ + "/pull1.log");
  // Wait until a good part of the layer is in its ingest, then kill the daemon.
  auto ingested = [&] {
    uint64_t most = 0;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(root_ + "/content/ingest", ec)) {
      if (e.is_regular_file(ec)) most = std::max<uint64_t>(most, e.file_size(ec));
    }
    return most;
  };
  bool started = false;
  for (int i = 0; i < 10000 && !started; ++i) {  // ≤ 20 s
    started = ingested() > (6u << 20);
    if (!started) ::usleep(2000);
  }
  ASSERT_TRUE(started) << Log(slow);
  ASSERT_EQ(::kill(slow.pid, SIGKILL), 0);
  ASSERT_TRUE(testing::WaitExit(slow.pid, std::chrono::seconds(30)));
  Forget(slow.pid);
  auto client_exit = testing::WaitExit(client, std::chrono::seconds(30));
  ASSERT_TRUE(client_exit);
  EXPECT_NE(*client_exit, 0);
  uint64_t partial = ingested();
  ASSERT_GT(partial, 0u);

  Daemon again = StartDaemon("again", root_);
  ASSERT_TRUE(WaitReady(again)) << Log(again);
  Run pull = Berth(again, {"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.output << Log(again);
  EXPECT_NE(Log(again).find("resuming the download of sha256:"), std::string::npos) << Log(again);
  EXPECT_EQ(CountEntries(root_ + "/content/ingest"), 0u);
  Run sum = ExpectBigBlob(again, name);
  EXPECT_EQ(sum.exit_code, 0) << sum.output;
}

// The README's promise against our own registry: `berth tag busybox REG/me/busybox && berth
// push REG/me/busybox` right after set-up, and every client pulls it back with one digest.
class BerthRegistryPullTest : public PullTest {
 protected:
  // Starts berth-registry on a free port (it prints "listening on HOST:PORT"); returns the
  // address.
  std::optional<std::string> StartBerthRegistry(std::vector<std::string> extra = {}) {
    std::string binary = BERTH_REGISTRY_PATH;
    if (binary.empty()) return std::nullopt;
    std::string log = dir_ + "/berth-registry-" + std::to_string(shells_++) + ".log";
    std::vector<std::string> argv = {binary, "serve", "--listen", "127.0.0.1:0", "--data-root",
                                     dir_ + "/breg-" + std::to_string(shells_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_t pid = testing::Spawn(argv, log);
    if (pid <= 0) return std::nullopt;
    registries_.push_back(pid);
    for (int i = 0; i < 5000; ++i) {
      if (auto text = ReadFile(log); text) {
        size_t at = text->find("listening on ");
        if (at != std::string::npos && text->find('\n', at) != std::string::npos) {
          return text->substr(at + 13, text->find('\n', at) - at - 13);
        }
      }
      ::usleep(2000);
    }
    ADD_FAILURE() << "berth-registry did not start: " << *ReadFile(log);
    return std::nullopt;
  }
};

TEST_F(BerthRegistryPullTest, BerthAndDockerPushAndPullThroughBerthRegistryWithOneDigest) {
  std::optional<std::string> reg = StartBerthRegistry();
  if (!reg) GTEST_SKIP() << "berth-registry is not built in this tree";
  ASSERT_EQ(Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs_, "busybox:latest"}).exit_code, 0);
  std::string name = *reg + "/me/busybox";
  ASSERT_EQ(Berth(d_, {"tag", "busybox", name}).exit_code, 0);
  Run push = Berth(d_, {"push", name});
  ASSERT_EQ(push.exit_code, 0) << push.output << Log(d_);
  Run inspect = Shell("skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://" + name);
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  std::string digest(TrimSpace(inspect.output));
  EXPECT_NE(push.output.find("latest: digest: " + digest), std::string::npos) << push.output;
  // Into another repository of the same registry the layer is mounted, not uploaded again.
  ASSERT_EQ(Berth(d_, {"tag", "busybox", *reg + "/team/copy"}).exit_code, 0);
  Run copy = Berth(d_, {"push", *reg + "/team/copy"});
  ASSERT_EQ(copy.exit_code, 0) << copy.output << Log(d_);
  EXPECT_NE(copy.output.find(": Mounted from me/busybox"), std::string::npos) << copy.output;
  EXPECT_EQ(copy.output.find(": Pushed"), std::string::npos) << copy.output;
  EXPECT_NE(copy.output.find("latest: digest: " + digest), std::string::npos) << copy.output;

  // A second daemon (another server) pulls it with berth and with the docker CLI.
  Daemon other = StartDaemon("other", dir_ + "/other-root");
  ASSERT_TRUE(WaitReady(other));
  Run pulled = Berth(other, {"pull", name});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.output << Log(other);
  EXPECT_NE(pulled.output.find("Digest: " + digest), std::string::npos) << pulled.output;
  Run ran = Berth(other, {"run", "--rm", "--network", "none", name, "echo", "pulled"});
  EXPECT_EQ(ran.output, "pulled\n") << ran.output;
  if (!docker_.empty()) {
    ASSERT_EQ(Berth(other, {"rmi", name}).exit_code, 0);
    Run dp = Docker(other, {"pull", name + ":latest"});
    EXPECT_EQ(dp.exit_code, 0) << dp.output << Log(other);
    EXPECT_NE(dp.output.find("Digest: " + digest), std::string::npos) << dp.output;
    // docker push through berthd into berth-registry, under another tag: the same manifest.
    ASSERT_EQ(Docker(other, {"tag", name, name + ":again"}).exit_code, 0);
    Run again = Docker(other, {"push", name + ":again"});
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("again: digest: " + digest), std::string::npos) << again.output;
  }
  // What a daemon pulled from one repository it mounts into another.
  ASSERT_EQ(Berth(other, {"tag", name, *reg + "/other/mirror:1"}).exit_code, 0);
  Run mirror = Berth(other, {"push", *reg + "/other/mirror:1"});
  EXPECT_EQ(mirror.exit_code, 0) << mirror.output << Log(other);
  EXPECT_NE(mirror.output.find(": Mounted from "), std::string::npos) << mirror.output;
}

TEST_F(BerthRegistryPullTest, LoginToAnHtpasswdBerthRegistryThenPushAndPull) {
  if (!PathExists("/usr/bin/htpasswd")) GTEST_SKIP() << "needs htpasswd (apache2-utils)";
  Run made = Shell("htpasswd -Bbn writer w-secret > " + dir_ + "/rw && htpasswd -Bbn reader r-secret > " +
                   dir_ + "/ro");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::optional<std::string> reg = StartBerthRegistry(
      {"--htpasswd", dir_ + "/rw", "--htpasswd-read-only", dir_ + "/ro"});
  if (!reg) GTEST_SKIP() << "berth-registry is not built in this tree";
  ASSERT_EQ(Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs_, "src/bb:1"}).exit_code, 0);
  std::string name = *reg + "/me/private:1";
  ASSERT_EQ(Berth(d_, {"tag", "src/bb:1", name}).exit_code, 0);
  Run anonymous = Berth(d_, {"push", name});
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.output;
  Run bad = Berth(d_, {"login", "-u", "writer", "-p", "wrong", *reg});
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  Run login = Berth(d_, {"login", "-u", "writer", "-p", "w-secret", *reg});
  ASSERT_EQ(login.exit_code, 0) << login.output << Log(d_);
  Run push = Berth(d_, {"push", name});
  ASSERT_EQ(push.exit_code, 0) << push.output << Log(d_);
  // The reader pulls but may not push.
  ASSERT_EQ(Berth(d_, {"login", "-u", "reader", "-p", "r-secret", *reg}).exit_code, 0);
  ASSERT_EQ(Berth(d_, {"rmi", name}).exit_code, 0);
  Run pull = Berth(d_, {"pull", name});
  EXPECT_EQ(pull.exit_code, 0) << pull.output << Log(d_);
  ASSERT_EQ(Berth(d_, {"tag", "src/bb:1", *reg + "/me/private:2"}).exit_code, 0);
  Run denied = Berth(d_, {"push", *reg + "/me/private:2"});
  EXPECT_NE(denied.exit_code, 0) << denied.output;
  EXPECT_NE(denied.output.find("denied"), std::string::npos) << denied.output;
}

}  // namespace
}  // namespace berth
