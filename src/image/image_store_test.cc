// ImageStore against the real LocalStore, OverlaySnapshotter and LinuxSyscalls in a temp dir.
// Owners are not changed (chown=false), so this runs unprivileged; tests/privileged covers chown.
#include "image/image_store.h"

#include <stdlib.h>

#include <unistd.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "archive/compression.h"
#include "archive/tar_reader.h"
#include "archive/testing/raw_tar.h"
#include "base/file.h"
#include "base/io.h"
#include "content/content.h"
#include "content/local_store.h"
#include "oci/image_layout.h"
#include "oci/manifest.h"
#include "snapshot/overlay/overlay_snapshotter.h"
#include "sql/database.h"
#include "sys/linux_syscalls.h"

namespace berth::image {
namespace {

using archive::testing::RawTar;

std::string RootfsTar(const std::string& marker = "1") {
  RawTar t;
  t.Dir("bin")
      .File("bin/sh", "#!shell " + marker, 0755)
      .Dir("etc")
      .File("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
      .Symlink("bin/ls", "sh");
  return t.Finish();
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(MakeDirs(root_ + "/tmp").ok());
    auto db = sql::Database::Open(root_ + "/meta.db");
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    auto content = content::LocalStore::Open(root_ + "/content", *db_);
    ASSERT_TRUE(content) << content.error().message;
    content_ = std::move(*content);
    auto snaps = snapshot::OverlaySnapshotter::Open(root_, *db_);
    ASSERT_TRUE(snaps) << snaps.error().message;
    snapshots_ = std::move(*snaps);
    Reopen("boot-1");
  }
  // A new store on the same data, as a daemon started under `boot_id`.
  void Reopen(const std::string& boot_id) {
    store_.reset();
    store_ = std::make_unique<ImageStore>(*db_, *content_, *snapshots_, sys_,
                                          StoreOptions{root_ + "/tmp", /*chown=*/false, boot_id});
    Status init = store_->Init();
    ASSERT_TRUE(init.ok()) << init.error().message;
  }
  void TearDown() override {
    store_.reset();
    snapshots_.reset();
    content_.reset();
    db_.reset();
    ASSERT_TRUE(RemoveAll(root_).ok());
  }

  Result<Image> Import(const std::string& tar, const std::string& tag,
                       std::vector<std::string> changes = {}) {
    StringReader r(tar);
    ImportOptions o;
    if (!tag.empty()) o.tag = *oci::ParseNormalizedNamed(tag);
    o.changes = std::move(changes);
    return store_->Import(r, o);
  }

  // Everything the store holds: images, blobs, snapshots, files under tmp/.
  struct Census {
    int64_t images, blobs, snapshots, tmp_files;
    friend bool operator==(const Census&, const Census&) = default;
  };
  Census Count() {
    Census c{};
    c.images = store_->Count();
    c.blobs = static_cast<int64_t>(content_->List()->size());
    c.snapshots = static_cast<int64_t>(snapshots_->List()->size());
    c.tmp_files = 0;
    for (auto it = std::filesystem::recursive_directory_iterator(root_ + "/tmp");
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      ++c.tmp_files;
    }
    return c;
  }

  std::string root_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<content::LocalStore> content_;
  std::unique_ptr<snapshot::OverlaySnapshotter> snapshots_;
  sys::LinuxSyscalls sys_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageStoreTest, ImportCreatesTaggedOneLayerImage) {
  auto img = Import(RootfsTar(), "busybox", {"CMD [\"sh\"]", "ENV PATH=/bin"});
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(img->layers.size(), 1u);
  EXPECT_EQ(img->config.rootfs.diff_ids.size(), 1u);
  EXPECT_EQ(img->layers[0].chain_id, img->layers[0].diff_id);
  ASSERT_TRUE(img->config.config.cmd.has_value());
  EXPECT_EQ(*img->config.config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(img->config.history.at(0).comment, "Imported from -");
  ASSERT_EQ(img->tags.size(), 1u);
  EXPECT_EQ(img->tags[0].String(), "docker.io/library/busybox:latest");
  EXPECT_GT(img->size, 0);

  // Resolvable by name, full ID, short ID.
  for (std::string name : {std::string("busybox"), std::string("busybox:latest"),
                           std::string("docker.io/library/busybox:latest"), img->id.ToString(),
                           img->id.hex(), img->id.hex().substr(0, 12)}) {
    auto id = store_->Resolve(name);
    ASSERT_TRUE(id) << name << ": " << id.error().message;
    EXPECT_EQ(*id, img->id);
  }
  auto missing = store_->Resolve("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(missing.error().message, "No such image: nope");

  // The layer is unpacked in its snapshot.
  auto upper = snapshots_->UpperPath(img->layers[0].chain_id.ToString());
  EXPECT_FALSE(upper.ok()) << "committed snapshots have no upper dir to write";
  auto mounts = snapshots_->View("view-1", img->layers[0].chain_id.ToString());
  ASSERT_TRUE(mounts) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ(*ReadFile((*mounts)[0].source + "/bin/sh"), "#!shell 1");
  ASSERT_TRUE(snapshots_->Remove("view-1").ok());
}

TEST_F(ImageStoreTest, ImportOfCompressedTarsKeepsTheBlobAsGiven) {
  for (auto compression : {archive::Compression::kGzip, archive::Compression::kZstd}) {
    StringWriter out;
    {
      auto w = compression == archive::Compression::kGzip ? archive::NewGzipWriter(out, 1)
                                                          : archive::NewZstdWriter(out, 1);
      ASSERT_TRUE(w);
      ASSERT_TRUE((*w)->Write(RootfsTar()).ok());
      ASSERT_TRUE((*w)->Close().ok());
    }
    auto img = Import(out.str(), "");
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_EQ(img->layers[0].blob, oci::Digest::Of(out.str()));
    EXPECT_NE(img->layers[0].blob, img->layers[0].diff_id);
    EXPECT_NE(img->layers[0].media_type.find(compression == archive::Compression::kGzip ? "gzip"
                                                                                        : "zstd"),
              std::string::npos);
  }
}

TEST_F(ImageStoreTest, LayersAreSharedAndRemovedWithTheirLastImage) {
  auto a = Import(RootfsTar(), "a");
  auto b = Import(RootfsTar(), "b", {"USER nobody"});
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(a->layers[0].chain_id, b->layers[0].chain_id);
  EXPECT_EQ(snapshots_->List()->size(), 1u);

  auto removed = store_->Remove("a", false, true);
  ASSERT_TRUE(removed) << removed.error().message;
  ASSERT_EQ(removed->size(), 2u);
  EXPECT_EQ((*removed)[0].untagged, "a:latest");
  EXPECT_EQ((*removed)[1].deleted, a->id.ToString());
  EXPECT_EQ(snapshots_->List()->size(), 1u) << "b still uses the layer";

  removed = store_->Remove("b", false, true);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->back().deleted, b->layers[0].chain_id.ToString());
  EXPECT_EQ(snapshots_->List()->size(), 0u);
  EXPECT_EQ(content_->List()->size(), 0u);
  EXPECT_EQ(store_->Count(), 0);
}

TEST_F(ImageStoreTest, RemoveUntagsUntilTheLastName) {
  auto img = Import(RootfsTar(), "one");
  ASSERT_TRUE(img);
  ASSERT_TRUE(store_->Tag("one", *oci::ParseNormalizedNamed("two:v1")).ok());
  auto by_id = store_->Remove(img->id.hex().substr(0, 12), false, true);
  ASSERT_FALSE(by_id);
  EXPECT_EQ(by_id.error().code, Code::kConflict);
  EXPECT_NE(by_id.error().message.find("image is referenced in multiple repositories"),
            std::string::npos);

  auto untag = store_->Remove("two:v1", false, true);
  ASSERT_TRUE(untag);
  ASSERT_EQ(untag->size(), 1u);
  EXPECT_EQ((*untag)[0].untagged, "two:v1");
  EXPECT_EQ(store_->Count(), 1);

  ASSERT_TRUE(store_->Tag(img->id.ToString(), *oci::ParseNormalizedNamed("three")).ok());
  auto forced = store_->Remove(img->id.ToString(), true, true);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_EQ(store_->Count(), 0);
}

TEST_F(ImageStoreTest, ListFiltersAndHistory) {
  ASSERT_TRUE(Import(RootfsTar(), "web:1", {"LABEL tier=front"}));
  ASSERT_TRUE(Import(RootfsTar("2"), ""));
  auto all = store_->List({});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  ListFilters dangling;
  dangling.dangling = true;
  EXPECT_EQ(store_->List(dangling)->size(), 1u);
  ListFilters label;
  label.labels = {"tier=front"};
  EXPECT_EQ(store_->List(label)->size(), 1u);
  ListFilters ref;
  ref.references = {"we*"};
  EXPECT_EQ(store_->List(ref)->size(), 1u);
  ref.references = {"nothing*"};
  EXPECT_EQ(store_->List(ref)->size(), 0u);

  auto history = store_->History("web:1");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].tags, std::vector<std::string>{"web:1"});
  EXPECT_EQ((*history)[0].comment, "Imported from -");
  EXPECT_GT((*history)[0].size, 0);
}

TEST_F(ImageStoreTest, SaveRmiLoadKeepsIdsAndDigests) {
  auto img = Import(RootfsTar(), "busybox");
  ASSERT_TRUE(img);
  StringWriter saved;
  ASSERT_TRUE(store_->Save({"busybox"}, saved).ok());

  ASSERT_TRUE(store_->Remove("busybox", false, true));
  Census empty = Count();
  EXPECT_EQ(empty.images, 0);

  StringReader r(saved.str());
  auto lines = store_->Load(r, nullptr);
  ASSERT_TRUE(lines) << lines.error().message;
  EXPECT_EQ(*lines, std::vector<std::string>{"Loaded image: busybox:latest"});
  auto loaded = store_->Get("busybox");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->id, img->id);
  EXPECT_EQ(loaded->manifest, img->manifest);
  EXPECT_EQ(loaded->layers[0].chain_id, img->layers[0].chain_id);
  EXPECT_EQ(Count().tmp_files, 0);
  // Only what the image needs is kept: layer, config, manifest.
  EXPECT_EQ(content_->List()->size(), 3u);
}

