// Make-before-break media moves (topology/media_paths) between several clients wired together
// in a tiny world: mesh media flows when the sender sends it, server media when the sender
// publishes and the receiver subscribes. After every single step, what each client shows of
// each peer must have media flowing: no gap, in either direction, whatever the order.
#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "topology/media_paths.hpp"

using namespace chorus::topology;
using Kind = MediaPathAction::Kind;

namespace {

struct Client {
  MediaPaths paths;
  bool publishing = false;
  std::set<std::string> subscribed;
  std::set<std::string> mesh_paused;           // peers our mesh senders are paused for
  std::map<std::string, MediaPath> shown;      // from Show actions
  std::map<std::string, bool> flowing[2];      // what we last reported
  std::map<std::string, bool> listed;
};

struct World {
  std::map<std::string, Client> clients;
  std::vector<std::string> gaps;
  int steps = 0;

  void add(const std::string& name) {
    for (auto& [other, c] : clients) {
      c.paths.peer_added(name);
    }
    Client& me = clients[name];
    me.paths.set_target(clients.size() > 1 ? clients.begin()->second.paths.target() : MediaPath::Mesh);
    for (auto& [other, c] : clients) {
      if (other != name) me.paths.peer_added(other);
    }
  }

  bool flows(const std::string& from, const std::string& to, MediaPath path) {
    Client& f = clients[from];
    Client& t = clients[to];
    if (path == MediaPath::Mesh) return f.mesh_paused.count(to) == 0;
    return f.publishing && t.subscribed.count(from) != 0;
  }

  // Feeds every client what flows now; returns true when something changed.
  bool sense() {
    bool changed = false;
    for (auto& [to, t] : clients) {
      for (auto& [from, f] : clients) {
        if (from == to) continue;
        if (t.listed[from] != f.publishing) {
          t.listed[from] = f.publishing;
          t.paths.feed_listed(from, f.publishing);
          changed = true;
        }
        for (MediaPath path : {MediaPath::Mesh, MediaPath::Server}) {
          const bool now = flows(from, to, path);
          auto& was = t.flowing[path == MediaPath::Mesh ? 0 : 1][from];
          if (was != now) {
            was = now;
            t.paths.media_flowing(from, path, now);
            changed = true;
          }
        }
      }
    }
    return changed;
  }

  // Applies one action of one client; false when no client has one.
  bool step() {
    for (auto& [name, c] : clients) {
      auto a = c.paths.poll();
      if (!a) continue;
      switch (a->kind) {
        case Kind::TellPeer: clients[a->peer].paths.peer_says(name, a->path, a->on); break;
        case Kind::MeshSending:
          if (a->on) c.mesh_paused.erase(a->peer);
          else c.mesh_paused.insert(a->peer);
          break;
        case Kind::Publish: c.publishing = a->on; break;
        case Kind::Subscribe:
          if (a->on) c.subscribed.insert(a->peer);
          else c.subscribed.erase(a->peer);
          break;
        case Kind::Show: c.shown[a->peer] = a->path; break;
      }
      ++steps;
      check_no_gap();
      return true;
    }
    return false;
  }

  void check_no_gap() {
    for (auto& [to, t] : clients) {
      for (auto& [from, f] : clients) {
        if (from == to) continue;
        const MediaPath shown = t.shown.count(from) ? t.shown[from] : MediaPath::Mesh;
        if (!flows(from, to, shown)) {
          gaps.push_back(to + " shows " + from + (shown == MediaPath::Mesh ? " via mesh" : " via server") +
                         " with nothing flowing (step " + std::to_string(steps) + ")");
        }
      }
    }
  }

  void run() {
    for (int i = 0; i < 10000; ++i) {
      if (step()) continue;
      if (!sense()) return;
    }
    FAIL("no quiescence");
  }

