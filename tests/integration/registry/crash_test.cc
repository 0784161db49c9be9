// berth-registry killed with SIGKILL while 50 clients push, then started again on the same data
// root: every push that was answered 2xx is there with its bytes, nothing visible has other
// bytes than were pushed, and a chunked upload begun before the kill resumes from its offset.
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "compat_fixture.h"

namespace berth::registry_compat {
namespace {

using registry_conformance::Content;
using registry_conformance::ManifestSpec;
using registry_conformance::WithQuery;

constexpr size_t kMiB = 1 << 20;
constexpr int kPushes = 50;
constexpr int kAckedBeforeKill = 10;

HttpResponse PushBlob(HttpClient& client, const std::string& repo, const Content& blob,
                      bool monolithic) {
  const std::string uploads = "/v2/" + repo + "/blobs/uploads/";
  const std::pair<std::string, std::string> octets = {"Content-Type", "application/octet-stream"};
  if (monolithic)
    return client.Do({"POST", WithQuery(uploads, "digest", blob.digest), {octets}, blob.bytes});
  HttpResponse post = client.Do({"POST", uploads, {}, ""});
  if (post.status != 202) return post;
  return client.Do(
      {"PUT", WithQuery(post.Header("Location"), "digest", blob.digest), {octets}, blob.bytes});
}

// `n` random bytes, 8 at a time (the shared RandomBytes makes one a call: too slow for 125 MiB
// under ASan).
std::string FastRandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n + 8, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  out.resize(n);
  return out;
}

struct Push {
  Content blob;
  Content manifest;
  std::string tag;
  bool monolithic = false;
  long blob_status = 0;  // what the registry answered (0: nothing)
  long manifest_status = 0;
};

class CrashTest : public CompatTest {};

TEST_F(CrashTest, Kill9DuringFiftyPushesKeepsWhatWasAcknowledgedAndAnUploadResumes) {
  ASSERT_TRUE(StartRegistry());
  const std::string repo = "compat/crash";
  auto client = Client();
  Content config = registry_conformance::MakeConfig();
  ASSERT_EQ(PushBlob(*client, repo, config, true).status, 201);

  // A chunked upload with its first MiB acknowledged before the kill.
  Content resumable =
      registry_conformance::MakeContent(FastRandomBytes(3 * kMiB, std::random_device{}()));
  HttpResponse post = client->Do({"POST", "/v2/" + repo + "/blobs/uploads/", {}, ""});
  ASSERT_EQ(post.status, 202) << Describe(post);
  const std::string location = HttpClient::RelativePath(post.Header("Location"));
  HttpResponse patch = client->Do({"PATCH",
                                   location,
                                   {{"Content-Type", "application/octet-stream"},
                                    {"Content-Range", "0-" + std::to_string(kMiB - 1)}},
                                   resumable.bytes.substr(0, kMiB)});
  ASSERT_EQ(patch.status, 202) << Describe(patch);

  // 50 distinct blobs of 1-4 MiB, each with a manifest, made by the threads at once.
  std::vector<Push> pushes(kPushes);
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::vector<uint64_t> seeds;
  std::mt19937_64 seeder(std::random_device{}());
  for (int i = 0; i < kPushes; ++i) {
    Push& p = pushes[static_cast<size_t>(i)];
    p.tag = "push-" + std::to_string(i);
    p.monolithic = i % 2 == 0;
    clients.push_back(Client());
    seeds.push_back(seeder());
  }
  std::mutex mu;
  std::condition_variable acked_cv;
  int acked = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kPushes; ++i) {
    threads.emplace_back([&, i] {
      Push& p = pushes[static_cast<size_t>(i)];
      HttpClient& c = *clients[static_cast<size_t>(i)];
      uint64_t seed = seeds[static_cast<size_t>(i)];
      p.blob = registry_conformance::MakeContent(
          FastRandomBytes(kMiB + seed % (3 * kMiB + 1), seed), registry_conformance::kOciLayerGzip);
      ManifestSpec spec;
      spec.config = config;
      spec.layers = {p.blob};
      p.manifest = registry_conformance::MakeManifest(spec);
      p.blob_status = PushBlob(c, repo, p.blob, p.monolithic).status;
      if (p.blob_status != 201) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        ++acked;
      }
      acked_cv.notify_all();
      p.manifest_status = c.Do({"PUT",
                                "/v2/" + repo + "/manifests/" + p.tag,
                                {{"Content-Type", p.manifest.media_type}},
                                p.manifest.bytes})
                              .status;
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    acked_cv.wait_for(lock, std::chrono::seconds(30), [&] { return acked >= kAckedBeforeKill; });
  }
  registry_->Kill();
  for (auto& t : threads) t.join();

  int blobs_acked = 0;
  int manifests_acked = 0;
  for (const Push& p : pushes) {
    blobs_acked += p.blob_status == 201;
    manifests_acked += p.manifest_status == 201;
  }
  std::printf("killed with %d of %d blobs and %d manifests acknowledged\n", blobs_acked, kPushes,
              manifests_acked);
  EXPECT_GE(blobs_acked, kAckedBeforeKill);
  EXPECT_LT(manifests_acked, kPushes)
      << "every push finished before the kill: nothing was in flight";

  ASSERT_TRUE(registry_->Start());
  client = Client();
  std::set<std::string> tags_acked;
  for (const Push& p : pushes) {
    SCOPED_TRACE(p.tag + (p.monolithic ? " (monolithic POST)" : " (POST + PUT)") + ", blob " +
                 p.blob.digest + " answered " + std::to_string(p.blob_status) +
                 ", manifest answered " + std::to_string(p.manifest_status));
    HttpResponse blob = client->Do({"GET", "/v2/" + repo + "/blobs/" + p.blob.digest, {}, ""});
    if (p.blob_status == 201) {
      EXPECT_EQ(blob.status, 200) << Describe(blob);
    } else {
      EXPECT_TRUE(blob.status == 200 || blob.status == 404) << Describe(blob);
    }
    if (blob.status == 200) {
      EXPECT_EQ(blob.body.size(), p.blob.size());
      EXPECT_TRUE(blob.body == p.blob.bytes) << "blob " << p.blob.digest << " has other bytes";
    }
    for (const std::string& reference : {p.tag, p.manifest.digest}) {
      HttpResponse m = client->Do({"GET",
                                   "/v2/" + repo + "/manifests/" + reference,
                                   {{"Accept", p.manifest.media_type}},
                                   ""});
      if (p.manifest_status == 201) {
        EXPECT_EQ(m.status, 200) << reference << ": " << Describe(m);
      } else {
        EXPECT_TRUE(m.status == 200 || m.status == 404) << reference << ": " << Describe(m);
      }
      if (m.status == 200) {
        EXPECT_EQ(m.body, p.manifest.bytes) << reference;
      }
    }
    if (p.manifest_status == 201) tags_acked.insert(p.tag);
  }
  // Every tag listed is one of ours (checked above), and every acknowledged one is listed.
  HttpResponse list = client->Do({"GET", "/v2/" + repo + "/tags/list", {}, ""});
  ASSERT_EQ(list.status, 200) << Describe(list);
  nlohmann::json tags = nlohmann::json::parse(list.body, nullptr, false);
  std::set<std::string> listed;
  for (const auto& t : tags["tags"]) listed.insert(t.get<std::string>());
  for (const std::string& t : tags_acked) EXPECT_EQ(listed.count(t), 1u) << t << " is not listed";
  for (const std::string& t : listed) {
    EXPECT_TRUE(t.rfind("push-", 0) == 0) << "unknown tag " << t;
  }

  // The chunked upload resumes: its status gives the offset, the rest goes from there.
  HttpResponse status = client->Do({"GET", location, {}, ""});
  ASSERT_EQ(status.status, 204) << Describe(status);
  EXPECT_EQ(status.Header("Range"), "0-" + std::to_string(kMiB - 1));
  const std::string next = HttpClient::RelativePath(status.Header("Location"));
  patch = client->Do(
      {"PATCH",
       next,
       {{"Content-Type", "application/octet-stream"},
        {"Content-Range", std::to_string(kMiB) + "-" + std::to_string(resumable.size() - 1)}},
       resumable.bytes.substr(kMiB)});
  ASSERT_EQ(patch.status, 202) << Describe(patch);
  EXPECT_EQ(patch.Header("Range"), "0-" + std::to_string(resumable.size() - 1));
  HttpResponse put = client->Do(
      {"PUT",
       WithQuery(HttpClient::RelativePath(patch.Header("Location")), "digest", resumable.digest),
       {{"Content-Type", "application/octet-stream"}},
       ""});
  ASSERT_EQ(put.status, 201) << Describe(put);
  EXPECT_TRUE(HasBlob(repo, resumable.digest));
  ASSERT_TRUE(registry_->Stop());
}

}  // namespace
}  // namespace berth::registry_compat
