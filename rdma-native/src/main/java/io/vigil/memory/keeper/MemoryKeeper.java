package io.vigil.memory.keeper;

import io.vigil.memory.VerbsExporter;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host's memory keeper: serves reads of the cache arenas in its arena directory to peers presenting a
 * {@link io.vigil.protocol.memory.RegionGrant} signed under its grant key, over TCP (protocol: rdma-native/README.md)
 * and, given a {@link VerbsExporter}, hands out RDMA tickets through the same grant check. Arenas are opened
 * read-only per connection, so a keeper serves whatever the agent left, alive or not.
 *
 * <p>A connection takes one of the {@code maxConnections} serving slots only once its grant is accepted; until then
 * it is in the {@link HandshakeStage}, whose own small limits are all that peers without a grant can fill
 * ({@link KeeperLimits}). So a flood of silent peers or bad grants can delay another peer's handshake, never take
 * the slot that a host recovering dirty pages needs.
 */
public final class MemoryKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MemoryKeeper.class);
    private static final int MIN_KEY_BYTES = 16;
    /** Turned-away connections logged one by one per window; the rest are counted in one line. */
    private static final int TURNED_AWAY_LINES = 10;
    private static final Duration TURNED_AWAY_WINDOW = Duration.ofSeconds(10);

    private final String host;
    private final Path arenaDir;
    private final String grantKey;
    private final InetSocketAddress listen;
    private final VerbsExporter verbs;
    private final KeeperLimits limits;
    private final RegionAccess access;
    private final HandshakeStage<Pending> handshakes;
    private final Semaphore servingSlots;
    private final LogThrottle turnedAway = new LogThrottle(TURNED_AWAY_LINES, TURNED_AWAY_WINDOW, System::nanoTime);
    private final KeeperConnection.Stages stages = new Stages();
    /** Connections with a thread: in their handshake or served. */
    private final Set<KeeperConnection> connections = ConcurrentHashMap.newKeySet();
    private ServerSocketChannel server;
    private ExecutorService workers;
    private ScheduledExecutorService reaper;
    private Thread acceptor;
    private volatile boolean closed;

    /** A keeper with {@link KeeperLimits#defaults()} and the system clock; see the full constructor. */
    public MemoryKeeper(String host, Path arenaDir, String grantKey, InetSocketAddress listen, VerbsExporter verbs) {
        this(host, arenaDir, grantKey, listen, verbs, KeeperLimits.defaults(), Clock.systemUTC());
    }

    /**
     * @param host this keeper's host name, which grants must name
     * @param arenaDir where the host's arenas are ({@code <vm>.<disk>.arena})
     * @param grantKey the HMAC key grants are signed with (base64)
     * @param listen TCP address to listen on; port 0 picks a free port ({@link #port()})
     * @param verbs the RDMA side, or null when the host has none; the keeper closes it on {@link #close()}
     * @param clock what grant expiry is judged against
     */
    public MemoryKeeper(String host, Path arenaDir, String grantKey, InetSocketAddress listen, VerbsExporter verbs,
            KeeperLimits limits, Clock clock) {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host is required");
        checkKey(grantKey);
        this.host = host;
        this.arenaDir = arenaDir;
        this.grantKey = grantKey;
        this.listen = listen;
        this.verbs = verbs;
        this.limits = limits;
        this.access = new RegionAccess(host, arenaDir, grantKey, clock);
        this.handshakes = new HandshakeStage<>(limits);
        this.servingSlots = new Semaphore(limits.maxConnections());
    }

    /** An accepted connection that has not presented a grant yet. */
    private record Pending(SocketChannel channel, InetAddress address, String peer) {}

    private static void checkKey(String grantKey) {
        byte[] key;
        try {
            key = grantKey == null ? new byte[0] : Base64.getDecoder().decode(grantKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("grant key is not base64");
        }
        if (key.length < MIN_KEY_BYTES) throw new IllegalArgumentException("grant key must be at least " + MIN_KEY_BYTES + " bytes");
    }

    /** Binds the listen address and starts serving. */
    public synchronized void start() throws IOException {
        if (server != null) throw new IllegalStateException("already started");
        if (closed) throw new IllegalStateException("closed");
        server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(listen, 128);
        } catch (IOException e) {
            server.close();
            throw new IOException("memory keeper cannot listen on " + listen + ": " + e.getMessage(), e);
        }
        AtomicInteger threads = new AtomicInteger();
        workers = Executors.newCachedThreadPool(r -> daemon(r, "keeper-conn-" + threads.incrementAndGet()));
        reaper = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "keeper-reaper"));
        long period = Math.max(10, Math.min(500, shortestTimeoutMillis() / 4));
        reaper.scheduleWithFixedDelay(this::reap, period, period, TimeUnit.MILLISECONDS);
        acceptor = daemon(this::acceptLoop, "keeper-accept");
        acceptor.start();
        log.debug("memory keeper of {} serves {} on {}", host, arenaDir, server.getLocalAddress());
    }

    /** The bound TCP port. */
    public int port() {
        return address().getPort();
    }

    public synchronized InetSocketAddress address() {
        if (server == null) throw new IllegalStateException("not started");
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("keeper is closed", e);
        }
    }

    public String host() {
        return host;
    }

    /** The RDMA connection manager port, 0 without RDMA. */
    public int verbsPort() {
        return verbs == null ? 0 : verbs.port();
    }

    /** Where peers reach this keeper, given the address they should use. */
    public MemoryKeeperEndpoint endpoint(String advertisedAddress) {
        return new MemoryKeeperEndpoint(host, advertisedAddress, port(), verbsPort(), grantKey);
    }

    /** Connections open now: served, in their handshake, or waiting for a handshake slot. */
    int connections() {
        return connections.size() + handshakes.waiting();
    }

    /** Connections holding a serving slot (at most {@code maxConnections}). */
    int serving() {
        return limits.maxConnections() - servingSlots.availablePermits();
    }

    /** Connections in their handshake now (at most {@code maxHandshakes}). */
    int handshaking() {
        return handshakes.handshakes();
    }

    /** Connections waiting for a handshake slot. */
    int waiting() {
        return handshakes.waiting();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) { // out of file descriptors, say: keep serving those we have
                log.warn("memory keeper cannot accept a connection: {}", e.toString());
                sleepQuietly(100);
                continue;
            }
            admit(channel);
        }
    }

    /** Into the handshake stage: a handshake now, a place in the waiting line, or BUSY when the line is full. */
    private void admit(SocketChannel channel) {
        Pending pending;
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true); // replies are batched by hand
            InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
            pending = new Pending(channel, remote.getAddress(), String.valueOf(remote));
        } catch (IOException e) {
            closeQuietly(channel);
            return;
        }
        HandshakeStage.Arrival<Pending> arrival = handshakes.arrive(pending, pending.address());
        if (arrival.turnedAway() != null) {
            Pending away = arrival.turnedAway();
            if (turnedAway.allow(away.address().getHostAddress()))
                log.warn("turned away {}: all {} places in the handshake waiting line are taken, most by its address",
                        away.peer(), limits.maxWaiting());
            rejectBusy(away.channel());
        }
        if (arrival.started()) startHandshake(pending);
    }

    private void startHandshake(Pending p) {
        KeeperConnection connection = new KeeperConnection(p.channel(), p.address(), p.peer(), access, verbs, limits,
                turnedAway, stages);
        connections.add(connection);
        try {
            workers.execute(connection);
        } catch (RejectedExecutionException e) { // closing
            connections.remove(connection);
            closeQuietly(p.channel());
        }
    }

    /** Moves connections from their handshake to a serving slot, and gives freed handshake slots to those waiting. */
    private final class Stages implements KeeperConnection.Stages {
        @Override
        public void handshakeEnded(KeeperConnection c) {
            Pending next = handshakes.handshakeEnded(c.address());
            if (next != null) startHandshake(next);
        }

        @Override
        public boolean takeServingSlot() {
            return servingSlots.tryAcquire();
        }

        @Override
        public void ended(KeeperConnection c, boolean served) {
            if (served) servingSlots.release();
            connections.remove(c);
        }
    }

    /** Answers BUSY without reading anything; a fresh socket's send buffer always takes the few bytes. */
    private static void rejectBusy(SocketChannel channel) {
        byte[] text = "memory keeper busy: too many connections waiting for a handshake".getBytes(StandardCharsets.UTF_8);
        ByteBuffer reply = ByteBuffer.allocate(KeeperProtocol.OPEN_REPLY_BYTES + text.length).putInt(KeeperProtocol.MAGIC)
                .putShort((short) KeeperProtocol.VERSION).putShort((short) KeeperStatus.BUSY.code()).putInt(text.length)
                .put(text).flip();
        try {
            channel.configureBlocking(false);
            channel.write(reply);
            channel.shutdownOutput();
        } catch (IOException e) {
            // the peer is gone already
        } finally {
            closeQuietly(channel);
        }
    }

    private void reap() {
        long now = System.nanoTime();
        for (KeeperConnection c : connections) c.expireIfOverdue(now);
        String summary = turnedAway.summary();
        if (summary != null) log.warn("memory keeper {}", summary);
    }

    private long shortestTimeoutMillis() {
        return Math.min(limits.handshakeTimeout().toMillis(), Math.min(limits.idleTimeout().toMillis(), limits.stallTimeout().toMillis()));
    }

    /** Stops accepting, ends every connection and closes the verbs exporter. */
    @Override
    public void close() {
        ServerSocketChannel s;
        synchronized (this) {
            if (closed) return;
            closed = true;
            s = server;
        }
        if (s != null) {
            closeQuietly(s);
            reaper.shutdownNow();
            for (Pending p : handshakes.close()) closeQuietly(p.channel());
            for (KeeperConnection c : connections) c.abort("memory keeper closing");
            workers.shutdown();
            try {
                if (!workers.awaitTermination(5, TimeUnit.SECONDS)) log.warn("memory keeper connections still ending");
                acceptor.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (verbs != null) verbs.close();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
