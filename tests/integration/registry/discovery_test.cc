// Content discovery: the upstream suite's checks (03_discovery_test.go): tag listing with n and
// last (and, ours, the Link header), the referrers API with OCI-Subject and the artifactType
// filter.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "registry_fixture.h"

namespace berth::registry_conformance {
namespace {

constexpr char kAnnotation[] = "org.opencontainers.conformance.test";
constexpr char kTypeA[] = "application/vnd.nhl.peanut.butter.bagel";
constexpr char kTypeB[] = "application/vnd.nba.strawberry.jam.croissant";
constexpr char kTypeIndex[] = "application/vnd.food.stand";

nlohmann::json ParseJson(const std::string& s) {
  return nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
}

std::vector<std::string> Tags(const HttpResponse& r) {
  std::vector<std::string> tags;
  nlohmann::json j = ParseJson(r.body);
  if (j.is_object() && j.contains("tags") && j["tags"].is_array()) {
    for (const auto& t : j["tags"]) {
      if (t.is_string()) tags.push_back(t.get<std::string>());
    }
  }
  return tags;
}

// ---- Tags ----

// Upstream setup: one manifest pushed under the tags test0..test3.
class RegistryTagListTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped()) return;
    repo_ = Repo();
    ASSERT_TRUE(PushImage(repo_, "test0", ImageSpec(), &manifest_));
    for (const char* tag : {"test1", "test2", "test3"}) {
      ASSERT_TRUE(PushManifest(repo_, tag, manifest_)) << tag;
    }
  }
  HttpResponse List(const std::string& query = "") {
    return Do("GET", "/v2/" + repo_ + "/tags/list" + query);
  }
  std::string repo_;
  Content manifest_;
};

TEST_F(RegistryTagListTest, ListIs200WithNameAndTheFourTags) {
  HttpResponse r = List();
  ASSERT_TRUE(IsStatus(r, 200));
  nlohmann::json j = ParseJson(r.body);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.value("name", ""), repo_);
  std::vector<std::string> tags = Tags(r);
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"test0", "test1", "test2", "test3"}));
}

// Ours (upstream does not check): the spec says the tags MUST be in lexical order.
TEST_F(RegistryTagListTest, ListIsInLexicalOrder) {
  ASSERT_TRUE(PushManifest(repo_, "Alpha", manifest_));  // upper case sorts first
  HttpResponse r = List();
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(Tags(r), (std::vector<std::string>{"Alpha", "test0", "test1", "test2", "test3"}));
}

TEST_F(RegistryTagListTest, NLimitsTheNumberOfTags) {
  HttpResponse r = List("?n=2");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(Tags(r), (std::vector<std::string>{"test0", "test1"}));
}

// Upstream's check only asks for a 200 here; the spec says the list starts after `last`.
TEST_F(RegistryTagListTest, LastStartsTheListAfterThatTag) {
  HttpResponse r = List("?n=2&last=test1");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(Tags(r), (std::vector<std::string>{"test2", "test3"}));
  HttpResponse all_after = List("?last=test0");
  ASSERT_TRUE(IsStatus(all_after, 200));
  EXPECT_EQ(Tags(all_after), (std::vector<std::string>{"test1", "test2", "test3"}));
}

// Ours: a Link header (MAY) is RFC 5988 with rel="next" and leads to the rest; n=0 is an empty
// list without Link (MUST).
TEST_F(RegistryTagListTest, LinkHeaderLeadsToTheNextPage) {
  HttpResponse r = List("?n=2");
  ASSERT_TRUE(IsStatus(r, 200));
  if (r.HasHeader("Link")) {
    std::string link = r.Header("Link");
    EXPECT_NE(link.find("rel=\"next\""), std::string::npos) << link;
    auto open = link.find('<');
    auto close = link.find('>');
    ASSERT_TRUE(open != std::string::npos && close != std::string::npos && open < close) << link;
    HttpResponse next =
        Do("GET", HttpClient::RelativePath(link.substr(open + 1, close - open - 1)));
    ASSERT_TRUE(IsStatus(next, 200));
    EXPECT_EQ(Tags(next), (std::vector<std::string>{"test2", "test3"}));
  }
  HttpResponse zero = List("?n=0");
  ASSERT_TRUE(IsStatus(zero, 200));
  EXPECT_TRUE(Tags(zero).empty()) << zero.body;
  EXPECT_FALSE(zero.HasHeader("Link"));
}

// ---- Referrers ----

