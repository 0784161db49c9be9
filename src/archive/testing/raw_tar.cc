#include "archive/testing/raw_tar.h"

#include <cstdio>
#include <cstring>

namespace berth::archive::testing {
namespace {

void PutOctal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));  // NOLINT(runtime/int)
}

void PutString(char* field, size_t width, const std::string& s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

std::string PadTo512(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

}  // namespace

RawTar& RawTar::Add(const RawHeader& h, const std::string& data) {
  char block[512] = {};
  std::string name = h.name, prefix;
  if (name.size() > 100) {
    size_t slash = name.rfind('/', name.size() - 1);
    while (slash != std::string::npos && (slash > 155 || name.size() - slash - 1 > 100)) {
      slash = slash == 0 ? std::string::npos : name.rfind('/', slash - 1);
    }
    if (slash != std::string::npos) {
      prefix = name.substr(0, slash);
      name = name.substr(slash + 1);
    }
  }
  PutString(block, 100, name);
  PutOctal(block + 100, 8, h.mode);
  PutOctal(block + 108, 8, h.uid);
  PutOctal(block + 116, 8, h.gid);
  PutOctal(block + 124, 12, data.size());
  PutOctal(block + 136, 12, static_cast<uint64_t>(h.mtime));
  std::memset(block + 148, ' ', 8);
  block[156] = h.typeflag;
  PutString(block + 157, 100, h.linkname);
  std::memcpy(block + 257,
              "ustar\0"
              "00",
              8);
  PutOctal(block + 329, 8, h.devmajor);
  PutOctal(block + 337, 8, h.devminor);
  PutString(block + 345, 155, prefix);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  std::snprintf(block + 148, 8, "%06o", sum);
  out_.append(block, 512);
  out_ += PadTo512(data);
  return *this;
}

RawTar& RawTar::Pax(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string body;
  for (const auto& [key, value] : records) {
    std::string rec = " " + key + "=" + value + "\n";
    size_t len = rec.size() + 1;
    while (std::to_string(len).size() + rec.size() != len) ++len;
    body += std::to_string(len) + rec;
  }
  RawHeader h;
  h.name = "PaxHeaders/entry";
  h.typeflag = 'x';
  return Add(h, body);
}

RawTar& RawTar::File(const std::string& name, const std::string& data, uint32_t mode) {
  RawHeader h;
  h.name = name;
  h.mode = mode;
  return Add(h, data);
}

RawTar& RawTar::Dir(const std::string& name, uint32_t mode) {
  RawHeader h;
  h.name = name;
  h.typeflag = '5';
  h.mode = mode;
  return Add(h);
}

RawTar& RawTar::Symlink(const std::string& name, const std::string& target) {
  RawHeader h;
  h.name = name;
  h.typeflag = '2';
  h.linkname = target;
  h.mode = 0777;
  return Add(h);
}

RawTar& RawTar::Hardlink(const std::string& name, const std::string& target) {
  RawHeader h;
  h.name = name;
  h.typeflag = '1';
  h.linkname = target;
  return Add(h);
}

std::string RawTar::Finish() const { return out_ + std::string(1024, '\0'); }

}  // namespace berth::archive::testing
