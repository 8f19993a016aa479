package io.vigil.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret records on shared storage: sealed, converted from plaintext on upgrade, bound to one cluster secret. */
class StorageSealingTest {
    /** Stands in for a user or token record: {@code hash} is what must not be readable on storage. */
    record Item(String name, String hash) {}

    @TempDir
    Path dir;
    private HazelcastInstance hz;

    @BeforeEach
    void start() throws Exception {
        Config c = new Config();
        c.setClusterName("vigil-sealing-test-" + System.nanoTime());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.local.localAddress", "127.0.0.1");
        c.getNetworkConfig().setPort(TestController.freePort()).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        hz = Hazelcast.newHazelcastInstance(c);
    }

    @AfterEach
    void stop() {
        hz.shutdown();
    }

    private static com.fasterxml.jackson.databind.JsonNode json(Item item) {
        return Json.mapper().valueToTree(item);
    }

    /** Every file under the state directory, as text. */
    private String everyFile() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList())
                all.append(f).append('\n').append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
        }
        return all.toString();
    }

    @Test
    void anUpgradeSealsEveryPlaintextSecretAndLeavesNoOlderRevisionBehind() throws Exception {
        // A directory as a controller before sealing left it: format 1, secrets in plaintext, older revisions kept.
        Files.writeString(dir.resolve("FORMAT"), "vigil-control-plane 1\n");
        StateDirectory old = StateDirectory.open(dir, "old", () -> 1);
        assertTrue(old.holdsPlaintextSecrets());
        assertTrue(old.write("users", "alice", 0, json(new Item("alice", "HASH-ALICE-1"))));
        assertTrue(old.write("users", "alice", 1, json(new Item("alice", "HASH-ALICE-2"))));
        assertTrue(old.write("join-tokens", "t1", 0, json(new Item("t1", "HASH-TOKEN-1"))));
        assertTrue(old.write("join-tokens", "t1", 1, null)); // deleted; revision 1 still on storage
        assertTrue(old.write("api-tokens", "k1", 0, json(new Item("k1", "HASH-API-1"))));
        assertTrue(old.write("rules", "r1", 0, json(new Item("r1", "NOT-SECRET"))));
        assertTrue(everyFile().contains("HASH-ALICE-1"), "the test starts from plaintext");

        SealingKey key = ClusterSecret.random().sealingKey();
        StateDirectory disk = StateDirectory.open(dir, "new", System::currentTimeMillis);
        StorageSealing.bind(dir, disk, key);

        String files = everyFile();
        for (String secret : List.of("HASH-ALICE-1", "HASH-ALICE-2", "HASH-TOKEN-1", "HASH-API-1"))
            assertFalse(files.contains(secret), secret + " is still readable on storage:\n" + files);
        assertTrue(files.contains("NOT-SECRET"), "records that hold no secret stay as they were");
        assertEquals("vigil-control-plane 2", Files.readString(dir.resolve("FORMAT")).strip());
        assertFalse(StateDirectory.open(dir, "again", () -> 1).holdsPlaintextSecrets());
        assertEquals(key.id(), Files.readString(dir.resolve(StorageSealing.KEY_ID_FILE)).strip());

        StateMaps maps = new StateMaps(hz, disk, key);
        StateMap<Item> users = maps.map(StateMaps.Name.USERS, Item.class);
        assertEquals(Optional.of(new Item("alice", "HASH-ALICE-2")), users.get("alice"), "the newest revision, sealed");
        assertEquals(Optional.of(new Item("k1", "HASH-API-1")), maps.map(StateMaps.Name.API_TOKENS, Item.class).get("k1"));
        assertEquals(Optional.empty(), maps.map(StateMaps.Name.JOIN_TOKENS, Item.class).get("t1"));
        assertEquals(Optional.of(new Item("r1", "NOT-SECRET")), maps.map(StateMaps.Name.RULES, Item.class).get("r1"));
        // And what is written from now on is sealed too, in Hazelcast as on storage.
        assertTrue(users.create("bob", new Item("bob", "HASH-BOB")));
        assertFalse(everyFile().contains("HASH-BOB"));
        assertTrue(hz.getMap(StateMaps.Name.USERS.mapName()).values().stream().noneMatch(v -> v.toString().contains("HASH-")));
        assertEquals(Optional.of(new Item("bob", "HASH-BOB")), users.get("bob"));
    }

    @Test
    void aControllerWithAnotherSecretRefusesTheClustersStorage() throws Exception {
        StateDirectory disk = StateDirectory.open(dir, "c1", System::currentTimeMillis);
        StorageSealing.bind(dir, disk, ClusterSecret.random().sealingKey());
        IOException e = assertThrows(IOException.class,
                () -> StorageSealing.bind(dir, StateDirectory.open(dir, "c2", System::currentTimeMillis),
                        ClusterSecret.random().sealingKey()));
        assertTrue(e.getMessage().contains("copy of the cluster's secret file"), e.getMessage());
    }

    @Test
    void aPlaintextOrMovedRecordPlantedOnStorageIsNeverServed() throws Exception {
        SealingKey key = ClusterSecret.random().sealingKey();
        StateDirectory disk = StateDirectory.open(dir, "c1", System::currentTimeMillis);
        StorageSealing.bind(dir, disk, key);
        StateMap<Item> users = new StateMaps(hz, disk, key).map(StateMaps.Name.USERS, Item.class);
        assertTrue(users.create("alice", new Item("alice", "HASH-ALICE")));
        // Whoever can write the shared storage (a host) plants a user in plaintext, and alice's sealed value under
        // another name: both well-formed records with good checksums.
        assertTrue(disk.write("users", "mallory", 0, json(new Item("mallory", "HASH-KNOWN-TO-MALLORY"))));
        String alicesSealed = disk.read("users", "alice").orElseThrow().sealed();
        assertTrue(disk.writeSealed("users", "eve", 0, alicesSealed));

        List<StateDirectory.Corrupt> corrupt = users.resync();
        assertEquals(2, corrupt.size(), corrupt.toString());
        assertTrue(corrupt.stream().anyMatch(c -> c.reason().contains("plaintext") && c.file().toString().contains("mallory")),
                corrupt.toString());
        assertTrue(corrupt.stream().anyMatch(c -> c.reason().contains("copied") && c.file().toString().contains("eve")),
                corrupt.toString());
        assertEquals(Optional.empty(), users.get("mallory"));
        assertEquals(Optional.empty(), users.get("eve"));
        assertEquals(List.of(new Item("alice", "HASH-ALICE")), users.values());
        // A write to such a record says why it cannot be done rather than building on it.
        var e = assertThrows(SealingKey.UnsealableException.class, () -> users.put("mallory", new Item("mallory", "x")));
        assertTrue(e.getMessage().contains("users/mallory"), e.getMessage());
    }
}
