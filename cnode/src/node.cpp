// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/node.hpp"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "cppnode/cnode/detail/handshake_protocol.hpp"
#include "cppnode/cnode/detail/loop_pacing.hpp"
#include "cppnode/cnode/epmd.hpp"
#include "epmd_client.hpp"
#include "net_kernel.hpp"
#include "node_impl.hpp"
#include "tls.hpp"

namespace cppnode::cnode {

using namespace codec::literals;

namespace asio = boost::asio;
using asio::ip::tcp;

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
      epmd_socket(io),
      stop_timer(io) {
  // run() serves until stop(), whether or not start() put the node on the network.
  work.emplace(io.get_executor());
}

NodeImpl::~NodeImpl() {
  stopping.store(true);
  listener.close();
  boost::system::error_code ignored;
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
    listener.close();
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
  const std::uint16_t port =
      config.listen_port != 0 ? config.listen_port : config.erl_epmd_port.value_or(0);
  if (auto listening = listener.open(config.listen_address, port); !listening) {
    return codec::unexpected(std::move(listening).error());
  }

  if (config.register_with_epmd) {
    if (auto registered = register_with_epmd(); !registered) {
      return fail(registered.error().code, registered.error().message);
    }
  } else {
    creation.store(detail::random_challenge() | 1U);  // any creation but 0 (none)
    spdlog::info("node {} listening on port {} (not registered with epmd, creation {})",
                 config.node_name, listener.port(), creation.load());
  }

  auto kernel = std::make_shared<NetKernel>(owner);
  const auto kernel_pid = spawn(kernel);
  owner.register_name("net_kernel"_a, kernel_pid);

  listener.start();
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
  auto registration = detail::register_with_epmd(config.epmd_port, alive, listener.port(),
                                                 config.handshake_timeout);
  if (!registration) return codec::unexpected(std::move(registration).error());
  boost::system::error_code ec;
  epmd_socket.assign(tcp::v4(), registration->fd, ec);
  if (ec) {
    ::close(registration->fd);
    return failed(ec, "cannot adopt the epmd socket: " + ec.message());
  }
  creation.store(registration->creation);
  spdlog::info("node {} listening on port {} (epmd port {}, creation {})", config.node_name,
               listener.port(), config.epmd_port, registration->creation);
  return {};
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

// io.run(), paced by LoopPacing: a thread with nothing to do polls for config.busy_wait before it
// blocks, and one whose peers keep sending while it answers naps for config.coalesce between
// polls.
void NodeImpl::run_paced() {
  using clock = std::chrono::steady_clock;
  using Step = detail::LoopPacing::Step;
  if (config.coalesce.count() > 0) {
    // A nap of tens of microseconds would otherwise last the default timer slack (50 us) more.
    prctl(PR_SET_TIMERSLACK, 1000UL);
  }
  detail::LoopPacing pacing(config.busy_wait, config.coalesce, clock::now());
  while (!io.stopped()) {
    const std::size_t handlers = io.poll();
    switch (pacing.after_poll(handlers, detail::LoopPacing::take_sent_note(), clock::now())) {
      case Step::poll:
        break;
      case Step::nap:
        std::this_thread::sleep_for(config.coalesce);
        break;
      case Step::yield:
        std::this_thread::yield();
        break;
      case Step::sleep: {
        const auto asleep_since = clock::now();
        io.run_one();
        pacing.after_sleep(asleep_since, clock::now(), detail::LoopPacing::take_sent_note());
        break;
      }
    }
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
        if (config.busy_wait.count() > 0 || config.coalesce.count() > 0) {
          run_paced();
        } else {
          io.run();
        }
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
    listener.close();
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
std::uint16_t Node::port() const noexcept { return impl_->listener.port(); }

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
void Node::reply(const codec::Pid& server, const codec::Pid& caller, codec::Term tag,
                 codec::Term reply) {
  impl_->reply(server, caller, std::move(tag), std::move(reply));
}
void Node::link(const codec::Pid& from, const codec::Pid& to) { impl_->links.link(from, to); }
void Node::unlink(const codec::Pid& from, const codec::Pid& to) { impl_->links.unlink(from, to); }
void Node::exit_signal(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason) {
  impl_->links.exit_signal(from, to, reason);
}
codec::Reference Node::monitor(const codec::Pid& watcher, const codec::Term& target,
                               codec::Atom target_node) {
  return impl_->links.monitor(watcher, target, target_node);
}
void Node::demonitor(const codec::Pid& watcher, const codec::Reference& ref) {
  impl_->links.demonitor(watcher, ref);
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
