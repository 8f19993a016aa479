package io.vigil.controller.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.AgentCredentials;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cluster's CA: one for every member, and the same after a restart; the registry survives with it. */
class CertificateAuthorityTest {
    private Path dir;

    @BeforeEach
    void makeDir() throws Exception {
        dir = Files.createTempDirectory("vigil-ca-test-");
    }

    @AfterEach
    void removeDir() throws Exception {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void theCaIsSelfSignedAndSignsCertificatesOnly() throws Exception {
        X509Certificate ca = CertificateAuthority.create().certificate();
        ca.verify(ca.getPublicKey());
        assertTrue(ca.getSubjectX500Principal().getName().contains("Vigil cluster CA"));
        assertTrue(ca.getBasicConstraints() >= 0, "a CA");
        assertTrue(ca.getKeyUsage()[5], "keyCertSign");
        assertTrue(ca.getNotAfter().getTime() - System.currentTimeMillis() > 9L * 365 * 86_400_000, "ten years");
    }

    @Test
    void aRestartedControllerKeepsItsCaAndItsAgents() throws Exception {
        Path state = dir.resolve("state");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        String fingerprint;
        AgentCredentials kept;
        AgentCredentials revoked;
        try (TestController first = new TestController("ca-1", shared, TestController.freePort(), List.of(), state)) {
            fingerprint = first.controller.certificates().authority().fingerprint();
            kept = first.agentCredentials("ca-h1");
            revoked = first.agentCredentials("ca-h2");
            assertEquals(204, first.delete("/api/v1/agent-certificates/" + revoked.serial()).status());
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("ca/ca.key"))));
        assertEquals(fingerprint, Fingerprints.sha256(Pem.readCertificate(Files.readString(state.resolve("ca/ca.crt")))));

        // A new Hazelcast cluster of one: the CA and the registry come back from the state directory.
        try (TestController again = new TestController("ca-1", shared, TestController.freePort(), List.of(), state)) {
            assertEquals(fingerprint, again.controller.certificates().authority().fingerprint());
            try (FakeAgent agent = new FakeAgent("ca-h1", shared, 1024).withCredentials(kept)) {
                agent.join(again.agentPort(), ProtocolVersion.CURRENT);
                assertNotNull(agent.next(ControllerMessage.Welcome.class, 10), "an agent enrolled before the restart");
            }
            try (FakeAgent agent = new FakeAgent("ca-h2", shared, 1024).withCredentials(revoked)) {
                var e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> agent.connect(again.agentPort()));
                assertTrue(String.valueOf(e.getCause()).contains("403"), "still revoked: " + e.getCause());
            }
        }
        // Another state directory, another cluster: another CA.
        try (TestController other = new TestController("ca-2", shared, TestController.freePort(), List.of(), dir.resolve("other"))) {
            assertNotEquals(fingerprint, other.controller.certificates().authority().fingerprint());
        }
    }

    @Test
    void aSecondMemberAdoptsTheClustersCaAndRevocationsReachEveryMember() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        int port = TestController.freePort();
        try (TestController first = new TestController("ca-m1", shared, port, List.of("127.0.0.1:" + port), dir.resolve("m1"));
                TestController second = new TestController("ca-m2", shared, TestController.freePort(),
                        List.of("127.0.0.1:" + port), dir.resolve("m2"))) {
            Await.until("a cluster of two", Duration.ofSeconds(15),
                    () -> second.controller.store().hazelcast().getCluster().getMembers().size() == 2);
            String fingerprint = first.controller.certificates().authority().fingerprint();
            assertEquals(fingerprint, second.controller.certificates().authority().fingerprint());
            assertEquals(fingerprint, Fingerprints.sha256(Pem.readCertificate(Files.readString(dir.resolve("m2/ca/ca.crt")))));

            // Enrolled through the first, connected to the second, revoked through the first.
            try (FakeAgent agent = new FakeAgent("ca-mh", shared, 1024).withCredentials(first.agentCredentials("ca-mh"))) {
                agent.join(second.agentPort(), ProtocolVersion.CURRENT);
                assertNotNull(agent.next(ControllerMessage.Welcome.class, 10));
                assertEquals(204, first.delete("/api/v1/agent-certificates/" + agent.credentials().serial()).status());
                Await.until("the agent on the other member cut off", Duration.ofMillis(1500), agent::isClosed);
            }
            // The registry is durable on shared storage, where every member (and a cold start) reads it.
            var stored = io.vigil.controller.store.StateDirectory.open(shared.resolve("control-plane"), "test", () -> 0)
                    .readAll("agent-certificates").records();
            assertEquals(1, stored.size());
            assertNotNull(stored.values().iterator().next().value().get("revokedAt"));
            assertEquals(false, stored.values().iterator().next().value().get("revokedAt").isNull());
        }
    }
}