TEST_F(ImageStoreTest, CommitAddsALayerWithTheContainersConfig) {
  auto base = Import(RootfsTar(), "base", {"CMD [\"sh\"]"});
  ASSERT_TRUE(base) << base.error().message;
  CommitOptions o;
  o.image_id = base->id;
  o.container_id = std::string(64, 'c');
  o.container_config_json = R"({"Hostname":"abc","Cmd":["sh","-c","echo hi > /x"],"Env":null})";
  o.changes = {"CMD [\"cat\",\"/x\"]"};
  o.created_by = "sh -c echo hi > /x";
  o.comment = "note";
  o.author = "me";
  o.tag = *oci::ParseNormalizedNamed("snap:1");
  StringReader diff(RootfsTar("diff"));
  auto img = store_->Commit(diff, o);
  ASSERT_TRUE(img) << img.error().message;
  ASSERT_EQ(img->layers.size(), base->layers.size() + 1);
  EXPECT_EQ(img->layers[0].chain_id, base->layers[0].chain_id);
  EXPECT_EQ(img->config.config.cmd, (std::vector<std::string>{"cat", "/x"}));
  EXPECT_EQ(img->config.author, "me");
  ASSERT_EQ(img->config.history.size(), base->config.history.size() + 1);
  EXPECT_EQ(img->config.history.back().created_by, "sh -c echo hi > /x");
  EXPECT_EQ(img->config.history.back().comment, "note");
  EXPECT_EQ(img->config.extra.at("container"), "\"" + std::string(64, 'c') + "\"");
  // container_config is the Config before --change.
  EXPECT_NE(img->config.extra.at("container_config").find("echo hi"), std::string::npos);
  EXPECT_EQ(*store_->Resolve("snap:1"), img->id);

  // A diff that is not a tar, or bad changes: nothing is left behind.
  auto before = Count();
  std::string corrupt_gzip = std::string("\x1f\x8b\x08\x00", 4) + std::string(100, 'x');
  StringReader bad(corrupt_gzip);
  o.tag = *oci::ParseNormalizedNamed("snap:2");
  EXPECT_FALSE(store_->Commit(bad, o));
  StringReader good(RootfsTar("other"));
  o.changes = {"NOPE x"};
  EXPECT_FALSE(store_->Commit(good, o));
  EXPECT_EQ(Count(), before);
  EXPECT_FALSE(store_->Resolve("snap:2").ok());
}

