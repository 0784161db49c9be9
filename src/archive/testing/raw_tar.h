// RawTar: builds tar streams byte by byte, for tests that need archives no well-behaved writer
// produces (hostile names such as "../../etc/x", whiteouts of "..", PAX records as Go writes
// them). Test-only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace berth::archive::testing {

struct RawHeader {
  std::string name;
  char typeflag =
      '0';  // '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
  std::string linkname;
  uint32_t mode = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  uint32_t devmajor = 0;
  uint32_t devminor = 0;
};

class RawTar {
 public:
  // A ustar header (name split into prefix/name when longer than 100 bytes and splittable) and
  // `data` padded to 512 bytes.
  RawTar& Add(const RawHeader& h, const std::string& data = "");
  // A PAX extended header ('x') applying to the next entry, with records in the given order.
  RawTar& Pax(const std::vector<std::pair<std::string, std::string>>& records);
  RawTar& File(const std::string& name, const std::string& data, uint32_t mode = 0644);
  RawTar& Dir(const std::string& name, uint32_t mode = 0755);
  RawTar& Symlink(const std::string& name, const std::string& target);
  RawTar& Hardlink(const std::string& name, const std::string& target);
  // The archive with its two zero end blocks.
  std::string Finish() const;
  // The archive without an end marker.
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

}  // namespace berth::archive::testing
