package io.vigil.agent.link;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vigil.agent.isolation.IsolationMonitor;
import io.vigil.agent.tls.TlsFiles;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one long-lived connection to a controller: a WebSocket the agent dials (the host opens no port).
 * Says Hello, waits for Welcome, then sends a Heartbeat with the full inventory every interval. Hello is the first
 * message on every connection and nothing else is sent before Welcome (a lifecycle event of that moment is dropped:
 * the next heartbeat's inventory carries the state). Heartbeats run on their own thread and never wait on libvirt:
 * {@link Agent#heartbeat} must answer from what it has (the agent's {@code InventoryFeed}). When the connection
 * drops, or a controller refuses the agent, it dials again with backoff, cycling through the configured controllers
 * and those the last Welcome named. Controller silence (no pong to our pings) for the failure timeout counts as a
 * drop, so that a hung controller is noticed like a dead one.
 *
 * <p>wss:// controllers are dialled with mutual TLS: the agent's certificate from {@code tlsDir} as the client
 * certificate, the cluster CA as the only trust anchor. A controller that rejects the certificate (401, 403: revoked,
 * or unknown to the cluster) is logged loudly, at most once a minute, and dialled again like any other: the operator
 * may enroll the host again (delete {@code tlsDir}, restart the agent with a new join token).
 */
public final class ControllerLink implements IsolationMonitor.Link, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControllerLink.class);
    private static final long MIN_BACKOFF_MILLIS = 200;
    /** The longest wait between two dials. */
    public static final long MAX_BACKOFF_MILLIS = 5000;
    private static final long REJECTION_LOG_INTERVAL_NANOS = 60_000_000_000L;

    /** What the link needs from the agent. Calls other than {@link #execute} and {@link #heartbeat} may block (libvirt). */
    public interface Agent {
        AgentMessage.Hello hello();

        /** Must not block: built from the latest inventory the agent has. */
        AgentMessage.Heartbeat heartbeat(long sequence);

        /** Executes a controller's command, unless its leader epoch is stale; completes with its result either way. */
        CompletableFuture<AgentMessage.CommandResult> execute(ControllerMessage.Command command);

        void applyPolicy(AgentPolicy policy);

        void lostVms(List<String> vms);

        /** The controller cleared the host for its shutdown (answering {@link #announceHostShutdown}). */
        void shutdownCleared(String detail);

        /** The controller's cache budgets for this host's VMs, MiB by VM (the whole set). */
        default void cacheBudgets(java.util.Map<String, Long> budgetsMiB) {}
    }

    private final Vertx vertx;
    private final WebSocketClient client;
    private final Agent agent;
    /** The cluster policy's failure timeout once a controller sent one, else the agent's configured value. */
    private volatile long failureTimeoutMillis;
    private final LinkedHashSet<String> controllers = new LinkedHashSet<>();
    private final TlsFiles tls;
    private long lastRejectionLoggedNanos;
    private boolean rejectionLogged;
    /** Hello, policy, lost VMs: work that may wait on libvirt. */
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-link");
        t.setDaemon(true);
        return t;
    });
    /** Pings and heartbeats only: nothing on it waits on libvirt, QEMU or disks. */
    private final ScheduledExecutorService pulse = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-link-heartbeat");
        t.setDaemon(true);
        return t;
    });
    /** Orders the messages written to the socket (a heartbeat read after a command's result goes out after it). */
    private final Object sendLock = new Object();

    private final AtomicLong sequence = new AtomicLong();

    // Connection state: written on the Vert.x context, read anywhere.
    private volatile WebSocket socket;
    private volatile boolean welcomed;
    private volatile boolean everWelcomed;
    private volatile long downSinceNanos = System.nanoTime();
    private volatile long lastHeardNanos;
    private volatile long unansweredPingSinceNanos;
    private volatile boolean closed;
    /** Announced and not yet cleared: said again to every controller that welcomes this agent. */
    private volatile AgentMessage.HostShutdown hostShutdown;
    private int next;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private ScheduledFuture<?> heartbeats;

    public ControllerLink(Vertx vertx, List<String> controllers, Agent agent, long failureTimeoutMillis) {
        this(vertx, controllers, agent, failureTimeoutMillis, null);
    }

    /** @param tls the agent's credentials for wss:// controllers; null: ws:// only (tests with fake controllers) */
    public ControllerLink(Vertx vertx, List<String> controllers, Agent agent, long failureTimeoutMillis, TlsFiles tls) {
        this.vertx = vertx;
        this.agent = agent;
        this.failureTimeoutMillis = failureTimeoutMillis;
        this.controllers.addAll(controllers);
        this.tls = tls;
        WebSocketClientOptions options = new WebSocketClientOptions().setConnectTimeout(3000);
        if (tls != null) tls.applyTo(options);
        this.client = vertx.createWebSocketClient(options);
    }

    public void start(long heartbeatIntervalMillis) {
        setHeartbeatInterval(heartbeatIntervalMillis);
        vertx.runOnContext(v -> dial());
    }

    /** Whether a controller has welcomed this agent on the current connection. */
    @Override
    public boolean isConnected() {
        return welcomed;
    }

    /** Whether a controller has ever welcomed this agent since it started. */
    @Override
    public boolean everConnected() {
        return everWelcomed;
    }

    /** {@link System#nanoTime()} since which no controller has been connected (meaningless while connected). */
    @Override
    public long downSinceNanos() {
        return downSinceNanos;
    }

    @Override
    public long longestRedialMillis() {
        return MAX_BACKOFF_MILLIS;
    }

    /** Controller silence for this long drops the connection; follows the cluster policy's failure timeout. */
    public void setFailureTimeoutMillis(long millis) {
        if (millis <= 0) throw new IllegalArgumentException("failure timeout must be positive");
        this.failureTimeoutMillis = millis;
    }

    public long failureTimeoutMillis() {
        return failureTimeoutMillis;
    }

    public synchronized void setHeartbeatInterval(long millis) {
        if (heartbeats != null) heartbeats.cancel(false);
        heartbeats = pulse.scheduleAtFixedRate(this::tick, millis, millis, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            WebSocket ws = socket;
            if (ws == null) return;
            // Silence counts from the oldest ping nothing has answered since, not from the last message heard: a
            // tick that ran late (this thread busy building an inventory while libvirt starts many VMs) must not
            // read its own delay as the controller's silence.
            long now = System.nanoTime();
            long probe = unansweredPingSinceNanos;
            boolean answered = probe == 0 || lastHeardNanos >= probe;
            long timeout = failureTimeoutMillis;
            if (!answered && now - probe > timeout * 1_000_000L) {
                vertx.runOnContext(x -> abandon(ws, "controller silent for more than " + timeout
                        + " ms: dropping the connection"));
                return;
            }
            if (answered) unansweredPingSinceNanos = now;
            ws.writePing(Buffer.buffer("vigil"));
            if (welcomed) {
                AgentMessage.Heartbeat beat;
                synchronized (sendLock) { // the inventory is read under the lock: see send()
                    beat = agent.heartbeat(sequence.incrementAndGet());
                    if (!welcomed || socket != ws) return;
                    ws.writeTextMessage(Json.write(beat));
                }
            }
        } catch (RuntimeException e) {
            log.warn("heartbeat to controller failed: {}", e.toString());
        }
    }

    /**
     * Sends {@code message} on the current connection once a controller has welcomed this agent; dropped otherwise
     * (the next heartbeat converges). Callers that read libvirt's state for it read it before calling: a heartbeat
     * sent after this one then carries an inventory at least as new.
     */
    public void send(AgentMessage message) {
        WebSocket ws = socket;
        if (ws == null || ws.isClosed() || !welcomed) {
            log.debug("not connected and welcomed: dropping {}", message.getClass().getSimpleName());
            return;
        }
        synchronized (sendLock) {
            if (socket != ws || !welcomed) return;
            ws.writeTextMessage(Json.write(message));
        }
    }

    /**
     * Tells the controller the host is shutting down: now if connected, and again after every reconnect (perhaps to
     * another controller) until a controller answers with ShutdownCleared.
     */
    public void announceHostShutdown(AgentMessage.HostShutdown message) {
        hostShutdown = message;
        if (welcomed) send(message);
    }

    private void dial() {
        if (closed) return;
        List<String> urls = new ArrayList<>(controllers);
        String url = urls.get(next++ % urls.size());
        client.connect(new WebSocketConnectOptions().setAbsoluteURI(url)).onComplete(ar -> {
            if (ar.failed()) {
                if (ar.cause() instanceof UpgradeRejectedException r && (r.getStatus() == 401 || r.getStatus() == 403)) {
                    rejected(url, r.getStatus());
                    backoffMillis = MAX_BACKOFF_MILLIS;
                } else {
                    log.info("cannot reach controller {}: {}", url, ar.cause().getMessage());
                }
                redial(backoffMillis);
                backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
                return;
            }
            opened(ar.result(), url);
        });
    }

    /** The controller refused this agent's certificate: said loudly, once a minute at most (runs on the context). */
    private void rejected(String url, int status) {
        long now = System.nanoTime();
        if (rejectionLogged && now - lastRejectionLoggedNanos < REJECTION_LOG_INTERVAL_NANOS) return;
        rejectionLogged = true;
        lastRejectionLoggedNanos = now;
        String where = tls != null ? tls.dir().toString() : "tlsDir";
        log.error("controller {} refuses this agent's certificate (HTTP {}: {}); still trying. To enroll again: stop the "
                + "agent, delete {}, and start it with a new joinToken (POST /api/v1/join-tokens on the controller)", url, status,
                status == 401 ? "no certificate presented" : "revoked, or unknown to the controller cluster", where);
    }

    private void opened(WebSocket ws, String url) {
        if (closed) {
            ws.close();
            return;
        }
        log.info("connected to controller {}", url);
        socket = ws;
        lastHeardNanos = System.nanoTime();
        unansweredPingSinceNanos = 0;
        ws.textMessageHandler(text -> received(ws, url, text));
        ws.pongHandler(b -> lastHeardNanos = System.nanoTime());
        ws.exceptionHandler(e -> log.debug("controller connection {}: {}", url, e.toString()));
        ws.closeHandler(v -> vertx.runOnContext(x -> abandon(ws, "connection to controller " + url + " closed")));
        onWorker(() -> {
            try {
                ws.writeTextMessage(Json.write(agent.hello()));
            } catch (RuntimeException e) {
                log.warn("cannot send Hello: {}", e.toString());
                ws.close();
            }
        });
    }

    private void received(WebSocket ws, String url, String text) {
        lastHeardNanos = System.nanoTime();
        ControllerMessage message;
        try {
            message = Json.read(text, ControllerMessage.class);
        } catch (IllegalArgumentException e) {
            log.warn("ignoring a malformed message from {}: {}", url, e.getMessage());
            return;
        }
        if (message instanceof ControllerMessage.Welcome w) {
            log.info("welcomed by controller {} ({})", w.controller(), url);
            if (w.controllers() != null) w.controllers().stream().filter(c -> c != null && !c.isBlank()).forEach(controllers::add);
            backoffMillis = MIN_BACKOFF_MILLIS;
            welcomed = true;
            everWelcomed = true;
            if (w.policy() != null) onWorker(() -> agent.applyPolicy(w.policy()));
            AgentMessage.HostShutdown pending = hostShutdown;
            if (pending != null) send(pending);
            try {
                pulse.execute(this::tick); // an inventory at once, not one interval later
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        } else if (message instanceof ControllerMessage.Refused r) {
            log.warn("controller {} refused this agent: {}; retrying in {} ms", url, r.reason(), MAX_BACKOFF_MILLIS);
            backoffMillis = MAX_BACKOFF_MILLIS;
            ws.close();
        } else if (message instanceof ControllerMessage.Command c) {
            agent.execute(c).thenAccept(this::send);
        } else if (message instanceof ControllerMessage.PolicyUpdate p) {
            onWorker(() -> agent.applyPolicy(p.policy()));
        } else if (message instanceof ControllerMessage.LostVms l) {
            onWorker(() -> agent.lostVms(l.vms() == null ? List.of() : l.vms()));
        } else if (message instanceof ControllerMessage.ShutdownCleared c) {
            if (hostShutdown == null) {
                log.warn("controller {} cleared a host shutdown this agent did not announce: ignored", url);
                return;
            }
            hostShutdown = null;
            onWorker(() -> agent.shutdownCleared(c.detail()));
        } else if (message instanceof ControllerMessage.CacheBudgets b) {
            agent.cacheBudgets(b.budgetsMiB()); // applied in the background by the disk service
        }
    }

    /** Runs {@code task} on the link's worker thread (libvirt calls must not block the event loop). */
    private void onWorker(Runnable task) {
        try {
            worker.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * Gives up on {@code ws} (once; later calls for it do nothing) and dials again. Runs on the Vert.x context. A
     * silent controller's connection is given up at once, without waiting for a close handshake it will never answer.
     */
    private synchronized void abandon(WebSocket ws, String why) {
        if (socket != ws) return;
        socket = null;
        if (welcomed) downSinceNanos = System.nanoTime();
        welcomed = false;
        log.warn("{}", why);
        if (!ws.isClosed()) ws.close();
        redial(backoffMillis);
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
    }

    private void redial(long delayMillis) {
        if (closed) return;
        vertx.setTimer(delayMillis, id -> dial());
    }

    @Override
    public void close() {
        closed = true;
        worker.shutdownNow();
        pulse.shutdownNow();
        WebSocket ws = socket;
        if (ws != null) ws.close();
        client.close();
    }
}
