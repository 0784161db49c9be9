// The rows docker's formatter contexts expose, built from Engine API replies. Each row is a JSON
// object of strings keyed by the context's field names (what --format templates see).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::cli {

// One row per (repository, tag[, digest]) of an ImageSummary, as docker's imageFormat builds
// them: ID, Repository, Tag, Digest, CreatedSince, CreatedAt, Size, Containers, SharedSize,
// UniqueSize, VirtualSize. `show_digests` is --digests; `need_digest` is docker's needDigest
// (--digests, or a format that mentions {{.Digest}}): tags are then repeated per digest.
// `now` is the current time in Unix seconds.
std::vector<nlohmann::ordered_json> ImageRows(const nlohmann::ordered_json& image,
                                              bool show_digests, bool need_digest, bool no_trunc,
                                              int64_t now);

// One row of GET /images/{name}/history: ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment.
nlohmann::ordered_json HistoryRow(const nlohmann::ordered_json& layer, bool human, bool no_trunc,
                                  int64_t now);

}  // namespace berth::cli
