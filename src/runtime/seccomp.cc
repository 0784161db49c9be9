#include "runtime/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <seccomp.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "oci/digest.h"

namespace berth::runtime {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using CtxPtr = std::unique_ptr<void, CtxDeleter>;

// libseccomp returns -errno.
Error SeccompError(std::string_view what, int rc) { return ErrnoError(what, -rc); }

// OCI action name + optional errno to a libseccomp action value. Only ERRNO and TRACE carry an
// errno (the spec: any other action with errnoRet is an error); both default to EPERM.
Result<uint32_t> ParseAction(std::string_view name, std::optional<uint32_t> errno_ret) {
  const bool takes_errno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
  if (errno_ret && !takes_errno) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("seccomp action {} does not take an errno ret", name));
  }
  const uint32_t err = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  if (name == "SCMP_ACT_ALLOW") return uint32_t{SCMP_ACT_ALLOW};
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return uint32_t{SCMP_ACT_KILL};
  if (name == "SCMP_ACT_KILL_PROCESS") return uint32_t{SCMP_ACT_KILL_PROCESS};
  if (name == "SCMP_ACT_TRAP") return uint32_t{SCMP_ACT_TRAP};
  if (name == "SCMP_ACT_LOG") return uint32_t{SCMP_ACT_LOG};
  if (name == "SCMP_ACT_NOTIFY") {
    // A notify filter needs a listener fd passed to an agent (listenerPath); Berth has none.
    return MakeError(Code::kNotImplemented, "seccomp action SCMP_ACT_NOTIFY is not supported");
  }
  return MakeError(Code::kInvalidArgument, fmt::format("unknown seccomp action \"{}\"", name));
}

Result<scmp_compare> ParseOperator(std::string_view op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return MakeError(Code::kInvalidArgument, fmt::format("unknown seccomp operator \"{}\"", op));
}

// "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64".
Result<uint32_t> ParseArch(std::string_view name) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.starts_with(kPrefix)) {
    const std::string lower = ToLower(name.substr(kPrefix.size()));
    const uint32_t token = seccomp_arch_resolve_name(lower.c_str());
    if (token != 0) return token;
  }
  return MakeError(Code::kInvalidArgument,
                   fmt::format("unknown seccomp architecture \"{}\"", name));
}

Result<unsigned> ParseFlag(std::string_view name) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return unsigned{SECCOMP_FILTER_FLAG_TSYNC};
  if (name == "SECCOMP_FILTER_FLAG_LOG") return unsigned{SECCOMP_FILTER_FLAG_LOG};
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return unsigned{SECCOMP_FILTER_FLAG_SPEC_ALLOW};
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
    return unsigned{SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV};
  }
  return MakeError(Code::kInvalidArgument, fmt::format("unknown seccomp flag \"{}\"", name));
}

Status AddRule(scmp_filter_ctx ctx, uint32_t action, int nr, std::string_view name,
               const std::vector<scmp_arg_cmp>& cmps) {
  const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()),
                                        cmps.empty() ? nullptr : cmps.data());
  if (rc < 0) return SeccompError(fmt::format("seccomp_rule_add {}", name), rc);
  return Ok();
}

Status AddSyscallRules(scmp_filter_ctx ctx, uint32_t default_action,
                       const oci::LinuxSyscall& syscall, size_t index) {
  const std::string where = fmt::format("seccomp syscalls[{}]", index);
  if (syscall.names.empty()) {
    return MakeError(Code::kInvalidArgument, where + ": names is empty");
  }
  Result<uint32_t> action = ParseAction(syscall.action, syscall.errno_ret);
  if (!action) return std::move(action).error().WithContext(where);

  std::vector<scmp_arg_cmp> cmps;
  std::set<uint32_t> seen_index;
  bool repeated_index = false;
  for (const oci::LinuxSeccompArg& arg : syscall.args) {
    if (arg.index >= 6) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("{}: argument index {} out of range (0-5)", where, arg.index));
    }
    Result<scmp_compare> op = ParseOperator(arg.op);
    if (!op) return std::move(op).error().WithContext(where);
    repeated_index |= !seen_index.insert(arg.index).second;
    cmps.push_back(scmp_arg_cmp{arg.index, *op, arg.value, arg.value_two});
  }

  // A rule whose action is the default one changes nothing; libseccomp refuses it (EACCES).
  if (*action == default_action) return Ok();

  for (const std::string& name : syscall.names) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: a newer kernel's call
    if (repeated_index) {
      // libseccomp takes one comparison per argument in a rule; several on the same argument
      // mean "any of them" (Docker's personality rules), so each gets its own rule, as runc does.
      for (const scmp_arg_cmp& cmp : cmps) {
        BERTH_RETURN_IF_ERROR(AddRule(ctx, *action, nr, name, {cmp}));
      }
    } else {
      BERTH_RETURN_IF_ERROR(AddRule(ctx, *action, nr, name, cmps));
    }
  }
  return Ok();
}

