package io.vigil.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.testing.TestController;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The store on a real standalone Hazelcast member. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterStoreTest {
    private ClusterStore store;

    @BeforeAll
    void start() throws Exception {
        Config c = new Config();
        c.setClusterName("vigil-store-test");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.getNetworkConfig().setPort(TestController.freePort()).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("vigil-store-test-");
        store = new ClusterStore(new io.vigil.controller.store.StateMaps(Hazelcast.newHazelcastInstance(c),
                io.vigil.controller.store.StateDirectory.open(dir, "test", System::currentTimeMillis),
                io.vigil.controller.store.ClusterSecret.random().sealingKey()), dir.resolve("logs"), "test", 10);
    }

    @AfterAll
    void stop() {
        store.close();
    }

    private static ClusterEvent event(String type, String host, String vm, long time) {
        return new ClusterEvent(0, time, type, host, vm, "test", type, Map.of("n", 1));
    }

    @Test
    void eventsAreSequencedFilteredAndBounded() {
        for (int i = 0; i < 25; i++) store.appendEvent(event(i % 2 == 0 ? "host-suspect" : "vm-started", "h" + (i % 3), "vm" + i, 1000 + i));
        store.trimEvents();
        List<ClusterEvent> all = store.events(new ClusterStore.EventQuery(null, null, null, null, null, 1000));
        assertEquals(10, all.size(), "only the newest 10 are kept");
        assertEquals("vm24", all.get(9).vm(), "newest last");
        assertEquals("vm15", all.get(0).vm());
        for (int i = 1; i < all.size(); i++) assertTrue(all.get(i).sequence() > all.get(i - 1).sequence());

        assertTrue(store.events(new ClusterStore.EventQuery(null, null, null, null, "vm-started", 100)).stream()
                .allMatch(e -> e.type().equals("vm-started")));
        assertEquals(List.of("vm24"), store.events(new ClusterStore.EventQuery(null, null, null, "vm24", null, 100)).stream()
                .map(ClusterEvent::vm).toList());
        assertTrue(store.events(new ClusterStore.EventQuery(null, null, "h0", null, null, 100)).stream().allMatch(e -> e.host().equals("h0")));
        assertEquals(3, store.events(new ClusterStore.EventQuery(null, 1022L, null, null, null, 100)).size());
        long seq = all.get(7).sequence();
        assertEquals(2, store.events(new ClusterStore.EventQuery(seq, null, null, null, null, 100)).size());
        assertEquals(4, store.events(new ClusterStore.EventQuery(null, null, null, null, null, 4)).size());
    }

    @Test
    void specsAreCreatedOnceAndUpdatedByCompareAndSet() {
        VmSpec spec = new VmSpec("s1", "<domain/>", 64, 1, true, Priority.LOW, RequestedState.STARTED, 1);
        assertTrue(store.createSpec(spec));
        assertFalse(store.createSpec(spec.withRequested(RequestedState.STOPPED)), "a second create with the name fails");
        assertEquals(RequestedState.STARTED, store.spec("s1").orElseThrow().requestedState());
        assertEquals(RequestedState.STOPPED, store.updateSpec("s1", s -> s.withRequested(RequestedState.STOPPED)).orElseThrow().requestedState());
        assertEquals(spec.withRequested(RequestedState.STOPPED), store.spec("s1").orElseThrow());
        assertTrue(store.updateSpec("nope", s -> s).isEmpty());
    }
}
