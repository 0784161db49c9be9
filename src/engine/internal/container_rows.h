// Private to engine/: containers as rows of meta.db.
//   containers(id TEXT PRIMARY KEY, name TEXT UNIQUE, image_id TEXT, record TEXT)
// `record` is one JSON object with everything else (config, host config, state, ...), so a
// state change is one UPDATE of one row: atomic, and a crash leaves the old or the new row.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/containers.h"

namespace berth::sql {
class Database;
}

namespace berth::engine::internal {

Status CreateContainerTable(sql::Database& db);
// INSERT; AlreadyExists if the name is taken (Docker's Conflict message is the caller's).
Status InsertContainer(sql::Database& db, const Container& c);
// UPDATE of name, image and record.
Status UpdateContainer(sql::Database& db, const Container& c);
Status DeleteContainer(sql::Database& db, const std::string& id);
// Every row; `config` and `host_config` parsed again from their JSON.
Result<std::vector<Container>> LoadContainers(sql::Database& db);

}  // namespace berth::engine::internal
