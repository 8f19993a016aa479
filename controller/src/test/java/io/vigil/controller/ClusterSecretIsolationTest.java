package io.vigil.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.DistributedObject;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import io.vigil.controller.auth.PasswordHash;
import io.vigil.controller.auth.Role;
import io.vigil.controller.auth.User;
import io.vigil.controller.config.ControllerConfig;
import io.vigil.controller.pki.CertificateAuthority;
import io.vigil.controller.store.ClusterSecret;
import io.vigil.controller.store.ClusterStore;
import io.vigil.controller.store.StateMaps;
import io.vigil.controller.store.StoredRecord;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller cluster against someone on its Hazelcast network: without the cluster secret they are not admitted;
 * admitted with a sniffed cluster name they read only ciphertext of the secrets and cannot plant any.
 */
class ClusterSecretIsolationTest {
    private static final String PASSWORD = "a long enough password";

    @TempDir
    Path dir;

    /** A plain Hazelcast member dialing the controller's member on loopback: what a stranger on the network runs. */
    private static HazelcastInstance stranger(String clusterName, int controllerPort) throws IOException {
        Config c = new Config();
        c.setClusterName(clusterName);
        c.setInstanceName("stranger-" + System.nanoTime());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.wait.seconds.before.join", "1");
        c.setProperty("hazelcast.max.wait.seconds.before.join", "2");
        c.setProperty("hazelcast.local.localAddress", "127.0.0.1");
        c.getNetworkConfig().setPort(TestController.freePort()).setPortAutoIncrement(false);
        JoinConfig join = c.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2).setMembers(List.of("127.0.0.1:" + controllerPort));
        return Hazelcast.newHazelcastInstance(c);
    }

    /**
     * A controller configured as a member of a cluster (TCP-IP join, itself as the member to dial), so that a stranger
     * configured like a controller differs from it in nothing but what it knows.
     */
    private TestController memberOfACluster(String name, Path shared, int port) throws Exception {
        return new TestController(name, shared, port, List.of("127.0.0.1:" + port), dir.resolve("state"));
    }

    private static int members(TestController c) {
        return c.controller.store().hazelcast().getCluster().getMembers().size();
    }

    @Test
    void aMemberWithoutTheClusterSecretIsNotAdmitted() throws Exception {
        int port = TestController.freePort();
        try (TestController ctl = memberOfACluster("secret-a", Files.createDirectories(dir.resolve("shared")), port)) {
            // The name every controller cluster had before it was derived from a secret, and another cluster's name.
            for (String name : List.of("vigil", ClusterSecret.random().clusterName())) {
                HazelcastInstance s = stranger(name, port);
                try {
                    assertEquals(1, s.getCluster().getMembers().size(), name + ": the stranger is alone");
                    assertEquals(1, members(ctl), name + ": the controller's cluster is still one member");
                    assertTrue(s.getMap(CertificateAuthority.MAP).isEmpty(), "the stranger sees no CA at all");
                } finally {
                    s.shutdown();
                }
            }
        }
    }

    @Test
    void aMemberAdmittedWithASniffedNameReadsOnlyCiphertextAndCannotPlantSecrets() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        int port = TestController.freePort();
        try (TestController ctl = memberOfACluster("secret-b", shared, port)) {
            // Secrets of every kind: the CA key, a user's password hash, API and join token hashes.
            assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"sec-user\",\"role\":\"admin\",\"password\":\""
                    + PASSWORD + "\"}").status());
            ctl.tokenFor("sec-token", Role.VIEWER);
            ctl.controller.joinTokens().create(null, null);
            String keyPem = Files.readString(ctl.controller.config().stateDirPath().resolve("ca/ca.key"));
            List<String> caKeyTexts = new ArrayList<>(List.of(keyPem.strip(), base64Body(keyPem)));
            caKeyTexts.addAll(keyPem.lines().filter(l -> !l.startsWith("-----") && l.length() >= 40).toList());

            // The cluster name crosses the wire in clear when members join: whoever sniffs it is admitted.
            String sniffed = ClusterSecret.loadOrCreate(Path.of(ctl.controller.config().clusterSecretFile())).clusterName();
            HazelcastInstance s = stranger(sniffed, port);
            try {
                Await.until("the stranger admitted", Duration.ofSeconds(15), () -> members(ctl) == 2);
                Map<String, String> seen = everyMapValue(s);
                String ca = seen.get(CertificateAuthority.MAP + "/current");
                assertTrue(ca != null && ca.startsWith("vigil-sealed-1."), "the stranger reads the CA entry, sealed: " + ca + " in " + seen.keySet());
                assertTrue(seen.containsKey(StateMaps.Name.USERS.mapName() + "/sec-user"), seen.keySet().toString());
                for (Map.Entry<String, String> e : seen.entrySet()) assertNoSecretIn(e.getKey(), e.getValue(), caKeyTexts);
                String storage = everyFile(shared);
                assertTrue(storage.contains("sec-user"), "the test reads the storage where users live");
                assertNoSecretIn("shared storage", storage, caKeyTexts);

                // Planting a user with a password the stranger knows, in plaintext as before sealing: not served.
                PasswordHash known = PasswordHash.of("mallory's own password");
                User mallory = new User("mallory", Role.ADMIN, known, 1, "mallory", 1);
                s.getMap(StateMaps.Name.USERS.mapName()).put("mallory", record("mallory", Json.mapper().valueToTree(mallory), null));
                assertEquals(401, login("mallory", "mallory's own password", ctl));
                // Copying a real user's sealed value under a name of its own: does not open there.
                IMap<String, HazelcastJsonValue> users = s.getMap(StateMaps.Name.USERS.mapName());
                StoredRecord real = Json.read(users.get("sec-user").getValue(), StoredRecord.class);
                users.put("mallory2", record("mallory2", null, real.sealed()));
                assertEquals(401, login("mallory2", PASSWORD, ctl));
                assertEquals(200, login("sec-user", PASSWORD, ctl), "the real user still logs in");
            } finally {
                s.shutdown();
            }
        }
    }

    @Test
    void hazelcastListensOnItsInterfaceOnly() throws Exception {
        int port = TestController.freePort();
        try (TestController ctl = new TestController("secret-c", Files.createDirectories(dir.resolve("shared")), port,
                List.of(), dir.resolve("state"))) {
            assertEquals("127.0.0.1", ctl.controller.store().hazelcast().getCluster().getLocalMember().getAddress().getHost());
            try (Socket loopback = new Socket()) {
                loopback.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            }
            InetAddress other = NetworkInterface.networkInterfaces()
                    .flatMap(NetworkInterface::inetAddresses)
                    .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                    .findFirst().orElse(null);
            Assumptions.assumeTrue(other != null, "this machine has no other IPv4 address to try");
            try (Socket elsewhere = new Socket()) {
                assertThrows(ConnectException.class, () -> elsewhere.connect(new InetSocketAddress(other, port), 2000),
                        "the Hazelcast port must not answer on " + other);
            }
        }
    }

    @Test
    void aControllerRefusesASecretOthersMayRead() throws Exception {
        Path secret = dir.resolve("cluster-secret");
        Files.write(secret, new byte[ClusterSecret.MIN_BYTES]);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        ControllerConfig config = new ControllerConfig("secret-d", "127.0.0.1", 0, dir.resolve("shared").toString(),
                TestController.freePort(), List.of(), null, 0, dir.resolve("state").toString(), null, null, null, null,
                null, null, null, null, null, secret.toString());
        IOException e = assertThrows(IOException.class, () -> ClusterStore.start(config));
        assertTrue(e.getMessage().contains("chmod 600 " + secret), e.getMessage());
        assertFalse(Files.exists(dir.resolve("shared/control-plane")), "refused before anything was opened");
    }

    private static HazelcastJsonValue record(String key, com.fasterxml.jackson.databind.JsonNode value, String sealed) {
        return new HazelcastJsonValue(Json.write(new StoredRecord(StoredRecord.FORMAT, "users", key, 1, false, value, sealed,
                "stranger", System.currentTimeMillis())));
    }

    private static int login(String user, String password, TestController ctl) {
        return ctl.as(null).post("/api/v1/login", "{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}").status();
    }

    private static void assertNoSecretIn(String where, String text, List<String> caKeyTexts) {
        for (String secret : caKeyTexts) assertFalse(text.contains(secret), where + " holds the CA's private key");
        assertFalse(text.contains(PasswordHash.PBKDF2_SHA256), where + " holds a password hash: " + text);
        assertFalse(text.contains("secretSha256"), where + " holds a token hash: " + text);
    }

    /** The base64 of a PEM block, its lines joined. */
    private static String base64Body(String pem) {
        return pem.lines().filter(l -> !l.startsWith("-----")).collect(Collectors.joining());
    }

    /**
     * Every value of every map in the cluster, by map name and key, as text: the maps the member learnt of, and every
     * map of cluster state by name (the names are no secret).
     */
    private static Map<String, String> everyMapValue(HazelcastInstance member) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (DistributedObject o : member.getDistributedObjects()) if (o instanceof IMap<?, ?> m) names.add(m.getName());
        for (StateMaps.Name n : StateMaps.Name.values()) names.add(n.mapName());
        Map<String, String> out = new TreeMap<>();
        for (String name : names) {
            IMap<Object, Object> m = member.getMap(name);
            for (Map.Entry<?, ?> e : m.entrySet()) out.put(name + "/" + e.getKey(), String.valueOf(e.getValue()));
        }
        return out;
    }

    private static String everyFile(Path root) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList())
                all.append(f).append('\n').append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
        }
        return all.toString();
    }
}
