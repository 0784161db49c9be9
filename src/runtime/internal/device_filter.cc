#include "runtime/internal/device_filter.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/unique_fd.h"

namespace berth::runtime::internal {
namespace {

// struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor; all u32.
constexpr int16_t kAccessTypeOffset = 0;
constexpr int16_t kMajorOffset = 4;
constexpr int16_t kMinorOffset = 8;

// Registers: r1 the context, then the fields loaded from it.
constexpr uint8_t kCtx = 1, kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 6;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn LoadWord(uint8_t dst, uint8_t src, int16_t off) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn MovReg32(uint8_t dst, uint8_t src) { return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn MovImm32(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn AndImm32(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn RshImm32(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn JumpIfNot(uint8_t dst, int32_t imm, int16_t off) {
  return Insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

bool IsAll(const oci::LinuxDeviceCgroup& r) { return r.type.empty() || r.type == "a"; }

int32_t AccessBits(const std::string& access) {
  if (access.empty()) return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

// One exception: every condition that does not hold jumps past the block.
std::vector<bpf_insn> RuleBlock(const oci::LinuxDeviceCgroup& r) {
  // Conditions first with their jump offsets unset, then the verdict.
  std::vector<bpf_insn> block;
  std::vector<size_t> jumps;
  auto jump_unless = [&](uint8_t reg, int32_t value) {
    jumps.push_back(block.size());
    block.push_back(JumpIfNot(reg, value, 0));
  };
  jump_unless(kType, r.type == "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  // The access asked for must be within the rule's: (access & ~allowed) == 0.
  block.push_back(MovReg32(kScratch, kAccess));
  block.push_back(AndImm32(kScratch, ~AccessBits(r.access)));
  jump_unless(kScratch, 0);
  if (r.major && *r.major >= 0) jump_unless(kMajor, static_cast<int32_t>(*r.major));
  if (r.minor && *r.minor >= 0) jump_unless(kMinor, static_cast<int32_t>(*r.minor));
  block.push_back(MovImm32(0, r.allow ? 1 : 0));
  block.push_back(Exit());
  for (size_t at : jumps) block[at].off = static_cast<int16_t>(block.size() - at - 1);
  return block;
}

long Bpf(int cmd, bpf_attr* attr) {  // NOLINT(runtime/int): the syscall's type
  return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

}  // namespace

std::vector<bpf_insn> CompileDeviceFilter(const std::vector<oci::LinuxDeviceCgroup>& rules) {
  bool allow_by_default = true;
  size_t first_exception = 0;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (IsAll(rules[i])) {
      allow_by_default = rules[i].allow;
      first_exception = i + 1;
    }
  }
  std::vector<bpf_insn> program = {
      LoadWord(kType, kCtx, kAccessTypeOffset),
      MovReg32(kAccess, kType),
      AndImm32(kType, 0xffff),
      RshImm32(kAccess, 16),
      LoadWord(kMajor, kCtx, kMajorOffset),
      LoadWord(kMinor, kCtx, kMinorOffset),
  };
  // The last rule wins: check from the end.
  for (size_t i = rules.size(); i > first_exception; --i) {
    std::vector<bpf_insn> block = RuleBlock(rules[i - 1]);
    program.insert(program.end(), block.begin(), block.end());
  }
  program.push_back(MovImm32(0, allow_by_default ? 1 : 0));
  program.push_back(Exit());
  return program;
}

Status AttachDeviceFilter(int cgroup_dir_fd, const std::vector<bpf_insn>& program) {
  static const char kLicense[] = "Apache-2.0";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  UniqueFd prog(static_cast<int>(Bpf(BPF_PROG_LOAD, &load)));
  if (!prog.valid()) return ErrnoError("device filter: bpf BPF_PROG_LOAD");
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attach) != 0) return ErrnoError("device filter: bpf BPF_PROG_ATTACH");
  return Ok();
}

}  // namespace berth::runtime::internal
