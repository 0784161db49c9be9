// `berth version` and `berth info`: GET /version and GET /info, laid out like docker's.
#include <sys/utsname.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/list.h"
#include "cli/format/tabwriter.h"
#include "cli/format/template.h"
#include "cli/internal/build_info.h"
#include "cli/internal/command.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

std::string GoArch() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  std::string machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  return machine;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : format::GoString(*it);
}

struct VersionOptions {
  std::string format;
  std::vector<std::string> args;
};

const CommandInfo kVersionInfo{"berth version", "berth version [OPTIONS]",
                               "Show the Berth version information"};

json ClientVersion(const std::string& api_version) {
  return json{{"Platform", {{"Name", ""}}},
              {"Version", std::string(internal::kVersion)},
              {"ApiVersion", api_version},
              {"DefaultAPIVersion", std::string(kMaxApiVersion)},
              {"GitCommit", std::string(internal::kGitCommit)},
              {"GoVersion", ""},
              {"Os", "linux"},
              {"Arch", GoArch()},
              {"BuildTime", std::string(internal::kBuildTime)},
              {"Context", "default"}};
}

std::string RenderVersion(const json& client, const json& server) {
  format::TabWriter w(20, 1);
  w.Write(fmt::format("Client:\n Version:\t{}\n API version:\t{}", Str(client, "Version"),
                      Str(client, "ApiVersion")));
  if (Str(client, "ApiVersion") != Str(client, "DefaultAPIVersion")) {
    w.Write(fmt::format(" (downgraded from {})", Str(client, "DefaultAPIVersion")));
  }
  w.Write(fmt::format("\n Git commit:\t{}\n Built:\t{}\n OS/Arch:\t{}/{}\n Context:\t{}\n",
                      Str(client, "GitCommit"), Str(client, "BuildTime"), Str(client, "Os"),
                      Str(client, "Arch"), Str(client, "Context")));
  if (server.is_object()) {
    std::string platform = server.contains("Platform") ? Str(server["Platform"], "Name") : "";
    w.Write(platform.empty() ? "\nServer:\n" : fmt::format("\nServer: {}\n", platform));
    json components = server.value("Components", json::array());
    if (components.empty()) {
      // A daemon that reports no components: the top-level fields describe the engine.
      components = json::array(
          {json{{"Name", "Engine"}, {"Version", Str(server, "Version")}, {"Details", server}}});
    }
    for (const json& c : components) {
      std::string name = Str(c, "Name");
      const json details = c.value("Details", json::object());
      w.Write(fmt::format(" {}:\n", name));
      if (name == "Engine") {
        w.Write(fmt::format("  Version:\t{}\n", Str(c, "Version")));
        w.Write(fmt::format("  API version:\t{} (minimum version {})\n", Str(details, "ApiVersion"),
                            Str(details, "MinAPIVersion")));
        if (!Str(details, "GoVersion").empty()) {
          w.Write(fmt::format("  Go version:\t{}\n", Str(details, "GoVersion")));
        }
        w.Write(
            fmt::format("  Git commit:\t{}\n  Built:\t{}\n  OS/Arch:\t{}/{}\n"
                        "  Experimental:\t{}\n",
                        Str(details, "GitCommit"), Str(details, "BuildTime"), Str(details, "Os"),
                        Str(details, "Arch"), Str(details, "Experimental")));
      } else {
        w.Write(fmt::format("  Version:\t{}\n", Str(c, "Version")));
        for (auto it = details.begin(); it != details.end(); ++it) {
          w.Write(fmt::format("  {}:\t{}\n", it.key(), Str(details, it.key().c_str())));
        }
      }
    }
  }
  return w.Flush();
}

Status RunVersion(Context& ctx, const VersionOptions& opts) {
  BERTH_RETURN_IF_ERROR(NoArgs(kVersionInfo, opts.args));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  Result<std::string> negotiated = api->Version();
  json server = nullptr;
  Status server_status = Ok();
  if (negotiated.ok()) {
    Result<json> got = api->GetJson("/version");
    if (got.ok()) {
      server = std::move(got).value();
    } else {
      server_status = std::move(got).error();
    }
  } else {
    server_status = std::move(negotiated).error();
  }
  json client = ClientVersion(negotiated.ok() ? *negotiated : std::string(kMaxApiVersion));
  if (!opts.format.empty()) {
    json data = {{"Client", client}, {"Server", server}};
    BERTH_ASSIGN_OR_RETURN(std::string out, format::RenderOne(opts.format, data, false));
    BERTH_RETURN_IF_ERROR(ctx.Out(out + "\n"));
  } else {
    BERTH_RETURN_IF_ERROR(ctx.Out(RenderVersion(client, server)));
  }
  return server_status;
}

// ---------------------------------------------------------------------------------------------
// info

struct InfoOptions {
  std::string format;
  std::vector<std::string> args;
};

const CommandInfo kInfoInfo{"berth info", "berth info [OPTIONS]",
                            "Display system-wide information"};

