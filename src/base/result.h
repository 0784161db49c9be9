// Result<T> and Status: how every fallible operation in Berth reports failure.
//
// Errors are values (STYLE.md §4). Result<T> mirrors the member names of std::expected
// (has_value, value, error, operator bool, *, ->) so a later switch to C++23 is an alias.
// Thread-safety: plain values; no shared state.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace berth {

// Error categories, after containerd's errdefs and absl::StatusCode. Each boundary (api/,
// registry/, cli/) maps these to its own codes in one table.
enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kConflict,
  kPermissionDenied,
  kUnauthenticated,
  kCancelled,
  kResourceExhausted,
  kUnavailable,
  kDataLoss,  // digest or size mismatch, corrupt data
  kNotImplemented,
  kInternal,
};

std::string_view CodeName(Code code);

struct Error {
  Code code = Code::kInternal;
  std::string message;
  int sys_errno = 0;

  // "context: message", keeping the code and errno. Used going up the stack.
  Error WithContext(std::string_view context) const&;
  Error WithContext(std::string_view context) &&;
};

// Builds an Error from the current errno: "<what>: <strerror>". The code follows errno
// (ENOENT -> NotFound, EEXIST -> AlreadyExists, EACCES/EPERM -> PermissionDenied, ...).
Error ErrnoError(std::string_view what, int err);
Error ErrnoError(std::string_view what);  // uses errno
Code CodeFromErrno(int err);

inline Error MakeError(Code code, std::string message) {
  return Error{code, std::move(message), 0};
}

// Result<T>: either a T or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = Error;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result<T>>)
      Result(U&& value)
      : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  bool ok() const { return has_value(); }

  T& value() & {
    Check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    Check();
    return std::get<0>(v_);
  }
  T&& value() && {
    Check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  void Check() const {
    if (v_.index() != 0) std::abort();  // value() on an error is a programming bug
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  using error_type = Error;

  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  bool ok() const { return ok_; }
  void value() const {
    if (!ok_) std::abort();
  }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

namespace internal {
inline Error TakeError(Status&& s) { return std::move(s).error(); }
template <typename T>
Error TakeError(Result<T>&& r) {
  return std::move(r).error();
}
}  // namespace internal

}  // namespace berth

#define BERTH_CONCAT_INNER_(a, b) a##b
#define BERTH_CONCAT_(a, b) BERTH_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define BERTH_RETURN_IF_ERROR(expr)                                                    \
  do {                                                                                 \
    auto berth_status_ = (expr);                                                       \
    if (!berth_status_) return ::berth::internal::TakeError(std::move(berth_status_)); \
  } while (false)

// `lhs = *expr` or returns its error. lhs may declare: BERTH_ASSIGN_OR_RETURN(auto x, F());
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_CONCAT_(berth_result_, __LINE__), lhs, expr)
#define BERTH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)             \
  auto tmp = (expr);                                             \
  if (!tmp) return ::berth::internal::TakeError(std::move(tmp)); \
  lhs = std::move(tmp).value()

// Invariant checks. Never for input or the environment (STYLE.md §4).
#define BERTH_CHECK(cond)                                                   \
  do {                                                                      \
    if (!(cond)) ::berth::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)
#ifdef NDEBUG
#define BERTH_DCHECK(cond) \
  do {                     \
  } while (false)
#else
#define BERTH_DCHECK(cond) BERTH_CHECK(cond)
#endif

namespace berth::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace berth::internal
