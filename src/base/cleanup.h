// Cleanup: runs a callable at scope exit unless Cancel()ed (after absl::Cleanup).
// Used to undo half-done work on error paths: "nothing is lost or half-written".
#pragma once

#include <optional>
#include <utility>

namespace berth {

template <typename F>
class [[nodiscard]] Cleanup {
 public:
  explicit Cleanup(F f) : f_(std::move(f)) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  Cleanup(Cleanup&& other) noexcept : f_(std::move(other.f_)) { other.f_.reset(); }
  ~Cleanup() {
    if (f_) (*f_)();
  }
  void Cancel() { f_.reset(); }

 private:
  std::optional<F> f_;
};

}  // namespace berth
