#include "distribution/puller.h"

#include "distribution/blob_sources.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "content/content.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace berth::distribution {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxConfigBytes = 16 << 20;
constexpr int64_t kProgressBytes = 512 << 10;
constexpr auto kProgressInterval = std::chrono::milliseconds(100);
constexpr auto kLockedIngestPoll = std::chrono::milliseconds(100);

// Serialises the progress callback (downloads report from their own threads).
class Progress {
 public:
  explicit Progress(const ProgressFn& fn) : fn_(fn) {}
  void Send(ProgressMessage m) {
    if (!fn_) return;
    std::lock_guard lock(mu_);
    fn_(m);
  }
  void Layer(const std::string& id, const std::string& status) {
    Send({status, id, /*has_detail=*/true, -1, -1, ""});
  }
  void Bytes(const std::string& id, const std::string& status, int64_t current, int64_t total) {
    Send({status, id, true, current, total, ""});
  }

 private:
  const ProgressFn& fn_;
  std::mutex mu_;
};

// Rate-limits byte progress: a message per kProgressBytes or kProgressInterval, and the last.
class Meter {
 public:
  Meter(Progress& p, std::string id, std::string status, int64_t total)
      : p_(p), id_(std::move(id)), status_(std::move(status)), total_(total) {}
  void Add(int64_t n) {
    current_ += n;
    Clock::time_point now = Clock::now();
    if (current_ - sent_ >= kProgressBytes || now - sent_at_ >= kProgressInterval ||
        current_ == total_) {
      sent_ = current_;
      sent_at_ = now;
      p_.Bytes(id_, status_, current_, total_);
    }
  }
  void Reset(int64_t current) { current_ = sent_ = current; }

 private:
  Progress& p_;
  std::string id_;
  std::string status_;
  int64_t total_;
  int64_t current_ = 0;
  int64_t sent_ = -1;
  Clock::time_point sent_at_;
};

std::string ShortId(const oci::Digest& d) { return d.hex().substr(0, 12); }

// A blob being unpacked, reported as "Extracting".
class ExtractReader final : public Reader {
 public:
  ExtractReader(std::unique_ptr<Reader> inner, Progress& p, const oci::Descriptor& d)
      : inner_(std::move(inner)), meter_(p, ShortId(d.digest), "Extracting", d.size) {}
  Result<size_t> Read(char* buf, size_t size) override {
    BERTH_ASSIGN_OR_RETURN(size_t n, inner_->Read(buf, size));
    meter_.Add(static_cast<int64_t>(n));
    return n;
  }

 private:
  std::unique_ptr<Reader> inner_;
  Meter meter_;
};

// The bytes of a download handed to the unpacker as they arrive (download and unpack
// overlap). Bounded: the download waits while the unpacker is behind. End of stream only after
// the ingest has committed (digest and size checked), so an unpack never completes on bytes
// that fail verification: the reader gets the download's error instead.
class Pipe {
 public:
  static constexpr size_t kMaxBuffered = 8 << 20;

  // Writer side. Returns at once (dropping the data) once the reader is gone.
  void Write(std::string_view data) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return buffered_ < kMaxBuffered || abandoned_; });
    if (abandoned_) return;
    chunks_.emplace_back(data);
    buffered_ += data.size();
    cv_.notify_all();
  }
  void Close(const Status& st) {
    std::lock_guard lock(mu_);
    closed_ = true;
    if (!st) error_ = st.error();
    cv_.notify_all();
  }
  // Reader side.
  Result<size_t> Read(char* buf, size_t size) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) {
      if (error_) return *error_;
      return size_t{0};
    }
    std::string& front = chunks_.front();
    size_t n = std::min(size, front.size() - pos_);
    std::copy_n(front.data() + pos_, n, buf);
    pos_ += n;
    buffered_ -= n;
    if (pos_ == front.size()) {
      chunks_.pop_front();
      pos_ = 0;
    }
    cv_.notify_all();
    return n;
  }
  // The reader is gone (or the pull is cancelled): writes no longer wait.
  void Abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    chunks_.clear();
    buffered_ = 0;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;  // guarded by mu_
  size_t pos_ = 0;                  // guarded by mu_: read position in chunks_.front()
  size_t buffered_ = 0;             // guarded by mu_
  bool closed_ = false;             // guarded by mu_
  bool abandoned_ = false;          // guarded by mu_
  std::optional<Error> error_;      // guarded by mu_
};

