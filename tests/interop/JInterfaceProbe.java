// SPDX-License-Identifier: Apache-2.0
// A JInterface (Debian erlang-jinterface) client for tests/fault/interop_test.cpp: connects to
// a node as a hidden node that listens on 127.0.0.1 only, pings it, calls and casts every seed
// server by its registered name, links to the counter and crashes it, and optionally makes one
// rpc (OtpConnection.sendRPC). One line per answer on stdout, so the C node's answers can be
// compared with a BEAM node's. Usage: JInterfaceProbe SELF COOKIE TARGET [MODULE FUNCTION]
// (ERL_EPMD_PORT chooses epmd's port, as for erl).

import com.ericsson.otp.erlang.*;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

public final class JInterfaceProbe {
  /** Sockets as JInterface's default factory makes them, but listening on loopback only. */
  private static final class LoopbackFactory extends OtpSocketTransportFactory {
    @Override
    public OtpServerTransport createServerTransport(final int port) throws IOException {
      final ServerSocket socket = new ServerSocket(port, 8, InetAddress.getLoopbackAddress());
      return new OtpServerTransport() {
        @Override
        public int getLocalPort() {
          return socket.getLocalPort();
        }

        @Override
        public OtpTransport accept() throws IOException {
          return new OtpSocketTransport(socket.accept());
        }

        @Override
        public void close() throws IOException {
          socket.close();
        }
      };
    }
  }

  private final OtpNode node;
  private final OtpMbox mbox;
  private final String target;

  private JInterfaceProbe(final String name, final String cookie, final String target)
      throws IOException {
    node = new OtpNode(name, cookie, new LoopbackFactory());
    mbox = node.createMbox();
    this.target = target;
  }

  private static OtpErlangAtom atom(final String s) {
    return new OtpErlangAtom(s);
  }

  private static OtpErlangTuple tuple(final OtpErlangObject... elements) {
    return new OtpErlangTuple(elements);
  }

  /** A term in Erlang syntax, binaries with their bytes (JInterface prints only their size). */
  private static String show(final OtpErlangObject t) {
    if (t instanceof OtpErlangBinary) {
      return "<<\"" + new String(((OtpErlangBinary) t).binaryValue()) + "\">>";
    }
    if (t instanceof OtpErlangTuple) {
      return "{" + join(((OtpErlangTuple) t).elements()) + "}";
    }
    if (t instanceof OtpErlangList && ((OtpErlangList) t).isProper()) {
      return "[" + join(((OtpErlangList) t).elements()) + "]";
    }
    if (t instanceof OtpErlangMap) {
      final OtpErlangMap m = (OtpErlangMap) t;
      final StringBuilder b = new StringBuilder("#{");
      for (int i = 0; i < m.arity(); ++i) {
        b.append(i == 0 ? "" : ",").append(show(m.keys()[i])).append(" => ").append(
            show(m.values()[i]));
      }
      return b.append("}").toString();
    }
    return t.toString();
  }

  private static String join(final OtpErlangObject[] elements) {
    final StringBuilder b = new StringBuilder();
    for (int i = 0; i < elements.length; ++i) {
      b.append(i == 0 ? "" : ",").append(show(elements[i]));
    }
    return b.toString();
  }

