#include "oci/runtime_spec.h"

#include <limits>
#include <utility>

#include "oci/internal/json.h"

namespace berth::oci {
namespace {

using internal::Json;
using internal::OrderedJson;

std::string FieldName(std::string_view what, std::string_view key) {
  return std::string(what) + "." + std::string(key);
}

Error Required(std::string_view what, std::string_view key) {
  return MakeError(Code::kInvalidArgument, FieldName(what, key) + ": required");
}

std::string Index(std::string_view what, size_t i) {
  return std::string(what) + "[" + std::to_string(i) + "]";
}

// Unsigned integers up to `max` (uint32 and uint64 fields of the spec).
Result<std::optional<uint64_t>> GetUnsigned(const Json& obj, const char* key, std::string_view what,
                                            uint64_t max = std::numeric_limits<uint64_t>::max()) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<uint64_t>();
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    if (v > max) return MakeError(Code::kInvalidArgument, FieldName(what, key) + ": out of range");
    return std::optional<uint64_t>(v);
  }
  if (it->is_number_integer()) {
    return MakeError(Code::kInvalidArgument, FieldName(what, key) + ": out of range");
  }
  return internal::TypeError(what, key, "an unsigned integer");
}

Result<std::optional<uint32_t>> GetUint32(const Json& obj, const char* key, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::optional<uint64_t> v,
                         GetUnsigned(obj, key, what, std::numeric_limits<uint32_t>::max()));
  if (!v) return std::optional<uint32_t>();
  return std::optional<uint32_t>(static_cast<uint32_t>(*v));
}

Result<const Json*> GetObject(const Json& obj, const char* key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return static_cast<const Json*>(nullptr);
  if (!it->is_object()) return internal::TypeError(what, key, "an object");
  return &*it;
}

// An array of objects: each element is handed to `parse` with its indexed name.
template <typename T, typename F>
Result<std::vector<T>> GetObjectArray(const Json& obj, const char* key, std::string_view what,
                                      F parse) {
  std::vector<T> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return internal::TypeError(what, key, "an array of objects");
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    std::string name = Index(FieldName(what, key), i);
    if (!e.is_object()) return MakeError(Code::kInvalidArgument, name + ": expected an object");
    BERTH_ASSIGN_OR_RETURN(T v, parse(e, name));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<std::string>> GetStrings(const Json& obj, const char* key,
                                            std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(auto v, internal::GetStringArray(obj, key, what));
  return v.value_or(std::vector<std::string>());
}

Result<std::string> GetStringOr(const Json& obj, const char* key, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(auto v, internal::GetString(obj, key, what));
  return v.value_or("");
}

Result<LinuxCapabilities> CapabilitiesFromJson(const Json& j, std::string_view what) {
  LinuxCapabilities c;
  BERTH_ASSIGN_OR_RETURN(c.bounding, GetStrings(j, "bounding", what));
  BERTH_ASSIGN_OR_RETURN(c.effective, GetStrings(j, "effective", what));
  BERTH_ASSIGN_OR_RETURN(c.inheritable, GetStrings(j, "inheritable", what));
  BERTH_ASSIGN_OR_RETURN(c.permitted, GetStrings(j, "permitted", what));
  BERTH_ASSIGN_OR_RETURN(c.ambient, GetStrings(j, "ambient", what));
  return c;
}

Result<PosixRlimit> RlimitFromJson(const Json& j, std::string_view what) {
  PosixRlimit r;
  BERTH_ASSIGN_OR_RETURN(r.type, internal::GetRequiredString(j, "type", what));
  BERTH_ASSIGN_OR_RETURN(auto hard, GetUnsigned(j, "hard", what));
  if (!hard) return Required(what, "hard");
  r.hard = *hard;
  BERTH_ASSIGN_OR_RETURN(auto soft, GetUnsigned(j, "soft", what));
  if (!soft) return Required(what, "soft");
  r.soft = *soft;
  return r;
}

Result<User> UserFromJson(const Json& j, std::string_view what) {
  User u;
  BERTH_ASSIGN_OR_RETURN(auto uid, GetUint32(j, "uid", what));
  if (!uid) return Required(what, "uid");
  u.uid = *uid;
  BERTH_ASSIGN_OR_RETURN(auto gid, GetUint32(j, "gid", what));
  if (!gid) return Required(what, "gid");
  u.gid = *gid;
  BERTH_ASSIGN_OR_RETURN(u.umask, GetUint32(j, "umask", what));
  auto it = j.find("additionalGids");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_array()) return internal::TypeError(what, "additionalGids", "an array of gids");
    for (const Json& g : *it) {
      if (!g.is_number_unsigned() || g.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
        return internal::TypeError(what, "additionalGids", "an array of gids");
      }
      u.additional_gids.push_back(static_cast<uint32_t>(g.get<uint64_t>()));
    }
  }
  return u;
}