TEST_F(ImageStoreTest, BadInputLeavesNothingBehind) {
  ASSERT_TRUE(Import(RootfsTar(), "keep"));
  StringWriter saved;
  ASSERT_TRUE(store_->Save({"keep"}, saved).ok());
  Census before = Count();

  std::string corrupt_gzip = std::string("\x1f\x8b\x08\x00", 4) + std::string(100, 'x');
  auto bad_import = Import(corrupt_gzip, "broken");
  EXPECT_FALSE(bad_import);
  EXPECT_EQ(Count(), before);
  EXPECT_FALSE(store_->Resolve("broken").ok());

  auto bad_change = Import(RootfsTar("3"), "x", {"RUN rm -rf /"});
  ASSERT_FALSE(bad_change);
  EXPECT_EQ(bad_change.error().message, "RUN is not a valid change command");
  EXPECT_EQ(Count(), before);

  std::string config_blob = oci::BlobPath(*store_->Resolve("keep"));
  struct Case {
    std::string name;
    std::string tar;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {"empty input", "", "empty"},
      {"not a tar", std::string(2048, 'z'), "load"},
      {"truncated", saved.str().substr(0, saved.str().size() / 2), "load"},
      {"no manifest", RawTar().File("hello", "x").Finish(), "not an image archive"},
      {"missing layer",
       RawTar()
           .File("manifest.json",
                 "[{\"Config\":\"c.json\",\"RepoTags\":[\"m:1\"],\"Layers\":[\"l/layer.tar\"]}]")
           .File("c.json",
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                 "\"diff_ids\":[\"sha256:" +
                     std::string(64, 'a') + "\"]}}")
           .Finish(),
       "which it does not contain"},
      {"path outside",
       RawTar()
           .File("manifest.json", "[{\"Config\":\"../c.json\",\"RepoTags\":[],\"Layers\":[]}]")
           .Finish(),
       "manifest.json"},
      {"entry outside", RawTar().File("../../escape", "x").Finish(), "outside the archive"},
      {"diff_id mismatch",
       RawTar()
           .File("manifest.json",
                 "[{\"Config\":\"c.json\",\"RepoTags\":[\"m:1\"],\"Layers\":[\"l.tar\"]}]")
           .File("c.json",
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                 "\"diff_ids\":[\"sha256:" +
                     std::string(64, 'a') + "\"]}}")
           .File("l.tar", RootfsTar("4"))
           .Finish(),
       "the config says"},
      {"blob digest mismatch",
       RawTar().File("blobs/sha256/" + std::string(64, 'b'), "not what the name says").Finish(),
       "digest"},
  };
  for (const Case& c : cases) {
    StringReader r(c.tar);
    auto lines = store_->Load(r, nullptr);
    ASSERT_FALSE(lines) << c.name;
    EXPECT_NE(lines.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << lines.error().message;
    EXPECT_EQ(Count(), before) << c.name;
    EXPECT_FALSE(store_->Resolve("m:1").ok()) << c.name;
  }
}

// A registry's image: a gzip layer blob already in the content store (as pull leaves it),
// its config and a Docker schema 2 manifest naming both.
struct PulledFixture {
  ManifestImage image;
  oci::Digest diff_id;
};

PulledFixture MakePulled(content::Store& content, const std::string& tar,
                         const oci::Digest* claimed_diff_id = nullptr) {
  StringWriter gz;
  auto w = archive::NewGzipWriter(gz, 1);
  EXPECT_TRUE((*w)->Write(tar).ok());
  EXPECT_TRUE((*w)->Close().ok());
  std::string blob = gz.Take();
  oci::Digest blob_digest = *content::WriteBlob(content, blob, std::nullopt);
  PulledFixture f;
  f.diff_id = claimed_diff_id ? *claimed_diff_id : oci::Digest::Of(tar);
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},)"
                       R"("rootfs":{"type":"layers","diff_ids":[")" +
                       f.diff_id.ToString() + R"("]}})";
  oci::Manifest m;
  m.media_type = "application/vnd.docker.distribution.manifest.v2+json";
  m.config = {"application/vnd.docker.container.image.v1+json", oci::Digest::Of(config),
              static_cast<int64_t>(config.size()), {}, {}, "", std::nullopt, ""};
  m.layers.push_back({"application/vnd.docker.image.rootfs.diff.tar.gzip", blob_digest,
                      static_cast<int64_t>(blob.size()), {}, {}, "", std::nullopt, ""});
  f.image.manifest_bytes = oci::SerializeManifest(m);
  f.image.config_bytes = config;
  f.image.layers = m.layers;
  return f;
}

