// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/node.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "cppnode/cnode/detail/handshake_protocol.hpp"
#include "cppnode/cnode/epmd.hpp"
#include "epmd_client.hpp"
#include "handshake.hpp"
#include "net_kernel.hpp"
#include "node_impl.hpp"
#include "tls.hpp"

namespace cppnode::cnode {

using namespace codec::literals;

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
void set_cloexec(int fd) { ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC); }

// Errors accept(2) reports about the one connection it was taking (a peer that reset it, the
// network errors Linux passes on): the listener itself is fine.
bool is_connection_error(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) {
    return false;
  }
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case ENOPROTOOPT:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENONET:
    case EOPNOTSUPP:
    case EAGAIN:
    case EINTR:
      return true;
    default:
      return false;
  }
}
}  // namespace

// ---- NodeImpl lifecycle ----

namespace {
NodeConfig checked(NodeConfig config) {
  if (!detail::is_valid_node_name(config.node_name)) {
    throw std::invalid_argument("NodeConfig::node_name must be name@host, got '" +
                                config.node_name + "'");
  }
  if (config.net_ticktime < std::chrono::milliseconds(400)) {
    throw std::invalid_argument("NodeConfig::net_ticktime must be at least 400 ms");
  }
  return config;
}
}  // namespace

NodeImpl::NodeImpl(Node& owner_node, NodeConfig cfg)
    : owner(owner_node),
      // A hint of 1 lets Asio keep work posted from the loop thread on that thread.
      io(cfg.threads == 1 ? 1 : BOOST_ASIO_CONCURRENCY_HINT_DEFAULT),
      config(checked(std::move(cfg))),
      name(config.node_name),
      alive(config.node_name.substr(0, config.node_name.find('@'))),
      host(config.node_name.substr(config.node_name.find('@') + 1)),
      acceptor(io),
      epmd_socket(io),
      stop_timer(io),
      accept_timer(io) {
  // run() serves until stop(), whether or not start() put the node on the network.
  work.emplace(io.get_executor());
}

NodeImpl::~NodeImpl() {
  stopping.store(true);
  boost::system::error_code ignored;
  acceptor.close(ignored);
  epmd_socket.close(ignored);
  io.stop();
  // Break the cycles (slots → peers, peers → handlers) while the io_context still exists.
  connections.clear();
  names.clear();
  for (const auto& slot : procs.snapshot()) {
    slot->signals.reset();
    procs.erase(slot->process->self());
  }
}

codec::Result<void, Failure> NodeImpl::start() {
  auto fail = [&](std::error_code ec, std::string text) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return failed(ec, std::move(text));
  };
  if (started.exchange(true)) {
    return fail(std::make_error_code(std::errc::operation_in_progress), "the node is started");
  }
  if (config.tls) {
    const auto bad_tls = std::make_error_code(std::errc::invalid_argument);
    auto server_context = make_tls_context(*config.tls, true);
    if (!server_context) return fail(bad_tls, "TLS: " + server_context.error());
    auto client_context = make_tls_context(*config.tls, false);
    if (!client_context) return fail(bad_tls, "TLS: " + client_context.error());
    connections.use_tls(std::move(*server_context), std::move(*client_context));
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config.listen_address, ec);
  if (ec) {
    return fail(std::make_error_code(std::errc::invalid_argument),
                "listen address '" + config.listen_address + "' is not an IP address");
  }
  const std::uint16_t port =
      config.listen_port != 0 ? config.listen_port : config.erl_epmd_port.value_or(0);
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    set_cloexec(acceptor.native_handle());
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return fail(ec, "cannot listen on " + config.listen_address + ":" + std::to_string(port) +
                        ": " + ec.message());
  }
  listen_port = acceptor.local_endpoint().port();

  if (config.register_with_epmd) {
    if (auto registered = register_with_epmd(); !registered) {
      return fail(registered.error().code, registered.error().message);
    }
  } else {
    creation.store(detail::random_challenge() | 1U);  // any creation but 0 (none)
    spdlog::info("node {} listening on port {} (not registered with epmd, creation {})",
                 config.node_name, listen_port, creation.load());
  }

  auto kernel = std::make_shared<NetKernel>(owner);
  const auto kernel_pid = spawn(kernel);
  owner.register_name("net_kernel"_a, kernel_pid);

  accept_next();
  if (config.register_with_epmd) {
    watch_epmd();
  }
  for (const auto& node : config.connect) {
    if (!detail::is_valid_node_name(node)) {
      spdlog::error("ignoring --connect {}: not a node name (name@host)", node);
      continue;
    }
    connections.keep_connected(codec::Atom(node));
  }
  return {};
}

