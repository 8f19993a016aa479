package io.vigil.agent.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vigil.agent.link.ControllerLink;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.KeyPairs;
import io.vigil.protocol.tls.Pem;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller link over wss:// with the agent's credentials from tlsDir, against a Vert.x TLS WebSocket server
 * that requires a client certificate from the test's CA: the agent presents its certificate and trusts the CA, and a
 * controller rejecting its certificate (403) is dialled again rather than given up on.
 */
class TlsLinkTest {
    @TempDir Path dir;
    private Vertx vertx;
    private HttpServer server;
    private TestCa ca;
    private TlsFiles files;
    private final List<String> clientNames = new CopyOnWriteArrayList<>();
    private final List<String> hellos = new CopyOnWriteArrayList<>();
    private final AtomicInteger handshakes = new AtomicInteger();
    private volatile int rejectWith;
    private ControllerLink link;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        ca = new TestCa();
        var keys = KeyPairs.generateP256();
        X509Certificate agentCertificate = ca.signAgent(CertificateRequests.forHost("tl-h1", keys));
        files = new TlsFiles(dir.resolve("tls"));
        files.write(keys.getPrivate(), Pem.certificate(agentCertificate), ca.pem());
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
                        .setKeyCertOptions(new PemKeyCertOptions().setKeyValue(Buffer.buffer(ca.serverKeyPem()))
                                .setCertValue(Buffer.buffer(ca.serverChainPem())))
                        .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(ca.pem())))
                        .setClientAuth(ClientAuth.REQUIRED))
                .webSocketHandshakeHandler(h -> {
                    handshakes.incrementAndGet();
                    try {
                        clientNames.add(CertificateRequests.commonName((X509Certificate) h.peerCertificates().get(0)));
                    } catch (Exception e) {
                        clientNames.add("none: " + e);
                    }
                    if (rejectWith > 0) h.reject(rejectWith);
                    else h.accept();
                })
                .webSocketHandler(ws -> ws.textMessageHandler(text -> {
                    if (Json.read(text, AgentMessage.class) instanceof AgentMessage.Hello hello) hellos.add(hello.host());
                }))
                .listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        if (link != null) link.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private ControllerLink dial(String host) {
        link = new ControllerLink(vertx, List.of("wss://" + host + ":" + server.actualPort() + ProtocolVersion.AGENT_PATH),
                new Agent(), 3000, files);
        link.start(1000);
        return link;
    }

    @Test
    void theAgentPresentsItsCertificateAndTrustsTheClusterCa() throws Exception {
        dial("localhost");
        until("the Hello", 10_000, () -> !hellos.isEmpty());
        assertEquals(List.of("tl-h1"), hellos);
        assertEquals("tl-h1", clientNames.get(0));
    }

    @Test
    void aRejectedCertificateIsDialledAgain() throws Exception {
        rejectWith = 403;
        dial("127.0.0.1");
        until("a second attempt", 15_000, () -> handshakes.get() >= 2);
        assertTrue(hellos.isEmpty());
        rejectWith = 0;
        until("the Hello once accepted", 15_000, () -> !hellos.isEmpty());
    }

    private static void until(String what, long millis, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    private static final class Agent implements ControllerLink.Agent {
        @Override
        public AgentMessage.Hello hello() {
            return new AgentMessage.Hello("tl-h1", 1, ProtocolVersion.CURRENT, new HostInventory(2, 1024, 1024, List.of()), true);
        }

        @Override
        public AgentMessage.Heartbeat heartbeat(long sequence) {
            return new AgentMessage.Heartbeat("tl-h1", 1, sequence, new HostInventory(2, 1024, 1024, List.of()), true);
        }

        @Override
        public CompletableFuture<AgentMessage.CommandResult> execute(ControllerMessage.Command command) {
            return new CompletableFuture<>();
        }

        @Override
        public void applyPolicy(AgentPolicy policy) {}

        @Override
        public void lostVms(List<String> vms) {}

        @Override
        public void shutdownCleared(String detail) {}
    }
}
