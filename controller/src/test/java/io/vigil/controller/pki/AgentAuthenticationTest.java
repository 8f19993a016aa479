package io.vigil.controller.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.UpgradeRejectedException;
import io.vigil.controller.testing.AgentCredentials;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.KeyPairs;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Who may connect to the agent WebSocket, over real TLS on the agent port: only an agent presenting a certificate from
 * the cluster's CA that the registry knows and has not revoked, saying Hello as the certificate's host. A revocation
 * cuts a connected agent off at once, and its host then goes suspect like any silent host.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentAuthenticationTest {
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private static int upgradeStatus(ExecutionException e) {
        return assertInstanceOf(UpgradeRejectedException.class, e.getCause(), String.valueOf(e.getCause())).getStatus();
    }

    private boolean connected(String host) {
        return ctl.controller.gateway().connectedHosts().contains(host);
    }

    @Test
    void anAgentWithoutACertificateIsRefused() throws Exception {
        try (FakeAgent agent = new FakeAgent("au-none", ctl.sharedStorage(), 1024).withoutCertificate()) {
            var e = assertThrows(ExecutionException.class, () -> agent.join(ctl.agentPort(), ProtocolVersion.CURRENT));
            assertEquals(401, upgradeStatus(e));
        }
        assertFalse(ctl.get("/api/v1/events?type=agent-refused").jsonList().isEmpty());
    }

    @Test
    void aCertificateFromAnotherCaIsRefused() throws Exception {
        // The server names the CA it accepts; a TLS client holding a certificate of another sends none (then 401).
        try (FakeAgent agent = new FakeAgent("au-stranger", ctl.sharedStorage(), 1024)
                .withCredentials(AgentCredentials.fromStrangeCa("au-stranger"))) {
            var e = assertThrows(ExecutionException.class, () -> agent.join(ctl.agentPort(), ProtocolVersion.CURRENT));
            if (e.getCause() instanceof UpgradeRejectedException u) assertEquals(401, u.getStatus());
        }
        assertFalse(connected("au-stranger"));
    }

    @Test
    void aCertificateFromAnotherCaPresentedAnywayFailsTheTlsHandshake() throws Exception {
        AgentCredentials stranger = AgentCredentials.fromStrangeCa("au-pushy");
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(new javax.net.ssl.KeyManager[] {new AlwaysPresent(stranger)},
                new javax.net.ssl.TrustManager[] {trusting(ctl.controller.certificates().authority().certificate())}, null);
        try (var socket = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", ctl.agentPort())) {
            socket.setSoTimeout(10_000);
            String response;
            try {
                socket.startHandshake(); // TLS 1.3: the server judges the client's certificate after the client finished
                socket.getOutputStream().write(("GET " + ProtocolVersion.AGENT_PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                byte[] buffer = new byte[64];
                int n = socket.getInputStream().read(buffer);
                response = n < 0 ? "end of stream" : new String(buffer, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
            } catch (java.io.IOException e) {
                response = e.toString();
            }
            assertFalse(response.startsWith("HTTP/"), "the TLS layer refused it before any HTTP: " + response);
        }
        assertFalse(connected("au-pushy"));
    }

    /** A client key manager that presents its certificate whatever CAs the server asks for. */
    private static final class AlwaysPresent extends javax.net.ssl.X509ExtendedKeyManager {
        private final AgentCredentials credentials;

        AlwaysPresent(AgentCredentials credentials) {
            this.credentials = credentials;
        }

        @Override
        public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return "agent";
        }

        @Override
        public java.security.cert.X509Certificate[] getCertificateChain(String alias) {
            return new java.security.cert.X509Certificate[] {credentials.certificate()};
        }

        @Override
        public java.security.PrivateKey getPrivateKey(String alias) {
            return credentials.key();
        }

        @Override
        public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
            return new String[] {"agent"};
        }

        @Override
        public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return null;
        }
    }

    private static javax.net.ssl.TrustManager trusting(java.security.cert.X509Certificate ca) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", ca);
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(store);
        return tmf.getTrustManagers()[0];
    }

    @Test
    void aCertificateTheRegistryDoesNotKnowIsRefused() throws Exception {
        // Signed by the right CA but never recorded (as if the registry had lost it, or the CA key had leaked).
        KeyPair keys = KeyPairs.generateP256();
        var authority = ctl.controller.certificates().authority();
        var unrecorded = new AgentCredentials(keys.getPrivate(),
                authority.issueAgentCertificate(CertificateRequests.forHost("au-ghost", keys), "au-ghost"), authority.certificate());
        try (FakeAgent agent = new FakeAgent("au-ghost", ctl.sharedStorage(), 1024).withCredentials(unrecorded)) {
            var e = assertThrows(ExecutionException.class, () -> agent.join(ctl.agentPort(), ProtocolVersion.CURRENT));
            assertEquals(403, upgradeStatus(e));
        }
    }

    @Test
    void aRevokedCertificateIsRefused() throws Exception {
        AgentCredentials credentials = ctl.agentCredentials("au-revoked");
        assertEquals(204, ctl.delete("/api/v1/agent-certificates/" + credentials.serial()).status());
        try (FakeAgent agent = new FakeAgent("au-revoked", ctl.sharedStorage(), 1024).withCredentials(credentials)) {
            var e = assertThrows(ExecutionException.class, () -> agent.join(ctl.agentPort(), ProtocolVersion.CURRENT));
            assertEquals(403, upgradeStatus(e));
        }
        var refused = ctl.get("/api/v1/events?type=agent-refused&host=au-revoked").jsonList();
        assertEquals(1, refused.size(), refused.toString());
        assertTrue(String.valueOf(((Map<?, ?>) refused.get(0)).get("cause")).contains("revoked"), refused.toString());
        // Retrying does not flood the log: one refusal event per host per minute.
        for (int i = 0; i < 3; i++) {
            try (FakeAgent again = new FakeAgent("au-revoked", ctl.sharedStorage(), 1024).withCredentials(credentials)) {
                assertThrows(ExecutionException.class, () -> again.connect(ctl.agentPort()));
            }
        }
        assertEquals(1, ctl.get("/api/v1/events?type=agent-refused&host=au-revoked").jsonList().size());
    }

    @Test
    void revokingAConnectedAgentsCertificateCutsItOffAtOnce() throws Exception {
        try (FakeAgent agent = ctl.connectedHost("au-cut", 1024)) {
            String serial = agent.credentials().serial();
            long revokedAt = System.nanoTime();
            assertEquals(204, ctl.delete("/api/v1/agent-certificates/" + serial).status());
            Await.until("the revoked agent's connection closed", Duration.ofMillis(1500), agent::isClosed);
            long tookMillis = (System.nanoTime() - revokedAt) / 1_000_000;
            assertTrue(tookMillis < 1500, "cut off in " + tookMillis + " ms");
            var refused = agent.next(ControllerMessage.Refused.class, 1);
            assertNotNull(refused, "told why");
            assertTrue(refused.reason().contains("revoked"), refused.reason());
            Await.until("au-cut no longer connected", Duration.ofSeconds(10),
                    () -> !"connected".equals(ctl.get("/api/v1/hosts/au-cut").json().get("state")));
            assertNotEquals("connected", ctl.get("/api/v1/hosts/au-cut").json().get("state"));
            List<Object> certs = ctl.get("/api/v1/agent-certificates?host=au-cut").jsonList();
            Map<?, ?> c = (Map<?, ?>) certs.get(0);
            assertEquals(true, c.get("revoked"));
            assertEquals("bootstrap-admin", c.get("revokedBy"), "the authenticated caller (the test's admin token)");
            assertNotNull(c.get("revokedAt"));
            assertEquals(1, ctl.get("/api/v1/events?type=agent-certificate-revoked&host=au-cut").jsonList().size());
            // Revoking again changes nothing.
            assertEquals(204, ctl.delete("/api/v1/agent-certificates/" + serial).status());
            assertEquals(1, ctl.get("/api/v1/events?type=agent-certificate-revoked&host=au-cut").jsonList().size());
        }
    }

    @Test
    void aHelloNamingAnotherHostThanTheCertificateIsRefused() throws Exception {
        try (FakeAgent impostor = new FakeAgent("au-victim", ctl.sharedStorage(), 1024)
                .withCredentials(ctl.agentCredentials("au-impostor"))) {
            impostor.join(ctl.agentPort(), ProtocolVersion.CURRENT);
            var refused = assertInstanceOf(ControllerMessage.Refused.class, impostor.next(10));
            assertTrue(refused.reason().contains("certificate is for host au-impostor, not au-victim"), refused.reason());
            Await.until("the connection closed", Duration.ofSeconds(5), impostor::isClosed);
        }
        assertFalse(connected("au-victim"));
    }
}