class PipeReader final : public Reader {
 public:
  explicit PipeReader(std::shared_ptr<Pipe> pipe) : pipe_(std::move(pipe)) {}
  ~PipeReader() override { pipe_->Abandon(); }
  Result<size_t> Read(char* buf, size_t size) override { return pipe_->Read(buf, size); }

 private:
  std::shared_ptr<Pipe> pipe_;
};

// Decides, once the ingest is open at `offset`, whether the bytes also go to an unpacker now
// (a Pipe) or only to the ingest (nullptr).
using StreamHook = std::function<Pipe*(int64_t offset)>;

// Streams a blob into its ingest, restarting the ingest if the registry ignores the Range.
class IngestSink final : public BlobSink {
 public:
  IngestSink(content::Store& content, std::string ref, const oci::Descriptor& d,
             std::unique_ptr<content::IngestWriter>& writer, Meter& meter, Pipe* tee)
      : content_(content), ref_(std::move(ref)), d_(d), writer_(writer), meter_(meter), tee_(tee) {}
  Status Begin(int64_t offset) override {
    if (offset == writer_->Offset()) return Ok();
    if (tee_) return MakeError(Code::kInternal, "pull: a streamed download restarted");
    spdlog::info("pull: {}: the registry sends the blob from byte {}, not {}; starting again",
                 d_.digest.ToString(), offset, writer_->Offset());
    BERTH_RETURN_IF_ERROR(writer_->Abort());
    BERTH_ASSIGN_OR_RETURN(writer_, content_.Writer(ref_, d_.digest, d_.size));
    if (writer_->Offset() != offset) {
      return MakeError(Code::kInternal, "pull: a restarted ingest does not start at 0");
    }
    meter_.Reset(0);
    return Ok();
  }
  Status Write(std::string_view data) override {
    BERTH_RETURN_IF_ERROR(writer_->Write(data));
    if (tee_) tee_->Write(data);
    meter_.Add(static_cast<int64_t>(data.size()));
    return Ok();
  }

 private:
  content::Store& content_;
  std::string ref_;
  const oci::Descriptor& d_;
  std::unique_ptr<content::IngestWriter>& writer_;
  Meter& meter_;
  Pipe* tee_;
};

