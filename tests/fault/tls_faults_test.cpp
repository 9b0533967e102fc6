// SPDX-License-Identifier: Apache-2.0
// TLS distribution against the cppnode executable: certificates refused with their reason (and
// never the key in the log), plain and TLS peers refusing each other cleanly, silent and garbage
// peers during the TLS handshake, and a TLS peer that stops reading.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "cppnode/test_support/dist.hpp"
#include "fault_fixture.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using test_support::BeamNode;
using test_support::tls_certs;
using test_support::tls_cppnode_args;
using Clock = std::chrono::steady_clock;

class FaultTls : public Fault {
 protected:
  test_support::BeamOptions tls_beam(const std::string& prefix, const std::string& cert = "node") {
    auto o = beam(prefix);
    o.tls_cert = cert;
    return o;
  }
  // Waits until the C node has logged `text`.
  static bool logged(CppNodeProcess& cpp, const std::string& text) {
    return cpp.wait_log(text, 10s);
  }
  static std::string file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

// A raw TCP connection to the C node, for peers that are not nodes.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  [[nodiscard]] bool connected() const { return connected_; }
  void send(const std::string& bytes) const {
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  /// Whether the other side closes the connection within `timeout` (reading what comes).
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buf[4096];
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  int fd_;
  bool connected_ = false;
};

TEST_F(FaultTls, BadCertificatesAreRefusedWithTheReasonAndNeverTheKey) {
  auto cpp = start_cpp(tls_cppnode_args());
  {
    BeamNode good(epmd, tls_beam("good"));
    EXPECT_EQ(good.eval("net_adm:ping(" + cpp->atom() + ")."), "pong");
  }
  {
    BeamNode wrong(epmd, tls_beam("wrongca", "wrongca"));
    EXPECT_EQ(wrong.eval("net_adm:ping(" + cpp->atom() + ")."), "pang");
    EXPECT_TRUE(logged(*cpp, "unable to get local issuer certificate")) << cpp->stderr_text();
  }
  {
    BeamNode expired(epmd, tls_beam("expired", "expired"));
    EXPECT_EQ(expired.eval("net_adm:ping(" + cpp->atom() + ")."), "pang");
    EXPECT_TRUE(logged(*cpp, "certificate has expired")) << cpp->stderr_text();
  }
  // Connecting out, the server's certificate must name the host we connect to.
  BeamNode misnamed(epmd, tls_beam("nosan", "nosan"));
  auto out = std::make_unique<CppNodeProcess>(epmd, test_support::unique_name("cppout"), [&] {
    auto args = tls_cppnode_args();
    args.insert(args.end(), {"--cookie", cookie, "--connect", misnamed.node_name()});
    return args;
  }());
  EXPECT_TRUE(logged(*out, "hostname mismatch")) << out->stderr_text();
  EXPECT_EQ(misnamed.eval("nodes(hidden)."), "[]");

  const std::string key = file(tls_certs().key("node"));
  const std::string key_body = key.substr(key.find('\n') + 1, 40);
  for (CppNodeProcess* node : {cpp.get(), out.get()}) {
    const std::string err = node->stderr_text();
    EXPECT_EQ(err.find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(err.find(key_body), std::string::npos);
  }
}

TEST_F(FaultTls, PlainAndTlsPeersRefuseEachOtherAtOnce) {
  auto tls = start_cpp(tls_cppnode_args());
  cpp_sname = test_support::unique_name("cppplain");
  auto plain = start_cpp();
  BeamNode plain_beam(epmd, tls_beam("plainbeam", "tcp"));
  BeamNode tls_beam_node(epmd, tls_beam("tlsbeam"));

  const auto t0 = Clock::now();
  EXPECT_EQ(plain_beam.eval("net_adm:ping(" + tls->atom() + ")."), "pang");
  EXPECT_TRUE(logged(*tls, "TLS handshake failed")) << tls->stderr_text();
  EXPECT_EQ(tls_beam_node.eval("net_adm:ping(" + plain->atom() + ")."), "pang");
  EXPECT_TRUE(logged(*plain, "the peer speaks TLS (-proto_dist inet_tls) and this node plain TCP"))
      << plain->stderr_text();
  // Refused in the first bytes, not by the 5 s handshake deadline.
  EXPECT_LT(Clock::now() - t0, 8s);

  // Each still serves its own kind.
  EXPECT_EQ(plain_beam.eval("net_adm:ping(" + plain->atom() + ")."), "pong");
  EXPECT_EQ(tls_beam_node.eval("net_adm:ping(" + tls->atom() + ")."), "pong");
}

TEST_F(FaultTls, SilentAndGarbagePeersDuringTheTlsHandshakeCostNothing) {
  auto cpp = start_cpp(tls_cppnode_args());
  RawSocket silent(cpp->port());
  RawSocket garbage(cpp->port());
  RawSocket half(cpp->port());
  ASSERT_TRUE(silent.connected() && garbage.connected() && half.connected());
  std::mt19937 rng(7);
  std::string noise(std::size_t{64} * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  garbage.send(noise);
  // The first bytes of a TLS record header announcing a ClientHello, then nothing.
  half.send(std::string("\x16\x03\x01\x02\x00\x01", 6));
  EXPECT_TRUE(garbage.closed_within(3s));
  EXPECT_TRUE(logged(*cpp, "TLS handshake failed"));
  // Silent peers are dropped at the handshake deadline (5 s).
  EXPECT_TRUE(silent.closed_within(15s));
  EXPECT_TRUE(half.closed_within(5s));
  EXPECT_TRUE(logged(*cpp, "handshake not finished within"));
  BeamNode good(epmd, tls_beam("good"));
  EXPECT_EQ(good.eval("net_adm:ping(" + cpp->atom() + ")."), "pong");
}

// The BEAM node asks for 2000 replies of 256 KiB and stops (SIGSTOP) before reading them: over
// TLS too the C node's queue for it stays bounded and the other peers are served.
TEST_F(FaultTls, PeerThatStopsReadingOverTlsCostsABoundedQueue) {
  auto cpp = start_cpp(tls_cppnode_args());
  BeamNode other(epmd, tls_beam("other"));
  BeamNode stalled(epmd, tls_beam("stalled"));
  ASSERT_EQ(stalled.eval("gen_server:call({kv_store, " + cpp->atom() +
                         "}, {put, <<\"big\">>, binary:copy(<<\"v\">>, 262144)})."),
            "ok");
  const long before = cpp->rss_kib();
  EXPECT_EQ(stalled.eval("To = {kv_store, " + cpp->atom() +
                         "}, [To ! {'$gen_call', {self(), make_ref()}, {get, <<\"big\">>}} || "
                         "_ <- lists:seq(1, 2000)], timer:sleep(300), ok."),
            "ok");
  ::kill(stalled.pid(), SIGSTOP);
  long peak = 0;
  for (int i = 0; i < 30; ++i) {
    peak = std::max(peak, cpp->rss_kib());
    std::this_thread::sleep_for(100ms);  // sampling, not synchronisation
  }
  std::cout << "RSS growth with a TLS peer that stopped reading: " << (peak - before) << " KiB\n";
  if (rss_is_meaningful) {
    EXPECT_LT(peak - before, 64 * 1024) << "KiB";
  }
  EXPECT_EQ(other.eval("net_adm:ping(" + cpp->atom() + ")."), "pong");
  // Only the sender to the busy connection (kv_store) waits; the other servers answer.
  EXPECT_EQ(other.eval("gen_server:call({counter, " + cpp->atom() + "}, get_count, 5000)."), "0");
  EXPECT_EQ(other.eval("element(1, element(2, catch gen_server:call({kv_store, " + cpp->atom() +
                       "}, {get, nothing}, 1000)))."),
            "timeout");
  ::kill(stalled.pid(), SIGCONT);
  stalled.kill();
  EXPECT_EQ(
      other.eval("gen_server:call({kv_store, " + cpp->atom() + "}, {put, later, 1}, 60000).", 90s),
      "ok");
}

}  // namespace
}  // namespace cppnode::fault_testing