Result<std::vector<uint8_t>> ExportBpf(scmp_filter_ctx ctx) {
  UniqueFd fd(memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!fd) return ErrnoError("memfd_create berth-seccomp");
  const int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) return SeccompError("seccomp_export_bpf", rc);
  const off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return ErrnoError("lseek seccomp memfd");
  std::vector<uint8_t> bpf(static_cast<size_t>(size));
  size_t done = 0;
  while (done < bpf.size()) {
    const ssize_t n =
        pread(fd.get(), bpf.data() + done, bpf.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read seccomp memfd");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != bpf.size() || bpf.empty() || bpf.size() % 8 != 0) {
    return MakeError(Code::kInternal,
                     fmt::format("seccomp_export_bpf wrote {} bytes, want a non-zero multiple of "
                                 "8",
                                 done));
  }
  return bpf;
}

}  // namespace

Result<SeccompProgram> CompileSeccomp(const oci::LinuxSeccomp& seccomp) {
  Result<uint32_t> default_action = ParseAction(seccomp.default_action, seccomp.default_errno_ret);
  if (!default_action) return std::move(default_action).error().WithContext("seccomp default");

  SeccompProgram program;
  for (const std::string& flag : seccomp.flags) {
    BERTH_ASSIGN_OR_RETURN(unsigned bit, ParseFlag(flag));
    program.flags |= bit;
  }

  CtxPtr ctx(seccomp_init(*default_action));
  if (!ctx) return MakeError(Code::kInternal, "seccomp_init failed");

  for (const std::string& arch : seccomp.architectures) {
    BERTH_ASSIGN_OR_RETURN(uint32_t token, ParseArch(arch));
    const int rc = seccomp_arch_add(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST) return SeccompError(fmt::format("seccomp_arch_add {}", arch), rc);
  }

  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    BERTH_RETURN_IF_ERROR(AddSyscallRules(ctx.get(), *default_action, seccomp.syscalls[i], i));
  }

  BERTH_ASSIGN_OR_RETURN(program.bpf, ExportBpf(ctx.get()));
  return program;
}

namespace {

constexpr std::string_view kCacheMagic = "berth-seccomp-bpf-1\n";

std::string CacheKey(const oci::LinuxSeccomp& seccomp) {
  oci::RuntimeSpec only;
  only.linux_.seccomp = seccomp;
  const scmp_version* v = seccomp_version();
  std::string input = fmt::format("{}libseccomp {}.{}.{}\n", kCacheMagic, v->major, v->minor,
                                  v->micro);
  input += oci::SerializeRuntimeSpec(only);
  return oci::Digest::Of(input).hex();
}

std::optional<SeccompProgram> ReadCached(const std::string& path) {
  Result<std::string> data = ReadFile(path);
  if (!data || !data->starts_with(kCacheMagic)) return std::nullopt;
  std::string_view rest = std::string_view(*data).substr(kCacheMagic.size());
  if (rest.size() < 4) return std::nullopt;
  uint32_t flags = 0;
  std::memcpy(&flags, rest.data(), 4);
  rest.remove_prefix(4);
  if (rest.empty() || rest.size() % 8 != 0) return std::nullopt;
  SeccompProgram program;
  program.flags = flags;
  program.bpf.assign(rest.begin(), rest.end());
  return program;
}

}  // namespace

Result<SeccompProgram> CompileSeccompCached(const oci::LinuxSeccomp& seccomp,
                                            const std::string& cache_dir) {
  if (cache_dir.empty()) return CompileSeccomp(seccomp);
  const std::string path = cache_dir + "/" + CacheKey(seccomp);
  if (auto hit = ReadCached(path)) return *std::move(hit);
  BERTH_ASSIGN_OR_RETURN(SeccompProgram program, CompileSeccomp(seccomp));
  std::string data(kCacheMagic);
  uint32_t flags = program.flags;
  data.append(reinterpret_cast<const char*>(&flags), 4);
  data.append(program.bpf.begin(), program.bpf.end());
  Status st = MakeDirs(cache_dir, 0700);
  if (st) st = WriteFileAtomic(path, data, 0600);
  (void)st;  // the next start compiles again
  return program;
}

}  // namespace berth::runtime
