package io.vigil.controller.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.HostInventory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which disconnects reach the core, whatever order two members' reports arrive in. */
class AgentConnectionsTest {
    private static final HostInventory INVENTORY = new HostInventory(2, 1024, 1024, List.of());
    private static final HaInput HELLO = new HaInput.AgentConnected("h1", 1, INVENTORY, true);
    private static final HaInput BEAT = new HaInput.AgentHeartbeat("h1", 1, INVENTORY, true);
    private static final HaInput CLOSED = new HaInput.AgentDisconnected("h1");

    private final AgentConnections connections = new AgentConnections();

    @Test
    void closeOfTheOldConnectionBeforeTheNewHelloCounts() {
        assertTrue(connections.admit("a/1", HELLO));
        assertTrue(connections.admit("a/1", CLOSED));
        assertTrue(connections.admit("b/1", HELLO));
    }

    @Test
    void closeOfTheOldConnectionAfterTheNewHelloIsStale() {
        assertTrue(connections.admit("a/1", HELLO));
        assertTrue(connections.admit("b/1", HELLO));
        assertFalse(connections.admit("a/1", CLOSED));
        assertTrue(connections.admit("b/1", CLOSED), "the current connection's close counts");
    }

    @Test
    void aNewLeaderLearnsTheCurrentConnectionFromHeartbeats() {
        assertTrue(connections.admit("b/1", BEAT));
        assertTrue(connections.admit("a/1", BEAT), "late messages of an old connection still carry observations");
        assertFalse(connections.admit("a/1", CLOSED));
    }

    @Test
    void aCloseOfAnUnknownConnectionCounts() {
        assertTrue(connections.admit("a/1", CLOSED));
        connections.admit("b/1", HELLO);
        connections.clear();
        assertTrue(connections.admit("a/1", CLOSED), "a new leader knows nothing yet");
    }
}