// Upstream "References setup": manifest[4] is the subject of two artifacts of type A (one with
// the type as config media type, one with artifactType), an index of type "food.stand", and of
// two artifacts of type B pushed after the subject; artifact C refers to manifest[3], which is
// never pushed. Each PUT with a subject must answer OCI-Subject.
class RegistryReferrersTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped()) return;
    repo_ = Repo();
    Content empty = EmptyJson();
    Content blob_a = MakeContent("NHL Peanut Butter on my NHL bagel", kTypeA);
    Content blob_b = MakeContent("NBA Strawberry Jam on my NBA croissant", kTypeB);
    subject_spec_ = ImageSpec();
    subject_ = MakeManifest(subject_spec_);
    missing_subject_ = MakeManifest(ImageSpec());

    auto config_artifact = [&](const Content& blob, const char* note) {
      ManifestSpec s;
      s.config = blob;
      s.layers = {empty};
      s.subject = subject_;
      s.annotations = {{kAnnotation, note}};
      return MakeManifest(s);
    };
    auto layer_artifact = [&](const Content& blob, const char* type, const Content& subject,
                              const char* note) {
      ManifestSpec s;
      s.artifact_type = type;
      s.config = empty;
      s.layers = {blob};
      s.subject = subject;
      if (note != nullptr) s.annotations = {{kAnnotation, note}};
      return MakeManifest(s);
    };
    a_config_ = config_artifact(blob_a, "test config a");
    a_layer_ = layer_artifact(blob_a, kTypeA, subject_, "test layer a");
    b_config_ = config_artifact(blob_b, "test config b");
    b_layer_ = layer_artifact(blob_b, kTypeB, subject_, "test layer b");
    c_layer_ = layer_artifact(blob_b, kTypeB, missing_subject_, nullptr);
    index_ =
        MakeIndex({{a_config_, a_layer_}, subject_, kTypeIndex, {{kAnnotation, "test index"}}});
    annotations_ = {{a_config_.digest, "test config a"},
                    {a_layer_.digest, "test layer a"},
                    {b_config_.digest, "test config b"},
                    {b_layer_.digest, "test layer b"},
                    {index_.digest, "test index"}};
    for (const Content* m : {&a_config_, &a_layer_, &b_config_, &b_layer_, &index_}) {
      sizes_[m->digest] = m->size();
    }
    artifact_types_ = {{a_config_.digest, kTypeA},
                       {a_layer_.digest, kTypeA},
                       {b_config_.digest, kTypeB},
                       {b_layer_.digest, kTypeB},
                       {index_.digest, kTypeIndex}};

    ASSERT_TRUE(PushBlob(repo_, empty));
    ASSERT_TRUE(PushBlob(repo_, blob_a));
    // Referrers before their subject exists: a registry MUST accept them.
    for (const Content* m : {&a_config_, &a_layer_, &index_}) PutReferrer(*m, subject_);
    ASSERT_TRUE(PushBlob(repo_, subject_spec_.config));
    ASSERT_TRUE(PushBlob(repo_, subject_spec_.layers[0]));
    ASSERT_TRUE(PushManifest(repo_, "tagtest0", subject_));
    ASSERT_TRUE(PushBlob(repo_, blob_b));
    for (const Content* m : {&b_config_, &b_layer_}) PutReferrer(*m, subject_);
    PutReferrer(c_layer_, missing_subject_);
  }

  void PutReferrer(const Content& m, const Content& subject) {
    HttpResponse r = PutManifest(repo_, m.digest, m);
    ASSERT_TRUE(r.status / 100 == 2) << "references setup: " << Describe(r);
    subject_headers_.push_back(r.Header("OCI-Subject"));
    expected_subject_headers_.push_back(subject.digest);
  }

  HttpResponse Referrers(const std::string& digest, const std::string& artifact_type = "") {
    std::string url = "/v2/" + repo_ + "/referrers/" + digest;
    if (!artifact_type.empty()) url = WithQuery(url, "artifactType", artifact_type);
    return Do("GET", url);
  }

  // The index of a referrers response, after the checks every such response gets.
  nlohmann::json Index(const HttpResponse& r) {
    EXPECT_EQ(r.Header("Content-Type"), kOciIndex);
    nlohmann::json j = ParseJson(r.body);
    EXPECT_TRUE(j.is_object() && j.contains("manifests") && j["manifests"].is_array()) << r.body;
    if (!j.is_object() || !j.contains("manifests")) return nlohmann::json::array();
    return j["manifests"];
  }

  // Each descriptor is one we pushed, with its media type, size, artifactType and annotation.
  void CheckDescriptors(const nlohmann::json& manifests) {
    std::set<std::string> seen;
    for (const auto& d : manifests) {
      std::string digest = d.value("digest", "");
      EXPECT_TRUE(seen.insert(digest).second) << "listed twice: " << digest;
      ASSERT_TRUE(annotations_.count(digest)) << "not a referrer of the subject: " << d.dump();
      EXPECT_EQ(d.value("artifactType", ""), artifact_types_[digest]) << d.dump();
      EXPECT_EQ(d.value("mediaType", ""), digest == index_.digest ? kOciIndex : kOciManifest)
          << d.dump();
      EXPECT_EQ(d.value("size", size_t{0}), sizes_[digest]) << d.dump();
      ASSERT_TRUE(d.contains("annotations") && d["annotations"].is_object()) << d.dump();
      EXPECT_EQ(d["annotations"].size(), 1u) << d.dump();
      EXPECT_EQ(d["annotations"].value(kAnnotation, ""), annotations_[digest]) << d.dump();
    }
  }

  std::string repo_;
  ManifestSpec subject_spec_;
  Content subject_, missing_subject_, a_config_, a_layer_, b_config_, b_layer_, c_layer_, index_;
  std::map<std::string, std::string> annotations_, artifact_types_;
  std::map<std::string, size_t> sizes_;
  std::string a_config_blob_digest_ = Sha256("NHL Peanut Butter on my NHL bagel");
  std::string b_config_blob_digest_ = Sha256("NBA Strawberry Jam on my NBA croissant");
  std::vector<std::string> subject_headers_, expected_subject_headers_;
};

