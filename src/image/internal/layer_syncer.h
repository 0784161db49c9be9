// LayerSyncer: the background half of an import's durability. Layers written without a sync
// (kept as tree + tar-split) are queued here after their image is recorded; a thread of its own
// syncs them (one syncfs per batch) and records them durable, off the import's critical path.
// Private to image/.
//
// Thread-safe. The destructor finishes what is queued, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "oci/digest.h"

namespace berth::image {

class LayerSyncer {
 public:
  // Called on the syncer's thread with a batch of chain IDs.
  using SyncFn = std::function<void(const std::vector<oci::Digest>&)>;
  explicit LayerSyncer(SyncFn fn);
  ~LayerSyncer();
  LayerSyncer(const LayerSyncer&) = delete;
  LayerSyncer& operator=(const LayerSyncer&) = delete;

  void Add(const std::vector<oci::Digest>& chains);
  // Returns once everything added before the call has been through SyncFn.
  void Flush();

 private:
  void Run();

  SyncFn fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<oci::Digest> queue_;  // guarded by mu_
  uint64_t added_ = 0;             // guarded by mu_: chains ever added
  uint64_t done_ = 0;              // guarded by mu_: chains through fn_
  bool stop_ = false;              // guarded by mu_
  std::thread thread_;             // last: started once the rest is set up
};

}  // namespace berth::image
