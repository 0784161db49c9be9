#include "api/internal/path_stat.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace berth::api::internal {

uint32_t GoFileMode(uint32_t st_mode) {
  uint32_t mode = st_mode & 0777;
  switch (st_mode & S_IFMT) {
    case S_IFDIR:
      mode |= 1u << 31;
      break;
    case S_IFLNK:
      mode |= 1u << 27;
      break;
    case S_IFBLK:
      mode |= 1u << 26;
      break;
    case S_IFCHR:
      mode |= (1u << 26) | (1u << 21);
      break;
    case S_IFIFO:
      mode |= 1u << 25;
      break;
    case S_IFSOCK:
      mode |= 1u << 24;
      break;
    default:
      break;
  }
  if ((st_mode & S_ISUID) != 0) mode |= 1u << 23;
  if ((st_mode & S_ISGID) != 0) mode |= 1u << 22;
  if ((st_mode & S_ISVTX) != 0) mode |= 1u << 20;
  return mode;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string EncodePathStat(const engine::PathStat& stat) {
  nlohmann::ordered_json j;
  j["name"] = stat.name;
  j["size"] = stat.size;
  j["mode"] = GoFileMode(stat.mode);
  j["mtime"] = FormatRfc3339Nano(stat.mtime_ns);
  j["linkTarget"] = stat.link_target;
  return Base64Encode(j.dump());
}

}  // namespace berth::api::internal
