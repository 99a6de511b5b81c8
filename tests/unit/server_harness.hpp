// Drives one RoomServer with a fake clock and collects what it sends to each connection: the
// harness of the room machine's unit tests (room_server_test.cpp, floor_test.cpp).
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "signaling/room_server.hpp"

namespace test {

using chorus::ConnId;
using chorus::Json;
using chorus::RoomServer;
using chorus::ServerConfig;
using chorus::ServerOutput;

struct Harness {
  explicit Harness(ServerConfig config = {}) : server(config) {}

  void connect(ConnId c, const std::string& address = "", const std::string& origin = "") {
    server.handle_connect(c, now, address, origin);
  }
  void send(ConnId c, const Json& message) {
    const std::string text = message.dump();
    server.handle_message(c, text, false, text.size(), now);
  }
  void send_text(ConnId c, const std::string& text) {
    server.handle_message(c, text, false, text.size(), now);
  }
  // Drains outputs; returns the frames sent to `c` (parsed) and records closes.
  std::vector<Json> drain(ConnId c) {
    std::vector<Json> frames;
    while (auto o = server.poll()) {
      if (o->kind == ServerOutput::Kind::Close) {
        closed.push_back(*o);
      } else if (o->conn == c) {
        frames.push_back(Json::parse(o->data));
      } else {
        others[o->conn].push_back(Json::parse(o->data));
      }
    }
    return frames;
  }
  std::vector<Json> take(ConnId c) {
    drain(0);
    auto frames = std::move(others[c]);
    others[c].clear();
    return frames;
  }
  Json join(ConnId c, const std::string& room, const std::string& name, Json extra = Json::object()) {
    connect(c);
    Json m = {{"type", "join"}, {"v", 1}, {"room", room}, {"name", name}};
    m.update(extra);
    send(c, m);
    auto frames = take(c);
    REQUIRE(!frames.empty());
    // Frames after the answer (held while away) stay queued for take().
    others[c].assign(frames.begin() + 1, frames.end());
    return frames.front();
  }
  void advance(double ms) {
    now += ms;
    server.handle_timeout(now);
  }

  RoomServer server;
  double now = 1000;
  std::map<ConnId, std::vector<Json>> others;
  std::vector<ServerOutput> closed;
};

}  // namespace test
