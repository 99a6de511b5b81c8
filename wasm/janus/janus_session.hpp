// A Janus session over one WebSocket (subprotocol `janus-protocol`), sans-IO: create, keepalive,
// transactions, plugin handles, destroy. The plugin machines (VideoRoomPublisher,
// VideoRoomSubscriber, AudioBridgeParticipant) are JanusHandles the session owns; it routes every
// Janus reply and event to the right one. Janus API: janus-gateway's src/mainpage.dox ("RESTful,
// WebSockets ... API") and the plugins' headers; checked against Janus 1.1.2 (Debian's).
//
// The owner (the client core, when a room's topology is `sfu` or `mcu-audio`) drives it like
// every machine of the core: handle*(…, now_ms), then poll() until empty, and handle_timeout()
// at next_timeout(). Outputs are JSON objects, actions for the glue and events for the owner.
//
// Owner calls (C++):
//   connect(now)                     -> janus-open-socket, then create once the socket is open
//   attach<T>(config, now)           a plugin machine (attached as soon as the session exists);
//                                    the pointer stays valid until remove(pc) or the session dies
//   close(now)                       destroy (Janus drops every handle) and close the socket
//   remove(pc, now)                  detach one handle and forget it
//
// Inputs (`handle`, JSON from the glue):
//   | type                    | fields                                   | from                   |
//   | janus-socket-open       |                                          | WebSocket `open`       |
//   | janus-socket-closed     | code                                     | `close` or no connect  |
//   | local-description-set   | pc, description {type, sdp}              | setLocalDescription()  |
//   | remote-description-set  | pc                                       | setRemoteDescription() |
//   | icecandidate            | pc, candidate (RTCIceCandidateInit|null) | pc `icecandidate`      |
//   | operation-failed        | pc, operation, name, message             | one of those rejected  |
//   | connectionstatechange   | pc, state                                | pc event (reported)    |
//   Text frames from the socket go to handle_socket_message(); `pc` names a handle's
//   RTCPeerConnection (its config's `pc`: "publisher", "subscriber", "audiobridge" ...).
//
// Actions (`poll`):
//   | action                          | fields                          | the glue does              |
//   | janus-open-socket               | protocol ("janus-protocol")     | new WebSocket(url,         |
//   |                                 |                                 | protocol)                  |
//   | janus-send                      | data (text)                     | ws.send(data)              |
//   | janus-close-socket              | code                            | ws.close(code); no `close` |
//   |                                 |                                 | event is expected back     |
//   | janus-create-peer-connection    | pc, iceServers, direction       | new RTCPeerConnection for  |
//   |                                 | (sendonly: publisher, recvonly: | that pc, wire its events   |
//   |                                 | subscriber, sendrecv: bridge)   | (once per connection)      |
//   | janus-create-offer              | pc, audio, video, encodings     | add the local tracks (video|
//   |                                 | (simulcast [{rid, ...}] or [])  | with sendEncodings), then  |
//   |                                 |                                 | setLocalDescription()      |
//   | janus-set-remote-description    | pc, description {type, sdp}     | setRemoteDescription()     |
//   | janus-set-local-description     | pc                              | setLocalDescription()      |
//   |                                 |                                 | (implicit answer)          |
//   | janus-add-ice-candidate         | pc, candidate (or null)         | pc.addIceCandidate()       |
//   | janus-close-peer-connection     | pc                              | pc.close(), forget it      |
//
// Events (`poll`), for the owner:
//   | event            | fields                                                            |
//   | janus-state      | state: connecting, ready, lost, closed; sessionId when ready      |
//   | janus-error      | code (janus-error, janus-timeout, janus-unreachable, bad-json,     |
//   |                  | bad-message, unknown-type, negotiation-failed), message, fatal,   |
//   |                  | optional pc, request, janusCode (Janus's or the plugin's code),   |
//   |                  | feed. fatal without pc: the session is gone (state lost); with a  |
//   |                  | pc: that handle stopped (state failed)                            |
//   | janus-handle     | pc, state (per machine, see its header)                          |
//   | janus-webrtcup   | pc                                                                |
//   | janus-media      | pc, mid, type, receiving                                          |
//   | janus-slowlink   | pc, mid, media, uplink, lost                                      |
//   | janus-hangup     | pc, reason: Janus closed that PeerConnection (not one we closed   |
//   |                  | ourselves); what follows is the machine's (see its header)        |
//   plus the machines' own events (janus-joined, janus-publishers, janus-streams ...).
//
// Transactions: every request carries a unique id; each is answered by `success`/`error`, or
// `ack` and an `event` with the same transaction (plugin requests; Janus may send the event
// first), or times out after `requestTimeoutMs`. A reply to a transaction that is already done
// (timed out, or an `ack` after its event) is dropped quietly; one to a transaction never sent is
// a `bad-message` error. A 458 "no such session" answer to any request loses the session.
// Keepalives go out when nothing was sent for `keepaliveIntervalMs` (keep it below Janus's
// session_timeout, 60 s by default). The session is lost (terminal: the owner makes a new one)
// when the socket closes, cannot open within `connectTimeoutMs`, `create` or a keepalive is not
// answered, or Janus sends `timeout` or 458.
// Bad frames (invalid JSON, wrong types, unknown transactions) give an error event and are
// dropped; nothing in a frame can crash the session or make it grow without bound.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error_code.hpp"
#include "common/json.hpp"
#include "common/random.hpp"

