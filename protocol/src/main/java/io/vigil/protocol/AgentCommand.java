package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * A command the controller sends an agent. Every command has an id; carrying out the same command twice has the
 * effect of carrying it out once, and its {@link AgentMessage.CommandResult} comes back with the same id.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
    @JsonSubTypes.Type(value = AgentCommand.StartVm.class, name = "start-vm"),
    @JsonSubTypes.Type(value = AgentCommand.StopVm.class, name = "stop-vm"),
    @JsonSubTypes.Type(value = AgentCommand.DestroyVm.class, name = "destroy-vm"),
    @JsonSubTypes.Type(value = AgentCommand.UndefineVm.class, name = "undefine-vm"),
})
public sealed interface AgentCommand {
    String id();

    String vm();

    /**
     * Define the VM from {@code domainXml} (replacing an older definition) and start it, after acquiring its disk
     * lease at {@code generation}. Refused while another live host holds the lease.
     */
    record StartVm(String id, String vm, String domainXml, long generation, boolean haEnabled) implements AgentCommand {}

    /** Ask the guest to shut down; destroy it if it has not stopped after {@code timeoutSeconds}. Releases the lease. */
    record StopVm(String id, String vm, int timeoutSeconds) implements AgentCommand {}

    /** Power the VM off at once. Releases the lease. */
    record DestroyVm(String id, String vm) implements AgentCommand {}

    /** Destroy the VM if it runs and remove its definition from this host. */
    record UndefineVm(String id, String vm) implements AgentCommand {}
}