// Downloads one blob into the content store (or finds it there). The ingest keeps what has
// arrived when the transfer fails or is cancelled, for the next attempt to resume.
Status DownloadBlob(content::Store& content, RegistryClient& client, const oci::Descriptor& d,
                    Progress& progress, const std::atomic<bool>& cancel,
                    const StreamHook& stream = {}) {
  std::string id = ShortId(d.digest);
  const std::string ref =
      "pull-" + std::string(oci::AlgorithmName(d.digest.algorithm())) + "-" + d.digest.hex();
  std::unique_ptr<content::IngestWriter> writer;
  while (true) {
    if (content.Info(d.digest).ok()) {
      progress.Layer(id, "Download complete");
      return Ok();
    }
    Result<std::unique_ptr<content::IngestWriter>> w = content.Writer(ref, d.digest, d.size);
    if (w) {
      writer = std::move(*w);
      break;
    }
    // Another pull is downloading this blob: wait for it to land (or to give up).
    if (w.error().code != Code::kUnavailable) return std::move(w).error();
    if (cancel) return MakeError(Code::kCancelled, "pull cancelled");
    std::this_thread::sleep_for(kLockedIngestPoll);
  }
  if (content.Info(d.digest).ok()) {  // it landed just before we took the ingest
    (void)writer->Abort();
    progress.Layer(id, "Download complete");
    return Ok();
  }
  Meter meter(progress, id, "Downloading", d.size);
  int64_t offset = writer->Offset();
  if (offset > 0) {
    spdlog::info("pull: resuming the download of {} at byte {} of {}", d.digest.ToString(), offset,
                 d.size);
    meter.Reset(offset);
  }
  Pipe* tee = stream ? stream(offset) : nullptr;
  if (offset < d.size || d.size == 0) {
    IngestSink sink(content, ref, d, writer, meter, tee);
    Status st = client.FetchBlob(d.digest, offset, sink, &cancel);
    if (!st && st.error().code == Code::kFailedPrecondition && offset > 0 && !tee) {
      // 416: the registry will not serve that range; start the blob again.
      BERTH_RETURN_IF_ERROR(writer->Abort());
      BERTH_ASSIGN_OR_RETURN(writer, content.Writer(ref, d.digest, d.size));
      meter.Reset(0);
      st = client.FetchBlob(d.digest, 0, sink, &cancel);
    }
    if (!st) return st;
  }
  progress.Layer(id, "Verifying Checksum");
  // Commit checks size and digest; on a mismatch the ingest is discarded (DataLoss).
  Result<oci::Digest> committed = writer->Commit(d.digest, d.size);
  if (!committed) return std::move(committed).error();
  progress.Layer(id, "Download complete");
  return Ok();
}

// The downloads of one pull: worker threads take blobs in layer order; the unpacker (the image
// sink, on the pulling thread) waits in Open for each layer in turn.
class Downloads final : public ImageSink::Layers {
 public:
  Downloads(content::Store& content, RegistryClient& client, Progress& progress,
            const std::vector<oci::Descriptor>& layers, const std::vector<bool>& present,
            const std::string& lease)
      : content_(content),
        client_(client),
        progress_(progress),
        layers_(layers),
        present_(present),
        lease_(lease) {}
  ~Downloads() override { Stop(); }

