// Replays the recorded Janus exchanges of tests/vectors/janus/ (README there: format and
// placeholders) against the JanusSession machines: the recordings play Janus.
//
// Each recorded `send` of a connection, with the `receive`s that follow it up to the next send,
// is one answer. When the machine sends a request, the Player looks for the first unused
// recorded request of the same kind (janus verb; for messages the handle and body.request; for
// attach the plugin; for trickle and detach the handle), maps the recorded transaction to ours
// and feeds the recorded receives, with every transaction they name rewritten to ours. Ids
// (session, handle, feed) need no mapping: the machine adopts Janus's. Receives that come before
// an exchange's first send are events caused by other clients: deliver(exchange) feeds them.
// Requests the recordings have no counterpart for stay in Harness::sent for the test; keepalives
// and trickles without one get a plain ack.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "janus_harness.hpp"

namespace janus_replay {

using chorus::Json;

struct Step {
  bool send = false;
  Json message;  // a string for a send that was not JSON
};

struct Exchange {
  std::string name, connection, description;
  std::vector<Step> steps;
};

inline std::vector<Exchange> load(const std::string& file) {
  const std::string path = std::string(CHORUS_VECTORS_DIR) + "/janus/" + file + ".json";
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  auto doc = chorus::parse_json(text.str());
  REQUIRE(doc);
  REQUIRE(doc->is_array());
  std::vector<Exchange> all;
  for (const auto& x : *doc) {
    Exchange e;
    e.name = x.value("name", "");
    e.connection = x.value("connection", "");
    e.description = x.value("description", "");
    for (const auto& s : x["steps"]) {
      const bool send = s.contains("send");
      e.steps.push_back({send, send ? s["send"] : s["receive"]});
    }
    all.push_back(std::move(e));
  }
  return all;
}

inline const Exchange& find_exchange(const std::vector<Exchange>& all, const std::string& name,
                                const std::string& connection = "") {
  for (const auto& e : all) {
    if (e.name == name && (connection.empty() || e.connection == connection)) return e;
  }
  FAIL("no recorded exchange `" << name << "`");
  static Exchange none;
  return none;
}

class Player {
 public:
  Player(janus_test::Harness& h, const std::vector<Exchange>& all, const std::string& connection)
      : h_(h) {
    for (const auto& e : all) {
      if (e.connection != connection) continue;
      Unit* current = nullptr;
      for (const auto& s : e.steps) {
        if (s.send) {
          if (!s.message.is_object()) {  // malformed text: nothing of ours will match it
            current = nullptr;
            continue;
          }
          units_.push_back({e.name, s.message, {}, false});
          current = &units_.back();
        } else if (current != nullptr) {
          current->receives.push_back(s.message);
        } else {
          leading_[e.name].push_back(s.message);
        }
      }
    }
  }

  // Answers what the machines sent (and what the answers make them send) from the recordings.
  void answer() {
    h_.pump();  // what the machines queued since the last input
    for (bool progress = true; progress;) {
      progress = false;
      for (auto it = h_.sent.begin(); it != h_.sent.end(); ++it) {
        Unit* u = find(*it);
        const Json ours = *it;
        if (u == nullptr) {
          const std::string verb = ours.value("janus", "");
          if (verb != "keepalive" && verb != "trickle") continue;  // left for the test
          h_.sent.erase(it);
          h_.ack(ours);
          progress = true;
          break;
        }
        h_.sent.erase(it);
        u->used = true;
        tx_[u->send.value("transaction", "")] = ours.value("transaction", "");
        for (const auto& r : u->receives) feed(r);
        progress = true;
        break;  // `sent` changed under us
      }
    }
  }

  // The receives of `exchange` before its first send: events other clients caused.
  void deliver(const std::string& exchange) {
    auto it = leading_.find(exchange);
    INFO("no leading receives in `" << exchange << "`");
    REQUIRE(it != leading_.end());
    for (const auto& r : it->second) feed(r);
    answer();
  }

  // A recorded receive as the answer to one of our requests, from another recorded session:
  // its transaction, session and sender become ours.
  void answer_with(const Json& ours, Json recorded) {
    if (recorded.contains("transaction")) recorded["transaction"] = ours["transaction"];
    if (recorded.contains("session_id") && ours.contains("session_id")) recorded["session_id"] = ours["session_id"];
    if (recorded.contains("sender") && ours.contains("handle_id")) recorded["sender"] = ours["handle_id"];
    h_.frame(recorded);
  }

  // The candidates the recorded client trickled in an exchange (not `completed`).
  static std::vector<Json> candidates(const Exchange& e) {
    std::vector<Json> list;
    for (const auto& s : e.steps) {
      if (!s.send || s.message.value("janus", "") != "trickle") continue;
      const Json& c = s.message["candidate"];
      if (c.is_object() && c.contains("candidate")) list.push_back(c);
    }
    return list;
  }

  // Recorded requests no request of ours has used (for the test to judge).
  std::vector<std::string> unused(const std::string& exchange) const {
    std::vector<std::string> r;
    for (const auto& u : units_) {
      if (u.exchange == exchange && !u.used) r.push_back(u.send.dump().substr(0, 160));
    }
    return r;
  }

 private:
  struct Unit {
    std::string exchange;
    Json send;
    std::vector<Json> receives;
    bool used = false;
  };

  static std::string request_of(const Json& m) {
    const Json* body = chorus::find_field(m, "body");
    return body != nullptr ? chorus::get_string(*body, "request").value_or("") : "";
  }

  Unit* find(const Json& ours) {
    const std::string verb = ours.value("janus", "");
    for (auto& u : units_) {
      if (u.used || u.send.value("janus", "") != verb) continue;
      if (verb == "attach" && u.send["plugin"] != ours["plugin"]) continue;
      if ((verb == "message" || verb == "trickle" || verb == "detach") &&
          u.send["handle_id"] != ours["handle_id"]) {
        continue;
      }
      if (verb == "message" && request_of(u.send) != request_of(ours)) continue;
      return &u;
    }
    return nullptr;
  }

  void feed(Json r) {
    if (auto t = chorus::get_string(r, "transaction")) {
      auto it = tx_.find(*t);
      if (it != tx_.end()) r["transaction"] = it->second;
    }
    h_.frame(r);
  }

  janus_test::Harness& h_;
  std::deque<Unit> units_;  // stable addresses while building
  std::map<std::string, std::vector<Json>> leading_;
  std::map<std::string, std::string> tx_;  // recorded transaction -> ours
};

}  // namespace janus_replay
