package io.vigil.agent.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.agent.lease.HostLease;
import io.vigil.agent.lease.HostLiveness;
import io.vigil.agent.lease.LocalStateStore;
import io.vigil.agent.lease.VmLease;
import io.vigil.agent.lease.VmLeases;
import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.LibvirtHypervisor;
import io.vigil.agent.libvirt.ProcFiles;
import io.vigil.agent.libvirt.TestLibvirt;
import io.vigil.agent.libvirt.QemuPidFiles;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage.CommandResult;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Planned moves between two hosts, h1 and h2, each with its own host lease, VM leases and command logic over one
 * storage directory, on real libvirt with real QEMU. libvirt's embedded driver serves one root per process, so the two
 * hosts share it ({@link TestLibvirt}); where that matters, h2 is first made to look like a host that never ran the VM.
 */
class PlannedMoveTest {
    static Path tmp;
    static SharedStorage storage;
    static final ExecutorService events = Executors.newSingleThreadExecutor();
    /** Renews the hosts' leases, as each agent's heartbeat writer does. */
    static final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
    static LibvirtHypervisor libvirt;
    static Host h1;
    static Host h2;

    /** One host: a libvirt root, a host lease, VM leases and the command logic, as the agent assembles them. */
    static final class Host {
        final String name;
        final String uri;
        final LibvirtHypervisor hypervisor;
        final LocalStateStore state;
        final VmLeases leases;
        final VmCommands commands;

        Host(String name) throws Exception {
            this.name = name;
            this.uri = TestLibvirt.uri();
            this.hypervisor = libvirt;
            this.state = LocalStateStore.open(tmp.resolve(name + "-state"), name, "boot");
            HostLease lease = new HostLease(name, storage, System::nanoTime, state, 1, 0, System.nanoTime(), 4000);
            assertTrue(lease.renew());
            heartbeats.scheduleWithFixedDelay(lease::renew, 500, 500, TimeUnit.MILLISECONDS);
            this.leases = new VmLeases(storage, lease, new HostLiveness(storage, System::nanoTime), System::nanoTime,
                    Thread::sleep);
            this.commands = new VmCommands(name, hypervisor, storage, leases, lease, state, Runnable::run);
        }

        CommandResult run(AgentCommand c) throws Exception {
            return commands.execute(c).get();
        }

        DomainStatus domain(String vm) throws Exception {
            return hypervisor.domain(vm).orElseThrow(() -> new AssertionError(vm + " is not defined on " + name));
        }

        /** The command line of the QEMU running {@code vm} here. */
        List<String> qemu(String vm) {
            long pid = QemuPidFiles.forUri(uri).orElseThrow().runningQemu(vm)
                    .orElseThrow(() -> new AssertionError("no QEMU runs " + vm + " on " + name)).pid();
            return ProcFiles.cmdline(pid);
        }

        boolean qemuRuns(String vm) {
            return QemuPidFiles.forUri(uri).orElseThrow().runningQemu(vm).isPresent();
        }
    }

    static String domainXml(String name) {
        return TestLibvirt.domainXml(name);
    }

    @BeforeAll
    static void twoHosts() throws Exception {
        assumeTrue(TestLibvirt.qemuInstalled(), "QEMU is not installed");
        assumeTrue(Files.isExecutable(Path.of("/usr/lib/libvirt/libvirt_iohelper")),
                "libvirt_iohelper (Debian package libvirt-daemon) writes and reads saved states");
        tmp = Files.createTempDirectory("vigil-move-");
        storage = new SharedStorage(tmp.resolve("shared"));
        Files.createDirectories(storage.hostsDir());
        Files.createDirectories(storage.leasesDir());
        libvirt = LibvirtHypervisor.open(TestLibvirt.uri(), events);
        h1 = new Host("h1");
        h2 = new Host("h2");
    }

    @AfterAll
    static void close() throws Exception {
        if (libvirt != null) {
            List<Thread> cleaners = new java.util.ArrayList<>();
            for (DomainStatus d : libvirt.domains()) {
                if (!d.name().startsWith("mv")) continue;
                Thread t = new Thread(() -> { // side by side: libvirt's clean-up takes seconds per VM
                    try {
                        libvirt.kill(d.name());
                        libvirt.undefine(d.name());
                    } catch (Exception e) {
                        System.err.println("cleaning up " + d.name() + ": " + e);
                    }
                });
                t.start();
                cleaners.add(t);
            }
            for (Thread t : cleaners) t.join(30_000);
            libvirt.close();
        }
        heartbeats.shutdownNow();
        events.shutdownNow();
        if (tmp != null) deleteTree(tmp);
    }

