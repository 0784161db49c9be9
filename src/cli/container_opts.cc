#include "cli/internal/container_opts.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "cli/client.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kFlagPrefix = "invalid argument ";

Error FlagError(std::string_view value, std::string_view flag, std::string_view message) {
  return MakeError(
      Code::kInvalidArgument,
      fmt::format("invalid argument \"{}\" for \"{}\" flag: {}", value, flag, message));
}

Error ParseError(std::string message) { return MakeError(Code::kInvalidArgument, message); }

// Go's strconv.ParseInt(s, 10, 64) with its error text.
Result<int64_t> ParseInt64(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  long long v = s.empty() ? 0 : std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0])) || s[0] == '+') {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("strconv.ParseInt: parsing \"{}\": invalid syntax", s));
  }
  if (errno == ERANGE) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("strconv.ParseInt: parsing \"{}\": value out of range", s));
  }
  return static_cast<int64_t>(v);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

json NullOr(const std::vector<std::string>& v) { return v.empty() ? json(nullptr) : json(v); }

// "k=v" -> {"k":"v"}, "k" -> {"k":""} (docker's ConvertKVStringsToMap), sorted like a Go map.
json KvMap(const std::vector<std::string>& items) {
  std::map<std::string, std::string> m;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      m[item] = "";
    } else {
      m[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  json out = json::object();
  for (auto& [k, v] : m) out[k] = v;
  return out;
}

// docker's ValidateEnv: "VAR" takes the value of the local VAR when it is set.
Result<std::string> ValidateEnv(const std::string& value, const CreateInput& in) {
  size_t eq = value.find('=');
  std::string key = value.substr(0, eq);
  if (key.empty()) {
    return FlagError(value, "-e, --env", "invalid environment variable: " + value);
  }
  if (eq != std::string::npos) return value;
  if (in.getenv) {
    if (std::optional<std::string> local = in.getenv(key)) return key + "=" + *local;
  }
  return value;
}

// docker's parseKeyValueFile: comments and blank lines skipped, "VAR" looked up locally.
Status ReadEnvFile(const std::string& path, const CreateInput& in, std::vector<std::string>& out) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  for (const std::string& raw : Split(text, '\n')) {
    std::string line(raw);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    line = start == std::string::npos ? "" : line.substr(start);
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    std::string variable = line.substr(0, eq);
    if (variable.find_first_of(" \t") != std::string::npos) {
      return ParseError(fmt::format(
          "poorly formatted environment: variable '{}' contains whitespaces", variable));
    }
    if (variable.empty()) {
      return ParseError(
          fmt::format("poorly formatted environment: no variable name on line '{}'", line));
    }
    if (eq != std::string::npos) {
      out.push_back(line);
    } else if (in.getenv) {
      if (std::optional<std::string> local = in.getenv(variable)) {
        out.push_back(variable + "=" + *local);
      }
    }
  }
  return Ok();
}

// docker's normalizeCaps + EffectiveCapAddCapDrop.
std::vector<std::string> NormalizeCaps(const std::vector<std::string>& caps) {
  std::vector<std::string> out;
  for (const std::string& raw : caps) {
    std::string cap = Upper(std::string(TrimSpace(raw)));
    if (cap != "ALL" && !cap.starts_with("CAP_")) cap = "CAP_" + cap;
    if (std::find(out.begin(), out.end(), cap) == out.end()) out.push_back(cap);
  }
  if (std::find(out.begin(), out.end(), "ALL") != out.end()) out = {"ALL"};
  return out;
}

Result<json> ParseRestartPolicy(const std::string& policy) {
  json out = {{"Name", ""}, {"MaximumRetryCount", 0}};
  if (policy.empty()) return out;
  size_t colon = policy.find(':');
  std::string name = policy.substr(0, colon);
  if (colon != std::string::npos && name.empty()) {
    return ParseError("invalid restart policy format: no policy provided before colon");
  }
  if (colon != std::string::npos && colon + 1 < policy.size()) {
    Result<int64_t> count = ParseInt64(policy.substr(colon + 1));
    if (!count) {
      return ParseError("invalid restart policy format: maximum retry count must be an integer");
    }
    out["MaximumRetryCount"] = *count;
  }
  out["Name"] = name;
  return out;
}