  Status Start(int max_workers) {
    std::vector<oci::Digest> queue;
    for (size_t i = 0; i < layers_.size(); ++i) {
      const oci::Descriptor& d = layers_[i];
      if (present_[i]) {
        progress_.Layer(ShortId(d.digest), "Already exists");
        continue;
      }
      if (states_.count(d.digest)) continue;
      // The lease protects the blob from the moment it lands until the image holds it.
      BERTH_RETURN_IF_ERROR(content_.AddReference(d.digest, lease_));
      states_[d.digest] = State{};
      queue.push_back(d.digest);
      progress_.Layer(ShortId(d.digest), "Pulling fs layer");
    }
    for (size_t i = static_cast<size_t>(std::max(max_workers, 1)); i < queue.size(); ++i) {
      progress_.Layer(ShortId(queue[i]), "Waiting");
    }
    queue_.assign(queue.begin(), queue.end());
    max_workers_ = std::min(queue_.size(), static_cast<size_t>(std::max(max_workers, 1)));
    return Ok();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      cancel_ = true;
      for (auto& [digest, state] : states_) {
        if (state.pipe) state.pipe->Abandon();
      }
    }
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  Result<std::unique_ptr<Reader>> Open(size_t index) override {
    const oci::Descriptor& d = layers_.at(index);
    {
      std::unique_lock lock(mu_);
      auto it = states_.find(d.digest);
      if (it == states_.end()) {
        // Present when the pull was planned, gone since (removed meanwhile): fetch it now.
        lock.unlock();
        BERTH_RETURN_IF_ERROR(content_.AddReference(d.digest, lease_));
        Status st = DownloadBlob(content_, client_, d, progress_, cancel_);
        if (!st) return std::move(st).error().WithContext("layer " + d.digest.ToString());
      } else {
        // The first layer the unpacker asks for that no worker has opened yet is streamed to
        // it as it downloads. The workers start here, once that claim is made.
        it->second.claimed = true;
        if (workers_.empty()) {
          for (size_t i = 0; i < max_workers_; ++i) workers_.emplace_back([this] { Work(); });
        }
        cv_.wait(lock,
                 [&] { return it->second.done || it->second.pipe || first_error_.has_value(); });
        if (first_error_) return *first_error_;
        if (!it->second.done && it->second.pipe) {
          return std::unique_ptr<Reader>(std::make_unique<ExtractReader>(
              std::make_unique<PipeReader>(it->second.pipe), progress_, d));
        }
      }
    }
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<content::BlobReader> blob, content_.Open(d.digest));
    return std::unique_ptr<Reader>(std::make_unique<ExtractReader>(std::move(blob), progress_, d));
  }

  // After a failed unpack: the error of a download that was streaming to it, once that
  // download has ended. Corrupt bytes usually break the decompressor before the end of the
  // blob; the digest mismatch found at its end is the error that names the cause.
  std::optional<Error> StreamedDownloadError() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] {
      for (const auto& [digest, state] : states_) {
        if (state.pipe && !state.finished) return false;
      }
      return true;
    });
    for (const auto& [digest, state] : states_) {
      if (state.pipe && !state.done && first_error_) return first_error_;
    }
    return std::nullopt;
  }

  void Unpacked(size_t index) override {
    if (!present_[index]) progress_.Layer(ShortId(layers_[index].digest), "Pull complete");
  }

 private:
  struct State {
    bool done = false;
    bool claimed = false;        // the unpacker waits for it: stream it if not begun
    std::shared_ptr<Pipe> pipe;  // set when it streams to the unpacker
    bool finished = false;       // the download ended, one way or the other
  };

  void Work() {
    while (true) {
      oci::Digest digest;
      {
        std::lock_guard lock(mu_);
        if (cancel_ || queue_.empty()) return;
        digest = queue_.front();
        queue_.pop_front();
      }
      const oci::Descriptor* d = nullptr;
      for (const oci::Descriptor& l : layers_) {
        if (l.digest == digest) d = &l;
      }
      StreamHook hook = [this, &digest](int64_t offset) -> Pipe* {
        // Only a download from byte 0: the unpacker cannot read an earlier partial ingest.
        std::lock_guard lock(mu_);
        State& state = states_[digest];
        if (!state.claimed || offset != 0 || cancel_) return nullptr;
        state.pipe = std::make_shared<Pipe>();
        spdlog::info("pull: {} is unpacked as it downloads", digest.ToString());
        cv_.notify_all();
        return state.pipe.get();
      };
      Status st = DownloadBlob(content_, client_, *d, progress_, cancel_, hook);
      std::lock_guard lock(mu_);
      // End of the streamed bytes: only now, after the ingest's commit verified them.
      if (states_[digest].pipe) states_[digest].pipe->Close(st);
      states_[digest].finished = true;
      if (st) {
        states_[digest].done = true;
      } else if (!first_error_ && !(cancel_ && st.error().code == Code::kCancelled)) {
        first_error_ = std::move(st).error().WithContext("layer " + digest.ToString());
        cancel_ = true;  // the pull fails: stop the other downloads (their ingests stay)
      }
      cv_.notify_all();
    }
  }

  content::Store& content_;
  RegistryClient& client_;
  Progress& progress_;
  const std::vector<oci::Descriptor>& layers_;
  const std::vector<bool>& present_;
  const std::string& lease_;
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<oci::Digest, State> states_;  // guarded by mu_ (the key set is fixed by Start)
  std::deque<oci::Digest> queue_;        // guarded by mu_
  std::optional<Error> first_error_;     // guarded by mu_
  size_t max_workers_ = 0;
  std::vector<std::thread> workers_;  // started by the first Open
};