Result<Process> ProcessFromJson(const Json& j, std::string_view what) {
  Process p;
  BERTH_ASSIGN_OR_RETURN(auto terminal, internal::GetBool(j, "terminal", what));
  p.terminal = terminal.value_or(false);
  BERTH_ASSIGN_OR_RETURN(const Json* console, GetObject(j, "consoleSize", what));
  if (console) {
    std::string cwhat = FieldName(what, "consoleSize");
    ConsoleSize cs;
    BERTH_ASSIGN_OR_RETURN(auto height, GetUint32(*console, "height", cwhat));
    if (!height) return Required(cwhat, "height");
    BERTH_ASSIGN_OR_RETURN(auto width, GetUint32(*console, "width", cwhat));
    if (!width) return Required(cwhat, "width");
    cs.height = *height;
    cs.width = *width;
    p.console_size = cs;
  }
  BERTH_ASSIGN_OR_RETURN(const Json* user, GetObject(j, "user", what));
  if (user) {
    BERTH_ASSIGN_OR_RETURN(p.user, UserFromJson(*user, FieldName(what, "user")));
  }
  BERTH_ASSIGN_OR_RETURN(auto args, internal::GetStringArray(j, "args", what));
  if (!args || args->empty()) return Required(what, "args");
  p.args = std::move(*args);
  BERTH_ASSIGN_OR_RETURN(p.env, GetStrings(j, "env", what));
  BERTH_ASSIGN_OR_RETURN(p.cwd, internal::GetRequiredString(j, "cwd", what));
  BERTH_ASSIGN_OR_RETURN(const Json* caps, GetObject(j, "capabilities", what));
  if (caps) {
    BERTH_ASSIGN_OR_RETURN(p.capabilities,
                           CapabilitiesFromJson(*caps, FieldName(what, "capabilities")));
  }
  BERTH_ASSIGN_OR_RETURN(p.rlimits,
                         GetObjectArray<PosixRlimit>(j, "rlimits", what, RlimitFromJson));
  BERTH_ASSIGN_OR_RETURN(auto nnp, internal::GetBool(j, "noNewPrivileges", what));
  p.no_new_privileges = nnp.value_or(false);
  BERTH_ASSIGN_OR_RETURN(auto oom, internal::GetInt64(j, "oomScoreAdj", what));
  if (oom) {
    if (*oom < -1000 || *oom > 1000) {
      return MakeError(Code::kInvalidArgument,
                       FieldName(what, "oomScoreAdj") + ": out of range [-1000, 1000]");
    }
    p.oom_score_adj = static_cast<int>(*oom);
  }
  return p;
}

Result<Mount> MountFromJson(const Json& j, std::string_view what) {
  Mount m;
  BERTH_ASSIGN_OR_RETURN(m.destination, internal::GetRequiredString(j, "destination", what));
  BERTH_ASSIGN_OR_RETURN(m.type, GetStringOr(j, "type", what));
  BERTH_ASSIGN_OR_RETURN(m.source, GetStringOr(j, "source", what));
  BERTH_ASSIGN_OR_RETURN(m.options, GetStrings(j, "options", what));
  return m;
}

Result<LinuxNamespace> NamespaceFromJson(const Json& j, std::string_view what) {
  LinuxNamespace n;
  BERTH_ASSIGN_OR_RETURN(n.type, internal::GetRequiredString(j, "type", what));
  BERTH_ASSIGN_OR_RETURN(n.path, GetStringOr(j, "path", what));
  return n;
}

Result<LinuxDevice> DeviceFromJson(const Json& j, std::string_view what) {
  LinuxDevice d;
  BERTH_ASSIGN_OR_RETURN(d.path, internal::GetRequiredString(j, "path", what));
  BERTH_ASSIGN_OR_RETURN(d.type, internal::GetRequiredString(j, "type", what));
  BERTH_ASSIGN_OR_RETURN(auto major, internal::GetInt64(j, "major", what));
  BERTH_ASSIGN_OR_RETURN(auto minor, internal::GetInt64(j, "minor", what));
  if (d.type != "p" && !major) return Required(what, "major");
  if (d.type != "p" && !minor) return Required(what, "minor");
  d.major = major.value_or(0);
  d.minor = minor.value_or(0);
  BERTH_ASSIGN_OR_RETURN(d.file_mode, GetUint32(j, "fileMode", what));
  BERTH_ASSIGN_OR_RETURN(d.uid, GetUint32(j, "uid", what));
  BERTH_ASSIGN_OR_RETURN(d.gid, GetUint32(j, "gid", what));
  return d;
}

