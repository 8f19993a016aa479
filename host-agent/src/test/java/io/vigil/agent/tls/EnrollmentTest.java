package io.vigil.agent.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vigil.agent.config.AgentConfig;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.EnrollRequest;
import io.vigil.protocol.tls.EnrollResponse;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.JoinToken;
import io.vigil.protocol.tls.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's enrollment client against a small Vert.x HTTPS server playing the controller's agent port, with a CA of
 * the test's: the CA pinned by the token's fingerprint, refusals as clear final errors, the credentials written.
 */
class EnrollmentTest {
    @TempDir Path dir;
    private Vertx vertx;
    private HttpServer server;
    private TestCa ca;
    private final AtomicInteger requests = new AtomicInteger();
    /** What the fake controller answers: status and body. */
    private volatile Function<EnrollRequest, Object[]> answer;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        ca = new TestCa();
        answer = request -> {
            try {
                var csr = Pem.readCertificateRequest(request.csr());
                return new Object[] {200, Json.write(new EnrollResponse(Pem.certificate(ca.signAgent(csr)), ca.pem()))};
            } catch (Exception e) {
                return new Object[] {400, "{\"detail\":\"" + e.getMessage() + "\"}"};
            }
        };
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
                        .setKeyCertOptions(new PemKeyCertOptions().setKeyValue(Buffer.buffer(ca.serverKeyPem()))
                                .setCertValue(Buffer.buffer(ca.serverChainPem()))))
                .requestHandler(req -> {
                    if (!req.path().equals(ProtocolVersion.ENROLL_PATH)) {
                        req.response().setStatusCode(404).end();
                        return;
                    }
                    req.body().onSuccess(body -> {
                        requests.incrementAndGet();
                        Object[] reply = answer.apply(Json.read(body.toString(), EnrollRequest.class));
                        req.response().setStatusCode((Integer) reply[0]).putHeader("Content-Type", "application/json")
                                .end((String) reply[1]);
                    });
                })
                .listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private String token(String fingerprint) {
        return new JoinToken("0a1b2c3d", "7".repeat(32), fingerprint).text();
    }

    private AgentConfig config(String joinToken, String... controllers) {
        return new AgentConfig("en-h1", List.of(controllers), "test:///default", dir.resolve("shared"), dir.resolve("state"),
                null, null, null, null, null, null, false, null, null, null, false, null, null, null, null, null, joinToken, null);
    }

    private String wss() {
        return "wss://127.0.0.1:" + server.actualPort() + "/agent/v1";
    }

    @Test
    void enrollsOnceAndKeepsItsCredentials() throws Exception {
        AgentConfig config = config(token(ca.fingerprint()), wss());
        Enrollment.ensureEnrolled(config, Duration.ofSeconds(10));
        TlsFiles files = new TlsFiles(config.tlsDir());
        assertTrue(files.present());
        assertEquals(dir.resolve("state/tls"), files.dir());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.key())));
        var certificate = Pem.readCertificate(Files.readString(files.certificate()));
        assertEquals("en-h1", CertificateRequests.commonName(certificate));
        assertEquals(ca.fingerprint(), Fingerprints.sha256(Pem.readCertificate(Files.readString(files.ca()))));
        // The key on disk is the one the certificate certifies.
        var key = Pem.readPrivateKey(Files.readString(files.key()));
        var signature = java.security.Signature.getInstance("SHA256withECDSA");
        signature.initSign(key);
        signature.update(new byte[] {1, 2, 3});
        byte[] signed = signature.sign();
        signature.initVerify(certificate.getPublicKey());
        signature.update(new byte[] {1, 2, 3});
        assertTrue(signature.verify(signed));
        // The token went to the controller as it was given.
        assertEquals(1, requests.get());

        Enrollment.ensureEnrolled(config, Duration.ofSeconds(10));
        assertEquals(1, requests.get(), "enrolled already: the token is not used again");
    }

    @Test
    void aControllerWhoseCaIsNotTheTokensIsNotTrustedAndHearsNothing() {
        AgentConfig config = config(token("ab".repeat(32)), wss());
        var e = assertThrows(EnrollmentException.class, () -> Enrollment.ensureEnrolled(config, Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("not the one the join token was made for"), e.getMessage());
        assertEquals(0, requests.get(), "the token was never sent");
        assertFalse(new TlsFiles(config.tlsDir()).present());
    }

    @Test
    void aRefusedTokenStopsEnrollmentWithTheControllersReason() {
        answer = request -> new Object[] {401, "{\"status\":401,\"detail\":\"join token 0a1b2c3d expired; ask the operator for a new one\"}"};
        AgentConfig config = config(token(ca.fingerprint()), wss());
        var e = assertThrows(EnrollmentException.class, () -> Enrollment.ensureEnrolled(config, Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("HTTP 401") && e.getMessage().contains("expired"), e.getMessage());
        assertEquals(1, requests.get(), "no retry loop");
        assertFalse(new TlsFiles(config.tlsDir()).present());
    }

    @Test
    void aCaCertificateInTheAnswerThatIsNotThePinnedOneIsRefused() throws Exception {
        TestCa other = new TestCa();
        answer = request -> {
            try {
                var csr = Pem.readCertificateRequest(request.csr());
                return new Object[] {200, Json.write(new EnrollResponse(Pem.certificate(other.signAgent(csr)), other.pem()))};
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        AgentConfig config = config(token(ca.fingerprint()), wss());
        var e = assertThrows(EnrollmentException.class, () -> Enrollment.ensureEnrolled(config, Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("does not have the token's fingerprint"), e.getMessage());
        assertFalse(new TlsFiles(config.tlsDir()).present());
    }

    @Test
    void withoutAJoinTokenTheAgentSaysHowToEnroll() {
        var e = assertThrows(EnrollmentException.class, () -> Enrollment.ensureEnrolled(config(null, wss()), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("no joinToken") && e.getMessage().contains("POST /api/v1/join-tokens")
                && e.getMessage().contains("VIGIL_AGENT_JOIN_TOKEN"), e.getMessage());
    }

    @Test
    void plainControllersNeedNoEnrollment() throws Exception {
        Enrollment.ensureEnrolled(config(null, "ws://127.0.0.1:1/agent/v1"), Duration.ofSeconds(1));
        assertEquals(0, requests.get());
    }

    @Test
    void anUnreachableControllerIsTriedAgainUntilTheDeadline() throws Exception {
        int closedPort;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        AgentConfig config = config(token(ca.fingerprint()), "wss://127.0.0.1:" + closedPort + "/agent/v1");
        var e = assertThrows(EnrollmentException.class, () -> Enrollment.ensureEnrolled(config, Duration.ofMillis(1200)));
        assertTrue(e.getMessage().contains("cannot reach a controller"), e.getMessage());
    }

    @Test
    void theEnrollUrlIsDerivedFromTheAgentUrl() {
        assertEquals("https://10.0.0.1:8443/agent/v1/enroll",
                Enrollment.enrollUri(java.net.URI.create("wss://10.0.0.1:8443/agent/v1")).toString());
        assertEquals("https://[::1]:8443/agent/v1/enroll", Enrollment.enrollUri(java.net.URI.create("wss://[::1]:8443/agent/v1")).toString());
    }
}
