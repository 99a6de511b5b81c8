// A deterministic simulated world for ClientSession tests: N clients, the real RoomServer,
// and a small model of RTCPeerConnection (signaling state machine, operations chain,
// negotiationneeded, candidates, connection state). Not a browser: the real browser is
// exercised by tests/e2e; this checks the core's decisions in every ordering we script.
#pragma once

#include <cstdlib>
#include <deque>
#include <iostream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "signaling/client_session.hpp"
#include "signaling/room_server.hpp"

namespace sim {

using chorus::Json;

struct FakePc {
  std::string signaling_state = "stable";
  std::string connection_state = "new";
  int local_version = 0;       // bumped by sync-senders with new tracks, and restartIce
  int negotiated_version = -1; // what the last completed exchange covered
  int offered_version = -1;
  bool needed_fired = false;
  bool has_remote = false;
  bool has_local = false;
  int remote_candidates = 0;
  int ice_generation = 0;
  int offers_made = 0;
  int descriptions = 0;
  int pending_ops = 0;   // the operations chain  // like the o= line's session version: every description differs
  bool closed = false;
  Json ice_servers;      // RTCConfiguration.iceServers: at creation, then set-ice-servers
};

struct Client {
  explicit Client(chorus::ClientConfig config) : session(config) {}
  chorus::ClientSession session;
  std::map<std::string, FakePc> pcs;
  int tracks = 1;  // local tracks the app has
  bool offline = false;  // its network is down: sockets cannot open
  bool socket_open = false;
  chorus::ConnId conn = 0;
  std::vector<Json> events;
  std::string name;

  bool has_event(const std::string& type) const {
    for (auto& e : events) if (e["event"] == type) return true;
    return false;
  }
};

class World {
 public:
  explicit World(chorus::ServerConfig server_config = {})
      : server_config_(server_config), server_(std::make_unique<chorus::RoomServer>(server_config)) {}

  double now = 0;
  bool server_up = true;

  Client& add_client(const std::string& name, std::uint64_t seed) {
    chorus::ClientConfig config;
    config.seed = seed;
    clients_.push_back(std::make_unique<Client>(config));
    clients_.back()->name = name;
    return *clients_.back();
  }

  void join(Client& c, const std::string& room) {
    input(c, {{"type", "join"}, {"room", room}, {"name", c.name}});
  }

  void input(Client& c, Json in) {
    c.session.handle(in, now);
    pump();
  }