namespace chorus::janus {

struct SessionConfig {
  double request_timeout_ms = 10000;    // a request unanswered this long fails (janus-timeout)
  double keepalive_interval_ms = 25000; // nothing sent this long: keepalive (< session_timeout)
  double connect_timeout_ms = 10000;    // socket open + `create` answered within this
  std::uint64_t seed = 1;               // transaction ids
  std::size_t max_transactions = 256;   // in flight; more are not sent and time out at once
  std::optional<std::string> token;     // Janus `token` auth, added to every request
  std::optional<std::string> apisecret; // Janus `apisecret`, likewise

  // {requestTimeoutMs, keepaliveIntervalMs, connectTimeoutMs, seed, token, apisecret}
  static SessionConfig from_json(const Json& config);
};

// The outcome of one request made on a handle.
struct Reply {
  enum class Kind { Ok, Error, Timeout };
  Kind kind = Kind::Ok;
  Json data = Json::object();  // the plugin's answer (plugindata.data)
  std::optional<Json> jsep;    // an offer or answer that came with it
  int code = 0;                // Janus's error code (core 4xx or the plugin's error_code)
  std::string reason;
  bool ok() const { return kind == Kind::Ok; }
};

// A Janus room or feed id: an unsigned integer (or a string with the plugin's string_ids);
// its compact JSON text is used as a map key.
std::string id_key(const Json& id);
bool is_valid_id(const Json& id);
// A whole number given as a double (1234.0, from JavaScript or the signaling protocol) as the
// integer Janus expects; anything else unchanged.
Json normalize_id(const Json& id);

class JanusSession;

// What a VideoRoomPublisher learned about its room's publishers, for the other handles.
struct PublisherChange {
  std::vector<Json> announced;    // {id, display, streams}: active now (new, changed or again)
  std::vector<Json> unpublished;  // ids: Janus removes their streams from subscriptions itself
  std::vector<Json> left;         // ids that left while publishing: Janus does NOT update
                                  // subscriptions; subscribers must unsubscribe
};

// One plugin handle (and the RTCPeerConnection behind it). Subclasses are the plugin machines.
class JanusHandle {
 public:
  virtual ~JanusHandle() = default;
  JanusHandle(const JanusHandle&) = delete;
  JanusHandle& operator=(const JanusHandle&) = delete;

  const std::string& pc() const { return pc_; }
  const char* plugin() const { return plugin_; }
  bool attached() const { return handle_id_.has_value(); }
  const std::string& state() const { return state_; }

 protected:
  JanusHandle(std::string pc, const char* plugin, Json ice_servers);

  // ---- to the session ----
  // Attached, in a live session: requests can go.
  bool live() const;
  // A plugin message on this handle (`purpose` comes back with its Reply); false (nothing
  // sent) unless live().
  bool request(const char* purpose, Json body, double now_ms,
               std::optional<Json> jsep = std::nullopt);
  // A local candidate (null: gathering complete). Held until trickle_ready(): Janus wants the
  // offer or answer first.
  void local_candidate(const Json& candidate, double now_ms);
  void trickle_ready(double now_ms);
  void emit(Json output);  // `pc` is added
  void error(ErrorCode code, std::string message, bool fatal, Json extra = Json::object());
  void janus_error(const char* request, const Reply& reply, bool fatal,
                   Json extra = Json::object());
  void set_state(const char* state);
  void create_pc(const char* direction);  // once per connection
  void close_pc();                        // if there is one; resets candidate state
  bool pc_created() const { return pc_created_; }
  // Janus's description for our pc: pending remote candidates follow it.
  void set_remote_description(const Json& jsep);
  void detach(double now_ms);   // drop the Janus handle (state is the caller's)
  void reattach(double now_ms); // a fresh Janus handle for this machine
  // Tells the session's other handles about a room's publishers (VideoRoomPublisher).
  void publishers_changed(const Json& room, const PublisherChange& change, double now_ms);
  // What the session's other handles know of a room: its active publishers, our private_id.
  std::vector<Json> room_publishers(const Json& room) const;
  Json room_private_id(const Json& room) const;