Result<LinuxDeviceCgroup> DeviceCgroupFromJson(const Json& j, std::string_view what) {
  LinuxDeviceCgroup d;
  BERTH_ASSIGN_OR_RETURN(auto allow, internal::GetBool(j, "allow", what));
  if (!allow) return Required(what, "allow");
  d.allow = *allow;
  BERTH_ASSIGN_OR_RETURN(d.type, GetStringOr(j, "type", what));
  if (!d.type.empty() && d.type != "a" && d.type != "c" && d.type != "b") {
    return MakeError(Code::kInvalidArgument,
                     FieldName(what, "type") + ": \"" + d.type + "\" is not a, c or b");
  }
  BERTH_ASSIGN_OR_RETURN(d.major, internal::GetInt64(j, "major", what));
  BERTH_ASSIGN_OR_RETURN(d.minor, internal::GetInt64(j, "minor", what));
  BERTH_ASSIGN_OR_RETURN(d.access, GetStringOr(j, "access", what));
  if (d.access.find_first_not_of("rwm") != std::string::npos) {
    return MakeError(Code::kInvalidArgument,
                     FieldName(what, "access") + ": \"" + d.access + "\" is not some of rwm");
  }
  return d;
}

Result<LinuxResources> ResourcesFromJson(const Json& j, std::string_view what) {
  LinuxResources r;
  BERTH_ASSIGN_OR_RETURN(r.devices, GetObjectArray<LinuxDeviceCgroup>(j, "devices", what,
                                                                      DeviceCgroupFromJson));
  BERTH_ASSIGN_OR_RETURN(const Json* memory, GetObject(j, "memory", what));
  if (memory) {
    std::string w = FieldName(what, "memory");
    LinuxMemory m;
    BERTH_ASSIGN_OR_RETURN(m.limit, internal::GetInt64(*memory, "limit", w));
    BERTH_ASSIGN_OR_RETURN(m.reservation, internal::GetInt64(*memory, "reservation", w));
    BERTH_ASSIGN_OR_RETURN(m.swap, internal::GetInt64(*memory, "swap", w));
    BERTH_ASSIGN_OR_RETURN(m.swappiness, internal::GetInt64(*memory, "swappiness", w));
    r.memory = m;
  }
  BERTH_ASSIGN_OR_RETURN(const Json* cpu, GetObject(j, "cpu", what));
  if (cpu) {
    std::string w = FieldName(what, "cpu");
    LinuxCpu c;
    BERTH_ASSIGN_OR_RETURN(c.shares, GetUnsigned(*cpu, "shares", w));
    BERTH_ASSIGN_OR_RETURN(c.quota, internal::GetInt64(*cpu, "quota", w));
    BERTH_ASSIGN_OR_RETURN(c.period, GetUnsigned(*cpu, "period", w));
    BERTH_ASSIGN_OR_RETURN(c.cpus, GetStringOr(*cpu, "cpus", w));
    BERTH_ASSIGN_OR_RETURN(c.mems, GetStringOr(*cpu, "mems", w));
    r.cpu = std::move(c);
  }
  BERTH_ASSIGN_OR_RETURN(const Json* pids, GetObject(j, "pids", what));
  if (pids) {
    std::string w = FieldName(what, "pids");
    BERTH_ASSIGN_OR_RETURN(auto limit, internal::GetInt64(*pids, "limit", w));
    if (!limit) return Required(w, "limit");
    r.pids = LinuxPids{*limit};
  }
  return r;
}

Result<LinuxSeccompArg> SeccompArgFromJson(const Json& j, std::string_view what) {
  LinuxSeccompArg a;
  BERTH_ASSIGN_OR_RETURN(auto index, GetUint32(j, "index", what));
  if (!index) return Required(what, "index");
  a.index = *index;
  BERTH_ASSIGN_OR_RETURN(auto value, GetUnsigned(j, "value", what));
  if (!value) return Required(what, "value");
  a.value = *value;
  BERTH_ASSIGN_OR_RETURN(auto value_two, GetUnsigned(j, "valueTwo", what));
  a.value_two = value_two.value_or(0);
  BERTH_ASSIGN_OR_RETURN(a.op, internal::GetRequiredString(j, "op", what));
  return a;
}