// Serves the layers from the content store, recording the calls.
class ContentLayers : public LayerSource {
 public:
  ContentLayers(content::Store& content, const ManifestImage& image)
      : content_(content), image_(image) {}
  Result<std::unique_ptr<Reader>> Open(size_t index) override {
    opened.push_back(index);
    BERTH_ASSIGN_OR_RETURN(auto blob, content_.Open(image_.layers.at(index).digest));
    return std::unique_ptr<Reader>(std::move(blob));
  }
  void Unpacked(size_t index) override { unpacked.push_back(index); }
  std::vector<size_t> opened, unpacked;

 private:
  content::Store& content_;
  const ManifestImage& image_;
};

TEST_F(ImageStoreTest, AddImageUnpacksThePulledLayersAndKeepsTheManifestAsPulled) {
  PulledFixture f = MakePulled(*content_, RootfsTar("pulled"));
  oci::Reference tag = *oci::ParseNormalizedNamed("reg.example/me/app:1");
  oci::Digest manifest_digest = oci::Digest::Of(f.image.manifest_bytes);
  f.image.names = {tag, tag.TrimNamed().WithDigest(manifest_digest)};
  EXPECT_EQ(*store_->PresentLayers(f.image), std::vector<bool>{false});

  ContentLayers layers(*content_, f.image);
  Result<Image> img = store_->AddImage(f.image, layers);
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(layers.opened, std::vector<size_t>{0});
  EXPECT_EQ(layers.unpacked, std::vector<size_t>{0});
  EXPECT_EQ(img->manifest, manifest_digest);
  EXPECT_EQ(img->manifest_media_type, "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(img->id, oci::Digest::Of(f.image.config_bytes));
  ASSERT_EQ(img->layers.size(), 1u);
  EXPECT_EQ(img->layers[0].diff_id, f.diff_id);
  EXPECT_EQ(img->layers[0].blob, f.image.layers[0].digest);
  EXPECT_EQ(img->tags, std::vector<oci::Reference>{tag});
  ASSERT_EQ(img->repo_digests.size(), 1u);
  EXPECT_EQ(*store_->ReadManifest(*img), f.image.manifest_bytes);
  // Pulled again: the layer needs nothing, and is not opened.
  EXPECT_EQ(*store_->PresentLayers(f.image), std::vector<bool>{true});
  ContentLayers again(*content_, f.image);
  ASSERT_TRUE(store_->AddImage(f.image, again));
  EXPECT_TRUE(again.opened.empty());
  EXPECT_EQ(again.unpacked, std::vector<size_t>{0});
}

// moby's rule: the last tag of a repository takes its digest references along.
TEST_F(ImageStoreTest, RemovingTheLastTagOfARepositoryTakesItsDigestReferences) {
  PulledFixture f = MakePulled(*content_, RootfsTar("pulled"));
  oci::Reference tag = *oci::ParseNormalizedNamed("reg.example/me/app:1");
  oci::Reference other = *oci::ParseNormalizedNamed("reg.example/me/other:2");
  oci::Digest manifest_digest = oci::Digest::Of(f.image.manifest_bytes);
  f.image.names = {tag, tag.TrimNamed().WithDigest(manifest_digest)};
  ContentLayers layers(*content_, f.image);
  ASSERT_TRUE(store_->AddImage(f.image, layers));
  ASSERT_TRUE(store_->Tag("reg.example/me/app:1", other));
  // Another repository's tag remains: untag app:1 and app@digest, keep the image.
  auto removed = store_->Remove("reg.example/me/app:1", false, true);
  ASSERT_TRUE(removed) << removed.error().message;
  ASSERT_EQ(removed->size(), 2u);
  EXPECT_EQ((*removed)[0].untagged, "reg.example/me/app:1");
  EXPECT_EQ((*removed)[1].untagged, "reg.example/me/app@" + manifest_digest.ToString());
  Result<Image> img = store_->Get("reg.example/me/other:2");
  ASSERT_TRUE(img);
  EXPECT_TRUE(img->repo_digests.empty());
  // The last tag: the image goes too.
  removed = store_->Remove("reg.example/me/other:2", false, true);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->back().deleted.empty(), false);
  EXPECT_FALSE(store_->Get(img->id.ToString()).ok());
}

