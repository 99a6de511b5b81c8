// The receiving side of a Janus VideoRoom: ONE multistream subscription (one handle, one
// recvonly RTCPeerConnection) to every feed wanted, updated as publishers come and go. Janus
// offers, we answer. Janus reference: janus_videoroom.c's header, "VideoRoom Subscribers".
//
// Flow: attach -> (first feed wanted) join {ptype: subscriber, streams: [{feed}]} -> attached
//   {streams} + jsep offer -> janus-streams, janus-set-remote-description -> the glue's
//   remote-description-set -> janus-set-local-description -> local-description-set (answer)
//   -> start + jsep answer -> started. Later changes: subscribe [{feed} | {feed, mid}] /
//   unsubscribe [{feed}] (update {subscribe, unsubscribe} when both), one at a time and only
//   between negotiations (the rest waits, queued as a diff between the feeds wanted and the
//   feeds subscribed); each answered by `updated` + a new offer (answered the same way), or by
//   `updating` (Janus sends the offer later, as an unsolicited `updated`). Janus's own
//   `updated` offers (a publisher left: autoupdate) are answered likewise.
//
// Feeds: with `follow` (default) the subscriber wants every publisher a VideoRoomPublisher of
// the same session reports in the same room (not our own feed); without it the owner calls
// want()/drop() (e.g. per peer, mapping the publishers' `display` to peers), and what the
// publisher handle learns still applies: unpublished and left feeds go, announcements refresh
// the streams of wanted feeds and retry refused ones. A publisher that unpublishes is dropped without an unsubscribe (Janus removes its
// streams and re-offers: autoupdate); one that leaves while publishing is unsubscribed (Janus
// does not update subscriptions then). Unsubscribes name the subscription's mids (sub_mid), which
// works also for a publisher already gone from the room. A re-announced publisher with new
// streams (a screen share added) gets them subscribed by mid.
// 428 "no such feed" (the publisher is not up, or went away meanwhile) fails the whole
// request at Janus: that feed waits until it is announced again, the others are retried at
// once, and the error is reported once per feed (janus-error, janusCode 428, feed).
//
// Simulcast: set_substream(mid, 0..2) (2 = h, the highest) sends configure {streams: [{mid,
// substream}]}; Janus confirms with an event once the layer really switched: janus-substream.
// `substream` in the config is the initial target for every new video stream (e.g. 0 for
// thumbnails).
//
// Handle states (janus-handle): attaching, idle (attached, nothing subscribed), joining,
// active, leaving, left, failed, lost, closed.
// Events (with pc):
//   | janus-streams   | room, streams [{mid, type, active, feed, feedMid, display}]: the
//   |                 | subscription's m-lines, emitted before every offer is applied, so the
//   |                 | owner can name the peer of each track (RTCRtpTransceiver.mid -> feed) |
//   | janus-substream | mid, feed, substream: the layer Janus now sends on that mid           |
// A Janus hangup, or a failed negotiation, restarts the subscription on a fresh handle (at
// most 3 times before a webrtcup; then fatal janus-error, state failed); so does an offer Janus
// promised (`updating`) that does not come within offer_timeout_ms. restart() does that
// on demand, restart_ice() asks Janus for an ICE-restart offer.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "janus/janus_session.hpp"

namespace chorus::janus {

struct SubscriberConfig {
  std::string pc = "subscriber";
  Json room = nullptr;          // Janus room id (required)
  bool follow = true;           // subscribe to what the session's publishers report
  std::optional<int> substream; // initial simulcast target of new video streams (0..2)
  Json private_id = nullptr;    // our publisher's private_id (taken from it when null)
  int max_restarts = 3;         // automatic restarts before a webrtcup
  double offer_timeout_ms = 10000;  // Janus said `updating`: its offer must come within this
  Json ice_servers = Json::array();
};

class VideoRoomSubscriber : public JanusHandle {
 public:
  explicit VideoRoomSubscriber(SubscriberConfig config);

  // `publisher`: {id, streams?} or just the id.
  void want(const Json& publisher, double now_ms);
  void drop(const Json& feed_id, double now_ms);
  // The publisher unpublished or left: forget it without asking Janus.
  void feed_gone(const Json& feed_id, double now_ms);
  void set_substream(const std::string& mid, int substream, double now_ms);
  // Every video mid of one feed.
  void set_feed_substream(const Json& feed_id, int substream, double now_ms);
  void restart_ice(double now_ms);
  void restart(double now_ms);
  void leave(double now_ms);

  const Json& room() const { return config_.room; }
  // The feed behind a mid of the subscription (null if none).
  Json feed_for_mid(const std::string& mid) const;
  Json streams_json() const;
  std::size_t subscribed_feeds() const { return subscribed_.size(); }
  bool negotiating() const { return phase_ != Phase::None; }

 protected:
  void on_added(double now_ms) override;
  void on_attached(double now_ms) override;
  void on_reply(const std::string& purpose, const Reply& reply, double now_ms) override;
  void on_event(const Json& data, const Json* jsep, double now_ms) override;
  void on_pc_input(const std::string& type, const Json& input, double now_ms) override;
  void on_webrtcup(double now_ms) override;
  void on_hangup(const std::string& reason, double now_ms) override;
  void on_session_end() override;
  void on_room_publishers(const Json& room, const PublisherChange& change, double now_ms) override;
  std::optional<double> next_timeout() const override;
  void handle_timeout(double now_ms) override;

 private:
  enum class Phase { None, ApplyingOffer, Answering, Starting };
  struct Stream {
    std::string mid, type, feed_mid, display;
    Json feed = nullptr;
    bool active = false;
  };
  struct Offer {
    Json streams;
    Json jsep;
  };
  // One request's feeds: entries sent, and the feeds (keys) they add / remove.
  struct Update {
    std::vector<std::string> add_keys;
    std::vector<std::pair<std::string, std::string>> add_mids;  // {key, mid} asked by mid
    std::vector<std::string> remove_keys;
  };

  void pump(double now_ms);
  bool add_wanted(const Json& publisher);
  void forget(const Json& feed_id);
  Json stream_entry(const Json& feed, const std::string* mid) const;
  void apply_offer(const Json& streams, const Json& jsep, double now_ms);
  void update_streams(const Json& streams);
  void commit(const Update& u);
  void failed_adds(const Update& u, const Reply& reply, const char* request);
  void recover(const std::string& why, double now_ms);
  bool usable() const;

  SubscriberConfig config_;
  std::map<std::string, Json> wanted_;       // key -> {id, streams}
  std::map<std::string, Json> subscribed_;   // feeds in the subscription: key -> id
  std::map<std::string, std::set<std::string>> requested_mids_;  // feed mids asked for
  std::set<std::string> waiting_;            // refused (428 ...): until announced again
  std::set<std::string> reported_;           // 428 reported once per feed
  std::optional<Update> in_flight_;          // a join/subscribe/unsubscribe/update request
  bool joined_ = false;                      // the subscription exists at Janus
  bool awaiting_offer_ = false;              // Janus said `updating`: its offer will come
  double offer_deadline_ = 0;                // ... by then, or we restart
  bool leaving_ = false;
  Phase phase_ = Phase::None;
  std::optional<Offer> pending_offer_;       // came while another was being answered
  std::vector<Stream> streams_;
  int restarts_ = 0;
};

}  // namespace chorus::janus