Status CheckManifest(const oci::Manifest& m) {
  if (!oci::IsConfig(m.config.media_type)) {
    return MakeError(Code::kInvalidArgument, "not a container image: its config has media type \"" +
                                                 m.config.media_type + "\"");
  }
  for (const oci::Descriptor& l : m.layers) {
    if (oci::IsNonDistributableLayer(l.media_type)) {
      return MakeError(Code::kNotImplemented,
                       "layer " + l.digest.ToString() +
                           " is a foreign (non-distributable) layer; those are not supported");
    }
    Result<oci::Compression> c = oci::LayerCompression(l.media_type);
    if (!c) {
      return std::move(c).error().WithContext("layer " + l.digest.ToString());
    }
  }
  return Ok();
}

}  // namespace

Puller::Puller(content::Store& content, ImageSink& images, PullerOptions options)
    : content_(content), images_(images), options_(std::move(options)) {}

Result<PullResult> Puller::Pull(const oci::Reference& ref, const PullOptions& opts) {
  if (!ref.has_name() || ref.IsNameOnly()) {
    return MakeError(Code::kInvalidArgument,
                     "pull: \"" + ref.String() + "\" names neither a tag nor a digest");
  }
  Progress progress(opts.progress);
  Endpoint endpoint = ResolveEndpoint(ref, options_.insecure_registries);
  RegistryClient client(endpoint, ref.path(), opts.auth, options_.client);
  std::string wanted = ref.has_digest() ? ref.digest()->ToString() : ref.tag();

  // Resolve: tag or digest -> manifest (through an index for the platform). Nothing is
  // reported before the registry has answered (as dockerd), so that a missing tag or an
  // unreachable registry is still a plain HTTP error.
  BERTH_ASSIGN_OR_RETURN(FetchedManifest top, client.GetManifest(wanted));
  progress.Send({"Pulling from " + ref.path(), wanted, false, -1, -1, ""});
  if (ref.has_digest()) {
    oci::Digest got = oci::Digest::Of(top.bytes, ref.digest()->algorithm());
    if (got != *ref.digest()) {
      return MakeError(Code::kDataLoss, "manifest " + ref.digest()->ToString() +
                                            ": digest mismatch: the registry sent content "
                                            "with digest " +
                                            got.ToString());
    }
    top.digest = got;
  }
  FetchedManifest m = top;
  if (oci::IsIndex(top.media_type)) {
    Result<oci::Index> index = oci::ParseIndex(top.bytes);
    if (!index) return std::move(index).error().WithContext("index " + top.digest.ToString());
    BERTH_ASSIGN_OR_RETURN(oci::Descriptor chosen, oci::SelectManifest(*index, opts.platform));
    BERTH_ASSIGN_OR_RETURN(m, client.GetManifest(chosen.digest.ToString()));
    oci::Digest got = oci::Digest::Of(m.bytes, chosen.digest.algorithm());
    if (got != chosen.digest) {
      return MakeError(Code::kDataLoss, "manifest " + chosen.digest.ToString() +
                                            " (from the index): digest mismatch: the registry "
                                            "sent content with digest " +
                                            got.ToString());
    }
    m.digest = got;
    if (!oci::IsManifest(m.media_type)) {
      return MakeError(Code::kInvalidArgument,
                       "the index entry for " + oci::FormatPlatform(opts.platform) +
                           " is not an image manifest (" + m.media_type + ")");
    }
  } else if (!oci::IsManifest(top.media_type)) {
    return MakeError(Code::kNotImplemented,
                     "unsupported manifest media type \"" + top.media_type + "\"");
  }
  Result<oci::Manifest> manifest = oci::ParseManifest(m.bytes);
  if (!manifest) return std::move(manifest).error().WithContext("manifest " + m.digest.ToString());
  BERTH_RETURN_IF_ERROR(CheckManifest(*manifest));

  PulledImage image;
  image.manifest_bytes = m.bytes;
  image.layers = manifest->layers;
  Result<std::string> config = client.GetBlob(manifest->config.digest, kMaxConfigBytes);
  if (!config) return std::move(config).error().WithContext("image config");
  image.config_bytes = std::move(*config);
  oci::Reference name = ref.TrimNamed();
  oci::Reference shown = ref;  // what "Status: ..." names
  if (ref.has_tag() && !ref.has_digest()) {
    BERTH_ASSIGN_OR_RETURN(oci::Reference tagged, name.WithTag(ref.tag()));
    image.names.push_back(tagged);
    shown = tagged;
  }
  image.names.push_back(name.WithDigest(top.digest));
  std::optional<oci::Digest> before = images_.Resolve(shown);

  BERTH_ASSIGN_OR_RETURN(std::vector<bool> present, images_.PresentLayers(image));
  const std::string lease = "lease:pull-" + m.digest.hex();
  Result<oci::Digest> id = [&]() -> Result<oci::Digest> {
    Downloads downloads(content_, client, progress, image.layers, present, lease);
    BERTH_RETURN_IF_ERROR(downloads.Start(options_.max_concurrent_downloads));
    Result<oci::Digest> added = images_.Add(image, downloads);
    if (!added) {
      if (std::optional<Error> e = downloads.StreamedDownloadError()) added = std::move(*e);
    }
    downloads.Stop();
    return added;
  }();
  // The image holds its blobs now (or the pull failed): the lease goes either way. Blobs of a
  // failed pull stay until the next collection, so that a retry does not fetch them again.
  Result<int64_t> dropped = content_.RemoveOwner(lease);
  if (!dropped) spdlog::warn("pull: drop {}: {}", lease, dropped.error().message);
  if (!id) return std::move(id).error();

  if (options_.sources != nullptr) {
    // Hints for a later push to another repository of this registry (a mount, not an upload).
    std::vector<oci::Digest> blobs = {manifest->config.digest};
    for (const oci::Descriptor& l : image.layers) blobs.push_back(l.digest);
    for (const oci::Digest& d : blobs) {
      if (Status st = options_.sources->Remember(ref.domain(), ref.path(), d); !st) {
        spdlog::warn("pull: remember the source of {}: {}", d.ToString(), st.error().message);
      }
    }
  }

  PullResult result;
  result.digest = top.digest;
  result.image_id = *id;
  result.updated = !before || *before != *id;
  progress.Send({"Digest: " + top.digest.ToString(), "", false, -1, -1, ""});
  progress.Send({std::string(result.updated ? "Status: Downloaded newer image for "
                                            : "Status: Image is up to date for ") +
                     shown.FamiliarString(),
                 "", false, -1, -1, ""});
  return result;
}

