// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "cppnode/cnode/failure.hpp"
#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/codec.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {

/// TLS distribution, as OTP's `-proto_dist inet_tls`: every connection, both ways, runs the
/// distribution handshake and all traffic inside TLS 1.2 or 1.3. The names are those of the
/// `ssl_dist_optfile` options they stand for; one set serves both directions.
struct TlsConfig {
  /// PEM certificate (chain) this node presents, as a server and as a client (`certfile`).
  std::string certfile;
  /// PEM private key of that certificate (`keyfile`). Its content is never logged.
  std::string keyfile;
  /// PEM bundle of the CAs a peer's certificate must chain to (`cacertfile`).
  std::string cacertfile;
  /// Whether peers' certificates are checked (`{verify, verify_peer}`); false takes any
  /// certificate (`verify_none`: encryption without authentication).
  bool verify_peer = true;
  /// Whether a connecting peer without a certificate is refused (`fail_if_no_peer_cert`).
  bool fail_if_no_peer_cert = true;
  /// Whether, connecting out, the server's certificate must name the host part of the node name
  /// we connect to (sent as `server_name_indication`), as OTP's client checks it.
  bool check_server_name = true;
};

/// How the node presents itself and what it tolerates.
struct NodeConfig {
  /// Full node name `alive@host`. Short names (`-sname`) have a host without dots.
  std::string node_name;
  /// The shared secret. Never logged.
  std::string cookie;
  /// TCP port to listen on; 0 picks a free one.
  std::uint16_t listen_port = 0;
  /// Address to listen on.
  std::string listen_address = "0.0.0.0";
  /// epmd port (`ERL_EPMD_PORT` or 4369).
  std::uint16_t epmd_port = 4369;
  /// Nodes to connect to at start and to keep connected (reconnecting with back-off).
  std::vector<std::string> connect;
  /// Threads running the node's io_context; 0 = one per core. One is fastest for servers whose
  /// callbacks are quick (no hand-offs between threads); more let slow callbacks run in parallel.
  unsigned threads = 1;
  /// A peer silent this long is down (Erlang's net_ticktime; a tick goes out every quarter).
  std::chrono::milliseconds net_ticktime{60'000};
  /// A peer that has not finished the handshake in this time is dropped.
  std::chrono::milliseconds handshake_timeout{5'000};
  /// Largest distribution packet accepted; a larger length field closes that connection.
  std::uint32_t max_packet_size = 64U << 20;
  /// A connection with this many bytes queued for the peer is busy (the BEAM's
  /// dist_buf_busy_limit, `erl +zdbbl`): a process that sends to it is suspended once its
  /// current callback returns, until the queue drains below the limit or the connection goes.
  std::size_t dist_buf_busy_limit = std::size_t{1} << 20;
  codec::DecodeOptions decode;
  /// Start `epmd -daemon` at `start()` when none answers on `epmd_port`, as `erl` does.
  bool start_epmd = false;
  /// Whether the node registers with epmd. Off (clusters without epmd, as in containers), no
  /// one can look the node up: peers reach it at a port they know (`erl_epmd_port`), and its
  /// creation is random, as a BEAM node's without epmd.
  bool register_with_epmd = true;
  /// OTP's `-erl_epmd_port N` convention for clusters without epmd: every node listens on port
  /// N, so other nodes are reached at N on their host without asking epmd, and this node
  /// listens on N unless `listen_port` says otherwise.
  std::optional<std::uint16_t> erl_epmd_port;
  /// Whether peers are offered DFLAG_DIST_MONITOR and DFLAG_DIST_MONITOR_NAME (monitors across
  /// connections). Off, a BEAM caller sends one packet per `GenServer.call` instead of three (it
  /// keeps the call's monitor to itself: no MONITOR_P, no DEMONITOR_P). The node still ends such
  /// a call at once when it cannot be answered: a server that exits with calls in progress sends
  /// each caller `{'DOWN', Mref, process, Server, Reason}` at the call's alias, and a call to a
  /// missing process or name gets `noproc` the same way, as the caller's monitor would have. What
  /// is lost: other monitors across connections only see the connection go down (a BEAM
  /// process's `Process.monitor` of a C++ process, a C++ process's monitor of a BEAM one, and so a
  /// C++ call to a BEAM server that dies waits for its timeout).
  bool remote_monitors = true;
  /// Whether the threads that run the event loop switch to Linux's SCHED_BATCH policy: woken by
  /// a packet they do not preempt the process running on that core, so on a machine shared with
  /// busy peers (a local client) the node reads larger batches and costs them fewer context
  /// switches; when the machine is busy a wake-up may wait for the running process's time slice.
  bool batch_scheduling = false;
  /// How long an event-loop thread keeps polling for work after its last event before it sleeps,
  /// as the BEAM's schedulers spin before they sleep (erl +sbwt): a message that comes meanwhile
  /// is handled without a wake-up, which is what a call's round trip mostly costs on Linux
  /// (bench/RESULTS.md: at one caller 2.5x the calls/s and a third of the latency). While
  /// messages keep coming a polling thread keeps a core busy; after a sleep of more than four
  /// times this it sleeps at once the next time, until work comes often again. Zero sleeps at
  /// once.
  std::chrono::microseconds busy_wait{50};
  /// How long an event-loop thread sleeps between polls while its peers keep sending as fast as
  /// it answers (a poll finds new requests right after a round that sent replies, or one round
  /// answers several; a thread that never runs out of work never naps): the requests that come
  /// meanwhile are then read, handled and answered together, one read and one write for many
  /// calls, which costs the node and its peers fewer system calls and wake-ups per call and
  /// leaves the core to a client on the same machine (bench/RESULTS.md). A lone caller never
  /// waits for it; under load an event on that thread may wait up to this long. Zero never naps.
  std::chrono::microseconds coalesce{50};
  /// Distribution over IPv6, as `erl -proto_dist inet6_tcp` (or `inet6_tls` with `tls`): peers'
  /// hosts are resolved to IPv6 addresses, and their epmd asked over IPv6. Listen on an IPv6
  /// `listen_address` ("::1", or "::" for every address). Node names may carry an IPv6 literal
  /// as host (`cpp@::1`), as the BEAM's do.
  bool ipv6 = false;
  /// Distribution over TLS (nullopt: plain TCP, `inet_tcp`). A plain-TCP peer cannot connect to
  /// a TLS node, nor the reverse: each side drops the other in its handshake.
  std::optional<TlsConfig> tls;
};

/// Node up/down events, for code that keeps state per peer (e.g. `{:global, name}` owners).
struct NodeEvent {
  codec::Atom node;
  bool up = true;
  bool hidden = false;  // whether the peer is a hidden node (another C node) or a BEAM node
  codec::Term reason;   // for down
};

/// A distributed Erlang node: epmd registration, connections both ways, the process table and
/// signal routing. All member functions are thread-safe.
class Node {
 public:
  explicit Node(NodeConfig config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Listens, publishes to epmd and starts connecting to `config.connect`. Fails (name taken,
  /// epmd unreachable, port in use) with the code and a message.
  codec::Result<void, Failure> start();
  /// Runs the event loop on the configured threads until `stop()`.
  void run();
  /// Ends every process (reason `shutdown`), closes connections and the epmd registration,
  /// then makes `run()` return.
  void stop();

  [[nodiscard]] boost::asio::io_context& io() noexcept;
  [[nodiscard]] codec::Atom name() const noexcept;
  [[nodiscard]] std::uint32_t creation() const noexcept;
  [[nodiscard]] const NodeConfig& config() const noexcept;
  /// The port the node listens on (after start).
  [[nodiscard]] std::uint16_t port() const noexcept;

  // ---- Processes ----

  /// Gives `process` a new pid, adds it to the table and runs its `on_start` on its strand.
  /// An exception escaping `on_start`/`on_signal` ends the process with
  /// `{cpp_exception, <<What>>}`. Pids made before `start()` carry creation 0. Throws
  /// std::logic_error when the process was already spawned or the node is stopping.
  /// Processes must not outlive the Node.
  codec::Pid spawn(const std::shared_ptr<Process>& process);
  /// Registers a local name; false if the name or the pid already has one, or the pid is dead.
  bool register_name(codec::Atom name, const codec::Pid& pid);
  void unregister_name(codec::Atom name);
  [[nodiscard]] std::optional<codec::Pid> whereis(codec::Atom name) const;
  [[nodiscard]] std::shared_ptr<Process> find(const codec::Pid& pid) const;
  [[nodiscard]] std::size_t process_count() const;
  /// A new unique reference of this node.
  codec::Reference make_ref();

  /// Ends a local process with `reason`: removes it and its names, sends EXIT to its links and
  /// MONITOR_P_EXIT / DOWN to its monitors, then runs its `on_exit`. Called on the process's
  /// own strand this all happens before it returns; from elsewhere it is queued on that strand.
  void exit_process(const codec::Pid& pid, const codec::Term& reason);

  // ---- Signals, local or remote (connecting on demand) ----

  /// `To ! Msg`. Dropped if `to` is dead or its node unreachable, as in Erlang.
  void send(const codec::Pid& from, const codec::Pid& to, codec::Term message);
  /// `{Name, Node} ! Msg`.
  void send(const codec::Pid& from, codec::Atom name, codec::Atom node, codec::Term message);
  /// `Alias ! Msg` for a reference made by a monitor with `{alias, ...}` (ALIAS_SEND), falling
  /// back to `fallback_pid` when the peer does not support aliases.
  void send_alias(const codec::Pid& from, const codec::Reference& alias,
                  const codec::Pid& fallback_pid, codec::Term message);
  /// `gen:reply({Caller, Tag}, Reply)` from the local process `server`: `{Tag, Reply}` to the
  /// alias when Tag is `[alias | Ref]` (OTP 24+ callers; the node falls back to `caller` if the
  /// peer has no aliases), else to `caller`. Thread-safe.
  void reply(const codec::Pid& server, const codec::Pid& caller, codec::Term tag,
             codec::Term reply);
  /// `link/1` by `from` (a local process). The signal to `to` leaves before this returns, so it
  /// cannot be overtaken by a later signal from the same thread. A dead `to` answers with an
  /// exit `noproc`, an unreachable node with `noconnection`.
  void link(const codec::Pid& from, const codec::Pid& to);
  void unlink(const codec::Pid& from, const codec::Pid& to);
  /// `exit(To, Reason)` sent by `from`.
  void exit_signal(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason);
  /// `erlang:monitor(process, Target)`: `target` is a Pid or an atom name local to `target_node`.
  codec::Reference monitor(const codec::Pid& watcher, const codec::Term& target,
                           codec::Atom target_node);
  void demonitor(const codec::Pid& watcher, const codec::Reference& ref);
  /// `alias/0`: a reference that, sent to with ALIAS_SEND (or `send_alias`), delivers to `owner`
  /// until `unalias` or until `owner` exits. Use it as the tag of calls to remote gen_servers.
  codec::Reference alias(const codec::Pid& owner);
  void unalias(const codec::Reference& alias);

  // ---- Connections ----

  /// Connects to `node` if not yet connected (asynchronously).
  void connect(codec::Atom node);
  /// Nodes connected right now.
  [[nodiscard]] std::vector<NodeEvent> connected_nodes() const;
  /// Calls `handler` (on some node thread, never blocking it) for every node up/down.
  void on_node_event(std::function<void(const NodeEvent&)> handler);

  /// A SPAWN_REQUEST from another node: `spawn(Node, M, F, Args)` and OTP 23+ `erpc` and
  /// `rpc:call`, which run `erpc:execute_call(Ref, M, F, Args)` in a process spawned there.
  struct SpawnRequest {
    codec::Pid parent;  // the requesting process
    codec::Atom module;
    codec::Atom function;
    std::vector<codec::Term> args;
  };
  /// Makes the (not yet spawned) process a request starts, or null to refuse it with `notsup`.
  /// Runs on a connection's thread: quick, never blocking.
  using SpawnHandler = std::function<std::shared_ptr<Process>(const SpawnRequest&)>;
  /// Sets who answers spawn requests (without one they are refused with `notsup`). The node
  /// spawns the process, links it to the parent and lets the parent monitor it as the request's
  /// `link`/`monitor` options ask, and sends SPAWN_REPLY before the process's `on_start` runs.
  void on_spawn_request(SpawnHandler handler);

  /// Counters for operators.
  struct Stats {
    std::uint64_t messages_in = 0;
    std::uint64_t messages_out = 0;
    /// Messages from peers whose payload did not decode (too deep, a new atom at the atom
    /// limit, ...): dropped alone, their connection kept.
    std::uint64_t messages_refused = 0;
    std::uint64_t connections = 0;
    std::uint64_t processes = 0;
  };
  [[nodiscard]] Stats stats() const;

  /// One local process, as operator tools show it.
  struct ProcessInfo {
    codec::Pid pid;
    std::optional<codec::Atom> name;  // its registered name, if any
    std::size_t queued = 0;           // signals waiting on its strand (its mailbox depth)
    std::uint64_t dropped = 0;        // messages its mailbox bound refused
  };
  /// The local process `pid` while it runs (erlang:process_info/1), else nullopt.
  [[nodiscard]] std::optional<ProcessInfo> process_info(const codec::Pid& pid) const;
  /// A snapshot of the local processes, in no particular order. O(processes): for tools.
  [[nodiscard]] std::vector<ProcessInfo> processes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cppnode::cnode
