package io.vigil.controller.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.HostState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.store.ClusterStore;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.HostInventory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HA loop on a real standalone Hazelcast member, as a controller that has just become the leader: it restores from
 * the store what the previous leader left, including operator requests that leader never carried out, and hands the
 * core's new commands to the agents.
 */
class HaLoopTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final HostInventory INVENTORY = new HostInventory(4, 4096, 4096, List.of());

    private ClusterStore store;
    private HaLoop loop;
    private final List<String> sent = new CopyOnWriteArrayList<>();
    private volatile java.util.function.Consumer<ControllerMessage> onSend = m -> {};

    @BeforeEach
    void start() throws Exception {
        Config c = new Config();
        c.setClusterName("vigil-loop-test-" + System.nanoTime());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.getNetworkConfig().setPort(TestController.freePort()).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("vigil-store-test-");
        store = new ClusterStore(new io.vigil.controller.store.StateMaps(Hazelcast.newHazelcastInstance(c),
                io.vigil.controller.store.StateDirectory.open(dir, "test", System::currentTimeMillis),
                io.vigil.controller.store.ClusterSecret.random().sealingKey()), dir.resolve("logs"), "test", 100);
        store.setPolicy(ClusterPolicy.DEFAULT);
        loop = new HaLoop(store, new AgentLink() {
            @Override
            public boolean send(String host, ControllerMessage message) {
                onSend.accept(message);
                sent.add(host + " " + message.getClass().getSimpleName());
                return true;
            }

            @Override
            public void broadcast(ControllerMessage message) {}
        }, ClusterPolicy.DEFAULT);
    }

    @AfterEach
    void stop() {
        loop.close();
        store.close();
    }

    private static HostStatus host(String name, boolean maintenance) {
        return new HostStatus(name, HostState.CONNECTED, 1, 4, 4096, 0, true, true, List.of(), 0, 0, maintenance, 0);
    }

    @Test
    void aMaintenanceRequestThePreviousLeaderNeverCarriedOutIsCarriedOutOnceTheHostIsHeardFrom() {
        store.putHostStatus(host("lh1", false));
        store.requestMaintenance(new ClusterStore.MaintenanceRequest("lh1", true, System.currentTimeMillis()));
        store.putHostStatus(host("lh2", true));
        store.requestMaintenance(new ClusterStore.MaintenanceRequest("lh2", true, System.currentTimeMillis()));

        loop.submitFromAgent("m/1", new HaInput.AgentConnected("lh1", 1, INVENTORY, true));
        loop.submitFromAgent("m/2", new HaInput.AgentConnected("lh2", 1, INVENTORY, true));
        Await.until("lh1 in maintenance", WAIT, () -> store.hostStatus("lh1").orElseThrow().maintenance());
        // The status is written ahead of the step's commands, its event among them: wait for the event too.
        Await.until("lh1's maintenance event", WAIT, () -> !store.events(
                new ClusterStore.EventQuery(null, null, "lh1", null, "host-maintenance", 10)).isEmpty());
        assertEquals(1, store.events(new ClusterStore.EventQuery(null, null, "lh1", null, "host-maintenance", 10)).size());
        assertEquals(0, store.events(new ClusterStore.EventQuery(null, null, "lh2", null, "host-maintenance", 10)).size(),
                "a request the stored status already shows is not repeated");
    }

    @Test
    void aStartLeavesOnlyAfterItsPlacementIsDurableOnStorage() {
        List<String> seenOnStorage = new CopyOnWriteArrayList<>();
        onSend = m -> {
            if (m instanceof ControllerMessage.Command c && c.command() instanceof io.vigil.protocol.AgentCommand.StartVm start) {
                // Read storage itself, not the cache: what a cold-started leader would find at this instant.
                var placement = store.maps().directory().read("vm-placements", start.vm()).orElseThrow();
                seenOnStorage.add(placement.value().get("host").asText() + " " + placement.value().get("state").asText());
            }
        };
        loop.submitFromAgent("m/1", new HaInput.AgentConnected("lh1", 1, INVENTORY, true));
        Await.until("lh1 connected", WAIT, () -> store.hostStatus("lh1").isPresent());
        VmSpec spec = new VmSpec("wv1", "<domain/>", 64, 1, true, Priority.MEDIUM, RequestedState.STARTED, 0);
        store.createSpec(spec);
        loop.submit(new HaInput.VmSpecChanged(spec));
        Await.until("a StartVm sent", WAIT, () -> !seenOnStorage.isEmpty());
        assertEquals("lh1 starting", seenOnStorage.get(0));
    }

    @Test
    void aMoveRequestNoLeaderTookYetIsTakenByTheNextLeader() {
        MoveRequests moves = new MoveRequests(store.maps());
        moves.request("mv1", "lh2", io.vigil.controller.ha.MoveKind.MIGRATE); // acknowledged while no leader listened
        assertEquals(1, moves.pending().size());
        loop.takeMovesFrom(moves);
        loop.submitFromAgent("m/1", new HaInput.AgentConnected("lh1", 1, INVENTORY, true)); // the first step restores
        Await.until("the stored request taken by the core", WAIT, () -> moves.pending().isEmpty());
        // The core answered it (an unknown VM cannot move): it was carried out, not dropped.
        Await.until("the core's answer", WAIT, () -> !store.events(
                new ClusterStore.EventQuery(null, null, null, "mv1", null, 10)).isEmpty());
    }

    @Test
    void storedRulesAreRestoredAndChangesReachTheCore() {
        for (String vm : List.of("lv1", "lv2"))
            store.createSpec(new VmSpec(vm, "<domain/>", 64, 1, true, Priority.MEDIUM, RequestedState.STOPPED, 0));
        store.createRule(new Rule("apart", Rule.Type.ANTI_AFFINITY, List.of("lv1", "lv2"), true));
        loop.submitRulesChanged();
        Await.until("a rules-changed event", WAIT,
                () -> !store.events(new ClusterStore.EventQuery(null, null, null, null, "rules-changed", 10)).isEmpty());
        assertEquals(true, store.events(new ClusterStore.EventQuery(null, null, null, null, "rules-changed", 10)).get(0)
                .message().contains("apart"));
    }

    @Test
    void aClearedShutdownIsSentToTheHostsAgent() {
        loop.submitFromAgent("m/1", new HaInput.AgentConnected("lh3", 1, INVENTORY, true));
        loop.submitFromAgent("m/1", new HaInput.HostShuttingDown("lh3", "reboot"));
        Await.until("ShutdownCleared sent to lh3", WAIT, () -> sent.contains("lh3 ShutdownCleared"));
    }
}
