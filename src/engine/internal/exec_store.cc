#include "engine/internal/exec_store.h"

#include <algorithm>
#include <set>
#include <utility>

namespace berth::engine::internal {

ExecStore::ExecStore(std::function<int64_t()> now, int64_t ended_ttl_ns)
    : now_(std::move(now)), ended_ttl_ns_(ended_ttl_ns) {}

void ExecStore::Add(std::shared_ptr<ExecRecord> r) {
  order_.push_back(r->info.id);
  records_[r->info.id] = std::move(r);
}

std::shared_ptr<ExecRecord> ExecStore::Find(std::string_view id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : it->second;
}

void ExecStore::MarkEnded(ExecRecord& r) {
  if (r.ended_at == 0) r.ended_at = std::max<int64_t>(1, now_());
}

void ExecStore::Prune(
    const std::function<bool(const std::string& container_id)>& container_exists) {
  const int64_t now = now_();
  std::map<std::string, bool> exists;
  std::set<std::string> gone;
  for (const auto& [id, r] : records_) {
    const std::string& cid = r->info.container_id;
    auto known = exists.find(cid);
    if (known == exists.end()) known = exists.emplace(cid, container_exists(cid)).first;
    if (!known->second || (r->ended_at != 0 && now - r->ended_at > ended_ttl_ns_)) {
      gone.insert(id);
    }
  }
  if (gone.empty()) return;
  for (const std::string& id : gone) records_.erase(id);
  std::erase_if(order_, [&](const std::string& id) { return gone.count(id) != 0; });
}

std::vector<std::string> ExecStore::LiveIdsOf(std::string_view container_id) const {
  std::vector<std::string> ids;
  for (const std::string& id : order_) {
    const ExecRecord& r = *records_.at(id);
    if (r.info.container_id == container_id && r.ended_at == 0) ids.push_back(id);
  }
  return ids;
}

}  // namespace berth::engine::internal
