#include "engine/internal/container_rows.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sql/database.h"

namespace berth::engine::internal {
namespace {

using Json = nlohmann::json;

Json MountsJson(const std::vector<MountPoint>& mounts) {
  Json out = Json::array();
  for (const MountPoint& m : mounts) {
    out.push_back({{"type", m.type},
                   {"name", m.name},
                   {"source", m.source},
                   {"destination", m.destination},
                   {"driver", m.driver},
                   {"mode", m.mode},
                   {"rw", m.rw},
                   {"propagation", m.propagation},
                   {"anonymous", m.anonymous}});
  }
  return out;
}

std::vector<MountPoint> MountsFrom(const Json& j) {
  std::vector<MountPoint> out;
  if (!j.is_array()) return out;
  for (const Json& e : j) {
    MountPoint m;
    m.type = e.value("type", std::string());
    m.name = e.value("name", std::string());
    m.source = e.value("source", std::string());
    m.destination = e.value("destination", std::string());
    m.driver = e.value("driver", std::string());
    m.mode = e.value("mode", std::string());
    m.rw = e.value("rw", true);
    m.propagation = e.value("propagation", std::string());
    m.anonymous = e.value("anonymous", false);
    out.push_back(std::move(m));
  }
  return out;
}

std::string Record(const Container& c) {
  const auto& s = c.state;
  Json j = {{"created", c.created},
            {"config", c.config_json},
            {"host_config", c.host_config_json},
            {"restart_count", c.restart_count},
            {"stopped_by_user", c.stopped_by_user},
            {"path", c.path},
            {"args", c.args},
            {"bundle", c.bundle},
            {"log_path", c.log_path},
            {"mounts", MountsJson(c.mounts)},
            {"state",
             {{"status", s.status},
              {"paused", s.paused},
              {"restarting", s.restarting},
              {"oom_killed", s.oom_killed},
              {"dead", s.dead},
              {"pid", s.pid},
              {"exit_code", s.exit_code},
              {"error", s.error},
              {"started_at", s.started_at},
              {"finished_at", s.finished_at}}}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Container> FromRow(const std::string& id, const std::string& name,
                          const std::string& image_id, const std::string& record) {
  Container c;
  c.id = id;
  c.name = name;
  auto digest = oci::Digest::Parse(image_id);
  if (!digest) return digest.error().WithContext(fmt::format("container {}", id));
  c.image_id = *digest;
  Json j = Json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return MakeError(Code::kDataLoss, fmt::format("container {}: corrupt record", id));
  }
  try {
    c.created = j.value("created", int64_t{0});
    c.config_json = j.value("config", std::string("{}"));
    c.host_config_json = j.value("host_config", std::string("{}"));
    c.restart_count = j.value("restart_count", 0);
    c.stopped_by_user = j.value("stopped_by_user", false);
    c.path = j.value("path", std::string());
    c.args = j.value("args", std::vector<std::string>{});
    c.bundle = j.value("bundle", std::string());
    c.log_path = j.value("log_path", std::string());
    if (auto it = j.find("mounts"); it != j.end()) c.mounts = MountsFrom(*it);
    const Json& s = j.at("state");
    c.state.status = s.value("status", std::string("created"));
    c.state.paused = s.value("paused", false);
    c.state.restarting = s.value("restarting", false);
    c.state.oom_killed = s.value("oom_killed", false);
    c.state.dead = s.value("dead", false);
    c.state.pid = s.value("pid", 0);
    c.state.exit_code = s.value("exit_code", 0);
    c.state.error = s.value("error", std::string());
    c.state.started_at = s.value("started_at", int64_t{0});
    c.state.finished_at = s.value("finished_at", int64_t{0});
  } catch (const Json::exception& e) {
    return MakeError(Code::kDataLoss, fmt::format("container {}: record: {}", id, e.what()));
  }
  BERTH_ASSIGN_OR_RETURN(c.config, ParseContainerConfig(c.config_json));
  BERTH_ASSIGN_OR_RETURN(c.host_config, ParseHostConfig(c.host_config_json));
  return c;
}

}  // namespace

Status CreateContainerTable(sql::Database& db) {
  return db.Exec(
      "CREATE TABLE IF NOT EXISTS containers("
      " id TEXT PRIMARY KEY,"
      " name TEXT NOT NULL UNIQUE,"
      " image_id TEXT NOT NULL,"
      " record TEXT NOT NULL)");
}

Status InsertContainer(sql::Database& db, const Container& c) {
  auto lock = db.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db.Prepare("INSERT INTO containers(id, name, image_id, record) "
                                             "VALUES(?, ?, ?, ?)"));
  st.Bind(1, c.id).Bind(2, c.name).Bind(3, c.image_id.ToString()).Bind(4, Record(c));
  return st.Run();
}

Status UpdateContainer(sql::Database& db, const Container& c) {
  auto lock = db.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db.Prepare("UPDATE containers SET name = ?, image_id = ?, record = ? "
                                    "WHERE id = ?"));
  st.Bind(1, c.name).Bind(2, c.image_id.ToString()).Bind(3, Record(c)).Bind(4, c.id);
  return st.Run();
}

Status DeleteContainer(sql::Database& db, const std::string& id) {
  auto lock = db.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db.Prepare("DELETE FROM containers WHERE id = ?"));
  st.Bind(1, id);
  return st.Run();
}

Result<std::vector<Container>> LoadContainers(sql::Database& db) {
  auto lock = db.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT id, name, image_id, record FROM containers"));
  std::vector<Container> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    BERTH_ASSIGN_OR_RETURN(
        Container c, FromRow(st.ColumnText(0), st.ColumnText(1), st.ColumnText(2),
                             st.ColumnText(3)));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace berth::engine::internal
