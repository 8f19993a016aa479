package io.vigil.controller.runtime;

import io.vigil.protocol.ControllerMessage;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps each agent's cache budgets level-triggered: after every HA step the loop hands it the budgets the state
 * implies ({@code ClusterState#cacheBudgets}), and it sends a host its {@link ControllerMessage.CacheBudgets} only
 * when they differ from what was last sent to it. A host that connects again (a new connection, after its Welcome)
 * or whose message could not be handed to any connection is sent its budgets again at the next step. Confined to
 * the HA loop's thread.
 */
final class CacheBudgetSender {
    private final AgentLink agents;
    private final Map<String, Map<String, Long>> sent = new HashMap<>();

    CacheBudgetSender(AgentLink agents) {
        this.agents = agents;
    }

    /** Sends every host whose budgets changed its whole set. */
    void update(Map<String, Map<String, Long>> budgets) {
        sent.keySet().retainAll(budgets.keySet());
        budgets.forEach((host, vms) -> {
            if (vms.equals(sent.get(host))) return;
            if (agents.send(host, new ControllerMessage.CacheBudgets(vms))) {
                sent.put(host, vms);
            } else {
                sent.remove(host);
            }
        });
    }

    /** {@code host} has a new connection (or none): its budgets are sent again. */
    void forget(String host) {
        sent.remove(host);
    }

    void clear() {
        sent.clear();
    }
}