    @Test
    void aVmSavedOnOneHostIsRestoredOnAnotherFromSharedStorage() throws Exception {
        assertTrue(h1.run(new AgentCommand.StartVm("m-1", "mv1", domainXml("mv1"), 1, true)).ok());
        String uuid = h1.domain("mv1").uuid();
        long h1Qemu = QemuPidFiles.forUri(h1.uri).orElseThrow().pidOf("mv1").orElseThrow();

        String saveTo = SharedStorage.savedState("mv1", 2);
        CommandResult saved = h1.run(new AgentCommand.SaveVm("m-2", "mv1", saveTo));
        assertTrue(saved.ok(), saved.error());
        assertTrue(saved.detail().startsWith("saved to saves/mv1.g2.save"), saved.detail());
        Path file = storage.root().resolve(saveTo);
        assertTrue(Files.size(file) > 0, "the memory state is on shared storage");
        assertFalse(Files.exists(file.resolveSibling("mv1.g2.save.part")));
        assertEquals(VmPowerState.SHUTOFF, h1.domain("mv1").state(), "saving stopped it on h1, which keeps its definition");
        assertFalse(h1.qemuRuns("mv1"));
        assertTrue(ProcessHandle.of(h1Qemu).map(p -> !p.isAlive()).orElse(true), "h1's QEMU is gone");
        assertTrue(Files.exists(storage.vmLeaseDir("mv1").resolve("gen-1.released")), "h1 released its lease");
        assertTrue(h1.leases.held("mv1").isEmpty());
        assertFalse(h1.state.leasedVms().contains("mv1"), "nothing left for h1's self-fence or fence watchdog");
        assertFalse(h1.state.haVms().contains("mv1"));
        CommandResult again = h1.run(new AgentCommand.SaveVm("m-2b", "mv1", saveTo));
        assertTrue(again.ok(), "a repeated save (the agent restarted meanwhile) finds its file: " + again.error());

        // h2 has not h1's definition, but a stale one of its own under that name, with a UUID its libvirt made up
        libvirt.undefine("mv1");
        libvirt.define(domainXml("mv1"));
        assertNotEquals(uuid, h2.domain("mv1").uuid());

        CommandResult restored = h2.run(new AgentCommand.StartVm("m-3", "mv1", domainXml("mv1"), 2, true, saveTo));
        assertTrue(restored.ok(), restored.error());
        assertEquals("restored from saved state saves/mv1.g2.save", restored.detail());
        assertEquals(2, restored.leaseGeneration());
        assertEquals(new VmLease("mv1", "h2", 1, 2),
                RecordFiles.read(storage.vmLeaseDir("mv1").resolve("gen-2"), VmLease.class).orElseThrow());
        DomainStatus onH2 = h2.domain("mv1");
        assertEquals(VmPowerState.RUNNING, onH2.state());
        assertEquals(uuid, onH2.uuid(), "the same domain, not a new one");
        assertTrue(h2.qemu("mv1").contains("-incoming"), "h2's QEMU took the guest's state in rather than booting it");
        assertFalse(Files.exists(file), "the saved state is deleted once restored");
        assertTrue(h2.state.leasedVms().contains("mv1"));
    }

    @Test
    void aMissingOrUnreadableSavedStateFallsBackToAColdStart() throws Exception {
        CommandResult missing = h2.run(new AgentCommand.StartVm("c-1", "mv2", domainXml("mv2"), 1, false,
                SharedStorage.savedState("mv2", 1)));
        assertTrue(missing.ok(), missing.error());
        assertEquals("cold start: saved state saves/mv2.g1.save not found", missing.detail());
        assertEquals(VmPowerState.RUNNING, h2.domain("mv2").state());
        assertFalse(h2.qemu("mv2").contains("-incoming"), "booted afresh");
        assertEquals(1, h2.leases.held("mv2").getAsLong());

        Files.createDirectories(storage.savesDir());
        Path corrupt = Files.writeString(storage.root().resolve(SharedStorage.savedState("mv3", 1)), "not a saved state");
        CommandResult unreadable = h2.run(new AgentCommand.StartVm("c-2", "mv3", domainXml("mv3"), 1, false,
                SharedStorage.savedState("mv3", 1)));
        assertTrue(unreadable.ok(), unreadable.error());
        assertTrue(unreadable.detail().startsWith("cold start: reading saved state "), unreadable.detail());
        assertEquals(VmPowerState.RUNNING, h2.domain("mv3").state());
        assertTrue(Files.exists(corrupt), "a file libvirt cannot read is left for a person to look at");
    }

    @Test
    void savingAVmThatDoesNotRunHereFailsAndChangesNothing() throws Exception {
        libvirt.define(domainXml("mv4"));
        String uuid = h1.domain("mv4").uuid();
        CommandResult r = h1.run(new AgentCommand.SaveVm("s-1", "mv4", SharedStorage.savedState("mv4", 2)));
        assertFalse(r.ok());
        assertEquals("mv4 is not running on host h1: nothing to save", r.error());
        assertFalse(Files.exists(storage.root().resolve(SharedStorage.savedState("mv4", 2))));
        assertEquals(new DomainStatus("mv4", uuid, VmPowerState.SHUTOFF, 64, 1), h1.domain("mv4"), "still defined as it was");
        assertFalse(Files.exists(storage.vmLeaseDir("mv4")), "no lease touched");

        CommandResult unknown = h1.run(new AgentCommand.SaveVm("s-2", "mv-none", SharedStorage.savedState("mv-none", 1)));
        assertFalse(unknown.ok());
        assertTrue(libvirt.domain("mv-none").isEmpty());

        CommandResult escape = h1.run(new AgentCommand.SaveVm("s-3", "mv4", "../leases/mv4/gen-9"));
        assertFalse(escape.ok());
        assertTrue(escape.error().contains("saves/"), escape.error());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
