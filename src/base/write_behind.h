// WriteBehindWriter: Write() copies into a bounded queue of large buffers and returns; a thread
// of its own writes them to the sink in order. The producer goes on while the sink waits on a
// disk (a layer's blob written and hashed while the layer unpacks).
//
// Memory is bounded by `buffers * buffer_size`. It owns its thread and joins it in the
// destructor; the sink must outlive it. Used by one producer thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/io.h"
#include "base/result.h"

namespace berth {

class WriteBehindWriter final : public Writer {
 public:
  WriteBehindWriter(Writer& sink, size_t buffers, size_t buffer_size);
  // Stops without writing what is still queued (call Close() to write it) and joins. Waits for
  // the sink's current Write to return.
  ~WriteBehindWriter() override;
  WriteBehindWriter(const WriteBehindWriter&) = delete;
  WriteBehindWriter& operator=(const WriteBehindWriter&) = delete;

  // Queues a copy of `data`. Fails with the sink's first error once it has failed (writes
  // before that point may still have been accepted).
  Status Write(std::string_view data) override;
  // Waits until everything queued has reached the sink; returns the sink's first error. No
  // Write() after it.
  Status Close();

 private:
  void Run();
  Status Acquire();  // waits for a free buffer into current_
  void Flush();      // queues current_

  Writer& sink_;
  const size_t buffer_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> free_;   // guarded by mu_
  std::deque<std::string> filled_;  // guarded by mu_
  bool busy_ = false;               // guarded by mu_: the thread is writing a buffer
  std::optional<Error> error_;      // guarded by mu_
  bool stop_ = false;               // guarded by mu_
  bool closed_ = false;             // producer side only
  bool has_current_ = false;        // producer side only
  std::string current_;             // producer side only
  std::thread thread_;
};

}  // namespace berth