  /** A message from the target tagged `tag` ({Tag, Answer}): the answer, or null at timeout. */
  private OtpErlangObject answer(final OtpErlangRef tag) throws Exception {
    final long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      final OtpErlangObject m = mbox.receive(Math.max(1, deadline - System.currentTimeMillis()));
      if (m instanceof OtpErlangTuple && ((OtpErlangTuple) m).arity() == 2
          && tag.equals(((OtpErlangTuple) m).elementAt(0))) {
        return ((OtpErlangTuple) m).elementAt(1);
      }
    }
    return null;
  }

  /** gen_server:call({Name, Target}, Request) by hand: the reply, or "timeout". */
  private String call(final String name, final OtpErlangObject request) throws Exception {
    final OtpErlangRef tag = node.createRef();
    mbox.send(name, target, tuple(atom("$gen_call"), tuple(mbox.self(), tag), request));
    final OtpErlangObject reply = answer(tag);
    return reply == null ? "timeout" : show(reply);
  }

  /** A sys request ({system, From, Request}), answered like a call. */
  private OtpErlangObject system(final String name, final OtpErlangObject request)
      throws Exception {
    final OtpErlangRef tag = node.createRef();
    mbox.send(name, target, tuple(atom("system"), tuple(mbox.self(), tag), request));
    return answer(tag);
  }

  private void cast(final String name, final OtpErlangObject message) {
    mbox.send(name, target, tuple(atom("$gen_cast"), message));
  }

  private void print(final String name, final OtpErlangObject request) throws Exception {
    System.out.println(name + " " + show(request) + " -> " + call(name, request));
  }

  public static void main(final String[] args) throws Exception {
    final JInterfaceProbe p = new JInterfaceProbe(args[0], args[1], args[2]);
    System.out.println("ping -> " + p.node.ping(args[2], 10_000));
    final OtpErlangLong max = new OtpErlangLong(Long.MAX_VALUE);
    p.print("counter", atom("get_count"));
    p.cast("counter", tuple(atom("increment"), new OtpErlangLong(5)));
    p.cast("counter", tuple(atom("increment"), max));
    p.print("counter", atom("get_count"));
    p.cast("counter", tuple(atom("increment"), new OtpErlangDouble(1.5)));
    p.print("counter", atom("get_count"));
    p.cast("stack", tuple(atom("push"), atom("world")));
    p.cast("stack", tuple(atom("push"), new OtpErlangBinary("bin".getBytes())));
    p.print("stack", atom("pop"));
    p.print("stack", atom("pop"));
    p.print("kv_store", tuple(atom("put"), atom("name"), new OtpErlangBinary("Elixir".getBytes())));
    p.print("kv_store", tuple(atom("put"), new OtpErlangLong(1), atom("a")));
    p.print("kv_store", tuple(atom("get"), atom("name")));
    p.print("kv_store", tuple(atom("get"), atom("missing")));
    p.print("kv_store", atom("keys"));
    p.print("erl_kv_store", tuple(atom("put"), atom("name"), new OtpErlangString("Alice")));
    p.print("erl_kv_store", tuple(atom("get"), atom("name")));
    p.print("erl_kv_store", atom("all"));
    final OtpErlangBinary key = new OtpErlangBinary("name".getBytes());
    p.print("hashmap", tuple(atom("put"), key, new OtpErlangBinary("John".getBytes())));
    p.print("hashmap", tuple(atom("get"), key));
    p.print("hashmap", tuple(atom("update"), key, new OtpErlangBinary("Doe".getBytes())));
    p.print("hashmap", tuple(atom("get_all")));
    p.print("shopping_cart", tuple(atom("add_item"), atom("apple"), new OtpErlangLong(3)));
    p.print("shopping_cart", tuple(atom("add_item"), atom("pear"), new OtpErlangDouble(0.5)));
    p.print("shopping_cart", atom("total"));
    p.print("shopping_cart", atom("list_items"));

    // Linked to the counter, which a bad increment crashes: the exit comes to this node.
    final OtpErlangObject status = p.system("counter", atom("get_status"));
    final OtpErlangPid counter = (OtpErlangPid) ((OtpErlangTuple) status).elementAt(1);
    p.mbox.link(counter);
    p.cast("counter", tuple(atom("increment"), atom("x")));
    try {
      System.out.println("linked counter -> message " + p.mbox.receive(10_000));
    } catch (final OtpErlangExit e) {
      final OtpErlangObject why = e.reason();
      // The stack part of the reason depends on the runtime; what failed does not.
      System.out.println("linked counter -> exit "
          + show(why instanceof OtpErlangTuple ? ((OtpErlangTuple) why).elementAt(0) : why)
          + (counter.equals(e.pid()) ? " from the counter" : " from " + e.pid()));
    }

    if (args.length >= 5) {
      // OtpConnection.sendRPC: {Self, {call, M, F, [], user}} to rex, answered {rex, Result}.
      final OtpSelf self = new OtpSelf(args[0] + "_rpc", args[1], new LoopbackFactory());
      final OtpConnection conn = self.connect(new OtpPeer(args[2]));
      conn.sendRPC(args[3], args[4], new OtpErlangList());
      System.out.println("rpc " + args[3] + ":" + args[4] + "() -> " + show(conn.receiveRPC()));
      conn.close();
    }
    p.node.close();
    System.out.println("done");
    System.exit(0);
  }
}