  // ---- from the session ----
  virtual void on_added(double /*now_ms*/) {}  // now in the session, not attached yet
  virtual void on_attached(double now_ms) = 0;
  virtual void on_attach_failed(const Reply& reply, double now_ms);
  virtual void on_reply(const std::string& purpose, const Reply& reply, double now_ms) = 0;
  // A plugin event that answers none of our requests.
  virtual void on_event(const Json& data, const Json* jsep, double now_ms) = 0;
  virtual void on_pc_input(const std::string& type, const Json& input, double now_ms) = 0;
  virtual void on_webrtcup(double /*now_ms*/) {}
  virtual void on_hangup(const std::string& reason, double now_ms) = 0;
  // Janus dropped the handle without being asked to.
  virtual void on_detached(double now_ms);
  // The session ended (lost or closed): the pc is closed already, no request can go.
  virtual void on_session_end() {}
  // Another handle's view of a room's publishers (VideoRoomSubscriber follows it).
  virtual void on_room_publishers(const Json& /*room*/, const PublisherChange& /*change*/,
                                  double /*now_ms*/) {}
  // Active publishers ({id, display, streams}) this handle knows of in `room` (for a
  // subscriber attached later).
  virtual std::vector<Json> known_publishers(const Json& /*room*/) const { return {}; }
  virtual Json private_id_in(const Json& /*room*/) const { return nullptr; }
  virtual std::optional<double> next_timeout() const { return std::nullopt; }
  virtual void handle_timeout(double /*now_ms*/) {}

  Json ice_servers_;

 private:
  friend class JanusSession;
  std::string pc_;
  const char* plugin_;
  JanusSession* session_ = nullptr;
  std::optional<Json> handle_id_;
  bool attach_sent_ = false;
  bool detaching_ = false;  // asked for detach: its `detached` event is expected
  bool pc_created_ = false;
  bool trickle_ready_ = false;
  bool remote_set_ = false;
  std::deque<Json> local_candidates_;
  std::deque<Json> remote_candidates_;
  std::string state_;
};

class JanusSession {
 public:
  enum class State { Idle, Connecting, Creating, Ready, Lost, Closed };

  explicit JanusSession(SessionConfig config = {});
  ~JanusSession();
  JanusSession(const JanusSession&) = delete;
  JanusSession& operator=(const JanusSession&) = delete;

  void connect(double now_ms);
  void close(double now_ms);

  // A plugin machine, attached once the session exists (at once if it does). nullptr (and an
  // error event) when its pc name is taken or the session is over.
  template <typename T, typename Config>
  T* attach(Config config, double now_ms) {
    auto machine = std::make_unique<T>(std::move(config));
    T* raw = machine.get();
    return add(std::move(machine), now_ms) ? raw : nullptr;
  }
  JanusHandle* find(const std::string& pc) const;
  // Closes its pc, detaches it and destroys the machine (pointers to it become invalid).
  void remove(const std::string& pc, double now_ms);

  void handle(const Json& input, double now_ms);
  void handle_text(std::string_view input, double now_ms);
  void handle_socket_message(std::string_view text, double now_ms);
  void handle_timeout(double now_ms);

  std::optional<Json> poll();
  std::optional<double> next_timeout() const;

  State state() const { return state_; }
  const Json& session_id() const { return session_id_; }
  std::size_t transactions_in_flight() const { return transactions_.size(); }

 private:
  friend class JanusHandle;

  struct Transaction {
    std::string verb;     // create, attach, message, trickle, keepalive, detach, destroy
    std::string pc;       // the handle it is for ('' for session requests)
    std::string purpose;  // the machine's name for a plugin message
    double deadline = 0;
    Json handle_id;       // the Janus handle it went to: a reply for a replaced one is dropped
  };

  bool add(std::unique_ptr<JanusHandle> handle, double now_ms);
  void on_socket_open(double now_ms);
  void on_socket_closed(double now_ms);
  void on_frame(const Json& message, double now_ms);
  void on_transaction_reply(const std::string& kind, const Json& message, double now_ms);
  void complete(const std::string& id, Transaction t, Reply reply, double now_ms);
  void on_handle_message(const std::string& kind, JanusHandle& h, const Json& message,
                         double now_ms);
  void send_attach(JanusHandle& h, double now_ms);
  // Sends a request; `extra` holds its fields besides janus/transaction/session_id.
  std::string send(const char* verb, Json extra, double now_ms, const std::string& pc = "",
                   const std::string& purpose = "");
  void send_raw(Json message, double now_ms);
  void lose(ErrorCode code, std::string message);
  void end_handles(const char* state);
  std::vector<Json> room_publishers(const JanusHandle& asking, const Json& room) const;
  Json room_private_id(const JanusHandle& asking, const Json& room) const;
  void session_error(ErrorCode code, std::string message, bool fatal);
  void set_state(State s);
  JanusHandle* by_sender(const Json& message);
  void remember_done(const std::string& id);

  SessionConfig config_;
  Random random_;
  std::string tx_prefix_;
  std::uint64_t next_tx_ = 1;
  State state_ = State::Idle;
  bool socket_open_ = false;
  bool socket_opening_ = false;
  std::optional<double> connect_deadline_;
  Json session_id_;
  double last_sent_ = 0;
  std::map<std::string, Transaction> transactions_;
  std::deque<std::string> done_;  // recently answered or timed-out transaction ids (bounded)
  std::vector<std::unique_ptr<JanusHandle>> handles_;
  std::deque<Json> out_;
};

}  // namespace chorus::janus
