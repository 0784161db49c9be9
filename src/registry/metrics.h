// Metrics: request counts and latencies for /metrics, in Prometheus' text format (0.0.4).
// Lock-free counters; Observe is called once per response from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::registry {

class Metrics {
 public:
  void Observe(std::string_view method, int status, std::chrono::microseconds took);
  // berth_registry_http_requests_total{method,code}, the request duration histogram per
  // method, and process_resident_memory_bytes.
  std::string Render() const;

 private:
  static constexpr std::array<std::string_view, 7> kMethods = {"GET",   "HEAD",   "PUT", "POST",
                                                               "PATCH", "DELETE", "OTHER"};
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  static size_t MethodIndex(std::string_view method);

  std::array<std::array<std::atomic<uint64_t>, 600>, kMethods.size()> requests_{};
  std::array<std::array<std::atomic<uint64_t>, kBuckets.size() + 1>, kMethods.size()> buckets_{};
  std::array<std::atomic<uint64_t>, kMethods.size()> micros_sum_{};
};

}  // namespace berth::registry
