#include "engine/internal/container_files.h"

#include <signal.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace berth::engine::internal {
namespace {

using OJson = nlohmann::ordered_json;

bool EmptyOrNull(const OJson& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() || (it->is_array() && it->empty()) ||
         (it->is_string() && it->get<std::string>().empty()) ||
         (it->is_object() && it->empty());
}

OJson ToJson(const std::vector<std::string>& v) { return OJson(v); }

}  // namespace

Result<std::string> MergeConfig(std::string_view request_config_json,
                                const oci::ContainerConfig& image, std::string_view id) {
  OJson c = OJson::parse(request_config_json, nullptr, /*allow_exceptions=*/false);
  if (c.is_discarded() || !(c.is_object() || c.is_null())) {
    return MakeError(Code::kInvalidArgument, "Config: not a JSON object");
  }
  if (c.is_null()) c = OJson::object();
  try {
    if (EmptyOrNull(c, "Hostname")) c["Hostname"] = std::string(id.substr(0, 12));
    // Env: the image's, then the request's; the request wins for a key it sets.
    {
      std::vector<std::string> env = image.env;
      if (!EmptyOrNull(c, "Env")) {
        for (const auto& kv : c["Env"]) {
          if (!kv.is_string()) return MakeError(Code::kInvalidArgument, "Config.Env: want strings");
          std::string s = kv.get<std::string>();
          std::string key = s.substr(0, s.find('='));
          bool replaced = false;
          for (auto& e : env) {
            if (e.substr(0, e.find('=')) == key) {
              e = s;
              replaced = true;
              break;
            }
          }
          if (!replaced) env.push_back(s);
        }
      }
      c["Env"] = ToJson(env);
    }
    bool user_entrypoint = !EmptyOrNull(c, "Entrypoint");
    if (!user_entrypoint) {
      if (EmptyOrNull(c, "Cmd") && image.cmd) c["Cmd"] = ToJson(*image.cmd);
      auto it = c.find("Entrypoint");
      bool explicit_empty = it != c.end() && it->is_array();
      if (!explicit_empty) {
        c["Entrypoint"] = image.entrypoint ? ToJson(*image.entrypoint) : OJson(nullptr);
      }
    }
    if (EmptyOrNull(c, "WorkingDir")) c["WorkingDir"] = image.working_dir;
    if (EmptyOrNull(c, "User")) c["User"] = image.user;
    if (!image.exposed_ports.empty()) {
      OJson ports = c.contains("ExposedPorts") && c["ExposedPorts"].is_object()
                        ? c["ExposedPorts"]
                        : OJson::object();
      for (const auto& p : image.exposed_ports) {
        if (!ports.contains(p)) ports[p] = OJson::object();
      }
      c["ExposedPorts"] = ports;
    }
    if (!image.volumes.empty()) {
      OJson vols =
          c.contains("Volumes") && c["Volumes"].is_object() ? c["Volumes"] : OJson::object();
      for (const auto& v : image.volumes) {
        if (!vols.contains(v)) vols[v] = OJson::object();
      }
      c["Volumes"] = vols;
    }
    {
      OJson labels = OJson::object();
      for (const auto& [k, v] : image.labels) labels[k] = v;
      if (c.contains("Labels") && c["Labels"].is_object()) {
        for (const auto& [k, v] : c["Labels"].items()) labels[k] = v;
      }
      c["Labels"] = labels;
    }
    if (EmptyOrNull(c, "StopSignal") && !image.stop_signal.empty()) {
      c["StopSignal"] = image.stop_signal;
    }
    if (EmptyOrNull(c, "OnBuild")) {
      c["OnBuild"] = image.on_build.empty() ? OJson(nullptr) : ToJson(image.on_build);
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(Code::kInvalidArgument, fmt::format("Config: {}", e.what()));
  }
  return c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> WithNames(std::string_view config_json, std::string_view hostname,
                              std::string_view domainname) {
  OJson c = OJson::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (!c.is_object()) return MakeError(Code::kInternal, "Config: not a JSON object");
  c["Hostname"] = std::string(hostname);
  c["Domainname"] = std::string(domainname);
  return c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HostsFile(std::string_view hostname, std::string_view domainname,
                      const std::vector<std::string>& extra_hosts) {
  std::string s =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  for (const auto& h : extra_hosts) {
    // "name:ip" (Docker's --add-host form; the IP may contain colons).
    auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    s += fmt::format("{}\t{}\n", h.substr(colon + 1), h.substr(0, colon));
  }
  (void)hostname;
  (void)domainname;
  return s;
}

std::string ResolvConf(std::string_view host_resolv, const std::vector<std::string>& dns,
                       const std::vector<std::string>& search,
                       const std::vector<std::string>& options, bool host_network) {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> opts;
  for (const auto& raw : Split(host_resolv, '\n')) {
    std::string_view line = TrimSpace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto fields = Split(line, ' ');
    std::vector<std::string> f;
    for (auto& x : fields) {
      if (!TrimSpace(x).empty()) f.emplace_back(TrimSpace(x));
    }
    if (f.size() < 2) continue;
    if (f[0] == "nameserver") {
      bool local = f[1].rfind("127.", 0) == 0 || f[1] == "::1";
      if (!local || host_network) servers.push_back(f[1]);
    } else if (f[0] == "search" || f[0] == "domain") {
      searches.assign(f.begin() + 1, f.end());
    } else if (f[0] == "options") {
      opts.insert(opts.end(), f.begin() + 1, f.end());
    }
  }
  if (!dns.empty()) servers = dns;
  if (!search.empty()) searches = search;
  if (!options.empty()) opts = options;
  std::string out;
  if (!searches.empty()) out += "search " + Join(searches, " ") + "\n";
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (!opts.empty()) out += "options " + Join(opts, " ") + "\n";
  return out;
}

std::string RandomName(int attempt) {
  static constexpr std::array<const char*, 24> kLeft = {
      "brave",   "calm",    "eager",   "fervent", "gentle",  "happy",   "jolly",  "keen",
      "lucid",   "merry",   "nifty",   "quirky",  "serene",  "sharp",   "swift",  "vibrant",
      "wizardly", "zealous", "bold",    "clever",  "dreamy",  "focused", "hopeful", "stoic"};
  static constexpr std::array<const char*, 24> kRight = {
      "babbage", "curie",  "darwin",  "euler",    "fermat",   "galois",  "hopper", "hypatia",
      "kepler",  "lovelace", "meitner", "noether", "pascal",  "ramanujan", "shannon", "tesla",
      "turing",  "volta",  "wiles",   "yalow",    "zuse",     "lamarr",  "knuth",  "ritchie"};
  std::string hex = RandomHex(2);
  unsigned v = static_cast<unsigned>(std::strtoul(hex.c_str(), nullptr, 16));
  std::string name = fmt::format("{}_{}", kLeft[v % kLeft.size()], kRight[(v / 24) % kRight.size()]);
  if (attempt > 0) name += std::to_string(v % 10);
  if (attempt > 3) name += RandomHex(2);
  return name;
}

bool ValidName(std::string_view name) {
  if (name.size() < 2) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(name[0])) return false;
  for (char c : name.substr(1)) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

int ParseSignal(std::string_view name) {
  static const std::map<std::string, int> kSignals = {
      {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},     {"CHLD", SIGCHLD},
      {"CONT", SIGCONT}, {"FPE", SIGFPE},   {"HUP", SIGHUP},     {"ILL", SIGILL},
      {"INT", SIGINT},   {"IO", SIGIO},     {"IOT", SIGIOT},     {"KILL", SIGKILL},
      {"PIPE", SIGPIPE}, {"PROF", SIGPROF}, {"PWR", SIGPWR},     {"QUIT", SIGQUIT},
      {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP}, {"SYS", SIGSYS},
      {"TERM", SIGTERM}, {"TRAP", SIGTRAP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
      {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
      {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}};
  if (name.empty()) return 0;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) {
    int n = std::atoi(std::string(name).c_str());
    return n > 0 && n <= 64 ? n : 0;
  }
  std::string s;
  for (char c : name) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (s.rfind("SIG", 0) == 0) s = s.substr(3);
  if (s.rfind("RTMIN", 0) == 0 || s.rfind("RTMAX", 0) == 0) {
    int base = s[2] == 'M' && s[3] == 'I' ? SIGRTMIN : SIGRTMAX;
    if (s.size() == 5) return base;
    int off = std::atoi(s.c_str() + 6);
    int n = s[5] == '+' ? base + off : base - off;
    return n > 0 && n <= 64 ? n : 0;
  }
  auto it = kSignals.find(s);
  return it == kSignals.end() ? 0 : it->second;
}

}  // namespace berth::engine::internal
