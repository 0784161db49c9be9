// Private to engine/: the small pure pieces of container creation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/image_config.h"

namespace berth::engine::internal {

// Docker's merge of the create request's Config with the image's (runconfig Merge): Env by
// key, Cmd/Entrypoint rules, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal,
// Healthcheck, OnBuild; Hostname defaults to the id's first 12 characters. Returns the merged
// Config as JSON text, keys in the request's order.
Result<std::string> MergeConfig(std::string_view request_config_json,
                                const oci::ContainerConfig& image, std::string_view id);

// `config_json` (a merged Config) with Hostname and Domainname replaced: what dockerd's
// initializeNetworking does to a container that joins another's network namespace.
Result<std::string> WithNames(std::string_view config_json, std::string_view hostname,
                              std::string_view domainname);

// /etc/hosts as Docker writes it for a container without a network address.
std::string HostsFile(std::string_view hostname, std::string_view domainname,
                      const std::vector<std::string>& extra_hosts);
// /etc/resolv.conf: the host's, without localhost nameservers (unreachable from a private
// netns), overridden by --dns/--dns-search/--dns-option.
std::string ResolvConf(std::string_view host_resolv, const std::vector<std::string>& dns,
                       const std::vector<std::string>& search,
                       const std::vector<std::string>& options, bool host_network);

// A random "adjective_name" as Docker's namesgenerator gives (its own word lists).
std::string RandomName(int attempt);
// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+
bool ValidName(std::string_view name);

// Docker's signal names ("SIGTERM", "TERM", "15", "SIGRTMIN+3") to a number; 0 if unknown.
int ParseSignal(std::string_view name);

}  // namespace berth::engine::internal