// nat.ParsePortSpec: [ip:][hostPort:]containerPort[/proto], ports may be ranges.
struct PortRange {
  uint32_t start = 0;
  uint32_t end = 0;
};

Result<PortRange> ParsePortRange(const std::string& s, bool allow_empty) {
  if (s.empty()) {
    if (allow_empty) return PortRange{};
    return ParseError("no port specified: " + s);
  }
  size_t dash = s.find('-');
  auto one = [](const std::string& p) -> Result<uint32_t> {
    Result<int64_t> v = ParseInt64(p);
    if (!v || *v < 0 || *v > 65535) return ParseError("invalid port: " + p);
    return static_cast<uint32_t>(*v);
  };
  BERTH_ASSIGN_OR_RETURN(uint32_t start, one(s.substr(0, dash)));
  uint32_t end = start;
  if (dash != std::string::npos) {
    BERTH_ASSIGN_OR_RETURN(end, one(s.substr(dash + 1)));
    if (end < start) return ParseError("invalid range specified for port: " + s);
  }
  return PortRange{start, end};
}

Status ParsePortSpec(const std::string& spec, json& exposed, json& bindings) {
  std::string rest = spec;
  std::string proto = "tcp";
  size_t slash = rest.rfind('/');
  if (slash != std::string::npos) {
    proto = Lower(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
      return ParseError("invalid proto: " + proto);
    }
  }
  std::string ip, host, container;
  if (!rest.empty() && rest[0] == '[') {  // [ipv6]:host:container
    size_t close = rest.find(']');
    if (close == std::string::npos) return ParseError("invalid IP address: " + rest);
    ip = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest[0] == ':') rest = rest.substr(1);
    size_t colon = rest.rfind(':');
    host = colon == std::string::npos ? "" : rest.substr(0, colon);
    container = colon == std::string::npos ? rest : rest.substr(colon + 1);
  } else {
    std::vector<std::string> parts = Split(rest, ':');
    if (parts.size() == 1) {
      container = parts[0];
    } else if (parts.size() == 2) {
      host = parts[0];
      container = parts[1];
    } else if (parts.size() == 3) {
      ip = parts[0];
      host = parts[1];
      container = parts[2];
    } else {
      container = parts.back();
      host = parts[parts.size() - 2];
      parts.resize(parts.size() - 2);
      ip = Join(parts, ":");
    }
  }
  if (!ip.empty()) {
    unsigned char addr[16];
    if (::inet_pton(AF_INET, ip.c_str(), addr) != 1 &&
        ::inet_pton(AF_INET6, ip.c_str(), addr) != 1) {
      return ParseError("invalid IP address: " + ip);
    }
  }
  if (container.empty()) return ParseError("no port specified: " + spec + "<empty>");
  Result<PortRange> cport = ParsePortRange(container, false);
  if (!cport) return ParseError("invalid containerPort: " + container);
  Result<PortRange> hport = ParsePortRange(host, true);
  if (!hport) return ParseError("invalid hostPort: " + host);
  uint32_t count = cport->end - cport->start + 1;
  if (!host.empty() && hport->end - hport->start + 1 != count && hport->start != hport->end) {
    return ParseError(fmt::format(
        "invalid ranges specified for container and host Ports: {} and {}", container, host));
  }
  for (uint32_t i = 0; i < count; ++i) {
    std::string port = fmt::format("{}/{}", cport->start + i, proto);
    std::string host_port;
    if (!host.empty()) {
      if (hport->start != hport->end && hport->end - hport->start + 1 == count) {
        host_port = std::to_string(hport->start + i);
      } else if (hport->start != hport->end) {
        host_port = fmt::format("{}-{}", hport->start, hport->end);
      } else {
        host_port = std::to_string(hport->start);
      }
    }
    exposed[port] = json::object();
    bindings[port].push_back(json{{"HostIp", ip}, {"HostPort", host_port}});
  }
  return Ok();
}

