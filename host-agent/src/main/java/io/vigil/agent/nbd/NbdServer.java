package io.vigil.agent.nbd;

import io.vigil.agent.disk.BlockDevice;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server on UNIX domain sockets, serving {@link BlockDevice}s as named exports. Every connection to an export
 * shares its device, so a flush on one covers writes on all (the server says so with CAN_MULTI_CONN).
 *
 * <p>A server listens on one socket that serves every export ({@link #start(Path, int)}: {@code vigil nbd-serve},
 * tests), or on one socket per scope ({@link #listen}): the agent gives each VM its own socket, owned by the account
 * its QEMU runs as, on which only that VM's exports can be opened or listed.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    /** sun_path holds 108 bytes with the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    private static final long MAX_IDLE_BUFFER_BYTES = 64L << 20;

    private final ExecutorService workers;
    private final Exports exports = new Exports();
    private final BufferPool pool = new BufferPool(MAX_IDLE_BUFFER_BYTES);
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    /** Listeners by scope; the unscoped one (every export) under the empty string. */
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private NbdServer(int workers) {
        if (workers < 1) throw new IllegalArgumentException("an NBD server needs at least one worker, not " + workers);
        AtomicLong workerIds = new AtomicLong();
        this.workers = Executors.newFixedThreadPool(workers, task -> {
            Thread thread = new Thread(task, "nbd-worker-" + workerIds.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Listens on {@code socket} for every export, replacing a stale socket file nobody listens on; {@code workers}
     * threads serve the requests that must wait for a device.
     */
    public static NbdServer start(Path socket, int workers) throws IOException {
        NbdServer server = new NbdServer(workers);
        try {
            server.listeners.put("", server.new Listener(null, socket, null));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** A server that listens nowhere until {@link #listen} is called. */
    public static NbdServer withoutSocket(int workers) {
        return new NbdServer(workers);
    }

    /**
     * Listens on {@code socket} for the exports whose names start with {@code scope + "/"} only, the socket given to
     * {@code owner} (null: left as created); replaces this scope's socket if it listens elsewhere. Listening again on
     * the same path re-applies the owner (a hand {@code chmod} does not outlive it).
     */
    public void listen(String scope, Path socket, SocketOwner owner) throws IOException {
        if (scope == null || scope.isEmpty()) throw new IllegalArgumentException("a scoped socket needs a scope");
        if (closed) throw new IOException("the NBD server is closed");
        synchronized (listeners) {
            Listener current = listeners.get(scope);
            if (current != null && current.socket.equals(socket)) {
                if (owner != null) owner.apply(socket);
                return;
            }
            if (current != null) current.close();
            listeners.put(scope, new Listener(scope + "/", socket, owner));
        }
    }

    /** Stops listening on {@code scope}'s socket and removes it; connections already open stay. */
    public void stopListening(String scope) {
        Listener l;
        synchronized (listeners) {
            l = listeners.remove(scope);
        }
        if (l != null) l.close();
    }

    /** The socket serving {@code scope}, if it listens. */
    public Optional<Path> socketOf(String scope) {
        Listener l = listeners.get(scope);
        return l == null ? Optional.empty() : Optional.of(l.socket);
    }

    /** The socket that serves every export; only for a server {@link #start(Path, int) started} on one. */
    public Path socket() {
        Listener l = listeners.get("");
        if (l == null) throw new IllegalStateException("this server has one socket per scope");
        return l.socket;
    }

    /** Serves {@code device} as {@code name}; the caller keeps owning the device. */
    public void addExport(String name, String description, BlockDevice device) {
        exports.add(new Export(name, description, device));
        log.info("NBD export {} added ({} bytes)", name, device.size());
    }

    /**
     * Stops serving {@code name}: new connections cannot select it, and open ones are closed once their device calls
     * in flight have finished. When this returns, nothing of the server uses the device. False if there was no such
     * export.
     */
    public boolean removeExport(String name) {
        Optional<List<Connection>> open = exports.remove(name);
        if (open.isEmpty()) return false;
        open.get().forEach(Connection::close);
        log.info("NBD export {} removed, {} connection(s) closed", name, open.get().size());
        return true;
    }

    public List<Export> exports() {
        return exports.list();
    }

    /** How many clients have {@code export} open now (QEMU holds one connection per disk while it runs). */
    public int connectionsTo(String export) {
        return exports.connections(export);
    }

    /** Closes the sockets and every connection; the devices stay open, for their owner to close. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        List<Listener> all;
        synchronized (listeners) {
            all = List.copyOf(listeners.values());
            listeners.clear();
        }
        for (Listener l : all) l.close();
        for (Connection connection : List.copyOf(connections)) connection.close();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) log.warn("NBD workers still busy after 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("NBD server closed");
    }

    /** One listening socket and its acceptor thread; its connections see the exports of its scope only. */
    private final class Listener {
        private final Path socket;
        private final Exports visible;
        private final ServerSocketChannel channel;
        private final Thread acceptor;
        private volatile boolean stopped;

        Listener(String prefix, Path socket, SocketOwner owner) throws IOException {
            int pathBytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
            if (pathBytes > MAX_SOCKET_PATH_BYTES) {
                throw new IllegalArgumentException("socket path " + socket + " is " + pathBytes
                        + " bytes; a UNIX socket path must be at most " + MAX_SOCKET_PATH_BYTES);
            }
            this.socket = socket;
            this.visible = prefix == null ? exports : exports.scopedTo(prefix);
            removeStaleSocket(socket);
            ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                listener.bind(UnixDomainSocketAddress.of(socket));
                if (owner != null) owner.apply(socket); // root-only (0755 with write for root alone) until now
            } catch (IOException | RuntimeException e) {
                listener.close();
                Files.deleteIfExists(socket);
                throw e;
            }
            this.channel = listener;
            this.acceptor = new Thread(this::accept, "nbd-accept" + (prefix == null ? "" : "-" + prefix));
            acceptor.setDaemon(true);
            acceptor.start();
            log.info("NBD server listening on {}{}", socket, owner == null ? "" : " (owner " + owner + ", mode 0600)");
        }

        private void accept() {
            while (!stopped && !closed) {
                try {
                    SocketChannel client = channel.accept();
                    Connection connection = new Connection(connectionIds.incrementAndGet(), client, visible, pool,
                            workers, connections::remove);
                    connections.add(connection);
                    connection.start();
                    if (closed) connection.close(); // raced with close(), which may already have closed the others
                } catch (AsynchronousCloseException e) {
                    return;
                } catch (IOException e) {
                    if (stopped || closed) return;
                    log.warn("accepting an NBD connection on {} failed", socket, e);
                    sleepBriefly(); // e.g. out of file descriptors: do not spin
                }
            }
        }

        void close() {
            stopped = true;
            try {
                channel.close();
                acceptor.join();
            } catch (IOException e) {
                log.warn("closing the NBD socket {} failed", socket, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("removing the NBD socket {} failed", socket, e);
            }
            log.info("NBD socket {} closed", socket);
        }
    }

    private static void removeStaleSocket(Path socket) throws IOException {
        if (!Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        boolean listening;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            listening = true;
        } catch (IOException e) {
            listening = false;
        }
        if (listening) throw new IOException("another server is listening on " + socket);
        Files.delete(socket);
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
