// Streams that move the other end's blocking work to a background thread, so that one thread
// can keep consuming (or producing) while the other waits on a socket or a disk:
//
//   ReadAheadReader    a thread reads the source into a bounded ring buffer; Read() takes from
//                      it (a socket upload received while the layer unpacks).
//   WriteBehindWriter  Write() copies into a bounded queue of large buffers; a thread writes them
//                      to the sink in order (a blob written and hashed while the layer unpacks).
//
// Memory is bounded by the capacity given. Both own their thread and join it in the
// destructor; neither outlives its source or sink, which must outlive it. Each object is used by
// one thread at a time (the consumer or producer); the background thread is its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/io.h"
#include "base/result.h"

namespace berth {

class ReadAheadReader final : public Reader {
 public:
  // Reads ahead up to `capacity` bytes. `interrupt`, if given, is called from the destructor
  // when the background thread may be blocked in `src.Read()` (the stream has not ended and the
  // consumer stopped early). It must make that read, and every later one, return promptly
  // (e.g. shutdown(SHUT_RD) of a socket); it is called from the consumer's thread while the
  // background thread may be reading. Without it, the destructor waits for the source's
  // current read to return.
  ReadAheadReader(Reader& src, size_t capacity, std::function<void()> interrupt = {});
  ~ReadAheadReader() override;
  ReadAheadReader(const ReadAheadReader&) = delete;
  ReadAheadReader& operator=(const ReadAheadReader&) = delete;

  // The source's bytes in order, as soon as they are there (a slow source's bytes are not held
  // back to fill a buffer); the source's error once the bytes before it are consumed.
  Result<size_t> Read(char* buf, size_t size) override;

 private:
  void Run();

  Reader& src_;
  const std::function<void()> interrupt_;
  // A ring: the consumer owns [head_, head_ + count_), the reader thread writes after it.
  std::vector<char> ring_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t head_ = 0;             // guarded by mu_
  size_t count_ = 0;            // guarded by mu_
  bool ended_ = false;          // guarded by mu_: end of stream or error after the bytes
  std::optional<Error> error_;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::thread thread_;          // last: started after everything it uses
};

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
