// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

namespace cppnode::app {

void add_options(CLI::App& cli, Options& o) {
  auto* sname = cli.add_option("--sname", o.sname,
                               "Short node name NAME or NAME@HOST (host = short hostname); "
                               "default: cppnode");
  auto* name = cli.add_option("--name", o.name, "Long node name NAME@HOST (a dotted host)");
  sname->excludes(name);
  name->excludes(sname);
  cli.add_option("--cookie", o.cookie,
                 "Magic cookie; default: ~/.erlang.cookie (created like erl does if missing)");
  cli.add_option("--port", o.port, "Distribution listen port; 0 picks a free one")
      ->capture_default_str();
  cli.add_option("--listen-address", o.listen_address, "Address to listen on")
      ->capture_default_str();
  cli.add_option("--connect", o.connect,
                 "Node to connect to at start and keep connected (repeatable)");
  cli.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  cli.add_option("--threads", o.threads,
                 "Event-loop threads (0 = one per core); 1 is fastest unless callbacks are slow")
      ->capture_default_str();
  cli.add_option("--net-ticktime", o.net_ticktime_s,
                 "Seconds of silence after which a peer is down (Erlang's net_ticktime)")
      ->check(CLI::Range(1U, 3600U))
      ->capture_default_str();
  cli.add_option("--dist-buf-busy-limit", o.dist_buf_busy_limit_kib,
                 "KiB queued for a peer at which its connection is busy and the processes "
                 "sending to it wait (erl +zdbbl)")
      ->check(CLI::Range(1U, 2U * 1024 * 1024))
      ->capture_default_str();
  cli.add_option("--remote-monitors", o.remote_monitors,
                 "full: monitors cross connections as between BEAM nodes. calls: peers are not "
                 "offered DIST_MONITOR, so a BEAM caller sends one packet per GenServer.call "
                 "instead of three; calls still end at once when their server exits or does not "
                 "exist, but other monitors across connections only see nodedown (README)")
      ->check(CLI::IsMember({"full", "calls"}))
      ->capture_default_str();
  cli.add_option("--scheduling", o.scheduling,
                 "batch: the event-loop threads run under SCHED_BATCH and do not preempt other "
                 "processes when a packet wakes them, so beside busy local clients the node "
                 "reads larger batches (bench/RESULTS.md); a wake-up may then wait for a time "
                 "slice when the machine is busy")
      ->check(CLI::IsMember({"normal", "batch"}))
      ->capture_default_str();
  cli.add_option("--busy-wait-us", o.busy_wait_us,
                 "Microseconds an event-loop thread keeps polling after its last event before it "
                 "sleeps, as BEAM schedulers do (erl +sbwt): a call that comes meanwhile costs no "
                 "wake-up; a core stays busy while calls keep coming. 0 = sleep at once")
      ->check(CLI::Range(0U, 100000U))
      ->capture_default_str();
  cli.add_option("--coalesce-us", o.coalesce_us,
                 "Microseconds an event-loop thread sleeps between polls while peers send as fast "
                 "as it answers, so that their requests are read and answered in batches (fewer "
                 "system calls and packets per call); a lone caller never waits for it. 0 = never")
      ->check(CLI::Range(0U, 10000U))
      ->capture_default_str();
  cli.add_option("--rate-limit", o.rate_limit, "rate_limiter: calls allowed per second")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--cart-timeout-ms", o.cart_timeout_ms,
                 "shopping_cart: inactivity in ms after which the cart empties itself")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--max-restarts", o.max_restarts,
                 "Restarts the servers' supervisor allows within 5 s before it gives up")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  auto* max_mailbox = cli.add_option("--max-mailbox", o.max_mailbox,
                                     "Messages that may wait for each seed server; beyond them "
                                     "--overflow applies. 0 = unbounded, like a BEAM mailbox")
                          ->capture_default_str();
  cli.add_option("--overflow", o.overflow,
                 "At --max-mailbox: drop further messages (counted in :sys.get_status), or exit "
                 "the server with {mailbox_overflow, N} so its supervisor restarts it")
      ->check(CLI::IsMember({"drop", "exit"}))
      ->needs(max_mailbox)
      ->capture_default_str();
  cli.add_option("--max-atoms", o.max_atoms,
                 "Atoms the node may hold; beyond them a message bringing a new atom is refused "
                 "(logged and counted) and its connection kept. erl +t's default")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_flag("--no-epmd", o.no_epmd,
               "Do not register with epmd (and do not start it): peers reach this node at a port "
               "they know, see --erl-epmd-port");
  cli.add_option("--erl-epmd-port", o.erl_epmd_port,
                 "As erl -erl_epmd_port N for clusters without epmd: listen on N (unless --port "
                 "says otherwise) and reach every other node at port N of its host, without epmd")
      ->check(CLI::Range(1, 65535));
  cli.add_option("--proto-dist", o.proto_dist,
                 "As erl -proto_dist: inet_tls is distribution over TLS (every peer must use "
                 "it too; needs the --ssl-* files); inet6_tcp and inet6_tls the same over "
                 "IPv6 (with an IPv6 --listen-address such as ::1 or ::)")
      ->check(CLI::IsMember({"inet_tcp", "inet_tls", "inet6_tcp", "inet6_tls"}))
      ->capture_default_str();
  // Named after the ssl_dist_optfile options they stand for; one set serves both directions.
  cli.add_option("--ssl-certfile", o.ssl_certfile, "PEM certificate this node presents (certfile)")
      ->check(CLI::ExistingFile);
  cli.add_option("--ssl-keyfile", o.ssl_keyfile, "PEM key of that certificate (keyfile)")
      ->check(CLI::ExistingFile);
  cli.add_option("--ssl-cacertfile", o.ssl_cacertfile,
                 "PEM CAs that peers' certificates must chain to (cacertfile)")
      ->check(CLI::ExistingFile);
  cli.add_option("--ssl-verify", o.ssl_verify,
                 "verify_peer: check peers' certificates (and, connecting out, that the "
                 "certificate names the host of the node name); verify_none: any certificate")
      ->check(CLI::IsMember({"verify_peer", "verify_none"}))
      ->capture_default_str();
  cli.add_option("--ssl-fail-if-no-peer-cert", o.ssl_fail_if_no_peer_cert,
                 "Refuse a connecting peer that presents no certificate (fail_if_no_peer_cert)")
      ->capture_default_str();
}

}  // namespace cppnode::app
