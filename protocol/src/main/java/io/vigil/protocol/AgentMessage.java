package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.vigil.protocol.memory.RecoveryReport;

/** What an agent sends the controller over its connection. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = AgentMessage.Hello.class, name = "hello"),
    @JsonSubTypes.Type(value = AgentMessage.Heartbeat.class, name = "heartbeat"),
    @JsonSubTypes.Type(value = AgentMessage.VmLifecycle.class, name = "vm-lifecycle"),
    @JsonSubTypes.Type(value = AgentMessage.CommandResult.class, name = "command-result"),
    @JsonSubTypes.Type(value = AgentMessage.HostShutdown.class, name = "host-shutdown"),
})
public sealed interface AgentMessage {
    String host();

    /**
     * First message on a connection. {@code hostGeneration} is the generation of the host's lease on shared storage;
     * it grows each time the host rejoins after its lease lapsed.
     */
    record Hello(String host, long hostGeneration, int protocolVersion, HostInventory inventory, boolean storageOk)
            implements AgentMessage {}

    /**
     * Sent every heartbeat interval; carries the full inventory so the controller's view converges even if an
     * event was lost (level-triggered). {@code storageOk} is false once the host failed to renew its leases.
     */
    record Heartbeat(String host, long hostGeneration, long sequence, HostInventory inventory, boolean storageOk)
            implements AgentMessage {}

    /** A libvirt lifecycle event, forwarded as it happens ({@code event} is libvirt's name, e.g. "started"). */
    record VmLifecycle(String host, String vm, String event, String detail, VmPowerState state) implements AgentMessage {}

    /**
     * The outcome of the command with {@code commandId}. {@code error} is a person-readable reason when not ok;
     * {@code detail} (may be null) says how a successful command was carried out, e.g. that a restore fell back to a
     * cold start. {@code recovery} (may be null): what a StartVm with {@code recoverFrom} recovered.
     */
    record CommandResult(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration,
            String detail, RecoveryReport recovery) implements AgentMessage {

        public CommandResult(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration,
                String detail) {
            this(host, commandId, vm, ok, error, leaseGeneration, detail, null);
        }

        public CommandResult(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration) {
            this(host, commandId, vm, ok, error, leaseGeneration, null);
        }
    }

    /**
     * The host is shutting down cleanly (not an agent restart). The controller applies its shutdown policy to the
     * host's VMs (move them away, stop them for restart elsewhere, or stop them where they are) and answers with
     * {@link ControllerMessage.ShutdownCleared}; the agent holds the shutdown until then (or its own time limit).
     */
    record HostShutdown(String host, String reason) implements AgentMessage {}
}