TEST_F(RegistryReferrersTest, PutOfManifestWithSubjectAnswersOciSubject) {
  EXPECT_EQ(subject_headers_, expected_subject_headers_);
}

TEST_F(RegistryReferrersTest, ReferrersOfUnknownDigestIsEmptyIndex) {
  HttpResponse r = Referrers(Sha256("hello world"));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(Index(r).empty()) << r.body;
}

TEST_F(RegistryReferrersTest, ReferrersListsTheFiveWithTheirAnnotations) {
  HttpResponse r = Referrers(subject_.digest);
  ASSERT_TRUE(IsStatus(r, 200));
  nlohmann::json manifests = Index(r);
  EXPECT_EQ(manifests.size(), 5u) << r.body;
  CheckDescriptors(manifests);
}

// Upstream accepts an unfiltered answer (5, with a warning); with OCI-Filters-Applied it must be
// the two of type A. Ours: berth-registry must filter.
TEST_F(RegistryReferrersTest, ArtifactTypeFilterGivesTypeAOnlyWithFiltersAppliedHeader) {
  HttpResponse r = Referrers(subject_.digest, kTypeA);
  ASSERT_TRUE(IsStatus(r, 200));
  nlohmann::json manifests = Index(r);
  if (r.HasHeader("OCI-Filters-Applied") ||
      RegistryEnvironment::target() == Target::kBerthRegistry) {
    EXPECT_EQ(r.Header("OCI-Filters-Applied"), "artifactType");
    EXPECT_EQ(manifests.size(), 2u) << r.body;
    for (const auto& d : manifests) EXPECT_EQ(d.value("artifactType", ""), kTypeA) << d.dump();
  } else {
    EXPECT_EQ(manifests.size(), 5u) << r.body;
  }
  CheckDescriptors(manifests);
}

TEST_F(RegistryReferrersTest, ReferrersOfMissingSubjectListsItsReferrer) {
  HttpResponse r = Referrers(missing_subject_.digest);
  ASSERT_TRUE(IsStatus(r, 200));
  nlohmann::json manifests = Index(r);
  ASSERT_EQ(manifests.size(), 1u) << r.body;
  EXPECT_EQ(manifests[0].value("digest", ""), c_layer_.digest);
}

// Upstream "Teardown": manifests and the tag deleted (2xx, 404 or 405), the subject's config
// and layer blobs (2xx or 405: they are there), then "References teardown": the referrers'
// blobs (2xx, 404 or 405); manifests before or after blobs as OCI_DELETE_MANIFEST_BEFORE_BLOBS.
TEST_F(RegistryReferrersTest, TeardownDeletesManifestsTagsAndBlobs) {
  auto delete_manifests = [&] {
    for (const std::string& ref :
         {index_.digest, subject_.digest, a_config_.digest, a_layer_.digest,
          std::string("tagtest0"), b_config_.digest, b_layer_.digest, c_layer_.digest}) {
      HttpResponse r = Do("DELETE", ManifestPath(repo_, ref));
      EXPECT_TRUE(r.status / 100 == 2 || r.status == 404 || r.status == 405)
          << ref << ": " << Describe(r);
    }
  };
  if (DeleteManifestBeforeBlobs()) delete_manifests();
  for (const Content* c : {&subject_spec_.config, &subject_spec_.layers[0]}) {
    HttpResponse r = Do("DELETE", BlobPath(repo_, c->digest));
    EXPECT_TRUE(r.status / 100 == 2 || r.status == 405) << c->digest << ": " << Describe(r);
  }
  for (const std::string& digest :
       {EmptyJson().digest, a_config_blob_digest_, b_config_blob_digest_}) {
    HttpResponse r = Do("DELETE", BlobPath(repo_, digest));
    EXPECT_TRUE(r.status / 100 == 2 || r.status == 404 || r.status == 405)
        << digest << ": " << Describe(r);
  }
  if (!DeleteManifestBeforeBlobs()) delete_manifests();
}

}  // namespace
}  // namespace berth::registry_conformance