Result<LinuxSyscall> SyscallFromJson(const Json& j, std::string_view what) {
  LinuxSyscall s;
  BERTH_ASSIGN_OR_RETURN(auto names, internal::GetStringArray(j, "names", what));
  if (!names) return Required(what, "names");
  s.names = std::move(*names);
  BERTH_ASSIGN_OR_RETURN(s.action, internal::GetRequiredString(j, "action", what));
  BERTH_ASSIGN_OR_RETURN(s.errno_ret, GetUint32(j, "errnoRet", what));
  BERTH_ASSIGN_OR_RETURN(s.args,
                         GetObjectArray<LinuxSeccompArg>(j, "args", what, SeccompArgFromJson));
  return s;
}

Result<LinuxSeccomp> SeccompFromJson(const Json& j, std::string_view what) {
  LinuxSeccomp s;
  BERTH_ASSIGN_OR_RETURN(s.default_action, internal::GetRequiredString(j, "defaultAction", what));
  BERTH_ASSIGN_OR_RETURN(s.default_errno_ret, GetUint32(j, "defaultErrnoRet", what));
  BERTH_ASSIGN_OR_RETURN(s.architectures, GetStrings(j, "architectures", what));
  BERTH_ASSIGN_OR_RETURN(s.flags, GetStrings(j, "flags", what));
  BERTH_ASSIGN_OR_RETURN(s.syscalls,
                         GetObjectArray<LinuxSyscall>(j, "syscalls", what, SyscallFromJson));
  return s;
}

Result<Linux> LinuxFromJson(const Json& j, std::string_view what) {
  Linux l;
  BERTH_ASSIGN_OR_RETURN(l.sysctl, internal::GetStringMap(j, "sysctl", what));
  BERTH_ASSIGN_OR_RETURN(const Json* resources, GetObject(j, "resources", what));
  if (resources) {
    BERTH_ASSIGN_OR_RETURN(l.resources,
                           ResourcesFromJson(*resources, FieldName(what, "resources")));
  }
  BERTH_ASSIGN_OR_RETURN(l.cgroups_path, GetStringOr(j, "cgroupsPath", what));
  BERTH_ASSIGN_OR_RETURN(l.namespaces,
                         GetObjectArray<LinuxNamespace>(j, "namespaces", what, NamespaceFromJson));
  BERTH_ASSIGN_OR_RETURN(l.devices,
                         GetObjectArray<LinuxDevice>(j, "devices", what, DeviceFromJson));
  BERTH_ASSIGN_OR_RETURN(const Json* seccomp, GetObject(j, "seccomp", what));
  if (seccomp) {
    BERTH_ASSIGN_OR_RETURN(l.seccomp, SeccompFromJson(*seccomp, FieldName(what, "seccomp")));
  }
  BERTH_ASSIGN_OR_RETURN(l.rootfs_propagation, GetStringOr(j, "rootfsPropagation", what));
  BERTH_ASSIGN_OR_RETURN(l.masked_paths, GetStrings(j, "maskedPaths", what));
  BERTH_ASSIGN_OR_RETURN(l.readonly_paths, GetStrings(j, "readonlyPaths", what));
  return l;
}

Result<RuntimeSpec> SpecFromJson(const Json& j) {
  constexpr std::string_view kWhat = "config";
  RuntimeSpec s;
  BERTH_ASSIGN_OR_RETURN(s.oci_version, internal::GetRequiredString(j, "ociVersion", kWhat));
  BERTH_ASSIGN_OR_RETURN(const Json* process, GetObject(j, "process", kWhat));
  if (process) {
    BERTH_ASSIGN_OR_RETURN(s.process, ProcessFromJson(*process, "config.process"));
  }
  BERTH_ASSIGN_OR_RETURN(const Json* root, GetObject(j, "root", kWhat));
  if (!root) return Required(kWhat, "root.path");
  BERTH_ASSIGN_OR_RETURN(s.root.path, internal::GetRequiredString(*root, "path", "config.root"));
  BERTH_ASSIGN_OR_RETURN(auto readonly, internal::GetBool(*root, "readonly", "config.root"));
  s.root.readonly = readonly.value_or(false);
  BERTH_ASSIGN_OR_RETURN(s.hostname, GetStringOr(j, "hostname", kWhat));
  BERTH_ASSIGN_OR_RETURN(s.domainname, GetStringOr(j, "domainname", kWhat));
  BERTH_ASSIGN_OR_RETURN(s.mounts, GetObjectArray<Mount>(j, "mounts", kWhat, MountFromJson));
  BERTH_ASSIGN_OR_RETURN(s.annotations, internal::GetStringMap(j, "annotations", kWhat));
  BERTH_ASSIGN_OR_RETURN(const Json* linux_obj, GetObject(j, "linux", kWhat));
  if (linux_obj) {
    BERTH_ASSIGN_OR_RETURN(s.linux_, LinuxFromJson(*linux_obj, "config.linux"));
  }
  return s;
}

