package io.vigil.controller.agents;

import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vigil.controller.runtime.AgentLink;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' side door: a WebSocket endpoint at {@link ProtocolVersion#AGENT_PATH} on the controller's HTTP server.
 * Agents dial in (hosts expose no port); the first frame must be a {@link AgentMessage.Hello} of the current
 * protocol version, answered with a {@link ControllerMessage.Welcome} naming this controller, every controller's
 * agent URL and the agent policy. After that, what happens on the connection becomes {@link AgentReport}s (for the
 * leader's HA loop, through the {@link AgentRelay}), and the loop's messages for a host go out over that host's
 * connection. Every connection gets a cluster-wide name, {@code memberId/n}, carried by its reports.
 *
 * <p>One connection per host: a second Hello for a connected host (the agent reconnected before the old TCP
 * connection timed out) replaces the older connection, which is closed without reporting a disconnect. A malformed
 * frame is logged and ignored; it never closes the connection.
 */
public final class AgentGateway implements AgentLink {
    private static final Logger log = LoggerFactory.getLogger(AgentGateway.class);

    private final String controllerName;
    private final String memberId;
    private final Supplier<List<String>> controllerUrls;
    private final Supplier<AgentPolicy> policy;
    private final Consumer<AgentReport> reports;
    private final ConcurrentHashMap<String, ServerWebSocket> connections = new ConcurrentHashMap<>();
    private final AtomicLong connectionCounter = new AtomicLong();

    /** @param memberId unique to this controller member's lifetime (its Hazelcast member UUID) */
    public AgentGateway(String controllerName, String memberId, Supplier<List<String>> controllerUrls,
            Supplier<AgentPolicy> policy, Consumer<AgentReport> reports) {
        this.controllerName = controllerName;
        this.memberId = memberId;
        this.controllerUrls = controllerUrls;
        this.policy = policy;
        this.reports = reports;
    }

    /** Accepts WebSocket upgrades on the agent path only. */
    public void handshake(ServerWebSocketHandshake handshake) {
        if (ProtocolVersion.AGENT_PATH.equals(handshake.path())) {
            handshake.accept();
        } else {
            handshake.reject(404);
        }
    }

    public void accept(ServerWebSocket ws) {
        new Connection(ws).start();
    }

    public Set<String> connectedHosts() {
        return Set.copyOf(connections.keySet());
    }

    @Override
    public boolean send(String host, ControllerMessage message) {
        ServerWebSocket ws = connections.get(host);
        if (ws == null) return false;
        ws.writeTextMessage(Json.write(message));
        return true;
    }

    @Override
    public void broadcast(ControllerMessage message) {
        String text = Json.write(message);
        connections.values().forEach(ws -> ws.writeTextMessage(text));
    }

    /** Closes every agent connection (controller shutdown); agents then dial another controller or retry. */
    public void closeAll() {
        connections.values().forEach(ServerWebSocket::close);
    }

    /** One agent connection; its handlers all run on the connection's event loop, so its fields need no locking. */
    private final class Connection {
        private final ServerWebSocket ws;
        private final String name = memberId + "/" + connectionCounter.incrementAndGet();
        private String host; // set by a successful Hello

        Connection(ServerWebSocket ws) {
            this.ws = ws;
        }

        void start() {
            ws.textMessageHandler(this::onText);
            ws.binaryMessageHandler(b -> log.warn("ignored a binary frame from {}", who()));
            ws.exceptionHandler(e -> log.debug("agent connection {}: {}", who(), e.toString()));
            ws.closeHandler(v -> onClose());
        }

        private String who() {
            return host != null ? host : String.valueOf(ws.remoteAddress());
        }

        private void onText(String text) {
            AgentMessage message;
            try {
                message = Json.read(text, AgentMessage.class);
                if (message.host() == null || message.host().isBlank()) throw new IllegalArgumentException("no host");
                if (message instanceof AgentMessage.Hello h && h.inventory() == null
                        || message instanceof AgentMessage.Heartbeat b && b.inventory() == null) {
                    throw new IllegalArgumentException("no inventory");
                }
            } catch (IllegalArgumentException e) {
                log.warn("ignored a malformed frame from {}: {}", who(), e.getMessage());
                return;
            }
            try {
                if (message instanceof AgentMessage.Hello hello) {
                    onHello(hello);
                } else if (host == null) {
                    refuse("the first message must be hello, not " + message.getClass().getSimpleName());
                } else if (!host.equals(message.host())) {
                    log.warn("ignored a message for host {} on {}'s connection", message.host(), host);
                } else {
                    reports.accept(new AgentReport.Received(name, message));
                }
            } catch (RuntimeException e) {
                log.error("failed to handle a message from {}", who(), e);
            }
        }

        private void onHello(AgentMessage.Hello hello) {
            if (hello.protocolVersion() != ProtocolVersion.CURRENT) {
                refuse("protocol version " + hello.protocolVersion() + " is not supported; this controller speaks "
                        + ProtocolVersion.CURRENT);
                return;
            }
            if (host != null && !host.equals(hello.host())) {
                refuse("this connection belongs to host " + host + ", not " + hello.host());
                return;
            }
            host = hello.host();
            ws.writeTextMessage(Json.write(new ControllerMessage.Welcome(controllerName, controllerUrls.get(), policy.get())));
            ServerWebSocket older = connections.put(host, ws);
            if (older != null && older != ws) {
                log.info("host {} reconnected; closing its older connection", host);
                older.close();
            }
            log.info("agent {} connected from {} (generation {}, connection {})", host, ws.remoteAddress(),
                    hello.hostGeneration(), name);
            reports.accept(new AgentReport.Received(name, hello));
        }

        private void refuse(String reason) {
            log.warn("refused agent {}: {}", who(), reason);
            ws.writeTextMessage(Json.write(new ControllerMessage.Refused(reason)));
            ws.close((short) 1008, reason.length() > 120 ? reason.substring(0, 120) : reason);
        }

        private void onClose() {
            // Only the current connection of a host reports a disconnect; a replaced one does not.
            if (host != null && connections.remove(host, ws)) {
                log.info("agent {} disconnected (connection {})", host, name);
                reports.accept(new AgentReport.Closed(name, host));
            }
        }
    }
}
