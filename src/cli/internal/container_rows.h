// The rows of docker's container formatter (ps), built from GET /containers/json entries: ID,
// Image, Command (quoted, 20 wide unless --no-trunc), CreatedAt, RunningFor, Ports, State,
// Status, Size, Names, Labels, Mounts, LocalVolumes, Networks.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace berth::cli {

nlohmann::ordered_json ContainerRow(const nlohmann::ordered_json& container, bool trunc,
                                    int64_t now);

// docker's DisplayablePorts: "0.0.0.0:8080->80/tcp, 443/tcp", consecutive ports as ranges.
std::string DisplayablePorts(const nlohmann::ordered_json& ports);

// One row of docker's stats formatter from a GET /containers/{id}/stats?stream=0 reply
// (`requested`: the name asked for): Container, ID, Name, CPUPerc, MemUsage, MemPerc, NetIO,
// BlockIO, PIDs.
nlohmann::ordered_json StatsRow(const nlohmann::ordered_json& stats, const std::string& requested);

}  // namespace berth::cli
