package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;

/** What a controller sends an agent over the agent's connection. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ControllerMessage.Welcome.class, name = "welcome"),
    @JsonSubTypes.Type(value = ControllerMessage.Refused.class, name = "refused"),
    @JsonSubTypes.Type(value = ControllerMessage.Command.class, name = "command"),
    @JsonSubTypes.Type(value = ControllerMessage.PolicyUpdate.class, name = "policy"),
    @JsonSubTypes.Type(value = ControllerMessage.LostVms.class, name = "lost-vms"),
    @JsonSubTypes.Type(value = ControllerMessage.ShutdownCleared.class, name = "shutdown-cleared"),
    @JsonSubTypes.Type(value = ControllerMessage.CacheBudgets.class, name = "cache-budgets"),
})
public sealed interface ControllerMessage {

    /**
     * Reply to Hello. {@code controllers} lists the agent URLs of every controller in the cluster, so the agent can
     * fail over to another one.
     */
    record Welcome(String controller, List<String> controllers, AgentPolicy policy) implements ControllerMessage {}

    /** The controller will not take this agent (wrong protocol version, duplicate host); the connection closes. */
    record Refused(String reason) implements ControllerMessage {}

    /**
     * A command from the leader controller, stamped with the epoch of the leader lease it held when it sent it. An
     * agent remembers the highest epoch it has seen (from commands and from the leader lease on shared storage) and
     * refuses a command with a lower one: it comes from a leader that has since been replaced (frozen and resumed, or
     * on the wrong side of a partition). Epoch 0 means "no leader lease" and is refused once any epoch is known.
     */
    record Command(AgentCommand command, long epoch) implements ControllerMessage {}

    record PolicyUpdate(AgentPolicy policy) implements ControllerMessage {}

    /**
     * VMs this host must not run: they were restarted elsewhere while the host was declared failed. The agent
     * destroys any of them that still run and forgets their leases.
     */
    record LostVms(List<String> vms) implements ControllerMessage {}

    /**
     * Answer to {@link AgentMessage.HostShutdown}: the controller has dealt with the host's VMs under its shutdown
     * policy; the agent may let the host go down. It expects no more heartbeats and marks the host offline.
     */
    record ShutdownCleared(String detail) implements ControllerMessage {}

    /**
     * How much of the host's failover reserve each of its VMs may use as disk cache, in MiB, by VM name: the whole
     * set, sent whenever it changes and after Welcome (level-triggered). The agent grows or shrinks each VM's cache
     * to its budget (shrinking writes dirty blocks back first); a VM not listed gets no cache memory.
     */
    record CacheBudgets(Map<String, Long> budgetsMiB) implements ControllerMessage {
        public CacheBudgets {
            budgetsMiB = budgetsMiB == null ? Map.of() : Map.copyOf(budgetsMiB);
        }
    }
}