TEST_F(ImageStoreTest, AddImageRefusesALayerWhoseContentIsNotWhatTheConfigSays) {
  Census before = Count();
  oci::Digest wrong = oci::Digest::Of("not this layer");
  PulledFixture f = MakePulled(*content_, RootfsTar("x"), &wrong);
  ContentLayers layers(*content_, f.image);
  Result<Image> img = store_->AddImage(f.image, layers);
  ASSERT_FALSE(img);
  EXPECT_EQ(img.error().code, Code::kDataLoss);
  EXPECT_NE(img.error().message.find("the config says " + wrong.ToString()), std::string::npos)
      << img.error().message;
  Census after = Count();
  EXPECT_EQ(after.images, before.images);
  EXPECT_EQ(after.snapshots, before.snapshots);
  EXPECT_EQ(after.blobs, before.blobs + 1);  // only the layer blob the "pull" stored

  // A config that lists another number of layers than the manifest.
  f.image.layers.push_back(f.image.layers[0]);
  Result<std::vector<bool>> present = store_->PresentLayers(f.image);
  ASSERT_FALSE(present);
  EXPECT_EQ(present.error().code, Code::kInvalidArgument);
}

TEST_F(ImageStoreTest, InitRemovesLeftoversOfAnInterruptedUnpack) {
  ASSERT_TRUE(snapshots_->Prepare("unpack-deadbeef", "").ok());
  ASSERT_TRUE(snapshots_->Prepare("unpack-orphan", "").ok());
  ASSERT_TRUE(snapshots_->Commit("sha256:" + std::string(64, 'c'), "unpack-orphan").ok());
  ASSERT_TRUE(store_->Init().ok());
  EXPECT_EQ(snapshots_->List()->size(), 0u);
}

}  // namespace
}  // namespace berth::image

