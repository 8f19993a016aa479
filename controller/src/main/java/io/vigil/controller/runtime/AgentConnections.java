package io.vigil.controller.runtime;

import io.vigil.controller.ha.HaInput;
import java.util.HashMap;
import java.util.Map;

/**
 * The leader's view of which connection is each host's current one, used to drop stale disconnects. An agent may
 * reconnect to another controller member before the member holding its old connection notices that connection
 * closed, and the two members' reports reach the leader in either order; so a disconnect counts only if it comes
 * from the connection of the host's latest Hello. Without it a host connected elsewhere would be shown
 * disconnected until its next heartbeat.
 *
 * <p>A Hello makes its connection current; any other message makes its connection current only when none is known
 * (a newly elected leader learns the current connections from heartbeats). Confined to the HA loop's thread.
 * Liveness only: whether a host may run a VM is decided by its leases, not by this.
 */
final class AgentConnections {
    private final Map<String, String> current = new HashMap<>();

    /** Whether {@code input}, reported on {@code connection}, should reach the core; updates the view. */
    boolean admit(String connection, HaInput input) {
        if (input instanceof HaInput.AgentConnected c) {
            current.put(c.host(), connection);
            return true;
        }
        if (input instanceof HaInput.AgentDisconnected d) {
            String latest = current.get(d.host());
            if (latest != null && !latest.equals(connection)) return false;
            current.remove(d.host());
            return true;
        }
        String host = hostOf(input);
        if (host != null) current.putIfAbsent(host, connection);
        return true;
    }

    void clear() {
        current.clear();
    }

    private static String hostOf(HaInput input) {
        if (input instanceof HaInput.AgentHeartbeat h) return h.host();
        if (input instanceof HaInput.VmLifecycleObserved l) return l.host();
        if (input instanceof HaInput.CommandCompleted c) return c.host();
        return null;
    }
}