std::string RenderInfo(const json& client, const json& info) {
  std::string out;
  auto line = [&out](std::string_view text) {
    out += text;
    out += '\n';
  };
  auto field = [&](std::string_view label, const char* key, int indent = 1) {
    std::string v = Str(info, key);
    if (!v.empty())
      line(fmt::format("{}{}: {}", std::string(static_cast<size_t>(indent), ' '), label, v));
  };
  line("Client:");
  line(fmt::format(" Version:    {}", Str(client, "Version")));
  line(fmt::format(" Context:    {}", Str(client, "Context")));
  line(fmt::format(" Debug Mode: {}", Str(client, "Debug")));
  line("");
  line("Server:");
  field("Containers", "Containers");
  field("Running", "ContainersRunning", 2);
  field("Paused", "ContainersPaused", 2);
  field("Stopped", "ContainersStopped", 2);
  field("Images", "Images");
  field("Server Version", "ServerVersion");
  field("Storage Driver", "Driver");
  for (const json& pair : info.value("DriverStatus", json::array())) {
    if (pair.is_array() && pair.size() == 2) {
      line(fmt::format("  {}: {}", format::GoString(pair[0]), format::GoString(pair[1])));
    }
  }
  field("Logging Driver", "LoggingDriver");
  field("Cgroup Driver", "CgroupDriver");
  field("Cgroup Version", "CgroupVersion");
  if (info.contains("Runtimes") && info["Runtimes"].is_object()) {
    std::vector<std::string> names;
    for (auto it = info["Runtimes"].begin(); it != info["Runtimes"].end(); ++it) {
      names.push_back(it.key());
    }
    line(" Runtimes: " + Join(names, " "));
  }
  field("Default Runtime", "DefaultRuntime");
  if (info.contains("SecurityOptions") && info["SecurityOptions"].is_array() &&
      !info["SecurityOptions"].empty()) {
    line(" Security Options:");
    for (const json& opt : info["SecurityOptions"]) {
      // "name=seccomp,profile=builtin" -> "  seccomp" + "   Profile: builtin"
      std::string name;
      std::vector<std::string> extra;
      for (const std::string& kv : Split(format::GoString(opt), ',')) {
        std::vector<std::string> parts = SplitN(kv, '=', 2);
        if (parts.size() != 2) continue;
        if (parts[0] == "name") {
          name = parts[1];
        } else {
          std::string key = parts[0];
          if (!key.empty())
            key[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[0])));
          extra.push_back(fmt::format("   {}: {}", key, parts[1]));
        }
      }
      line("  " + name);
      for (const std::string& e : extra) line(e);
    }
  }
  field("Kernel Version", "KernelVersion");
  field("Operating System", "OperatingSystem");
  field("OSType", "OSType");
  field("Architecture", "Architecture");
  field("CPUs", "NCPU");
  if (info.contains("MemTotal") && info["MemTotal"].is_number()) {
    line(" Total Memory: " + BytesSize(info["MemTotal"].get<double>()));
  }
  field("Name", "Name");
  field("ID", "ID");
  field("Berth Root Dir", "DockerRootDir");
  field("Debug Mode", "Debug");
  field("HTTP Proxy", "HttpProxy");
  field("HTTPS Proxy", "HttpsProxy");
  field("No Proxy", "NoProxy");
  field("Experimental", "ExperimentalBuild");
  if (info.contains("RegistryConfig") && info["RegistryConfig"].is_object()) {
    const json& reg = info["RegistryConfig"];
    std::vector<std::string> insecure;
    for (const json& cidr : reg.value("InsecureRegistryCIDRs", json::array())) {
      insecure.push_back(format::GoString(cidr));
    }
    const json indexes = reg.value("IndexConfigs", json::object());
    for (const auto& [name, index] : indexes.items()) {
      if (index.is_object() && index.value("Secure", true) == false) insecure.push_back(name);
    }
    if (!insecure.empty()) {
      line(" Insecure Registries:");
      for (const std::string& r : insecure) line("  " + r);
    }
    json mirrors = reg.value("Mirrors", json::array());
    if (mirrors.is_array() && !mirrors.empty()) {
      line(" Registry Mirrors:");
      for (const json& m : mirrors) line("  " + format::GoString(m));
    }
  }
  field("Live Restore Enabled", "LiveRestoreEnabled");
  return out;
}

Status RunInfo(Context& ctx, const InfoOptions& opts) {
  BERTH_RETURN_IF_ERROR(NoArgs(kInfoInfo, opts.args));
  json client = {{"Version", std::string(internal::kVersion)},
                 {"Context", "default"},
                 {"Debug", ctx.globals().debug}};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  Result<json> info = api->GetJson("/info");
  if (!opts.format.empty()) {
    if (!info.ok()) return std::move(info).error();
    json data = *info;
    data["ClientInfo"] = client;
    BERTH_ASSIGN_OR_RETURN(std::string out, format::RenderOne(opts.format, data, false));
    return ctx.Out(out + "\n");
  }
  if (!info.ok()) {
    // Like docker: the client section, then the server error.
    json empty = json::object();
    std::string text = RenderInfo(client, empty);
    BERTH_RETURN_IF_ERROR(ctx.Out(text.substr(0, text.find("\nServer:") + 1)));
    return std::move(info).error();
  }
  BERTH_RETURN_IF_ERROR(ctx.Out(RenderInfo(client, *info)));
  for (const json& warning : info->value("Warnings", json::array())) {
    BERTH_RETURN_IF_ERROR(ctx.Err(format::GoString(warning) + "\n"));
  }
  return Ok();
}

}  // namespace

void AddSystemCommands(CLI::App& root, Action* selected) {
  auto version = std::make_shared<VersionOptions>();
  CLI::App* v = AddCommand(root, "version", kVersionInfo.description, selected,
                           [version](Context& ctx) { return RunVersion(ctx, *version); });
  v->add_option("-f,--format", version->format, "Format output using a custom template");
  v->add_option("args", version->args)->group("");  // only for "accepts no arguments"

  auto info = std::make_shared<InfoOptions>();
  CLI::App* i = AddCommand(root, "info", kInfoInfo.description, selected,
                           [info](Context& ctx) { return RunInfo(ctx, *info); });
  i->add_option("-f,--format", info->format, "Format output using a custom template");
  i->add_option("args", info->args)->group("");
}

}  // namespace berth::cli
