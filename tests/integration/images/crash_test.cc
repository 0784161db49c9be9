// kill -9 of berthd in the middle of an import or a load: after a restart, nothing of the
// interrupted operation is left (no blob, partial ingest, snapshot, image or scratch file),
// earlier images are intact, and the same operation then succeeds.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "daemon_fixture.h"

namespace berth {
namespace {

using testing::CountEntries;

struct Census {
  size_t blobs, ingests, snapshots, tmp;
  friend bool operator==(const Census&, const Census&) = default;
};

class CrashTest : public testing::DaemonFixture, public ::testing::WithParamInterface<const char*> {
 protected:
  Census Count() {
    return {CountEntries(root_ + "/content/blobs/sha256"), CountEntries(root_ + "/content/ingest"),
            CountEntries(root_ + "/snapshots"), CountEntries(root_ + "/tmp")};
  }
};

TEST_P(CrashTest, KillDuringTransferLeavesNothingAfterRestart) {
  const std::string op = GetParam();  // "import" or "load"
  std::string rootfs = dir_ + "/rootfs.tar";
  pid_t mk = testing::Spawn(
      {"/bin/sh", "-c",
       std::string(BERTH_SOURCE_DIR) + "/scripts/make-busybox-rootfs.sh > " + rootfs},
      dir_ + "/mk.log");
  ASSERT_EQ(testing::WaitExit(mk, std::chrono::seconds(60)), 0) << *ReadFile(dir_ + "/mk.log");

  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  ASSERT_EQ(Berth(d, {"import", rootfs, "keep:1"}).exit_code, 0);
  std::string input = rootfs;
  if (op == "load") {
    ASSERT_EQ(Berth(d, {"import", rootfs, "other:1", "-c", "USER nobody"}).exit_code, 0);
    input = dir_ + "/saved.tar";
    ASSERT_EQ(Berth(d, {"save", "-o", input, "other:1"}).exit_code, 0);
    ASSERT_EQ(Berth(d, {"rmi", "other:1"}).exit_code, 0);
  }
  Census before = Count();

  // Feed the first half through a FIFO, then kill the daemon while it waits for the rest.
  std::string fifo = dir_ + "/feed";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::vector<std::string> args = op == "import"
                                      ? std::vector<std::string>{"import", "-", "crash:1"}
                                      : std::vector<std::string>{"load"};
  // Our end is opened first and read-write, so the client's open of the FIFO does not block
  // (posix_spawn suspends us until the child has exec'd).
  UniqueFd w(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(w.valid());
  pid_t client = StartBerth(d, args, fifo, dir_ + "/client.log");
  ASSERT_GT(client, 0);
  std::string data = *ReadFile(input);
  {
    ASSERT_TRUE(WriteAll(w.get(), std::string_view(data).substr(0, data.size() / 2)));
    // Wait until the daemon has something of this operation on disk: an ingest, a spool
    // file, or the snapshot a layer is unpacked into (a plain tar is kept once: no ingest).
    bool started = false;
    for (int i = 0; i < 4000 && !started; ++i) {
      Census now = Count();
      started = now.ingests > before.ingests || now.tmp > before.tmp ||
                now.snapshots > before.snapshots;
      if (!started) ::usleep(2000);
    }
    ASSERT_TRUE(started) << "the daemon never started the " << op;
    ASSERT_EQ(::kill(d.pid, SIGKILL), 0);
    ASSERT_TRUE(testing::WaitExit(d.pid, std::chrono::seconds(30)));
    Forget(d.pid);
    w.Reset();
  }
  auto client_exit = testing::WaitExit(client, std::chrono::seconds(60));
  ASSERT_TRUE(client_exit);
  EXPECT_NE(*client_exit, 0) << *ReadFile(dir_ + "/client.log");
  EXPECT_NE(Count(), before) << "the kill should have left something to clean";

  Daemon again = StartDaemon("b", root_);
  ASSERT_TRUE(WaitReady(again)) << Log(again);
  EXPECT_EQ(Count(), before);
  Run images = Berth(again, {"images", "--format", "{{.Repository}}:{{.Tag}}"});
  EXPECT_EQ(std::string(TrimSpace(images.output)), "keep:1");

  // The same operation now succeeds.
  Run redo = Berth(again, op == "import" ? std::vector<std::string>{"import", input, "crash:1"}
                                         : std::vector<std::string>{"load", "-i", input});
  EXPECT_EQ(redo.exit_code, 0) << redo.output;
}

INSTANTIATE_TEST_SUITE_P(Operations, CrashTest, ::testing::Values("import", "load"));

}  // namespace
}  // namespace berth
