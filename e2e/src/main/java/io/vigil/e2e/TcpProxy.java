package io.vigil.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay between one agent and one controller, so a test can cut that agent's network link (and only
 * that link: its shared storage stays reachable) and restore it.
 *
 * <p>While nothing listens on the target (its controller is down, or not started yet) the relay does not listen
 * either, so a client's connection is refused at once, as a dead controller's would be on a network; a relay that
 * accepted it would leave the client waiting on a TLS handshake that never comes, or closed it in the middle. It
 * listens again on the same port once the target does.
 */
public final class TcpProxy implements AutoCloseable {
    private static final long PROBE_MILLIS = 100;
    private final int port;
    private final int targetPort;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Object listening = new Object();
    private ServerSocket server; // guarded by listening; null while the target is down
    private volatile boolean cut;
    private volatile boolean closed;

    public TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        ServerSocket first = bind(0);
        this.port = first.getLocalPort();
        if (targetListens()) {
            server = first;
        } else {
            first.close();
        }
        Thread acceptor = new Thread(this::run, "tcp-proxy-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return port;
    }

    /** Drops every relayed connection and refuses new ones until {@link #restore()}. */
    public void cut() {
        cut = true;
        for (Socket s : open) closeQuietly(s);
        open.clear();
    }

    public void restore() {
        cut = false;
    }

    private void run() {
        while (!closed) {
            ServerSocket s;
            synchronized (listening) {
                s = server;
            }
            if (s == null) {
                awaitTarget();
                continue;
            }
            try {
                Socket client = s.accept();
                if (cut) {
                    closeQuietly(client);
                    continue;
                }
                Socket upstream = new Socket();
                try {
                    upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
                } catch (IOException refused) {
                    // The target went away: refuse from now on, and reset this client (it was accepted already).
                    stopListening();
                    closeQuietly(upstream);
                    reset(client);
                    continue;
                }
                open.add(client);
                open.add(upstream);
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                // closed, or stopped listening: the loop decides
            }
        }
    }

    /** Waits until the target listens again, then listens on the relay's port again. */
    private void awaitTarget() {
        while (!closed && !targetListens()) sleep();
        if (closed) return;
        try {
            ServerSocket s = bind(port);
            synchronized (listening) {
                if (closed) s.close();
                else server = s;
            }
        } catch (IOException e) {
            sleep(); // the port is busy for a moment (TIME_WAIT, a racing bind): try again
        }
    }

    private void stopListening() {
        synchronized (listening) {
            if (server != null) closeQuietly(server);
            server = null;
        }
    }

    private boolean targetListens() {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        return s;
    }

    /** Copies {@code from} to {@code to} until either closes; an upstream that closed because its target died stops the relay listening. */
    private void pump(Socket from, Socket to, boolean fromTarget) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // either side closed: close both below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
                if (fromTarget && !closed && !targetListens()) stopListening();
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // closing anyway
        }
        closeQuietly(s);
    }

    private static void sleep() {
        try {
            Thread.sleep(PROBE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable s) {
        try {
            s.close();
        } catch (Exception ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        cut();
        stopListening();
    }
}