Result<PullResult> Puller::PullAllTags(const oci::Reference& repository, const PullOptions& opts) {
  if (!repository.has_name() || !repository.IsNameOnly()) {
    return MakeError(Code::kInvalidArgument,
                     "pull -a: \"" + repository.String() + "\" must be a name alone");
  }
  Endpoint endpoint = ResolveEndpoint(repository, options_.insecure_registries);
  RegistryClient client(endpoint, repository.path(), opts.auth, options_.client);
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> tags, client.ListTags());
  if (tags.empty()) {
    return MakeError(Code::kNotFound,
                     "the repository " + repository.FamiliarName() + " has no tags");
  }
  PullResult last;
  bool updated = false;
  for (const std::string& tag : tags) {
    BERTH_ASSIGN_OR_RETURN(oci::Reference tagged, repository.WithTag(tag));
    // Each tag's pull reports its own "Digest:"/"Status:" lines, as dockerd does.
    BERTH_ASSIGN_OR_RETURN(last, Pull(tagged, opts));
    updated = updated || last.updated;
  }
  last.updated = updated;
  return last;
}

Status Puller::Login(const AuthConfig& auth) {
  std::string host = auth.server_address;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (host.starts_with(scheme)) host = host.substr(scheme.size());
  }
  host = host.substr(0, host.find('/'));
  if (host.empty() || host == oci::kDefaultDomain || host == oci::kLegacyDefaultDomain) {
    host = "registry-1.docker.io";
  }
  Endpoint endpoint{host, IsInsecureRegistry(host, options_.insecure_registries)};
  RegistryClient client(endpoint, "", auth, options_.client);
  return client.Ping();
}

}  // namespace berth::distribution