  // Runs queued tasks (socket deliveries, pc operations, events) until nothing is left.
  void run(int max_steps = 100000) {
    for (int i = 0; i < max_steps; ++i) {
      pump();
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
  }

  // Advances the fake clock in steps, firing timers, running tasks in between.
  void advance(double ms, double step = 50) {
    const double end = now + ms;
    while (now < end) {
      now = std::min(end, now + step);
      for (auto& c : clients_) c->session.handle_timeout(now);
      if (server_up) server_->handle_timeout(now);
      run();
    }
  }

  void kill_server() {
    server_up = false;
    for (auto& c : clients_) {
      if (c->socket_open) {
        c->socket_open = false;
        Client* cp = c.get();
        later([this, cp] { cp->session.handle({{"type", "socket-closed"}, {"code", 1006}}, now); });
      }
    }
    run();
  }
  // The client's network drops: the server sees an abnormal close, the client its socket die.
  void drop_network(Client& c) {
    c.offline = true;
    if (!c.socket_open) return;
    c.socket_open = false;
    if (server_up) server_->handle_close(c.conn, 1006, now);
    later([this, &c] { c.session.handle({{"type", "socket-closed"}, {"code", 1006}}, now); });
    run();
  }

  void restart_server() {
    server_ = std::make_unique<chorus::RoomServer>(server_config_);
    server_up = true;
  }

  chorus::RoomServer& server() { return *server_; }

 private:
  void later(std::function<void()> f) { tasks_.push_back(std::move(f)); }

  void pump() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto& c : clients_) {
        while (auto out = c->session.poll()) {
          progress = true;
          execute(*c, *out);
        }
      }
      if (server_up) {
        while (auto out = server_->poll()) {
          progress = true;
          deliver(*out);
        }
      }
    }
  }

  void deliver(const chorus::ServerOutput& out) {
    Client* target = nullptr;
    for (auto& c : clients_) if (c->socket_open && c->conn == out.conn) target = c.get();
    if (target == nullptr) return;
    if (out.kind == chorus::ServerOutput::Kind::Close) {
      target->socket_open = false;
      later([this, target, code = out.code] {
        target->session.handle({{"type", "socket-closed"}, {"code", code}}, now);
      });
      return;
    }
    later([this, target, data = out.data] { target->session.handle_socket_message(data, now); });
  }

  void report(Client& c, Json in) {
    later([this, &c, in = std::move(in)] { c.session.handle(in, now); });
  }

  void maybe_negotiation_needed(Client& c, const std::string& peer) {
    FakePc& pc = c.pcs[peer];
    if (pc.closed || pc.signaling_state != "stable" || pc.needed_fired) return;
    if (pc.local_version <= pc.negotiated_version) return;
    pc.needed_fired = true;
    later([this, &c, peer] {
      // Like Chrome: a stale event (no longer stable, or operations pending) is not
      // dispatched; the flag is re-evaluated when the chain empties.
      FakePc& pc = c.pcs[peer];
      if (pc.closed) return;
      if (pc.signaling_state != "stable" || pc.pending_ops > 0) {
        pc.needed_fired = false;
        return;
      }
      c.session.handle({{"type", "negotiationneeded"}, {"peer", peer}}, now);
    });
  }

  void set_signaling(Client& c, const std::string& peer, const std::string& state) {
    FakePc& pc = c.pcs[peer];
    if (pc.signaling_state == state) return;
    pc.signaling_state = state;
    c.session.handle({{"type", "signalingstatechange"}, {"peer", peer}, {"state", state}}, now);
  }

  void maybe_connect(Client& c, const std::string& peer) {
    FakePc& pc = c.pcs[peer];
    if (pc.has_local && pc.has_remote && pc.remote_candidates > 0 && pc.connection_state != "connected") {
      pc.connection_state = "connected";
      report(c, {{"type", "connectionstatechange"}, {"peer", peer}, {"state", "connected"}});
    }
  }

  static std::string sdp(const std::string& type, const std::string& from, int version, int ice, int n) {
    return type + " from " + from + " v" + std::to_string(version) + " ice" + std::to_string(ice) +
           " #" + std::to_string(n);
  }

  void execute(Client& c, const Json& out) {
    // SIM_TRACE=1 prints every output: the quickest way to read a failing scenario.
    if (std::getenv("SIM_TRACE")) std::cerr << c.name << " OUT " << out.dump().substr(0,150) << "\n";
    if (out.contains("event")) {
      c.events.push_back(out);
      return;
    }
    const std::string action = out["action"];
    if (action == "open-socket") {
      later([this, &c] {
        if (!server_up || c.offline) {
          c.session.handle({{"type", "socket-closed"}, {"code", 1006}}, now);
          return;
        }
        c.conn = ++next_conn_;
        c.socket_open = true;
        server_->handle_connect(c.conn, now);
        c.session.handle({{"type", "socket-open"}}, now);
      });
    } else if (action == "close-socket") {
      if (c.socket_open && server_up) {
        const int code = out["code"];
        later([this, conn = c.conn, code] { server_->handle_close(conn, code, now); });
      }
      c.socket_open = false;
    } else if (action == "send") {
      if (!c.socket_open || !server_up) return;
      const std::string data = out["data"];
      later([this, conn = c.conn, data] {
        if (server_up) server_->handle_message(conn, data, false, data.size(), now);
      });
    } else {
      run_pc_action(c, action, out);
    }
  }

  void run_pc_action(Client& c, const std::string& action, const Json& out) {
    const std::string peer = out["peer"];
    if (action == "create-peer-connection") {
      c.pcs[peer] = FakePc{};
      c.pcs[peer].local_version = 1;  // the default data channel
      c.pcs[peer].ice_servers = out.value("iceServers", Json::array());
      later([this, &c, peer] { maybe_negotiation_needed(c, peer); });
      return;
    }
    FakePc& pc = c.pcs[peer];
    if (action == "sync-senders") {
      if (pc.local_version < 1 + c.tracks) pc.local_version = 1 + c.tracks;
      later([this, &c, peer] { maybe_negotiation_needed(c, peer); });
    } else if (action == "set-ice-servers") {
      pc.ice_servers = out["iceServers"];
    } else if (action == "restart-ice") {
      ++pc.ice_generation;
      ++pc.local_version;
      later([this, &c, peer] { maybe_negotiation_needed(c, peer); });
    } else if (action == "close-peer-connection") {
      pc.closed = true;
    } else if (action == "set-local-description") {
      ++pc.pending_ops;
      later([this, &c, peer] {
        FakePc& pc = c.pcs[peer];
        --pc.pending_ops;
        if (pc.closed) return;
        std::string type;
        if (pc.signaling_state == "stable") {
          type = "offer";
          pc.offered_version = pc.local_version;
          ++pc.offers_made;
          set_signaling(c, peer, "have-local-offer");
        } else if (pc.signaling_state == "have-remote-offer") {
          type = "answer";
          pc.negotiated_version = pc.local_version;
          pc.needed_fired = false;
          set_signaling(c, peer, "stable");
        } else {
          c.session.handle({{"type", "operation-failed"}, {"peer", peer}, {"operation", "setLocalDescription"},
                            {"name", "InvalidStateError"}, {"message", "bad state"}}, now);
          return;
        }
        pc.has_local = true;
        c.session.handle({{"type", "local-description-set"}, {"peer", peer},
                          {"description", {{"type", type}, {"sdp", sdp(type, c.name, pc.local_version, pc.ice_generation, ++pc.descriptions)}}}},
                         now);
        // Trickle one host candidate, then the end.
        report(c, {{"type", "icecandidate"}, {"peer", peer},
                   {"candidate", {{"candidate", "candidate:" + c.name}, {"sdpMid", "0"}, {"sdpMLineIndex", 0}}}});
        report(c, {{"type", "icecandidate"}, {"peer", peer}, {"candidate", nullptr}});
        maybe_connect(c, peer);
        later([this, &c, peer] { maybe_negotiation_needed(c, peer); });
      });
    } else if (action == "set-remote-description") {
      const std::string type = out["description"]["type"];
      const std::string remote_sdp = out["description"]["sdp"];
      ++pc.pending_ops;
      later([this, &c, peer, type, remote_sdp] {
        FakePc& pc = c.pcs[peer];
        --pc.pending_ops;
        if (pc.closed) return;
        if (type == "offer") {
          if (pc.signaling_state == "have-local-offer") set_signaling(c, peer, "stable");  // rollback
          set_signaling(c, peer, "have-remote-offer");
        } else if (pc.signaling_state == "have-local-offer") {
          pc.negotiated_version = pc.offered_version;
          pc.needed_fired = false;
          set_signaling(c, peer, "stable");
        } else {
          c.session.handle({{"type", "operation-failed"}, {"peer", peer}, {"operation", "setRemoteDescription"},
                            {"name", "InvalidStateError"}, {"message", "no offer"}}, now);
          return;
        }
        pc.has_remote = true;
        c.session.handle({{"type", "remote-description-set"}, {"peer", peer}}, now);
        maybe_connect(c, peer);
        later([this, &c, peer] { maybe_negotiation_needed(c, peer); });
      });
    } else if (action == "add-ice-candidate") {
      later([this, &c, peer] {
        FakePc& pc = c.pcs[peer];
        if (pc.closed) return;
        if (!pc.has_remote) {
          ++rejected_candidates;
          c.session.handle({{"type", "operation-failed"}, {"peer", peer}, {"operation", "addIceCandidate"},
                            {"name", "InvalidStateError"}, {"message", "no remote description"}}, now);
          return;
        }
        ++pc.remote_candidates;
        maybe_connect(c, peer);
      });
    }
  }

  chorus::ServerConfig server_config_;
  std::unique_ptr<chorus::RoomServer> server_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::deque<std::function<void()>> tasks_;
  chorus::ConnId next_conn_ = 0;

 public:
  int rejected_candidates = 0;
};

}  // namespace sim
