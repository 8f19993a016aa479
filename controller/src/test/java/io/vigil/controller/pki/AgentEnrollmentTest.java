package io.vigil.controller.pki;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.AgentCredentials;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.JoinToken;
import io.vigil.protocol.tls.KeyPairs;
import io.vigil.protocol.tls.Pem;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Enrollment end to end on a real controller: join tokens over REST, {@code POST /agent/v1/enroll} over real TLS on
 * the agent port, the certificate registry, and an enrolled agent connecting with what it got. Every refusal is
 * checked to leave the token usable and the registry unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentEnrollmentTest {
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private Map<String, Object> createToken(String body) {
        Reply r = ctl.post("/api/v1/join-tokens", body);
        assertEquals(201, r.status(), r.body());
        return r.json();
    }

    private static String csr(String host, KeyPair keys) {
        return Pem.certificateRequest(CertificateRequests.forHost(host, keys));
    }

    private Reply enroll(String token, String csr) {
        return ctl.postToAgentPort(ProtocolVersion.ENROLL_PATH, Json.write(Map.of("token", token, "csr", csr)));
    }

    private List<Object> certificatesOf(String host) {
        return ctl.get("/api/v1/agent-certificates?host=" + host).jsonList();
    }

    private List<String> tokenIds() {
        return ctl.get("/api/v1/join-tokens").jsonList().stream().map(t -> (String) ((Map<?, ?>) t).get("id")).toList();
    }

    @Test
    void anAgentEnrollsWithAJoinTokenAndConnectsWithItsCertificate() throws Exception {
        Map<String, Object> created = createToken("{\"host\":\"en-h1\",\"ttlSeconds\":600}");
        String token = (String) created.get("token");
        JoinToken parsed = JoinToken.parse(token);
        assertEquals(created.get("id"), parsed.id());
        assertEquals("en-h1", created.get("host"));
        assertNotNull(created.get("expiresAt"));
        assertEquals(ctl.controller.certificates().authority().fingerprint(), parsed.caFingerprint());
        // Listed without its secret.
        String listing = ctl.get("/api/v1/join-tokens").body();
        assertTrue(listing.contains(parsed.id()), listing);
        assertFalse(listing.contains(parsed.secret()), listing);

        KeyPair keys = KeyPairs.generateP256();
        Reply r = enroll(token, csr("en-h1", keys));
        assertEquals(200, r.status(), r.body());
        X509Certificate certificate = Pem.readCertificate((String) r.json().get("certificate"));
        X509Certificate ca = Pem.readCertificate((String) r.json().get("ca"));
        assertEquals(parsed.caFingerprint(), Fingerprints.sha256(ca), "the CA the token pins");
        certificate.verify(ca.getPublicKey());
        assertEquals("en-h1", CertificateRequests.commonName(certificate));
        assertEquals(keys.getPublic(), certificate.getPublicKey());
        assertTrue(certificate.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "clientAuth");
        assertTrue(certificate.getSerialNumber().bitLength() > 64, "a random serial");

        assertFalse(tokenIds().contains(parsed.id()), "the token is used up");
        List<Object> listed = certificatesOf("en-h1");
        assertEquals(1, listed.size(), listed.toString());
        Map<?, ?> entry = (Map<?, ?>) listed.get(0);
        assertEquals(certificate.getSerialNumber().toString(16), entry.get("serial"));
        assertEquals(Fingerprints.sha256(certificate), entry.get("fingerprint"));
        assertEquals(false, entry.get("revoked"));
        assertEquals(1, ctl.get("/api/v1/events?type=agent-enrolled&host=en-h1").jsonList().size());

        try (FakeAgent agent = new FakeAgent("en-h1", ctl.sharedStorage(), 2048)
                .withCredentials(new AgentCredentials(keys.getPrivate(), certificate, ca))) {
            agent.join(ctl.agentPort(), ProtocolVersion.CURRENT);
            assertNotNull(agent.next(ControllerMessage.Welcome.class, 10));
        }
        // The token is gone for good.
        assertProblem(enroll(token, csr("en-h1", KeyPairs.generateP256())), 401, "unknown or already used");
        assertEquals(1, certificatesOf("en-h1").size());
    }

    @Test
    void ofConcurrentEnrollmentsWithOneTokenExactlyOneIsAdmitted() throws Exception {
        String token = (String) createToken("{}").get("token");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Reply>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String csr = csr("en-race", KeyPairs.generateP256());
                calls.add(() -> enroll(token, csr));
            }
            int admitted = 0;
            for (Future<Reply> f : pool.invokeAll(calls)) {
                Reply r = f.get();
                if (r.status() == 200) admitted++;
                else assertProblem(r, 401);
            }
            assertEquals(1, admitted);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, certificatesOf("en-race").size());
    }

    @Test
    void anExpiredTokenIsRefused() throws Exception {
        // A token made two hours ago, valid for one minute: the controller's clock finds it expired.
        JoinTokens past = new JoinTokens(ctl.controller.store().maps(), ctl.controller.certificates().authority(),
                () -> System.currentTimeMillis() - 7_200_000);
        JoinTokens.Created old = past.create(null, 60L);
        assertProblem(enroll(old.token().text(), csr("en-late", KeyPairs.generateP256())), 401, "expired");
        assertTrue(certificatesOf("en-late").isEmpty());
        assertFalse(tokenIds().contains(old.record().id()), "expired tokens are not listed");
    }

    @Test
    void aTokenBoundToAHostRefusesAnotherAndStaysUsable() throws Exception {
        String token = (String) createToken("{\"host\":\"en-bound\"}").get("token");
        assertProblem(enroll(token, csr("en-intruder", KeyPairs.generateP256())), 403, "is for host en-bound, not en-intruder");
        assertTrue(certificatesOf("en-intruder").isEmpty());
        assertTrue(tokenIds().contains(JoinToken.parse(token).id()), "a refused enrollment does not burn the token");
        assertEquals(200, enroll(token, csr("en-bound", KeyPairs.generateP256())).status());
    }

    @Test
    void badRequestsGetClearErrorsAndChangeNothing() throws Exception {
        String token = (String) createToken("{\"host\":\"en-bad\"}").get("token");
        JoinToken parsed = JoinToken.parse(token);
        String good = csr("en-bad", KeyPairs.generateP256());
        int events = ctl.get("/api/v1/events?type=agent-enrolled").jsonList().size();

        assertProblem(enroll(token, "not a csr"), 400, "csr is not a PEM certificate signing request");
        assertProblem(enroll(token, Pem.certificate(ctl.controller.certificates().authority().certificate())), 400,
                "expected a PEM certificate request");
        // A CSR whose signature was made by another key (its public key swapped): no proof of possession.
        String forged = Pem.certificateRequest(new org.bouncycastle.pkcs.PKCS10CertificationRequest(
                new org.bouncycastle.asn1.pkcs.CertificationRequest(
                        new org.bouncycastle.asn1.pkcs.CertificationRequestInfo(CertificateRequests.subject("en-bad"),
                                org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(KeyPairs.generateP256().getPublic().getEncoded()),
                                null),
                        CertificateRequests.forHost("en-bad", KeyPairs.generateP256()).toASN1Structure().getSignatureAlgorithm(),
                        CertificateRequests.forHost("en-bad", KeyPairs.generateP256()).toASN1Structure().getSignature())));
        assertProblem(enroll(token, forged), 400, "signature does not verify");
        assertProblem(enroll(token, csr("not a host!", KeyPairs.generateP256())), 400, "CN=<host>");
        assertProblem(ctl.postToAgentPort(ProtocolVersion.ENROLL_PATH, "{broken"), 400);
        assertProblem(ctl.postToAgentPort(ProtocolVersion.ENROLL_PATH, Json.write(Map.of("csr", good))), 400, "token is required");
        assertProblem(enroll("vj1.nonsense", good), 401, "malformed join token");
        assertProblem(enroll(new JoinToken(parsed.id(), "0".repeat(32), parsed.caFingerprint()).text(), good), 401,
                "unknown or already used");
        assertProblem(enroll(new JoinToken(parsed.id(), parsed.secret(), "ab".repeat(32)).text(), good), 401,
                "another controller cluster");

        assertTrue(certificatesOf("en-bad").isEmpty());
        assertEquals(events, ctl.get("/api/v1/events?type=agent-enrolled").jsonList().size());
        assertTrue(tokenIds().contains(parsed.id()), "the token survived every refusal");
        assertFalse(ctl.get("/api/v1/events?type=agent-refused").jsonList().isEmpty(), "refusals are events");
        assertEquals(200, enroll(token, good).status());
    }

    @Test
    void joinTokenRequestsAreValidated() {
        assertProblem(ctl.post("/api/v1/join-tokens", "{\"ttlSeconds\":10}"), 400, "ttlSeconds");
        assertProblem(ctl.post("/api/v1/join-tokens", "{\"ttlSeconds\":604801}"), 400, "ttlSeconds");
        assertProblem(ctl.post("/api/v1/join-tokens", "{\"host\":\"no spaces\"}"), 400, "host");
        assertProblem(ctl.post("/api/v1/join-tokens", "{\"secret\":\"mine\"}"), 400, "secret");
        assertProblem(ctl.delete("/api/v1/join-tokens/00000000"), 404, "no join token");
        assertProblem(ctl.delete("/api/v1/agent-certificates/abc123"), 404, "no agent certificate");
        assertEquals(201, ctl.postEmpty("/api/v1/join-tokens").status());
    }

    @Test
    void aDeletedTokenNoLongerEnrolls() {
        Map<String, Object> created = createToken("{}");
        assertEquals(204, ctl.delete("/api/v1/join-tokens/" + created.get("id")).status());
        assertFalse(tokenIds().contains((String) created.get("id")));
        assertProblem(enroll((String) created.get("token"), csr("en-deleted", KeyPairs.generateP256())), 401);
        assertNull(Jsons.list(ctl.get("/api/v1/agent-certificates?host=en-deleted").body()).stream().findAny().orElse(null));
    }

    @Test
    void theAgentPortServesNothingElse() {
        assertProblem(ctl.postToAgentPort("/api/v1/vms", "{}"), 404, "serves only");
    }
}