namespace berth::image {
namespace {

// path -> contents of the regular files of a tar.
std::map<std::string, std::string> TarFiles(const std::string& tar) {
  std::map<std::string, std::string> out;
  StringReader r(tar);
  auto t = archive::TarReader::Open(r);
  EXPECT_TRUE(t);
  if (!t) return out;
  while (true) {
    auto e = (*t)->Next();
    EXPECT_TRUE(e) << e.error().message;
    if (!e || !*e) break;
    if ((*e)->type != archive::EntryType::kFile) continue;
    auto data = ReadAll((*t)->data(), 1 << 30);
    EXPECT_TRUE(data);
    out[(*e)->path] = data ? *data : "";
  }
  return out;
}

class TarSplitImageTest : public ImageStoreTest {
 protected:
  std::string LayerTree(const Image& img, size_t i = 0) {
    auto p = snapshots_->LayerPath(img.layers.at(i).chain_id.ToString());
    EXPECT_TRUE(p) << p.error().message;
    return p ? *p : "";
  }
  std::string UnsyncedBoot(const oci::Digest& chain) {
    auto lock = db_->Lock();
    auto st = db_->Prepare("SELECT unsynced_boot FROM image_layers WHERE chain_id = ?");
    EXPECT_TRUE(st);
    st->Bind(1, chain.ToString());
    auto row = st->Step();
    if (!row || !*row) return "<no row>";
    return st->ColumnText(0);
  }
  void MarkUnsynced(const oci::Digest& chain, const std::string& boot) {
    auto lock = db_->Lock();
    auto st = db_->Prepare("UPDATE image_layers SET unsynced_boot = ? WHERE chain_id = ?");
    ASSERT_TRUE(st);
    st->Bind(1, boot).Bind(2, chain.ToString());
    ASSERT_TRUE(st->Run());
  }
};

TEST_F(TarSplitImageTest, ImportKeepsTheLayerOnceAndSaveRegeneratesItsExactBytes) {
  RawTar t;
  t.Dir("bin").File("bin/sh", "#!shell once", 0755).File("bin/big", std::string(100000, 'b'));
  t.Symlink("bin/ls", "sh");
  std::string tar = t.Finish() + std::string(1024, '\0');  // padding after the end
  auto img = Import(tar, "once");
  ASSERT_TRUE(img) << img.error().message;
  const LayerInfo& l = img->layers[0];
  EXPECT_EQ(l.blob, oci::Digest::Of(tar));
  EXPECT_EQ(l.diff_id, l.blob);
  EXPECT_TRUE(l.tar_split.valid());
  EXPECT_FALSE(content_->Info(l.blob).ok()) << "the layer tar is not stored a second time";
  ASSERT_TRUE(content_->Info(l.tar_split).ok());
  EXPECT_LT(content_->Info(l.tar_split)->size, static_cast<int64_t>(tar.size()) / 10);

  StringWriter saved;
  Status st = store_->Save({"once"}, saved);
  ASSERT_TRUE(st) << st.error().message;
  auto files = TarFiles(saved.str());
  ASSERT_TRUE(files.contains(oci::BlobPath(l.blob)));
  EXPECT_TRUE(files[oci::BlobPath(l.blob)] == tar) << "the saved layer is the imported tar";

  // Background sync: the layer ends durable.
  store_->SyncLayers();
  EXPECT_EQ(UnsyncedBoot(l.chain_id), "");
  auto again = store_->Get("once");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->layers[0].durable);
  EXPECT_EQ(again->layers[0].tar_split, l.tar_split);

