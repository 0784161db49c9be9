#include "registry/metrics.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace berth::registry {

size_t Metrics::MethodIndex(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) return i;
  }
  return kMethods.size() - 1;
}

void Metrics::Observe(std::string_view method, int status, std::chrono::microseconds took) {
  size_t m = MethodIndex(method);
  size_t code = status >= 100 && status < 600 ? static_cast<size_t>(status) : 599;
  requests_[m][code].fetch_add(1, std::memory_order_relaxed);
  double seconds = static_cast<double>(took.count()) / 1e6;
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  buckets_[m][b].fetch_add(1, std::memory_order_relaxed);
  micros_sum_[m].fetch_add(static_cast<uint64_t>(took.count()), std::memory_order_relaxed);
}

std::string Metrics::Render() const {
  std::string out;
  auto put = std::back_inserter(out);
  out += "# HELP berth_registry_http_requests_total HTTP requests answered, by method and status.\n";
  out += "# TYPE berth_registry_http_requests_total counter\n";
  for (size_t m = 0; m < kMethods.size(); ++m) {
    for (size_t code = 100; code < 600; ++code) {
      uint64_t n = requests_[m][code].load(std::memory_order_relaxed);
      if (n == 0) continue;
      fmt::format_to(put, "berth_registry_http_requests_total{{method=\"{}\",code=\"{}\"}} {}\n",
                     kMethods[m], code, n);
    }
  }
  out += "# HELP berth_registry_http_request_duration_seconds Time from request header to response sent.\n";
  out += "# TYPE berth_registry_http_request_duration_seconds histogram\n";
  for (size_t m = 0; m < kMethods.size(); ++m) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) cumulative += buckets_[m][b].load(std::memory_order_relaxed);
    if (cumulative == 0) continue;
    uint64_t running = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      running += buckets_[m][b].load(std::memory_order_relaxed);
      fmt::format_to(put, "berth_registry_http_request_duration_seconds_bucket{{method=\"{}\",le=\"{}\"}} {}\n",
                     kMethods[m], kBuckets[b], running);
    }
    fmt::format_to(put, "berth_registry_http_request_duration_seconds_bucket{{method=\"{}\",le=\"+Inf\"}} {}\n",
                   kMethods[m], cumulative);
    fmt::format_to(put, "berth_registry_http_request_duration_seconds_sum{{method=\"{}\"}} {}\n", kMethods[m],
                   static_cast<double>(micros_sum_[m].load(std::memory_order_relaxed)) / 1e6);
    fmt::format_to(put, "berth_registry_http_request_duration_seconds_count{{method=\"{}\"}} {}\n",
                   kMethods[m], cumulative);
  }
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  fmt::format_to(put, "process_resident_memory_bytes {}\n", resident * ::sysconf(_SC_PAGESIZE));
  return out;
}

}  // namespace berth::registry