// docker's loader.ParseVolume, just enough to tell binds and named volumes from anonymous ones.
Result<std::string> BindOf(const std::string& spec, const CreateInput& in) {
  std::vector<std::string> parts = Split(spec, ':');
  for (const std::string& p : parts) {
    if (p.empty()) return ParseError("invalid spec: " + spec + ": empty section between colons");
  }
  if (parts.size() > 3) return ParseError("invalid spec: " + spec + ": too many colons");
  if (parts.size() == 1) return std::string();  // anonymous volume
  std::string source = parts[0];
  if (source.starts_with(".") && !in.cwd.empty()) {
    std::string abs = in.cwd + "/" + source;
    // filepath.Abs cleans "./x" and "../x".
    std::vector<std::string> stack;
    for (const std::string& seg : Split(abs, '/')) {
      if (seg.empty() || seg == ".") continue;
      if (seg == "..") {
        if (!stack.empty()) stack.pop_back();
        continue;
      }
      stack.push_back(seg);
    }
    source = "/" + Join(stack, "/");
    return source + spec.substr(parts[0].size());
  }
  return spec;
}

// docker's MountOpt.Set: CSV of key=value into a mount.Mount.
Result<json> ParseMount(const std::string& value) {
  json m = json::object();
  std::string type = "volume";
  std::string source, target, consistency;
  bool read_only = false;
  json bind = json::object(), volume = json::object(), tmpfs = json::object();
  for (const std::string& field : Split(value, ',')) {
    size_t eq = field.find('=');
    std::string key = Lower(std::string(TrimSpace(field.substr(0, eq))));
    std::string val = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        read_only = true;
        continue;
      }
      if (key == "volume-nocopy") {
        volume["NoCopy"] = true;
        continue;
      }
      if (key == "bind-nonrecursive") {
        bind["NonRecursive"] = true;
        continue;
      }
      return ParseError(fmt::format("invalid field '{}' must be a key=value pair", field));
    }
    if (key == "type") {
      type = Lower(val);
    } else if (key == "source" || key == "src") {
      source = val;
    } else if (key == "target" || key == "dst" || key == "destination") {
      target = val;
    } else if (key == "readonly" || key == "ro") {
      if (val != "true" && val != "false" && val != "1" && val != "0") {
        return ParseError(fmt::format("invalid value for {}: {}", key, val));
      }
      read_only = val == "true" || val == "1";
    } else if (key == "consistency") {
      consistency = val;
    } else if (key == "bind-propagation") {
      bind["Propagation"] = Lower(val);
    } else if (key == "volume-nocopy") {
      volume["NoCopy"] = val == "true" || val == "1";
    } else if (key == "volume-label") {
      size_t e = val.find('=');
      volume["Labels"][val.substr(0, e)] = e == std::string::npos ? "" : val.substr(e + 1);
    } else if (key == "volume-driver") {
      volume["DriverConfig"]["Name"] = val;
    } else if (key == "volume-opt") {
      size_t e = val.find('=');
      volume["DriverConfig"]["Options"][val.substr(0, e)] =
          e == std::string::npos ? "" : val.substr(e + 1);
    } else if (key == "tmpfs-size") {
      Result<int64_t> size = RamInBytes(val);
      if (!size) return ParseError(fmt::format("invalid value for {}: {}", key, val));
      tmpfs["SizeBytes"] = *size;
    } else if (key == "tmpfs-mode") {
      char* end = nullptr;
      long mode = std::strtol(val.c_str(), &end, 8);
      if (val.empty() || *end != '\0') {
        return ParseError(fmt::format("invalid value for {}: {}", key, val));
      }
      tmpfs["Mode"] = mode;
    } else {
      return ParseError(fmt::format("unexpected key '{}' in '{}'", key, field));
    }
  }
  if (type.empty()) return ParseError("type is required");
  if (target.empty()) return ParseError("target is required");
  m["Type"] = type;
  if (!source.empty()) m["Source"] = source;
  m["Target"] = target;
  if (read_only) m["ReadOnly"] = true;
  if (!consistency.empty()) m["Consistency"] = consistency;
  if (!bind.empty()) m["BindOptions"] = bind;
  if (!volume.empty()) m["VolumeOptions"] = volume;
  if (!tmpfs.empty()) m["TmpfsOptions"] = tmpfs;
  return m;
}

