package io.vigil.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vigil.controller.testing.TestController;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateMapTest {
    record Item(String name, int n) {}

    @TempDir
    Path dir;
    private HazelcastInstance hz;
    private final SealingKey sealing = ClusterSecret.random().sealingKey();

    @BeforeEach
    void start() throws Exception {
        Config c = new Config();
        c.setClusterName("vigil-statemap-test-" + System.nanoTime());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.getNetworkConfig().setPort(TestController.freePort()).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        hz = Hazelcast.newHazelcastInstance(c);
    }

    @AfterEach
    void stop() {
        hz.shutdown();
    }

    private StateMap<Item> rules() throws Exception {
        return new StateMaps(hz, StateDirectory.open(dir, "t", System::currentTimeMillis), sealing).map(StateMaps.Name.RULES,
                Item.class);
    }

    @Test
    void writesRacingAResyncAreNeverDroppedFromTheCache() throws Exception {
        StateMap<Item> map = rules();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread resyncs = new Thread(() -> {
            while (writing.get()) map.resync();
        });
        resyncs.start();
        for (int i = 0; i < 150; i++) assertTrue(map.create("k" + i, new Item("k" + i, i)));
        writing.set(false);
        resyncs.join();
        for (int i = 0; i < 150; i++) assertEquals(Optional.of(new Item("k" + i, i)), map.get("k" + i), "k" + i);
    }

    @Test
    void storageIsTheTruthForACacheThatMissedWrites() throws Exception {
        StateMap<Item> map = rules();
        assertTrue(map.create("a", new Item("a", 1)));
        assertTrue(map.create("b", new Item("b", 1)));
        // Another controller (a split's other side) wrote storage directly: b deleted, a changed, c created.
        StateDirectory other = StateDirectory.open(dir, "other", () -> 0);
        var mapper = io.vigil.protocol.Json.mapper();
        assertTrue(other.write("rules", "a", 1, mapper.valueToTree(new Item("a", 2))));
        assertTrue(other.write("rules", "b", 1, null));
        assertTrue(other.write("rules", "c", 0, mapper.valueToTree(new Item("c", 1))));
        assertEquals(Optional.of(new Item("a", 1)), map.get("a"), "the cache has not seen them yet");
        // A write here checks storage, not the cache: it cannot bring b back or overwrite a's newer revision blindly.
        assertFalse(map.update("b", i -> new Item("b", 99)).isPresent());
        assertEquals(Optional.of(new Item("a", 3)), map.update("a", i -> new Item("a", i.n() + 1)));
        map.resync();
        assertEquals(Optional.empty(), map.get("b"));
        assertEquals(Optional.of(new Item("c", 1)), map.get("c"));
        assertEquals(Optional.of(new Item("a", 3)), map.get("a"));
    }

    @Test
    void listenersSeeChangesAndRemovals() throws Exception {
        StateMap<Item> map = rules();
        List<String> seen = new CopyOnWriteArrayList<>();
        map.onChange((key, value) -> seen.add(key + "=" + (value == null ? "gone" : value.n())));
        map.create("x", new Item("x", 1));
        map.put("x", new Item("x", 2));
        map.remove("x");
        io.vigil.controller.testing.Await.until("three changes", java.time.Duration.ofSeconds(5), () -> seen.size() == 3);
        assertEquals(new ArrayList<>(List.of("x=1", "x=2", "x=gone")), new ArrayList<>(seen));
    }
}