  void target(MediaPath path, std::vector<std::string> order) {
    for (const auto& name : order) {
      clients[name].paths.set_target(path);
      // Interleave: each client's move runs a little before the next hears the topology.
      for (int i = 0; i < 3 && step(); ++i) {
      }
    }
    run();
  }
};

void check_all_on(World& w, MediaPath path) {
  for (auto& [name, c] : w.clients) {
    INFO(name);
    CHECK(c.publishing == (path == MediaPath::Server));
    for (auto& [other, o] : w.clients) {
      if (other == name) continue;
      INFO("peer " << other);
      CHECK((c.shown.count(other) ? c.shown[other] : MediaPath::Mesh) == path);
      CHECK((c.subscribed.count(other) != 0) == (path == MediaPath::Server));
      CHECK((c.mesh_paused.count(other) != 0) == (path == MediaPath::Server));
    }
  }
}

}  // namespace

TEST_CASE("mesh -> server -> mesh without a gap, whatever order the clients hear it in", "[topology][media-paths]") {
  World w;
  for (const char* n : {"a", "b", "c", "d"}) w.add(n);
  w.sense();
  w.run();
  check_all_on(w, MediaPath::Mesh);
  CHECK(w.gaps.empty());

  w.target(MediaPath::Server, {"c", "a", "d", "b"});
  CHECK(w.gaps.empty());
  for (const auto& g : w.gaps) UNSCOPED_INFO(g);
  check_all_on(w, MediaPath::Server);

  w.target(MediaPath::Mesh, {"b", "d", "a", "c"});
  CHECK(w.gaps.empty());
  for (const auto& g : w.gaps) UNSCOPED_INFO(g);
  check_all_on(w, MediaPath::Mesh);
}

TEST_CASE("a peer that joins while the room uses the server takes feeds, not mesh media", "[topology][media-paths]") {
  World w;
  for (const char* n : {"a", "b", "c"}) w.add(n);
  w.sense();
  w.run();
  w.target(MediaPath::Server, {"a", "b", "c"});
  w.add("e");
  while (w.step()) {
  }
  // The others pause their mesh media for the newcomer at once (it takes their feeds).
  for (const char* n : {"a", "b", "c"}) CHECK(w.clients[n].mesh_paused.count("e") == 1);
  w.sense();
  w.run();
  check_all_on(w, MediaPath::Server);
}

TEST_CASE("a feed that stops brings the peer's mesh media back", "[topology][media-paths]") {
  World w;
  for (const char* n : {"a", "b", "c"}) w.add(n);
  w.sense();
  w.run();
  w.target(MediaPath::Server, {"a", "b", "c"});
  REQUIRE(w.clients["a"].shown["b"] == MediaPath::Server);
  // b's feed stops reaching a (its subscription broke): a asks b for its mesh media again.
  w.clients["a"].paths.media_flowing("b", MediaPath::Server, false);
  w.clients["a"].flowing[1]["b"] = false;
  w.clients["a"].subscribed.erase("b");  // the world's server flow is gone for this pair
  std::vector<MediaPathAction> acts;
  while (auto act = w.clients["a"].paths.poll()) acts.push_back(*act);
  CHECK(std::find(acts.begin(), acts.end(), MediaPathAction{Kind::TellPeer, "b", MediaPath::Server, false}) != acts.end());
  w.clients["b"].paths.peer_says("a", MediaPath::Server, false);
  while (auto act = w.clients["b"].paths.poll()) {
    if (act->kind == Kind::MeshSending && act->peer == "a") CHECK(act->on);
  }
}

TEST_CASE("leaving peers and stray messages", "[topology][media-paths]") {
  MediaPaths m;
  m.peer_says("ghost", MediaPath::Server, true);  // unknown: ignored
  m.media_flowing("ghost", MediaPath::Server, true);
  CHECK_FALSE(m.poll().has_value());
  m.peer_added("x");
  m.set_target(MediaPath::Server);
  std::vector<MediaPathAction> acts;
  while (auto a = m.poll()) acts.push_back(*a);
  REQUIRE(!acts.empty());
  CHECK(acts.front() == MediaPathAction{Kind::Publish, "", MediaPath::Server, true});
  m.feed_listed("x", true);
  while (m.poll()) {
  }
  m.peer_removed("x");
  auto a = m.poll();
  REQUIRE(a.has_value());
  CHECK(*a == MediaPathAction{Kind::Subscribe, "x", MediaPath::Server, false});
  m.set_target(MediaPath::Mesh);
  a = m.poll();
  REQUIRE(a.has_value());
  CHECK(*a == MediaPathAction{Kind::Publish, "", MediaPath::Server, false});  // nobody left needs it
}