// --security-opt seccomp=<file> sends the profile itself, compacted (docker's parseSecurityOpts).
Result<std::vector<std::string>> SecurityOpts(const std::vector<std::string>& opts) {
  std::vector<std::string> out;
  for (const std::string& opt : opts) {
    std::string o = opt;
    size_t sep = o.find('=');
    if (sep == std::string::npos && o.find(':') != std::string::npos) {
      sep = o.find(':');
      o[sep] = '=';
    }
    if (sep == std::string::npos && o != "no-new-privileges") {
      return ParseError(fmt::format("Invalid --security-opt: {}", opt));
    }
    if (o.starts_with("seccomp=") && o != "seccomp=unconfined" && o != "seccomp=builtin") {
      std::string path = o.substr(8);
      Result<std::string> text = ReadFile(path);
      if (!text) {
        return ParseError(
            fmt::format("opening seccomp profile ({}) failed: {}", path, text.error().message));
      }
      auto profile = json::parse(*text, nullptr, false);
      if (profile.is_discarded()) {
        return ParseError(fmt::format("compacting json for seccomp profile ({}) failed", path));
      }
      o = "seccomp=" + profile.dump();
    }
    out.push_back(o);
  }
  return out;
}

// A Go map marshals with its keys sorted.
json Sorted(const json& object) {
  std::map<std::string, json> m;
  for (auto it = object.begin(); it != object.end(); ++it) m[it.key()] = *it;
  json out = json::object();
  for (auto& [k, v] : m) out[k] = std::move(v);
  return out;
}

json ZeroEndpoint() {
  return json{{"IPAMConfig", nullptr},   {"Links", nullptr},         {"Aliases", nullptr},
              {"MacAddress", ""},        {"DriverOpts", nullptr},    {"GwPriority", 0},
              {"NetworkID", ""},         {"EndpointID", ""},         {"Gateway", ""},
              {"IPAddress", ""},         {"IPPrefixLen", 0},         {"IPv6Gateway", ""},
              {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"DNSNames", nullptr}};
}

}  // namespace

bool IsFlagValueError(const Error& error) { return error.message.starts_with(kFlagPrefix); }

Result<int64_t> RamInBytes(const std::string& size) {
  size_t sep = size.find_last_of("01234567890. ");
  if (sep == std::string::npos) {
    return MakeError(Code::kInvalidArgument, fmt::format("invalid size: '{}'", size));
  }
  std::string num, sfx;
  if (size[sep] != ' ') {
    num = size.substr(0, sep + 1);
    sfx = size.substr(sep + 1);
  } else {
    num = size.substr(0, sep);
    sfx = size.substr(sep + 1);
  }
  char* end = nullptr;
  double value = num.empty() ? 0 : std::strtod(num.c_str(), &end);
  if (num.empty() || *end != '\0') {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("strconv.ParseFloat: parsing \"{}\": invalid syntax", num));
  }
  if (value < 0) return MakeError(Code::kInvalidArgument, fmt::format("invalid size: '{}'", size));
  if (sfx.empty()) return static_cast<int64_t>(value);
  auto bad = [&] {
    return MakeError(Code::kInvalidArgument, fmt::format("invalid suffix: '{}'", sfx));
  };
  if (sfx.size() > 3) return bad();
  sfx = Lower(sfx);
  if (sfx[0] == 'b') {
    if (sfx.size() > 1) return bad();
    return static_cast<int64_t>(value);
  }
  static const std::string_view kUnits = "kmgtp";
  size_t unit = kUnits.find(sfx[0]);
  if (unit == std::string_view::npos) return bad();
  value *= std::pow(1024.0, static_cast<double>(unit + 1));
  if ((sfx.size() == 2 && sfx[1] != 'b') || (sfx.size() == 3 && sfx.substr(1) != "ib")) {
    return bad();
  }
  return static_cast<int64_t>(value);
}

