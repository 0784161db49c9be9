#include "registry/metrics.h"

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

TEST(MetricsTest, CountsAndHistogram) {
  Metrics m;
  m.Observe("GET", 200, std::chrono::microseconds(300));
  m.Observe("GET", 200, std::chrono::microseconds(3000));
  m.Observe("GET", 404, std::chrono::microseconds(100));
  m.Observe("BREW", 418, std::chrono::microseconds(100));
  std::string text = m.Render();
  EXPECT_NE(text.find("berth_registry_http_requests_total{method=\"GET\",code=\"200\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("berth_registry_http_requests_total{method=\"GET\",code=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("berth_registry_http_requests_total{method=\"OTHER\",code=\"418\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("berth_registry_http_request_duration_seconds_bucket{method=\"GET\",le=\"0.0005\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("berth_registry_http_request_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("berth_registry_http_request_duration_seconds_count{method=\"GET\"} 3\n"), std::string::npos);
  EXPECT_EQ(text.find("method=\"PUT\""), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
}

}  // namespace
}  // namespace berth::registry
