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
 * An NBD server on a UNIX domain socket, serving {@link BlockDevice}s as named exports. Every connection to an export
 * shares its device, so a flush on one covers writes on all (the server says so with CAN_MULTI_CONN).
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    /** sun_path holds 108 bytes with the terminating NUL. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;
    private static final long MAX_IDLE_BUFFER_BYTES = 64L << 20;

    private final Path socket;
    private final ServerSocketChannel listener;
    private final ExecutorService workers;
    private final Exports exports = new Exports();
    private final BufferPool pool = new BufferPool(MAX_IDLE_BUFFER_BYTES);
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private NbdServer(Path socket, ServerSocketChannel listener, int workers) {
        this.socket = socket;
        this.listener = listener;
        AtomicLong workerIds = new AtomicLong();
        this.workers = Executors.newFixedThreadPool(workers, task -> {
            Thread thread = new Thread(task, "nbd-worker-" + workerIds.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.acceptor = new Thread(this::accept, "nbd-accept");
        acceptor.setDaemon(true);
    }

    /**
     * Listens on {@code socket}, replacing a stale socket file nobody listens on; {@code workers} threads serve the
     * requests that must wait for a device.
     */
    public static NbdServer start(Path socket, int workers) throws IOException {
        if (workers < 1) throw new IllegalArgumentException("an NBD server needs at least one worker, not " + workers);
        int pathBytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (pathBytes > MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException("socket path " + socket + " is " + pathBytes
                    + " bytes; a UNIX socket path must be at most " + MAX_SOCKET_PATH_BYTES);
        }
        removeStaleSocket(socket);
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        NbdServer server = new NbdServer(socket, listener, workers);
        server.acceptor.start();
        log.info("NBD server listening on {}", socket);
        return server;
    }

    public Path socket() {
        return socket;
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

    /** Closes the socket and every connection; the devices stay open, for their owner to close. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            listener.close();
            acceptor.join();
        } catch (IOException e) {
            log.warn("closing the NBD socket {} failed", socket, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Connection connection : List.copyOf(connections)) connection.close();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) log.warn("NBD workers still busy after 10 s");
            Files.deleteIfExists(socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("removing the NBD socket {} failed", socket, e);
        }
        log.info("NBD server on {} closed", socket);
    }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel channel = listener.accept();
                Connection connection = new Connection(connectionIds.incrementAndGet(), channel, exports, pool,
                        workers, connections::remove);
                connections.add(connection);
                connection.start();
                if (closed) connection.close(); // raced with close(), which may already have closed the others
            } catch (AsynchronousCloseException e) {
                return;
            } catch (IOException e) {
                if (closed) return;
                log.warn("accepting an NBD connection on {} failed", socket, e);
                sleepBriefly(); // e.g. out of file descriptors: do not spin
            }
        }
    }

    private static void removeStaleSocket(Path socket) throws IOException {
        if (!Files.exists(socket)) return;
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
