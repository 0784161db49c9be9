#include "base/async_io.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace berth {

ReadAheadReader::ReadAheadReader(Reader& src, size_t capacity, std::function<void()> interrupt)
    : src_(src), interrupt_(std::move(interrupt)), ring_(capacity) {
  BERTH_CHECK(capacity > 0);
  thread_ = std::thread([this] { Run(); });
}

ReadAheadReader::~ReadAheadReader() {
  bool interrupt = false;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    interrupt = !ended_ && interrupt_;
  }
  cv_.notify_all();
  // The thread may be blocked in src_.Read(), where no flag reaches it.
  if (interrupt) interrupt_();
  thread_.join();
}

void ReadAheadReader::Run() {
  const size_t capacity = ring_.size();
  while (true) {
    size_t at = 0, room = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || count_ < capacity; });
      if (stop_) return;
      at = (head_ + count_) % capacity;
      room = std::min(capacity - count_, capacity - at);
    }
    // Outside the lock: the consumer never touches the free part of the ring.
    Result<size_t> n = src_.Read(ring_.data() + at, room);
    {
      std::lock_guard lock(mu_);
      if (!n) {
        error_ = std::move(n).error();
        ended_ = true;
      } else if (*n == 0) {
        ended_ = true;
      } else {
        count_ += *n;
      }
    }
    cv_.notify_all();
    if (!n || *n == 0) return;
  }
}

Result<size_t> ReadAheadReader::Read(char* buf, size_t size) {
  if (size == 0) return size_t{0};
  size_t at = 0, n = 0;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return count_ > 0 || ended_; });
    if (count_ == 0) {
      if (error_) return *error_;
      return size_t{0};
    }
    at = head_;
    n = std::min({size, count_, ring_.size() - head_});
  }
  std::memcpy(buf, ring_.data() + at, n);
  {
    std::lock_guard lock(mu_);
    head_ = (head_ + n) % ring_.size();
    count_ -= n;
  }
  cv_.notify_all();
  return n;
}

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