  // rmi takes the metadata blob with the image.
  ASSERT_TRUE(store_->Remove("once", false, true));
  EXPECT_FALSE(content_->Info(l.tar_split).ok());
  EXPECT_EQ(content_->List()->size(), 0u);
}

TEST_F(TarSplitImageTest, SaveOfAChangedTreeIsDataLossNotWrongBytes) {
  auto img = Import(RootfsTar("changed"), "changed");
  ASSERT_TRUE(img) << img.error().message;
  std::string sh = LayerTree(*img) + "/bin/sh";
  auto before = ReadFile(sh);
  ASSERT_TRUE(before);
  std::string bad = *before;
  bad[0] = 'X';  // same size
  ASSERT_TRUE(WriteFileAtomic(sh, bad, 0755));
  StringWriter saved;
  Status st = store_->Save({"changed"}, saved);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kDataLoss) << st.error().message;
  EXPECT_EQ(saved.str().find(bad), std::string::npos) << "the changed bytes never went out whole";
}

TEST_F(TarSplitImageTest, LayerThatCannotBeSegmentedIsStoredWholeAndDurable) {
  RawTar t;
  t.File("a", "first").File("b", "bee").File("a", "second: replaces the first");
  std::string tar = t.Finish();
  auto img = Import(tar, "twice");
  ASSERT_TRUE(img) << img.error().message;
  const LayerInfo& l = img->layers[0];
  EXPECT_FALSE(l.tar_split.valid());
  EXPECT_TRUE(l.durable);
  auto blob = content::ReadBlob(*content_, l.blob, 1 << 20);
  ASSERT_TRUE(blob) << "stored whole";
  EXPECT_TRUE(*blob == tar);
  EXPECT_EQ(UnsyncedBoot(l.chain_id), "");
  StringWriter saved;
  ASSERT_TRUE(store_->Save({"twice"}, saved));
  EXPECT_TRUE(TarFiles(saved.str())[oci::BlobPath(l.blob)] == tar);
}

