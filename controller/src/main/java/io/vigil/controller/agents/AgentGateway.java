package io.vigil.controller.agents;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vigil.controller.pki.AgentCertificate;
import io.vigil.controller.pki.AgentCertificates;
import io.vigil.controller.pki.AgentEvents;
import io.vigil.controller.pki.CertificateAuthority;
import io.vigil.controller.runtime.AgentLink;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.CertificateRequests;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
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
 * <p>Agents authenticate with mutual TLS (the gateway is served on the controller's TLS agent port, which requests
 * a client certificate and verifies it against the cluster's CA): at the handshake, no client certificate is a 401,
 * a certificate whose serial the registry does not know or has revoked a 403. Each connection remembers its
 * certificate's serial, and a revocation (from any member) closes it at once. A Hello must name the host of the
 * certificate's CN, or the agent is refused. Refusals become {@code agent-refused} events (rate-limited).
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
    private final AgentCertificates certificates;
    private final AgentEvents events;
    private final ConcurrentHashMap<String, ServerWebSocket> connections = new ConcurrentHashMap<>();
    /** Every open connection, by its socket: what a revocation looks through. */
    private final ConcurrentHashMap<ServerWebSocket, Connection> open = new ConcurrentHashMap<>();
    private final AtomicLong connectionCounter = new AtomicLong();

    /** @param memberId unique to this controller member's lifetime (its Hazelcast member UUID) */
    public AgentGateway(String controllerName, String memberId, Supplier<List<String>> controllerUrls,
            Supplier<AgentPolicy> policy, Consumer<AgentReport> reports, AgentCertificates certificates, AgentEvents events) {
        this.certificates = certificates;
        this.events = events;
        this.controllerName = controllerName;
        this.memberId = memberId;
        this.controllerUrls = controllerUrls;
        this.policy = policy;
        this.reports = reports;
    }

    /**
     * Accepts WebSocket upgrades on the agent path only, from an agent presenting a client certificate the registry
     * knows and has not revoked (the TLS layer has verified it against the CA already).
     */
    public void handshake(ServerWebSocketHandshake handshake) {
        if (!ProtocolVersion.AGENT_PATH.equals(handshake.path())) {
            handshake.reject(404);
            return;
        }
        String from = String.valueOf(handshake.remoteAddress());
        X509Certificate certificate = clientCertificate(handshake.isSsl() ? peerCertificates(handshake) : List.of());
        if (certificate == null) {
            log.warn("refused an agent at {}: no client certificate", from);
            events.refused(null, from, "no client certificate: enroll the agent with a join token");
            handshake.reject(401);
            return;
        }
        String serial = CertificateAuthority.serialOf(certificate);
        String host = CertificateRequests.commonName(certificate);
        Context context = Vertx.currentContext();
        certificates.getAsync(serial).whenComplete((found, failure) -> context.runOnContext(v -> {
            String refusal = failure != null ? "the certificate registry cannot be read: " + failure
                    : found.isEmpty() ? "certificate " + serial + " is unknown to this cluster"
                    : found.get().revoked() ? "certificate " + serial + " was revoked" : null;
            if (refusal == null) {
                handshake.accept();
                return;
            }
            log.warn("refused agent {} at {}: {}", host, from, refusal);
            events.refused(host, from, refusal);
            handshake.reject(failure != null ? 503 : 403);
        }));
    }

    public void accept(ServerWebSocket ws) {
        X509Certificate certificate = clientCertificate(peerCertificates(ws));
        if (certificate == null) { // the handshake let it through, so this is not TLS: never on the agent port
            ws.close((short) 1008, "no client certificate");
            return;
        }
        new Connection(ws, CertificateAuthority.serialOf(certificate), CertificateRequests.commonName(certificate)).start();
    }

    /** Cuts every connection made with {@code certificate}, now: it was revoked. Any thread. */
    public void revoked(AgentCertificate certificate) {
        for (Connection c : open.values()) {
            if (c.serial.equals(certificate.serial())) {
                log.warn("certificate {} of host {} revoked: closing its connection {}", certificate.serial(),
                        certificate.host(), c.name);
                c.refuse("certificate " + certificate.serial() + " was revoked");
            }
        }
    }

    private static List<Certificate> peerCertificates(ServerWebSocketHandshake handshake) {
        try {
            return handshake.peerCertificates();
        } catch (javax.net.ssl.SSLPeerUnverifiedException | RuntimeException none) {
            return List.of();
        }
    }

    private static List<Certificate> peerCertificates(ServerWebSocket ws) {
        try {
            return ws.isSsl() ? ws.peerCertificates() : List.of();
        } catch (javax.net.ssl.SSLPeerUnverifiedException | RuntimeException none) {
            return List.of();
        }
    }

    private static X509Certificate clientCertificate(List<Certificate> chain) {
        return chain != null && !chain.isEmpty() && chain.get(0) instanceof X509Certificate x ? x : null;
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
        /** The client certificate's serial and the host it was issued to (its CN). */
        private final String serial;
        private final String certifiedHost;
        private String host; // set by a successful Hello

        Connection(ServerWebSocket ws, String serial, String certifiedHost) {
            this.ws = ws;
            this.serial = serial;
            this.certifiedHost = certifiedHost;
        }

        void start() {
            open.put(ws, this);
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
            if (!hello.host().equals(certifiedHost)) {
                events.refused(certifiedHost, String.valueOf(ws.remoteAddress()), "said Hello as host " + hello.host()
                        + " with the certificate of host " + certifiedHost);
                refuse("this agent's certificate is for host " + certifiedHost + ", not " + hello.host());
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
            open.remove(ws);
            // Only the current connection of a host reports a disconnect; a replaced one does not.
            if (host != null && connections.remove(host, ws)) {
                log.info("agent {} disconnected (connection {})", host, name);
                reports.accept(new AgentReport.Closed(name, host));
            }
        }
    }
}
