// YamlOrTomlConfig: the reader of berth-registry's --config FILE for CLI11. A YAML file whose
// top is a map gives its keys as the long flag names, a nested map being a subcommand's
// section (`serve:` then `listen: 127.0.0.1:5000` below it); anything else is read as TOML,
// CLI11's own config format (`[serve]` sections). Lists give repeated values.
#pragma once

#include <istream>
#include <vector>

#include <CLI/CLI.hpp>

namespace berth::cmd {

class YamlOrTomlConfig : public CLI::ConfigTOML {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
};

}  // namespace berth::cmd
