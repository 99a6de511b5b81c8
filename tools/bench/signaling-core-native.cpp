// The room machine's cost per relayed signal, native: the same C++ (wasm/signaling/) as the
// server's wasm module, built with the host compiler. Driven by tools/bench/signaling-core.mjs
// --native, which compiles it; argument: the number of connections (rooms of 5).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "signaling/room_server.hpp"

using chorus::RoomServer;
using chorus::ServerConfig;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  RoomServer server{ServerConfig{}};
  server.set_wall_clock(1.8e12);
  std::vector<std::string> ids(n + 1);
  double now = 0;
  auto drain = [&] {
    int outputs = 0;
    while (auto out = server.poll()) {
      outputs++;
      if (out->data.find("\"welcome\"") != std::string::npos) {
        const auto p = out->data.find("\"peerId\":\"") + 10;
        ids[out->conn] = out->data.substr(p, out->data.find('"', p) - p);
      }
    }
    return outputs;
  };
  for (int c = 1; c <= n; c++) {
    server.handle_connect(c, now, "127.77." + std::to_string((c >> 8) & 255) + "." + std::to_string(c & 255), "");
    const std::string join = "{\"type\":\"join\",\"v\":1,\"room\":\"r" + std::to_string((c - 1) / 5) + "\",\"name\":\"n\"}";
    server.handle_message(c, join, false, join.size(), now);
    drain();
  }
  for (const char* phase : {"warm-up", "measured"}) {
    const int k = 200000;
    long outputs = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < k; i++) {
      const int c = 1 + static_cast<int>((i * 7919L) % n);
      const int base = ((c - 1) / 5) * 5 + 1;
      const std::string frame = "{\"type\":\"signal\",\"to\":\"" + ids[base + ((c - base + 1) % 5)] +
          "\",\"kind\":\"candidate\",\"candidate\":\"candidate:" + std::to_string(i) +
          " 1 udp 1686052607 203.0.113.5 20000 typ srflx raddr 192.168.1.20 rport 54321 generation 0 ufrag x7Qd "
          "network-id 1\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}";
      now += 0.2;
      server.handle_message(c, frame, false, frame.size(), now);
      outputs += drain();
    }
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / k;
    if (std::string(phase) == "measured") std::printf("%.2f %.3f\n", us, static_cast<double>(outputs) / k);
  }
}
