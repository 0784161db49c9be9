#include "base/write_behind.h"

#include <algorithm>
#include <utility>

namespace berth {

WriteBehindWriter::WriteBehindWriter(Writer& sink, size_t buffers, size_t buffer_size)
    : sink_(sink), buffer_size_(buffer_size) {
  BERTH_CHECK(buffers > 0 && buffer_size > 0);
  for (size_t i = 0; i < buffers; ++i) {
    std::string b;
    b.reserve(buffer_size);
    free_.push_back(std::move(b));
  }
  thread_ = std::thread([this] { Run(); });
}

WriteBehindWriter::~WriteBehindWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WriteBehindWriter::Run() {
  while (true) {
    std::string b;
    bool failed = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !filled_.empty(); });
      if (stop_) return;
      b = std::move(filled_.front());
      filled_.pop_front();
      busy_ = true;
      failed = error_.has_value();
    }
    // After a failure the rest is dropped: the producer sees the error on its next call.
    Status st = failed ? Ok() : sink_.Write(b);
    b.clear();
    {
      std::lock_guard lock(mu_);
      busy_ = false;
      if (!st && !error_) error_ = std::move(st).error();
      free_.push_back(std::move(b));
    }
    cv_.notify_all();
  }
}

Status WriteBehindWriter::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return error_.has_value() || !free_.empty(); });
  if (error_) return *error_;
  current_ = std::move(free_.back());
  free_.pop_back();
  current_.clear();
  has_current_ = true;
  return Ok();
}

void WriteBehindWriter::Flush() {
  {
    std::lock_guard lock(mu_);
    filled_.push_back(std::move(current_));
  }
  has_current_ = false;
  cv_.notify_all();
}

Status WriteBehindWriter::Write(std::string_view data) {
  if (closed_) return MakeError(Code::kFailedPrecondition, "write behind: write after Close");
  while (!data.empty()) {
    if (!has_current_) BERTH_RETURN_IF_ERROR(Acquire());
    size_t n = std::min(data.size(), buffer_size_ - current_.size());
    current_.append(data.substr(0, n));
    data.remove_prefix(n);
    if (current_.size() == buffer_size_) Flush();
  }
  std::lock_guard lock(mu_);
  if (error_) return *error_;
  return Ok();
}

Status WriteBehindWriter::Close() {
  if (closed_) return MakeError(Code::kFailedPrecondition, "write behind: closed twice");
  closed_ = true;
  if (has_current_ && !current_.empty()) Flush();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return filled_.empty() && !busy_; });
  if (error_) return *error_;
  return Ok();
}

}  // namespace berth