// Serialization, in the field order of the spec's Go types (specs-go/config.go).

OrderedJson ProcessToJson(const Process& p) {
  OrderedJson j = OrderedJson::object();
  if (p.terminal) j["terminal"] = true;
  if (p.console_size) {
    j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  }
  OrderedJson user = OrderedJson::object();
  user["uid"] = p.user.uid;
  user["gid"] = p.user.gid;
  if (p.user.umask) user["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  j["user"] = std::move(user);
  j["args"] = p.args;
  if (!p.env.empty()) j["env"] = p.env;
  j["cwd"] = p.cwd;
  if (p.capabilities) {
    const LinuxCapabilities& c = *p.capabilities;
    OrderedJson caps = OrderedJson::object();
    if (!c.bounding.empty()) caps["bounding"] = c.bounding;
    if (!c.effective.empty()) caps["effective"] = c.effective;
    if (!c.inheritable.empty()) caps["inheritable"] = c.inheritable;
    if (!c.permitted.empty()) caps["permitted"] = c.permitted;
    if (!c.ambient.empty()) caps["ambient"] = c.ambient;
    j["capabilities"] = std::move(caps);
  }
  if (!p.rlimits.empty()) {
    OrderedJson rl = OrderedJson::array();
    for (const PosixRlimit& r : p.rlimits) {
      rl.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    }
    j["rlimits"] = std::move(rl);
  }
  if (p.no_new_privileges) j["noNewPrivileges"] = true;
  if (p.oom_score_adj) j["oomScoreAdj"] = *p.oom_score_adj;
  return j;
}

OrderedJson ResourcesToJson(const LinuxResources& r) {
  OrderedJson j = OrderedJson::object();
  if (!r.devices.empty()) {
    OrderedJson devices = OrderedJson::array();
    for (const LinuxDeviceCgroup& d : r.devices) {
      OrderedJson e = OrderedJson::object();
      e["allow"] = d.allow;
      if (!d.type.empty()) e["type"] = d.type;
      if (d.major) e["major"] = *d.major;
      if (d.minor) e["minor"] = *d.minor;
      if (!d.access.empty()) e["access"] = d.access;
      devices.push_back(std::move(e));
    }
    j["devices"] = std::move(devices);
  }
  if (r.memory) {
    OrderedJson m = OrderedJson::object();
    if (r.memory->limit) m["limit"] = *r.memory->limit;
    if (r.memory->reservation) m["reservation"] = *r.memory->reservation;
    if (r.memory->swap) m["swap"] = *r.memory->swap;
    if (r.memory->swappiness) m["swappiness"] = *r.memory->swappiness;
    j["memory"] = std::move(m);
  }
  if (r.cpu) {
    OrderedJson c = OrderedJson::object();
    if (r.cpu->shares) c["shares"] = *r.cpu->shares;
    if (r.cpu->quota) c["quota"] = *r.cpu->quota;
    if (r.cpu->period) c["period"] = *r.cpu->period;
    if (!r.cpu->cpus.empty()) c["cpus"] = r.cpu->cpus;
    if (!r.cpu->mems.empty()) c["mems"] = r.cpu->mems;
    j["cpu"] = std::move(c);
  }
  if (r.pids) j["pids"] = {{"limit", r.pids->limit}};
  return j;
}

OrderedJson SeccompToJson(const LinuxSeccomp& s) {
  OrderedJson j = OrderedJson::object();
  j["defaultAction"] = s.default_action;
  if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
  if (!s.architectures.empty()) j["architectures"] = s.architectures;
  if (!s.flags.empty()) j["flags"] = s.flags;
  if (!s.syscalls.empty()) {
    OrderedJson calls = OrderedJson::array();
    for (const LinuxSyscall& c : s.syscalls) {
      OrderedJson call = OrderedJson::object();
      call["names"] = c.names;
      call["action"] = c.action;
      if (c.errno_ret) call["errnoRet"] = *c.errno_ret;
      if (!c.args.empty()) {
        OrderedJson args = OrderedJson::array();
        for (const LinuxSeccompArg& a : c.args) {
          OrderedJson arg = OrderedJson::object();
          arg["index"] = a.index;
          arg["value"] = a.value;
          if (a.value_two != 0) arg["valueTwo"] = a.value_two;
          arg["op"] = a.op;
          args.push_back(std::move(arg));
        }
        call["args"] = std::move(args);
      }
      calls.push_back(std::move(call));
    }
    j["syscalls"] = std::move(calls);
  }
  return j;
}

OrderedJson LinuxToJson(const Linux& l) {
  OrderedJson j = OrderedJson::object();
  if (!l.sysctl.empty()) j["sysctl"] = l.sysctl;
  if (l.resources) j["resources"] = ResourcesToJson(*l.resources);
  if (!l.cgroups_path.empty()) j["cgroupsPath"] = l.cgroups_path;
  if (!l.namespaces.empty()) {
    OrderedJson ns = OrderedJson::array();
    for (const LinuxNamespace& n : l.namespaces) {
      OrderedJson e = OrderedJson::object();
      e["type"] = n.type;
      if (!n.path.empty()) e["path"] = n.path;
      ns.push_back(std::move(e));
    }
    j["namespaces"] = std::move(ns);
  }
  if (!l.devices.empty()) {
    OrderedJson devs = OrderedJson::array();
    for (const LinuxDevice& d : l.devices) {
      OrderedJson e = OrderedJson::object();
      e["path"] = d.path;
      e["type"] = d.type;
      if (d.type != "p" || d.major != 0 || d.minor != 0) {
        e["major"] = d.major;
        e["minor"] = d.minor;
      }
      if (d.file_mode) e["fileMode"] = *d.file_mode;
      if (d.uid) e["uid"] = *d.uid;
      if (d.gid) e["gid"] = *d.gid;
      devs.push_back(std::move(e));
    }
    j["devices"] = std::move(devs);
  }
  if (l.seccomp) j["seccomp"] = SeccompToJson(*l.seccomp);
  if (!l.rootfs_propagation.empty()) j["rootfsPropagation"] = l.rootfs_propagation;
  if (!l.masked_paths.empty()) j["maskedPaths"] = l.masked_paths;
  if (!l.readonly_paths.empty()) j["readonlyPaths"] = l.readonly_paths;
  return j;
}

OrderedJson SpecToJson(const RuntimeSpec& s) {
  OrderedJson j = OrderedJson::object();
  j["ociVersion"] = s.oci_version;
  if (s.process != Process{}) j["process"] = ProcessToJson(s.process);
  OrderedJson root = OrderedJson::object();
  root["path"] = s.root.path;
  if (s.root.readonly) root["readonly"] = true;
  j["root"] = std::move(root);
  if (!s.hostname.empty()) j["hostname"] = s.hostname;
  if (!s.domainname.empty()) j["domainname"] = s.domainname;
  if (!s.mounts.empty()) {
    OrderedJson mounts = OrderedJson::array();
    for (const Mount& m : s.mounts) {
      OrderedJson e = OrderedJson::object();
      e["destination"] = m.destination;
      if (!m.type.empty()) e["type"] = m.type;
      if (!m.source.empty()) e["source"] = m.source;
      if (!m.options.empty()) e["options"] = m.options;
      mounts.push_back(std::move(e));
    }
    j["mounts"] = std::move(mounts);
  }
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  OrderedJson linux_obj = LinuxToJson(s.linux_);
  if (!linux_obj.empty()) j["linux"] = std::move(linux_obj);
  return j;
}

}  // namespace

Result<RuntimeSpec> ParseRuntimeSpec(std::string_view json) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(json, "config"));
  return SpecFromJson(j);
}

std::string SerializeRuntimeSpec(const RuntimeSpec& spec) {
  return internal::Dump(SpecToJson(spec));
}

Result<Process> ParseProcess(std::string_view json) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(json, "process"));
  return ProcessFromJson(j, "process");
}

std::string SerializeProcess(const Process& process) {
  return internal::Dump(ProcessToJson(process));
}

}  // namespace berth::oci
