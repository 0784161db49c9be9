#include "cmd/config_file.h"

#include <iterator>
#include <sstream>
#include <string>

#include <yaml-cpp/yaml.h>

namespace berth::cmd {
namespace {

// CLI11's shape for sections: "++" opens one, "--" closes it, items carry their parents.
void Walk(const YAML::Node& map, std::vector<std::string>& parents,
          std::vector<CLI::ConfigItem>& out) {
  for (const auto& entry : map) {
    std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (value.IsMap()) {
      parents.push_back(key);
      out.push_back({parents, "++", {}});
      Walk(value, parents, out);
      out.push_back({parents, "--", {}});
      parents.pop_back();
      continue;
    }
    CLI::ConfigItem item{parents, key, {}};
    if (value.IsSequence()) {
      for (const auto& v : value) item.inputs.push_back(v.as<std::string>());
    } else if (value.IsScalar()) {
      item.inputs.push_back(value.as<std::string>());
    }
    out.push_back(std::move(item));
  }
}

}  // namespace

std::vector<CLI::ConfigItem> YamlOrTomlConfig::from_config(std::istream& input) const {
  std::string text((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsMap()) {
      std::vector<CLI::ConfigItem> out;
      std::vector<std::string> parents;
      Walk(root, parents, out);
      return out;
    }
  } catch (const YAML::Exception&) {
    // Not YAML: TOML, below.
  }
  std::istringstream toml(text);
  return CLI::ConfigTOML::from_config(toml);
}

}  // namespace berth::cmd
