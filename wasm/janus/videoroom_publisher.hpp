// The publishing side of a Janus VideoRoom (plugin janus.plugin.videoroom), one handle and one
// sendonly RTCPeerConnection: joins the room as a publisher (creating the room when Janus says
// 426 "no such room" and a room config is given), publishes the local tracks with simulcast
// (rids h/m/l), trickles candidates, and keeps the room's list of active publishers from
// `joined`, `publishers`, `unpublished` and `leaving`. Janus reference: janus_videoroom.c's
// header, "VideoRoom Publishers".
//
// Flow: attach -> join {ptype: publisher} [-> 426 -> create {room, ...config.create} -> join]
//   -> joined {id, private_id, publishers} -> (publish) janus-create-offer -> the glue's
//   local-description-set (offer) -> configure + jsep offer -> configured + jsep answer ->
//   janus-set-remote-description -> remote-description-set: published.
// publish() while published renegotiates the same way (tracks changed: janus-create-offer
// again, on the same pc); unpublish() closes the
// pc and sends unpublish; leave() sends unpublish (if publishing: so Janus updates the others'
// subscriptions) and leave, then detaches the handle.
//
// Handle states (janus-handle): attaching, joining, creating-room, joined, publishing,
// published, leaving, left, failed (fatal janus-error before it), lost, closed.
// Events (all with pc):
//   | janus-joined     | room, id (our feed id), privateId                                 |
//   | janus-publishers | room, publishers [{id, display, streams}] (the others, active;    |
//   |                  | Janus's stream objects: mid, type, codec, simulcast ...); after   |
//   |                  | every change, the whole list                                      |
//   | janus-error      | join/create refused (fatal), configure refused (not fatal: back   |
//   |                  | to joined), negotiation-failed from the glue (likewise)           |
// A hangup from Janus (ICE/DTLS failed) closes the pc and returns to `joined`; the owner may
// publish() again.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "janus/janus_session.hpp"

namespace chorus::janus {

struct PublisherConfig {
  std::string pc = "publisher";
  Json room = nullptr;          // Janus room id (required)
  std::string display;          // shown to the others (the client core puts the peer id here)
  // Room settings for `create` when the room does not exist (bitrate in bps: the stock 128 kbps
  // starves simulcast); null: never create, 426 is an error.
  Json create = {{"publishers", 100}, {"bitrate", 2000000}, {"fir_freq", 10}, {"videocodec", "vp8"}};
  bool audio = true;
  bool video = true;
  bool publish_on_join = true;  // publish as soon as joined (else call publish())
  // RTCRtpEncodingParameters for the video sender: simulcast h/m/l; empty: one encoding.
  Json encodings = Json::array({{{"rid", "h"}, {"maxBitrate", 1200000}},
                                {{"rid", "m"}, {"maxBitrate", 400000}, {"scaleResolutionDownBy", 2}},
                                {{"rid", "l"}, {"maxBitrate", 120000}, {"scaleResolutionDownBy", 4}}});
  std::optional<double> bitrate;   // publisher cap sent with configure (bps), else the room's
  std::optional<std::string> token;  // room ACL token
  Json ice_servers = Json::array();
};

class VideoRoomPublisher : public JanusHandle {
 public:
  explicit VideoRoomPublisher(PublisherConfig config);

  void publish(double now_ms);
  // What to publish from now on (the local tracks changed); publish() again sends it.
  void set_media(bool audio, bool video) {
    config_.audio = audio;
    config_.video = video;
  }
  void unpublish(double now_ms);
  void leave(double now_ms);

  const Json& room() const { return config_.room; }
  const Json& feed_id() const { return feed_id_; }
  const Json& private_id() const { return private_id_; }
  bool published() const { return phase_ == Phase::Published; }
  // The others' active publishers, as last reported.
  Json publishers_json() const;

 protected:
  void on_attached(double now_ms) override;
  void on_reply(const std::string& purpose, const Reply& reply, double now_ms) override;
  void on_event(const Json& data, const Json* jsep, double now_ms) override;
  void on_pc_input(const std::string& type, const Json& input, double now_ms) override;
  void on_hangup(const std::string& reason, double now_ms) override;
  void on_session_end() override;
  std::vector<Json> known_publishers(const Json& room) const override;
  Json private_id_in(const Json& room) const override;

 private:
  enum class Phase { None, Offering, Configuring, Answering, Published };

  void send_join(double now_ms);
  void start_offer(double now_ms);
  void stop_publishing(double now_ms, bool tell_janus);
  void on_joined(const Json& data, double now_ms);
  // Adds or replaces publishers; ignores ourselves, dummies and malformed entries. True (and
  // reported) when the list changed; followers hear of every announcement.
  bool add_publishers(const Json& list, double now_ms);
  void remove_publisher(const Json& id, bool left, double now_ms);
  void report_publishers();
  bool joined() const { return !feed_id_.is_null() && !leaving_; }

  PublisherConfig config_;
  Json feed_id_ = nullptr;
  Json private_id_ = nullptr;
  bool room_created_ = false;  // we created it once already: a second 426 is an error
  bool want_publish_ = false;
  bool leaving_ = false;
  bool renegotiate_ = false;   // publish() again while an exchange was under way
  Phase phase_ = Phase::None;
  std::map<std::string, Json> publishers_;  // id_key -> {id, display, streams}
};

}  // namespace chorus::janus