TEST_F(TarSplitImageTest, StartAfterPowerLossDropsADamagedUnsyncedLayerAndKeepsAnIntactOne) {
  auto bad = Import(RootfsTar("damaged"), "damaged");
  auto good = Import(RootfsTar("intact"), "intact");
  ASSERT_TRUE(bad && good);
  store_->SyncLayers();
  // As if the machine went down before the background sync, in boot "boot-0".
  MarkUnsynced(bad->layers[0].chain_id, "boot-0");
  MarkUnsynced(good->layers[0].chain_id, "boot-0");
  std::string sh = LayerTree(*bad) + "/bin/sh";
  ASSERT_TRUE(WriteFileAtomic(sh, std::string("#!shell damageX"), 0755));  // same size, lost

  Reopen("boot-2");

  auto gone = store_->Resolve("damaged");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound);
  EXPECT_EQ(UnsyncedBoot(bad->layers[0].chain_id), "<no row>");
  EXPECT_FALSE(snapshots_->HasCommitted(bad->layers[0].chain_id.ToString()).value());
  EXPECT_FALSE(content_->Info(bad->layers[0].tar_split).ok());

  auto kept = store_->Get("intact");
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(UnsyncedBoot(good->layers[0].chain_id), "") << "verified, then marked durable";
  StringWriter saved;
  EXPECT_TRUE(store_->Save({"intact"}, saved));
}

TEST_F(TarSplitImageTest, StartAfterPowerLossDropsALayerMissingAnEntryWithoutData) {
  auto img = Import(RootfsTar("nolink"), "nolink");
  ASSERT_TRUE(img);
  store_->SyncLayers();
  MarkUnsynced(img->layers[0].chain_id, "boot-0");
  ASSERT_EQ(::unlink((LayerTree(*img) + "/bin/ls").c_str()), 0);  // the symlink: not in the data
  Reopen("boot-2");
  EXPECT_FALSE(store_->Resolve("nolink").ok());
}

TEST_F(TarSplitImageTest, RestartInTheSameBootSyncsWithoutDroppingAnything) {
  auto img = Import(RootfsTar("same"), "same");
  ASSERT_TRUE(img);
  store_->SyncLayers();
  MarkUnsynced(img->layers[0].chain_id, "boot-1");
  Reopen("boot-1");
  EXPECT_TRUE(store_->Resolve("same").ok());
  EXPECT_EQ(UnsyncedBoot(img->layers[0].chain_id), "");
}

TEST_F(TarSplitImageTest, LayersStoredWholeBeforeStillSaveAndLoad) {
  // A layer stored the old way: its blob in content, no tar-split (as a load of blobs/ does).
  auto img = Import(RootfsTar("old"), "old");
  ASSERT_TRUE(img);
  StringWriter saved;
  ASSERT_TRUE(store_->Save({"old"}, saved));
  ASSERT_TRUE(store_->Remove("old", false, true));
  StringReader r(saved.str());
  ASSERT_TRUE(store_->Load(r, nullptr));
  auto loaded = store_->Get("old");
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->layers[0].tar_split.valid());
  EXPECT_TRUE(content_->Info(loaded->layers[0].blob).ok());
  StringWriter again;
  ASSERT_TRUE(store_->Save({"old"}, again));
  EXPECT_TRUE(again.str() == saved.str()) << "save, rmi, load, save: the same bytes";
}

}  // namespace
}  // namespace berth::image
