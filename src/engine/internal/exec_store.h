// Private to engine/: the exec records ExecService keeps in memory, and when they go. As
// dockerd: an exec is listed in its container's ExecIDs while it has not ended; an ended one
// stays inspectable for a while (dockerd's execCommandGC drops it 5 to 10 minutes later) and
// every record of a container goes when the container is removed.
// Thread-safety: none; ExecService holds its mutex around every call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/execs.h"

namespace berth::engine::internal {

struct ExecRecord {
  ExecInfo info;
  std::string run_dir;  // the container's shim directory
  std::string bundle;   // the container's bundle (config.json, shim.json)
  int64_t ended_at = 0;  // when berthd learned the process had ended (or could not start)
};

class ExecStore {
 public:
  // dockerd's GC runs every 5 minutes and drops what it found ended the time before.
  static constexpr int64_t kDefaultEndedTtl = int64_t{5} * 60 * 1000000000;

  // `now` gives Unix nanoseconds (injected for tests).
  ExecStore(std::function<int64_t()> now, int64_t ended_ttl_ns);

  void Add(std::shared_ptr<ExecRecord> r);
  // nullptr for an unknown (or pruned) id.
  std::shared_ptr<ExecRecord> Find(std::string_view id) const;
  // Stamps the end once; later calls keep the first time.
  void MarkEnded(ExecRecord& r);
  // Drops execs that ended more than the TTL ago, and every exec of a container for which
  // `container_exists` is false (asked once per container).
  void Prune(const std::function<bool(const std::string& container_id)>& container_exists);
  // The container's execs that have not ended, oldest first.
  std::vector<std::string> LiveIdsOf(std::string_view container_id) const;
  size_t size() const { return records_.size(); }

 private:
  std::function<int64_t()> now_;
  int64_t ended_ttl_ns_;
  std::map<std::string, std::shared_ptr<ExecRecord>, std::less<>> records_;
  std::vector<std::string> order_;  // ids, oldest first
};

}  // namespace berth::engine::internal
