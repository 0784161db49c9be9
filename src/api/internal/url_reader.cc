#include "api/internal/url_reader.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>

#include <curl/curl.h>

#include "base/unique_fd.h"

namespace berth::api::internal {
namespace {

// The fetcher writes into one end of a socketpair (send with MSG_NOSIGNAL, so a reader that
// goes away ends the transfer with EPIPE instead of killing the daemon with SIGPIPE).
class UrlReader : public Reader {
 public:
  UrlReader(std::string url, UniqueFd read_end, UniqueFd write_end)
      : url_(std::move(url)), read_end_(std::move(read_end)) {
    thread_ = std::thread([this, fd = std::move(write_end)]() mutable { Fetch(std::move(fd)); });
  }
  ~UrlReader() override {
    read_end_.Reset();
    if (thread_.joinable()) thread_.join();
  }

  Result<size_t> Read(char* buf, size_t size) override {
    while (true) {
      ssize_t n = ::read(read_end_.get(), buf, size);
      if (n > 0) return static_cast<size_t>(n);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("read " + url_);
      // End of stream: the fetcher is done; report how it ended.
      if (thread_.joinable()) thread_.join();
      if (!result_) return result_.error();
      return size_t{0};
    }
  }

 private:
  static size_t OnData(char* data, size_t size, size_t n, void* self) {
    auto* fd = static_cast<UniqueFd*>(self);
    size_t total = size * n;
    size_t done = 0;
    while (done < total) {
      ssize_t w = ::send(fd->get(), data + done, total - done, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return 0;  // the reader went away: abort the transfer
      done += static_cast<size_t>(w);
    }
    return total;
  }

  void Fetch(UniqueFd out) {
    CURL* curl = curl_easy_init();
    if (!curl) {
      result_ = MakeError(Code::kInternal, "fetch " + url_ + ": cannot initialise libcurl");
      return;
    }
    char err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &UrlReader::OnData);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
      std::string msg = err[0] ? err : curl_easy_strerror(rc);
      Code code = rc == CURLE_HTTP_RETURNED_ERROR ? Code::kNotFound : Code::kUnavailable;
      result_ = MakeError(code, "fetch " + url_ + ": " + msg);
    }
    curl_easy_cleanup(curl);
    out.Reset();  // the reader sees end of stream
  }

  std::string url_;
  UniqueFd read_end_;
  std::thread thread_;
  Status result_;  // written by the fetcher before it closes its end; read after join
};

}  // namespace

Result<std::unique_ptr<Reader>> OpenUrl(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return MakeError(Code::kInvalidArgument, "unsupported URL scheme in \"" + url + "\"");
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoError("socketpair");
  }
  return std::unique_ptr<Reader>(
      std::make_unique<UrlReader>(url, UniqueFd(fds[0]), UniqueFd(fds[1])));
}

}  // namespace berth::api::internal
