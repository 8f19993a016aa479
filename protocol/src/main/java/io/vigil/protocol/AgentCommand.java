package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.vigil.protocol.memory.RecoverySource;

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
    @JsonSubTypes.Type(value = AgentCommand.SaveVm.class, name = "save-vm"),
})
public sealed interface AgentCommand {
    String id();

    String vm();

    /**
     * Define the VM from {@code domainXml} (replacing an older definition) and start it, after acquiring its disk
     * lease at {@code generation}. Refused while another live host holds the lease.
     *
     * <p>{@code restoreFrom} (may be null): a memory-state file written by {@link SaveVm}, as a path relative to
     * the shared storage root. The agent restores the VM from it (the guest carries on where it was saved) and
     * deletes it; if the file is missing or the restore fails, it cold-starts the VM from {@code domainXml} instead
     * and says so in the result's {@code detail}.
     *
     * <p>{@code cacheMode}: how the agent caches the VM's disk writes (null: write-back). {@code reclaimMiB}: cache
     * memory this host must give back before the VM starts (a failover onto this host's reserve); the agent shrinks
     * its caches by that much, then starts the VM, and the result's {@code detail} says how long the reclaim took.
     *
     * <p>{@code recoverFrom} (may be null): the VM's previous host failed; the agent reads the dirty blocks its cache
     * arenas still hold from that host's memory keeper and writes them to the disk images before the VM starts, and
     * the result's {@code recovery} says what it found.
     */
    record StartVm(String id, String vm, String domainXml, long generation, boolean haEnabled, String restoreFrom,
            CacheMode cacheMode, long reclaimMiB, RecoverySource recoverFrom) implements AgentCommand {

        public StartVm {
            if (cacheMode == null) cacheMode = CacheMode.WRITE_BACK;
            if (reclaimMiB < 0) throw new IllegalArgumentException("reclaimMiB must not be negative");
        }

        public StartVm(String id, String vm, String domainXml, long generation, boolean haEnabled, String restoreFrom,
                CacheMode cacheMode, long reclaimMiB) {
            this(id, vm, domainXml, generation, haEnabled, restoreFrom, cacheMode, reclaimMiB, null);
        }

        public StartVm(String id, String vm, String domainXml, long generation, boolean haEnabled, String restoreFrom) {
            this(id, vm, domainXml, generation, haEnabled, restoreFrom, CacheMode.WRITE_BACK, 0);
        }

        /** A cold start. */
        public StartVm(String id, String vm, String domainXml, long generation, boolean haEnabled) {
            this(id, vm, domainXml, generation, haEnabled, null);
        }
    }

    /** Ask the guest to shut down; destroy it if it has not stopped after {@code timeoutSeconds}. Releases the lease. */
    record StopVm(String id, String vm, int timeoutSeconds) implements AgentCommand {}

    /** Power the VM off at once. Releases the lease. */
    record DestroyVm(String id, String vm) implements AgentCommand {}

    /** Destroy the VM if it runs and remove its definition from this host. */
    record UndefineVm(String id, String vm) implements AgentCommand {}

    /**
     * The first half of a planned move: save the running VM's memory state to {@code saveTo} (a path relative to the
     * shared storage root, see {@code SharedStorage.savedState}), which stops it here, then release its lease. The
     * controller then sends the target a {@link StartVm} with {@code restoreFrom}. If the save fails the VM keeps
     * running here and the result says why.
     */
    record SaveVm(String id, String vm, String saveTo) implements AgentCommand {}
}
