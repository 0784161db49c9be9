// The `o` option of a local volume ("size=10m,uid=1000,ro", "bind", "addr=1.2.3.4,rw") split
// into mount(2) flags and the file system's data string, as moby's mount.ParseOptions does.
#pragma once

#include <string>
#include <string_view>

namespace berth::volume::internal {

struct MountOptions {
  unsigned long flags = 0;  // NOLINT(runtime/int): mount(2)'s type
  std::string data;         // what the file system gets ("size=10m,uid=1000")
};

MountOptions ParseMountOptions(std::string_view o);

}  // namespace berth::volume::internal
