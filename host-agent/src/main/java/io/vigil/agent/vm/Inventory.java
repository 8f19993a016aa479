package io.vigil.agent.vm;

import io.vigil.agent.disk.DiskService;
import io.vigil.agent.lease.VmLeases;
import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.Hypervisor;
import io.vigil.agent.libvirt.HypervisorException;
import io.vigil.agent.libvirt.NodeResources;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmReport;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;

/**
 * The host's inventory for the controller: advertised CPUs and memory (configured, or libvirt's node figures), and
 * every domain with the generation of the lease this host holds on it (0 for none, and for domains not running).
 * Free memory is what the running domains leave of the advertised total: what placement can still use (the disk
 * caches live in that memory, lent from the failover reserve, and are reported per VM).
 */
public final class Inventory {
    private final Hypervisor hypervisor;
    private final VmLeases leases;
    private final DiskService disks;
    private final int cpus;
    private final long memoryMiB;
    private volatile Supplier<MemoryKeeperEndpoint> memoryKeeper = () -> null;
    private volatile java.util.function.Function<String, String> problems = vm -> null;

    public Inventory(Hypervisor hypervisor, VmLeases leases, int configuredCpus, long configuredMemoryMiB) throws HypervisorException {
        this(hypervisor, leases, configuredCpus, configuredMemoryMiB, DiskService.DIRECT);
    }

    /** {@code disks}: where each VM's disk cache figures come from. */
    public Inventory(Hypervisor hypervisor, VmLeases leases, int configuredCpus, long configuredMemoryMiB,
            DiskService disks) throws HypervisorException {
        this.hypervisor = hypervisor;
        this.disks = disks;
        this.leases = leases;
        NodeResources node = configuredCpus > 0 && configuredMemoryMiB > 0 ? null : hypervisor.node();
        this.cpus = configuredCpus > 0 ? configuredCpus : node.cpus();
        this.memoryMiB = configuredMemoryMiB > 0 ? configuredMemoryMiB : node.memoryMiB();
    }

    /** Where this host's memory keeper serves its arenas, read at every snapshot (null: none runs). */
    public void memoryKeeper(Supplier<MemoryKeeperEndpoint> endpoint) {
        this.memoryKeeper = endpoint;
    }

    /** What the agent found wrong with a VM and could not fix, by VM (null: nothing), read at every snapshot. */
    public void problems(java.util.function.Function<String, String> problems) {
        this.problems = problems;
    }

    public HostInventory snapshot() throws HypervisorException {
        List<VmReport> vms = new ArrayList<>();
        long used = 0;
        for (DomainStatus d : hypervisor.domains()) {
            boolean active = d.state().isActive();
            if (active) used += d.memoryMiB();
            long lease = active ? leases.held(d.name()).orElse(0) : 0;
            DiskService.CacheUse cache = disks.use(d.name());
            vms.add(new VmReport(d.name(), d.uuid(), d.state(), d.memoryMiB(), d.vcpus(), lease, cache.bytes(),
                    cache.dirtyBytes(), cache.writeBackMillis(), d.stateReason(), active ? problems.apply(d.name()) : null));
        }
        return new HostInventory(cpus, memoryMiB, Math.max(0, memoryMiB - used), vms, memoryKeeper.get());
    }
}