Result<int64_t> ParseNanoCpus(const std::string& value) {
  // big.Rat.SetString on a decimal: [+-]digits[.digits]; exactly representable in 1e-9 units.
  std::string_view s = value;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if ((whole.empty() && frac.empty()) || !digits(whole) || !digits(frac)) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("failed to parse {} as a rational number", value));
  }
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (frac.size() > 9) return MakeError(Code::kInvalidArgument, "value is too precise");
  int64_t nano = 0;
  for (char c : whole) {
    if (nano > (INT64_MAX / 10 - 9) / 1000000000) {
      return MakeError(Code::kInvalidArgument, "value is too precise");
    }
    nano = nano * 10 + (c - '0');
  }
  nano *= 1000000000;
  int64_t scale = 100000000;
  for (char c : frac) {
    nano += (c - '0') * scale;
    scale /= 10;
  }
  return negative ? -nano : nano;
}

Result<json> ParseUlimit(const std::string& value) {
  static const std::set<std::string> kNames = {
      "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
      "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  size_t eq = value.find('=');
  if (eq == std::string::npos) {
    return MakeError(Code::kInvalidArgument, "invalid ulimit argument: " + value);
  }
  std::string name = value.substr(0, eq);
  if (!kNames.contains(name)) {
    return MakeError(Code::kInvalidArgument, "invalid ulimit type: " + name);
  }
  std::vector<std::string> limits = Split(value.substr(eq + 1), ':');
  if (limits.size() > 2) {
    return MakeError(Code::kInvalidArgument, "too many limit value arguments - " +
                                                 value.substr(eq + 1) +
                                                 ", can only have up to two, `soft[:hard]`");
  }
  BERTH_ASSIGN_OR_RETURN(int64_t soft, ParseInt64(limits[0]));
  int64_t hard = soft;
  if (limits.size() == 2) {
    BERTH_ASSIGN_OR_RETURN(hard, ParseInt64(limits[1]));
    if (soft > hard) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("ulimit soft limit must be less than or equal to hard limit: "
                                   "{} > {}",
                                   soft, hard));
    }
  }
  return json{{"Name", name}, {"Hard", hard}, {"Soft", soft}};
}

