#include "image/internal/layer_syncer.h"

namespace berth::image {

LayerSyncer::LayerSyncer(SyncFn fn) : fn_(std::move(fn)), thread_([this] { Run(); }) {}

LayerSyncer::~LayerSyncer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LayerSyncer::Add(const std::vector<oci::Digest>& chains) {
  if (chains.empty()) return;
  {
    std::lock_guard lock(mu_);
    queue_.insert(queue_.end(), chains.begin(), chains.end());
    added_ += chains.size();
  }
  cv_.notify_all();
}

void LayerSyncer::Flush() {
  std::unique_lock lock(mu_);
  uint64_t target = added_;
  cv_.wait(lock, [&] { return done_ >= target; });
}

void LayerSyncer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to sync
    std::vector<oci::Digest> batch(queue_.begin(), queue_.end());
    queue_.clear();
    lock.unlock();
    fn_(batch);
    lock.lock();
    done_ += batch.size();
    cv_.notify_all();
  }
}

}  // namespace berth::image
