// One participant of a Janus AudioBridge room (plugin janus.plugin.audiobridge): Janus mixes
// everyone's audio and sends each participant the mix of the others, over one sendrecv
// audio-only RTCPeerConnection. Janus reference: janus_audiobridge.c's header.
//
// Flow: attach -> join {room, display, muted} [-> 485 "no such room" -> create {room,
//   ...config.create} -> join] -> joined {id, participants} -> janus-create-offer (audio only)
//   -> local-description-set (offer) -> configure {muted} + jsep offer -> event {result: ok} +
//   jsep answer -> janus-set-remote-description -> remote-description-set: connected.
// mute(bool) sends configure {muted} (once connected; the latest wish wins, one at a time) and
// is confirmed by janus-muted. leave() sends leave, then detaches.
//
// Handle states (janus-handle): attaching, joining, creating-room, joined, connecting,
// connected, leaving, left, failed, lost, closed.
// Events (with pc):
//   | janus-joined       | room, id (ours)                                                 |
//   | janus-participants | room, participants [{id, display, muted, setup, talking}]: the   |
//   |                    | others, after every change (joined, left, mute, talking)        |
//   | janus-muted        | muted: Janus confirmed our mute state                           |
// A Janus hangup takes us out of the mix (Janus removes the participant): the pc is closed and
// the state goes to `left`; the owner may rejoin() (a fresh handle, the same flow).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "janus/janus_session.hpp"

namespace chorus::janus {

struct AudioBridgeConfig {
  std::string pc = "audiobridge";
  Json room = nullptr;       // Janus room id (required)
  std::string display;
  bool muted = false;        // join muted
  // Room settings for `create` when the room does not exist; null: never create.
  Json create = {{"sampling_rate", 48000}, {"audiolevel_event", true}};
  std::optional<std::string> token;  // room ACL token
  Json ice_servers = Json::array();
};

class AudioBridgeParticipant : public JanusHandle {
 public:
  explicit AudioBridgeParticipant(AudioBridgeConfig config);

  void mute(bool muted, double now_ms);
  void leave(double now_ms);
  // After a hangup or leave: join again on a fresh handle.
  void rejoin(double now_ms);

  const Json& room() const { return config_.room; }
  const Json& participant_id() const { return id_; }
  bool muted() const { return muted_confirmed_; }
  Json participants_json() const;

 protected:
  void on_attached(double now_ms) override;
  void on_reply(const std::string& purpose, const Reply& reply, double now_ms) override;
  void on_event(const Json& data, const Json* jsep, double now_ms) override;
  void on_pc_input(const std::string& type, const Json& input, double now_ms) override;
  void on_hangup(const std::string& reason, double now_ms) override;
  void on_session_end() override;

 private:
  enum class Phase { None, Offering, Configuring, Answering, Connected };

  void send_join(double now_ms);
  void on_joined(const Json& data, double now_ms);
  void send_mute(double now_ms);
  // Adds or updates participants from a list; true when something changed.
  bool merge(const Json& list);
  void report();

  AudioBridgeConfig config_;
  Json id_ = nullptr;
  bool room_created_ = false;
  bool leaving_ = false;
  Phase phase_ = Phase::None;
  bool muted_wanted_;
  bool muted_confirmed_;
  bool mute_in_flight_ = false;
  bool mute_sent_ = false;      // the value the request in flight asks for
  std::map<std::string, Json> participants_;  // id_key -> {id, display, muted, setup, talking}
};

}  // namespace chorus::janus