codec::Result<void, Failure> NodeImpl::register_with_epmd() {
  if (config.start_epmd) {
    if (auto running = ensure_epmd(config.epmd_port); !running) return running;
  }
  auto registration =
      detail::register_with_epmd(config.epmd_port, alive, listen_port, config.handshake_timeout);
  if (!registration) return codec::unexpected(std::move(registration).error());
  boost::system::error_code ec;
  epmd_socket.assign(tcp::v4(), registration->fd, ec);
  if (ec) {
    ::close(registration->fd);
    return failed(ec, "cannot adopt the epmd socket: " + ec.message());
  }
  creation.store(registration->creation);
  spdlog::info("node {} listening on port {} (epmd port {}, creation {})", config.node_name,
               listen_port, config.epmd_port, registration->creation);
  return {};
}

void NodeImpl::accept_next() {
  acceptor.async_accept(
      asio::bind_executor(control, [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
          return;
        }
        if (ec && !is_connection_error(ec)) {
          accept_failed(ec);
          return;
        }
        if (ec) {
          // Only that one pending connection failed; the next one may be fine.
          spdlog::debug("accept failed for one connection: {}", ec.message());
        } else {
          accept_succeeded();
          set_cloexec(socket.native_handle());
          connections.accept(std::move(socket));
        }
        accept_next();
      }));
}

// A failed accept leaves the pending connection in the backlog, so trying again at once fails
// again at once: at the descriptor limit that spun a core and wrote a log line per try while
// any peer kept connecting. Instead the node pauses, 10 ms doubling to 1 s, and says so once;
// the connections it has keep being served meanwhile.
void NodeImpl::accept_failed(const boost::system::error_code& ec) {
  constexpr std::chrono::milliseconds first_pause{10};
  constexpr std::chrono::milliseconds longest_pause{1000};
  ++accept_failures;
  if (accept_backoff.count() == 0) {
    accept_backoff = first_pause;
    accept_failing_since = std::chrono::steady_clock::now();
    rlimit limit{};
    const bool known = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
    const std::size_t nodes = connections.node_count();
    const std::size_t pending = connections.handshake_count();
    spdlog::warn(
        "cannot accept connections: {} (descriptor limit {}; {} connections open: {} nodes, {} "
        "handshakes); retrying every {} ms at most, and saying so once more when it works again",
        ec.message(), known ? std::to_string(limit.rlim_cur) : std::string("unlimited"),
        nodes + pending, nodes, pending, longest_pause.count());
  } else {
    accept_backoff = std::min(accept_backoff * 2, longest_pause);
  }
  accept_timer.expires_after(accept_backoff);
  accept_timer.async_wait(asio::bind_executor(control, [this](const boost::system::error_code& e) {
    if (!e && !stopping.load()) {
      accept_next();
    }
  }));
}

void NodeImpl::accept_succeeded() {
  if (accept_backoff.count() == 0) {
    return;
  }
  const std::chrono::duration<double> failing =
      std::chrono::steady_clock::now() - accept_failing_since;
  spdlog::info("accepting connections again, after {} failed accepts over {:.1f} s",
               accept_failures, failing.count());
  accept_backoff = std::chrono::milliseconds(0);
  accept_failures = 0;
}

void NodeImpl::watch_epmd() {
  epmd_socket.async_read_some(
      asio::buffer(epmd_read_buf),
      asio::bind_executor(control, [this](const boost::system::error_code& ec, std::size_t) {
        if (!ec) {
          watch_epmd();
        } else if (!stopping.load()) {
          spdlog::error(
              "epmd closed this node's registration: other nodes can no longer find "
              "it by name ({})",
              ec.message());
        }
      }));
}