Result<json> BuildCreateBody(const ContainerFlags& f, const CreateInput& in) {
  // pflag's typed values first, in the order docker's Set() sees them.
  int64_t memory = 0, memory_swap = 0, nano_cpus = 0, cpu_shares = 0, pids_limit = 0;
  std::optional<int64_t> stop_timeout;
  if (!f.memory.empty()) {
    Result<int64_t> v = RamInBytes(f.memory);
    if (!v) return FlagError(f.memory, "-m, --memory", v.error().message);
    memory = *v;
  }
  if (!f.memory_swap.empty()) {
    if (f.memory_swap == "-1") {
      memory_swap = -1;
    } else {
      Result<int64_t> v = RamInBytes(f.memory_swap);
      if (!v) return FlagError(f.memory_swap, "--memory-swap", v.error().message);
      memory_swap = *v;
    }
  }
  if (!f.cpus.empty()) {
    Result<int64_t> v = ParseNanoCpus(f.cpus);
    if (!v) return FlagError(f.cpus, "--cpus", v.error().message);
    nano_cpus = *v;
  }
  if (!f.cpu_shares.empty()) {
    Result<int64_t> v = ParseInt64(f.cpu_shares);
    if (!v) return FlagError(f.cpu_shares, "-c, --cpu-shares", v.error().message);
    cpu_shares = *v;
  }
  if (!f.pids_limit.empty()) {
    Result<int64_t> v = ParseInt64(f.pids_limit);
    if (!v) return FlagError(f.pids_limit, "--pids-limit", v.error().message);
    pids_limit = *v;
  }
  if (!f.stop_timeout.empty()) {
    Result<int64_t> v = ParseInt64(f.stop_timeout);
    if (!v) return FlagError(f.stop_timeout, "--stop-timeout", v.error().message);
    stop_timeout = *v;
  }
  json ulimits = json::array();
  for (const std::string& u : f.ulimits) {
    Result<json> v = ParseUlimit(u);
    if (!v) return FlagError(u, "--ulimit", v.error().message);
    ulimits.push_back(*v);
  }
  json mounts = json::array();
  for (const std::string& m : f.mounts) {
    Result<json> v = ParseMount(m);
    if (!v) return FlagError(m, "--mount", v.error().message);
    mounts.push_back(*v);
  }
  std::vector<std::string> env;
  for (const std::string& e : f.env) {
    BERTH_ASSIGN_OR_RETURN(std::string v, ValidateEnv(e, in));
    env.push_back(v);
  }
  for (const std::string& a : f.attach) {
    std::string s = Lower(a);
    if (s != "stdin" && s != "stdout" && s != "stderr") {
      return FlagError(a, "-a, --attach", "valid streams are STDIN, STDOUT and STDERR");
    }
  }

  // Then docker's parse().
  auto attached = [&](const char* stream) {
    return std::any_of(f.attach.begin(), f.attach.end(),
                       [&](const std::string& a) { return Lower(a) == stream; });
  };
  bool attach_stdin = attached("stdin") || f.interactive;
  bool attach_stdout = f.attach.empty() || attached("stdout");
  bool attach_stderr = f.attach.empty() || attached("stderr");
  if (in.detach) {
    if (!f.attach.empty()) {
      return ParseError("conflicting options: cannot specify both --attach and --detach");
    }
    attach_stdin = attach_stdout = attach_stderr = false;
  }

  json exposed = json::object(), bindings = json::object();
  for (const std::string& p : f.publish) BERTH_RETURN_IF_ERROR(ParsePortSpec(p, exposed, bindings));
  for (const std::string& e : f.expose) {
    std::string port = e, proto = "tcp";
    size_t slash = e.find('/');
    if (slash != std::string::npos) {
      port = e.substr(0, slash);
      proto = Lower(e.substr(slash + 1));
    }
    if (port.find(':') != std::string::npos) {
      return ParseError("invalid port format for --expose: " + e);
    }
    Result<PortRange> range = ParsePortRange(port, false);
    if (!range)
      return ParseError(fmt::format("invalid range format for --expose: {}, error: {}", e,
                                    range.error().message));
    for (uint32_t p = range->start; p <= range->end; ++p) {
      exposed[fmt::format("{}/{}", p, proto)] = json::object();
    }
  }

  std::vector<std::string> env_all;
  for (const std::string& file : f.env_files) BERTH_RETURN_IF_ERROR(ReadEnvFile(file, in, env_all));
  env_all.insert(env_all.end(), env.begin(), env.end());

  json volumes = json::object();
  std::vector<std::string> binds;
  for (const std::string& v : f.volumes) {
    BERTH_ASSIGN_OR_RETURN(std::string bind, BindOf(v, in));
    if (bind.empty()) {
      volumes[v] = json::object();
    } else {
      binds.push_back(bind);
    }
  }

  json tmpfs = json::object();
  {
    std::map<std::string, std::string> sorted;
    for (const std::string& t : f.tmpfs) {
      size_t colon = t.find(':');
      sorted[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
    }
    for (auto& [k, v] : sorted) tmpfs[k] = v;
  }

  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> security_opt, SecurityOpts(f.security_opt));
  BERTH_ASSIGN_OR_RETURN(json restart, ParseRestartPolicy(f.restart));
  std::string restart_name = restart["Name"].get<std::string>();
  if (f.rm && !restart_name.empty() && restart_name != "no") {
    return ParseError("conflicting options: cannot specify both --restart and --rm");
  }

  std::vector<std::string> cap_add = NormalizeCaps(f.cap_add);
  std::vector<std::string> cap_drop = NormalizeCaps(f.cap_drop);
  for (std::string& c : cap_drop) {
    if (std::find(cap_add.begin(), cap_add.end(), c) != cap_add.end()) c.clear();
  }
  std::erase(cap_drop, "");

  json entrypoint = nullptr;
  if (f.entrypoint) entrypoint = json::array({*f.entrypoint});

  // Config, in container.Config's field order; omitempty fields only when set.
  json body = json::object();
  body["Hostname"] = f.hostname;
  body["Domainname"] = "";
  body["User"] = f.user;
  body["AttachStdin"] = attach_stdin;
  body["AttachStdout"] = attach_stdout;
  body["AttachStderr"] = attach_stderr;
  if (!exposed.empty()) body["ExposedPorts"] = Sorted(exposed);
  body["Tty"] = f.tty;
  body["OpenStdin"] = f.interactive;
  body["StdinOnce"] = f.interactive && attach_stdin;
  body["Env"] = NullOr(env_all);
  body["Cmd"] = NullOr(in.command);
  body["Image"] = in.image;
  body["Volumes"] = Sorted(volumes);
  body["WorkingDir"] = f.workdir;
  body["Entrypoint"] = entrypoint;
  body["OnBuild"] = nullptr;
  body["Labels"] = KvMap(f.labels);
  if (!f.stop_signal.empty()) body["StopSignal"] = f.stop_signal;
  if (stop_timeout) body["StopTimeout"] = *stop_timeout;

  std::string network = f.networks.empty() ? "default" : f.networks.front();
  json host = json::object();
  host["Binds"] = NullOr(binds);
  host["ContainerIDFile"] = "";
  host["LogConfig"] = {{"Type", ""}, {"Config", json::object()}};
  host["NetworkMode"] = network;
  host["PortBindings"] = Sorted(bindings);
  host["RestartPolicy"] = restart;
  // Below 1.25 the CLI removes the container itself (wire notes §5).
  host["AutoRemove"] = f.rm && CompareApiVersions(in.api_version, "1.25") >= 0;
  host["VolumeDriver"] = "";
  host["VolumesFrom"] = NullOr(f.volumes_from);
  host["ConsoleSize"] = json::array({in.console_height, in.console_width});
  host["CapAdd"] = NullOr(cap_add);
  host["CapDrop"] = NullOr(cap_drop);
  host["CgroupnsMode"] = "";
  host["Dns"] = json::array();
  host["DnsOptions"] = json::array();
  host["DnsSearch"] = json::array();
  host["ExtraHosts"] = nullptr;
  host["GroupAdd"] = nullptr;
  host["IpcMode"] = "";
  host["Cgroup"] = "";
  host["Links"] = nullptr;
  host["OomScoreAdj"] = 0;
  host["PidMode"] = "";
  host["Privileged"] = f.privileged;
  host["PublishAllPorts"] = f.publish_all;
  host["ReadonlyRootfs"] = f.read_only;
  host["SecurityOpt"] = NullOr(security_opt);
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  host["UTSMode"] = "";
  host["UsernsMode"] = "";
  host["ShmSize"] = 0;
  host["Isolation"] = "";
  host["CpuShares"] = cpu_shares;
  host["Memory"] = memory;
  host["NanoCpus"] = nano_cpus;
  host["CgroupParent"] = "";
  host["BlkioWeight"] = 0;
  for (const char* key : {"BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                          "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"}) {
    host[key] = json::array();
  }
  host["CpuPeriod"] = 0;
  host["CpuQuota"] = 0;
  host["CpuRealtimePeriod"] = 0;
  host["CpuRealtimeRuntime"] = 0;
  host["CpusetCpus"] = "";
  host["CpusetMems"] = "";
  host["Devices"] = json::array();
  host["DeviceCgroupRules"] = nullptr;
  host["DeviceRequests"] = nullptr;
  host["MemoryReservation"] = 0;
  host["MemorySwap"] = memory_swap;
  host["MemorySwappiness"] = -1;
  host["OomKillDisable"] = false;
  host["PidsLimit"] = pids_limit;
  host["Ulimits"] = ulimits;
  host["CpuCount"] = 0;
  host["CpuPercent"] = 0;
  host["IOMaximumIOps"] = 0;
  host["IOMaximumBandwidth"] = 0;
  if (!mounts.empty()) host["Mounts"] = mounts;
  host["MaskedPaths"] = nullptr;
  host["ReadonlyPaths"] = nullptr;
  if (f.init) host["Init"] = *f.init;
  body["HostConfig"] = host;

  // parseNetworkOpts: the implicit "default" network gets an empty endpoint; one named network
  // without endpoint options gets none.
  json endpoints = json::object();
  if (f.networks.empty()) {
    endpoints["default"] = ZeroEndpoint();
  } else {
    for (size_t i = 1; i < f.networks.size(); ++i) endpoints[f.networks[i]] = ZeroEndpoint();
  }
  body["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  return body;
}

}  // namespace berth::cli
