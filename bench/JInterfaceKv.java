// SPDX-License-Identifier: Apache-2.0
// A JInterface node (Debian erlang-jinterface) hosting the seed KVStore's protocol under a
// registered name, a reference for bench/run: {'$gen_call', {Pid, Tag}, {put, K, V}} -> {Tag, ok};
// {get, K} -> {Tag, V or nil}; cast {delete, K}. One thread takes the mailbox's messages in turn
// and sends {Tag, Reply} to the caller's pid (JInterface's connection threads read the sockets).
// Keys are the decoded terms in a HashMap (JInterface's equals/hashCode). JInterface offers no
// monitors: a caller of a dead server is not told and waits for its timeout. OtpNode answers
// net_kernel's is_auth itself. Usage: JInterfaceKv ALIVE@HOST COOKIE NAME (ERL_EPMD_PORT chooses
// epmd's port, as for erl). The node listens on 127.0.0.1 only, as the other bench nodes do.

import com.ericsson.otp.erlang.*;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;

public final class JInterfaceKv {
  private static final OtpErlangAtom GEN_CALL = new OtpErlangAtom("$gen_call");
  private static final OtpErlangAtom GEN_CAST = new OtpErlangAtom("$gen_cast");
  private static final OtpErlangAtom PUT = new OtpErlangAtom("put");
  private static final OtpErlangAtom GET = new OtpErlangAtom("get");
  private static final OtpErlangAtom DELETE = new OtpErlangAtom("delete");
  private static final OtpErlangAtom OK = new OtpErlangAtom("ok");
  private static final OtpErlangAtom NIL = new OtpErlangAtom("nil");

  /**
   * JInterface's default sockets, but the listening one bound to loopback. The accepted sockets
   * need TCP_NODELAY as OtpServerSocketTransport sets it: without it every reply (two writes,
   * header and payload) waits for the caller's delayed ACK, about 40 ms per call.
   */
  private static final class LoopbackTransportFactory extends OtpSocketTransportFactory {
    @Override
    public OtpServerTransport createServerTransport(final int port) throws IOException {
      final ServerSocket listener = new ServerSocket(port, 16, InetAddress.getLoopbackAddress());
      return new OtpServerTransport() {
        @Override
        public int getLocalPort() {
          return listener.getLocalPort();
        }

        @Override
        public OtpTransport accept() throws IOException {
          final Socket socket = listener.accept();
          socket.setTcpNoDelay(true);
          return new OtpSocketTransport(socket);
        }

        @Override
        public void close() throws IOException {
          listener.close();
        }
      };
    }
  }

  private JInterfaceKv() {}

  public static void main(final String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: JInterfaceKv ALIVE@HOST COOKIE NAME");
      System.exit(2);
    }
    final OtpNode node = new OtpNode(args[0], args[1], 0, new LoopbackTransportFactory());
    final OtpMbox mbox = node.createMbox(args[2]);
    if (mbox == null) throw new IllegalStateException("name taken: " + args[2]);
    final HashMap<OtpErlangObject, OtpErlangObject> map = new HashMap<>();
    for (;;) {
      final OtpErlangObject message;
      try {
        message = mbox.receive();
      } catch (final OtpErlangExit | OtpErlangDecodeException e) {
        System.err.println("JInterfaceKv: " + e);
        continue;
      }
      if (!(message instanceof OtpErlangTuple)) continue;
      final OtpErlangTuple t = (OtpErlangTuple) message;
      if (t.arity() == 2 && GEN_CAST.equals(t.elementAt(0))) {
        final OtpErlangTuple cast = asTuple(t.elementAt(1));
        if (cast != null && cast.arity() == 2 && DELETE.equals(cast.elementAt(0))) {
          map.remove(cast.elementAt(1));
        }
        continue;
      }
      if (t.arity() != 3 || !GEN_CALL.equals(t.elementAt(0))) continue;
      final OtpErlangTuple from = asTuple(t.elementAt(1));
      final OtpErlangTuple request = asTuple(t.elementAt(2));
      if (from == null || from.arity() != 2 || !(from.elementAt(0) instanceof OtpErlangPid)
          || request == null || request.arity() < 2) {
        continue;
      }
      final OtpErlangObject reply;
      final OtpErlangObject op = request.elementAt(0);
      if (request.arity() == 3 && PUT.equals(op)) {
        map.put(request.elementAt(1), request.elementAt(2));
        reply = OK;
      } else if (request.arity() == 2 && GET.equals(op)) {
        reply = map.getOrDefault(request.elementAt(1), NIL);
      } else {
        continue; // not the protocol: the caller waits for its timeout, as with no clause
      }
      // The tag (a reference, or [alias | Ref] from OTP 24 on) goes back as it came.
      mbox.send((OtpErlangPid) from.elementAt(0),
          new OtpErlangTuple(new OtpErlangObject[] {from.elementAt(1), reply}));
    }
  }

  private static OtpErlangTuple asTuple(final OtpErlangObject o) {
    return o instanceof OtpErlangTuple ? (OtpErlangTuple) o : null;
  }
}