void NodeImpl::use_batch_scheduling() {
  const sched_param param{};
  if (const int e = pthread_setschedparam(pthread_self(), SCHED_BATCH, &param); e != 0) {
    spdlog::warn("cannot switch an event-loop thread to SCHED_BATCH ({}): it keeps its policy",
                 std::strerror(e));
  }
}

void NodeImpl::run() {
  unsigned n = config.threads != 0 ? config.threads : std::thread::hardware_concurrency();
  if (n == 0) {
    n = 1;
  }
  auto loop = [this] {
    if (config.batch_scheduling) {
      use_batch_scheduling();
    }
    while (true) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("unexpected exception on a node thread: {}", e.what());
      }
    }
  };
  std::vector<std::thread> extra;
  extra.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i) {
    extra.emplace_back(loop);
  }
  loop();
  for (auto& t : extra) {
    t.join();
  }
}

void NodeImpl::stop() {
  if (stopping.exchange(true)) {
    return;
  }
  connections.stop_connecting();
  asio::post(control, [this] {
    spdlog::info("node {} stopping", config.node_name);
    boost::system::error_code ignored;
    acceptor.close(ignored);
    accept_timer.cancel();
    const codec::Term shutdown{"shutdown"_a};
    for (const auto& slot : procs.snapshot()) {
      exit_process(slot->process->self(), shutdown);
    }
    wait_for_exits(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  });
}

// Waits (without blocking a thread) until every process has run its on_exit, so that their exit
// signals are queued before the connections close.
void NodeImpl::wait_for_exits(std::chrono::steady_clock::time_point deadline) {
  if (procs.size() == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (procs.size() != 0) {
      spdlog::warn("{} processes did not exit within 5 s of shutdown", procs.size());
    }
    finish_stop();
    return;
  }
  stop_timer.expires_after(std::chrono::milliseconds(2));
  stop_timer.async_wait(asio::bind_executor(
      control, [this, deadline](const boost::system::error_code&) { wait_for_exits(deadline); }));
}

void NodeImpl::finish_stop() {
  connections.close_gracefully();
  boost::system::error_code ignored;
  epmd_socket.close(ignored);
  work.reset();
  stopped.store(true);
  wait_for_peers(std::chrono::steady_clock::now() + std::chrono::seconds(3));
}

// run() returns once the connections are closed; a peer that cannot drain gets a deadline.
void NodeImpl::wait_for_peers(std::chrono::steady_clock::time_point deadline) {
  if (connections.empty()) {
    // Everything of ours is closed; other pending work (an application's signal_set, say) must
    // not keep run() from returning.
    io.stop();
    return;
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    spdlog::warn("connections did not close within 3 s of shutdown: stopping the loop");
    io.stop();
    return;
  }
  stop_timer.expires_after(std::chrono::milliseconds(5));
  stop_timer.async_wait(asio::bind_executor(
      control, [this, deadline](const boost::system::error_code&) { wait_for_peers(deadline); }));
}

// ---- Node ----

struct Node::Impl final : NodeImpl {
  using NodeImpl::NodeImpl;
};

Node::Node(NodeConfig config) : impl_(std::make_unique<Impl>(*this, std::move(config))) {}
Node::~Node() = default;

codec::Result<void, Failure> Node::start() { return impl_->start(); }
void Node::run() { impl_->run(); }
void Node::stop() { impl_->stop(); }

boost::asio::io_context& Node::io() noexcept { return impl_->io; }
codec::Atom Node::name() const noexcept { return impl_->name; }
std::uint32_t Node::creation() const noexcept { return impl_->creation.load(); }
const NodeConfig& Node::config() const noexcept { return impl_->config; }
std::uint16_t Node::port() const noexcept { return impl_->listen_port; }

codec::Pid Node::spawn(const std::shared_ptr<Process>& process) { return impl_->spawn(process); }

bool Node::register_name(codec::Atom name, const codec::Pid& pid) {
  auto slot = impl_->find_slot(pid);
  return slot && impl_->names.register_name(name, slot);
}

void Node::unregister_name(codec::Atom name) { impl_->names.unregister_name(name); }

std::optional<codec::Pid> Node::whereis(codec::Atom name) const {
  if (auto slot = impl_->names.whereis(name)) {
    return slot->process->self();
  }
  return std::nullopt;
}

std::shared_ptr<Process> Node::find(const codec::Pid& pid) const {
  if (auto slot = impl_->find_slot(pid)) {
    return slot->process;
  }
  return nullptr;
}

std::size_t Node::process_count() const { return impl_->procs.size(); }
codec::Reference Node::make_ref() { return impl_->names.make_ref(); }

void Node::exit_process(const codec::Pid& pid, const codec::Term& reason) {
  impl_->exit_process(pid, reason);
}

void Node::send(const codec::Pid& from, const codec::Pid& to, codec::Term message) {
  impl_->send(from, to, std::move(message));
}
void Node::send(const codec::Pid& from, codec::Atom name, codec::Atom node, codec::Term message) {
  impl_->send_named(from, name, node, std::move(message));
}
void Node::send_alias(const codec::Pid& from, const codec::Reference& alias,
                      const codec::Pid& fallback_pid, codec::Term message) {
  impl_->send_alias(from, alias, fallback_pid, std::move(message));
}
void Node::link(const codec::Pid& from, const codec::Pid& to) { impl_->link(from, to); }
void Node::unlink(const codec::Pid& from, const codec::Pid& to) { impl_->unlink(from, to); }
void Node::exit_signal(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason) {
  impl_->exit_signal(from, to, reason);
}
codec::Reference Node::monitor(const codec::Pid& watcher, const codec::Term& target,
                               codec::Atom target_node) {
  return impl_->monitor(watcher, target, target_node);
}
void Node::demonitor(const codec::Pid& watcher, const codec::Reference& ref) {
  impl_->demonitor(watcher, ref);
}
codec::Reference Node::alias(const codec::Pid& owner) {
  return impl_->names.make_alias(impl_->find_slot(owner));
}
void Node::unalias(const codec::Reference& alias) { impl_->names.remove_alias(alias); }

void Node::connect(codec::Atom node) { impl_->connections.peer_for(node); }

std::vector<NodeEvent> Node::connected_nodes() const { return impl_->connections.connected(); }

void Node::on_node_event(std::function<void(const NodeEvent&)> handler) {
  impl_->connections.on_event(std::move(handler));
}

void Node::on_spawn_request(SpawnHandler handler) {
  std::lock_guard lock(impl_->spawn_mutex);
  impl_->spawn_handler = std::move(handler);
}

Node::Stats Node::stats() const {
  Stats s;
  s.messages_in = impl_->messages_in.load(std::memory_order_relaxed);
  s.messages_refused = impl_->messages_refused.load(std::memory_order_relaxed);
  s.messages_out = impl_->messages_out.load(std::memory_order_relaxed);
  s.connections = impl_->connections.total();
  s.processes = impl_->procs.size();
  return s;
}

namespace {
Node::ProcessInfo info_of(const ProcessSlot& slot, const Names& names) {
  return Node::ProcessInfo{slot.process->self(), names.name_of(slot),
                           slot.queued.load(std::memory_order_relaxed),
                           slot.dropped.load(std::memory_order_relaxed)};
}
}  // namespace

std::optional<Node::ProcessInfo> Node::process_info(const codec::Pid& pid) const {
  if (auto slot = impl_->find_slot(pid)) {
    return info_of(*slot, impl_->names);
  }
  return std::nullopt;
}

std::vector<Node::ProcessInfo> Node::processes() const {
  const auto slots = impl_->procs.snapshot();
  std::vector<ProcessInfo> out;
  out.reserve(slots.size());
  for (const auto& slot : slots) {
    out.push_back(info_of(*slot, impl_->names));
  }
  return out;
}

}  // namespace cppnode::cnode
