package io.vigil.agent.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.vigil.agent.lease.HostLease;
import io.vigil.agent.lease.HostLiveness;
import io.vigil.agent.lease.LocalStateStore;
import io.vigil.agent.lease.VmLeases;
import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.Hypervisor;
import io.vigil.agent.libvirt.HypervisorException;
import io.vigil.agent.libvirt.SavedDomain;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage.CommandResult;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command logic over a mocked hypervisor and real leases in a temp directory. */
class VmCommandsTest {
    @TempDir Path dir;
    Hypervisor hypervisor = mock(Hypervisor.class);
    SharedStorage storage;
    LocalStateStore state;
    HostLease lease;
    VmLeases leases;
    VmCommands commands;

    static final String XML = "<domain type='kvm'><name>vm1</name><memory unit='MiB'>64</memory></domain>";
    static final DomainStatus RUNNING = new DomainStatus("vm1", "6c5a2d52-0000-0000-0000-000000000001", VmPowerState.RUNNING, 64, 1);
    static final DomainStatus SHUTOFF = new DomainStatus("vm1", RUNNING.uuid(), VmPowerState.SHUTOFF, 64, 1);

    @BeforeEach
    void setUp() throws Exception {
        storage = new SharedStorage(dir.resolve("shared"));
        Files.createDirectories(storage.hostsDir());
        Files.createDirectories(storage.leasesDir());
        state = LocalStateStore.open(dir.resolve("state"), "h1", "boot");
        lease = new HostLease("h1", storage, System::nanoTime, state, 1, 0, System.nanoTime(), 4000);
        assertTrue(lease.renew());
        leases = new VmLeases(storage, lease, new HostLiveness(storage, System::nanoTime), System::nanoTime, Thread::sleep);
        commands = new VmCommands("h1", hypervisor, storage, leases, lease, state, Runnable::run);
    }

    private CommandResult run(AgentCommand c) throws Exception {
        return commands.execute(c).get();
    }

    @Test
    void startAcquiresTheLeaseDefinesAndStarts() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF), Optional.of(RUNNING));
        CommandResult r = run(new AgentCommand.StartVm("c1", "vm1", XML, 3, true));
        assertTrue(r.ok(), r.error());
        assertEquals(3, r.leaseGeneration());
        verify(hypervisor).define(XML);
        verify(hypervisor).start("vm1");
        assertEquals(3, leases.held("vm1").getAsLong());
        assertTrue(state.isHa("vm1"), "remembered as HA for fencing after a restart");
    }

    @Test
    void aRepeatedCommandIdReturnsTheFirstResultWithoutActingAgain() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty());
        var start = new AgentCommand.StartVm("c1", "vm1", XML, 1, true);
        var first = commands.execute(start);
        var second = commands.execute(start);
        assertSame(first, second);
        assertEquals(first.get(), second.get());
        verify(hypervisor, times(1)).define(anyString());
        verify(hypervisor, times(1)).start("vm1");
    }

    @Test
    void invalidXmlFailsWithLibvirtsReasonAndTakesNoLease() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty());
        doThrow(new HypervisorException("XML error: Invalid value for attribute 'type' in element 'graphics': 'none'."))
                .when(hypervisor).define(anyString());
        CommandResult r = run(new AgentCommand.StartVm("c1", "vm1", XML, 1, true));
        assertFalse(r.ok());
        assertEquals("XML error: Invalid value for attribute 'type' in element 'graphics': 'none'.", r.error());
        assertFalse(Files.exists(storage.vmLeaseDir("vm1")));
        verify(hypervisor, never()).start(anyString());
    }

    @Test
    void aDomainNamedOtherwiseIsRefusedBeforeLibvirtSeesIt() throws Exception {
        CommandResult r = run(new AgentCommand.StartVm("c1", "vm2", XML, 1, true));
        assertFalse(r.ok());
        verify(hypervisor, never()).define(anyString());
    }

    @Test
    void aFailedStartReleasesTheLease() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF));
        doThrow(new HypervisorException("internal error: qemu unexpectedly closed the monitor")).when(hypervisor).start("vm1");
        CommandResult r = run(new AgentCommand.StartVm("c1", "vm1", XML, 1, true));
        assertFalse(r.ok());
        assertTrue(Files.exists(storage.vmLeaseDir("vm1").resolve("gen-1.released")));
    }

    @Test
    void redefiningARunningDomainKeepsItsUuid() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.of(RUNNING));
        assertTrue(run(new AgentCommand.StartVm("c1", "vm1", XML, 1, true)).ok());
        verify(hypervisor).define(org.mockito.ArgumentMatchers.contains("<uuid>" + RUNNING.uuid() + "</uuid>"));
    }

    @Test
    void selfFenceDestroysEveryRunningVmStartedUnderALeaseHaOrNot() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF));
        assertTrue(run(new AgentCommand.StartVm("c1", "vm1", XML, 1, true)).ok());
        when(hypervisor.domain("vm2")).thenReturn(Optional.empty(), Optional.of(SHUTOFF));
        assertTrue(run(new AgentCommand.StartVm("c2", "vm2", XML.replace("vm1", "vm2"), 1, false)).ok());
        state.setLeased("vm3", true); // started here once, not running now
        when(hypervisor.domain("vm1")).thenReturn(Optional.of(RUNNING));
        when(hypervisor.domain("vm2")).thenReturn(Optional.of(RUNNING));
        when(hypervisor.domain("vm3")).thenReturn(Optional.empty());
        assertEquals(java.util.Set.of("vm1", "vm2"), java.util.Set.copyOf(commands.destroyLeasedVmsNow()),
                "a lapsed host lease protects no VM, HA or not");
        verify(hypervisor).kill("vm1");
        verify(hypervisor).kill("vm2");
        verify(hypervisor, never()).kill("vm3");
    }

    @Test
    void stopShutsDownThenDestroysAfterTheTimeoutAndReleases() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF), Optional.of(RUNNING));
        assertTrue(run(new AgentCommand.StartVm("c1", "vm1", XML, 1, true)).ok());
        when(hypervisor.domain("vm1")).thenReturn(Optional.of(RUNNING)); // the guest ignores ACPI
        assertTrue(run(new AgentCommand.StopVm("c2", "vm1", 1)).ok());
        verify(hypervisor).shutdown("vm1");
        verify(hypervisor).destroy("vm1");
        assertTrue(Files.exists(storage.vmLeaseDir("vm1").resolve("gen-1.released")));
    }

    /** One sample of every command kind the protocol has; the test below fails when a new kind is missing here. */
    static List<AgentCommand> oneOfEachKind() {
        return List.of(new AgentCommand.StartVm("k-start", "vm1", XML, 1, true),
                new AgentCommand.StopVm("k-stop", "vm1", 1),
                new AgentCommand.DestroyVm("k-destroy", "vm1"),
                new AgentCommand.UndefineVm("k-undefine", "vm1"),
                new AgentCommand.SaveVm("k-save", "vm1", SharedStorage.savedState("vm1", 2)));
    }

    @Test
    void everyCommandKindIsCoveredHere() {
        assertEquals(java.util.Set.of(AgentCommand.class.getPermittedSubclasses()),
                oneOfEachKind().stream().map(Object::getClass).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void everyCommandKindReachesItsOwnHandler() throws Exception {
        for (AgentCommand c : oneOfEachKind()) {
            org.mockito.Mockito.reset(hypervisor);
            when(hypervisor.domain("vm1")).thenReturn(Optional.of(RUNNING));
            run(c);
            // each kind's own libvirt action, and no other kind's (an unknown kind once fell through to undefine)
            if (c instanceof AgentCommand.StartVm) verify(hypervisor).start("vm1");
            else verify(hypervisor, never()).start(anyString());
            if (c instanceof AgentCommand.StopVm) verify(hypervisor).shutdown("vm1");
            else verify(hypervisor, never()).shutdown(anyString());
            if (c instanceof AgentCommand.SaveVm) verify(hypervisor).save(org.mockito.ArgumentMatchers.eq("vm1"), org.mockito.ArgumentMatchers.any());
            else verify(hypervisor, never()).save(anyString(), org.mockito.ArgumentMatchers.any());
            if (c instanceof AgentCommand.UndefineVm) verify(hypervisor).undefine("vm1");
            else verify(hypervisor, never()).undefine(anyString());
            if (c instanceof AgentCommand.DestroyVm || c instanceof AgentCommand.UndefineVm) verify(hypervisor).destroy("vm1");
        }
    }

    private Path savedState(String vm, long generation) throws Exception {
        Files.createDirectories(storage.savesDir());
        return Files.writeString(storage.root().resolve(SharedStorage.savedState(vm, generation)), "saved state");
    }

    @Test
    void aFailedSaveLeavesTheVmRunningUnderItsLease() throws Exception {
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF), Optional.of(RUNNING));
        assertTrue(run(new AgentCommand.StartVm("c1", "vm1", XML, 1, true)).ok());
        when(hypervisor.domain("vm1")).thenReturn(Optional.of(RUNNING));
        doThrow(new HypervisorException("saving vm1: operation failed: migration job: unexpectedly failed"))
                .when(hypervisor).save(org.mockito.ArgumentMatchers.eq("vm1"), org.mockito.ArgumentMatchers.any());
        CommandResult r = run(new AgentCommand.SaveVm("c2", "vm1", SharedStorage.savedState("vm1", 2)));
        assertFalse(r.ok());
        assertEquals("saving vm1: operation failed: migration job: unexpectedly failed", r.error());
        assertEquals(1, leases.held("vm1").getAsLong(), "still held: the VM runs on here");
        assertTrue(state.leasedVms().contains("vm1"), "and is still guarded by the self-fence");
        assertFalse(Files.exists(storage.vmLeaseDir("vm1").resolve("gen-1.released")));
        try (var files = Files.list(storage.savesDir())) {
            assertEquals(List.of(), files.toList(), "no saved state, whole or partial");
        }
    }

    @Test
    void aFailedRestoreColdStartsTheVmAndSaysWhy() throws Exception {
        Path file = savedState("vm1", 2);
        when(hypervisor.savedDomain(file)).thenReturn(new SavedDomain("vm1", RUNNING.uuid()));
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF));
        doThrow(new HypervisorException("restoring from " + file + ": operation failed: job 'restore' failed"))
                .when(hypervisor).restore(file);
        CommandResult r = run(new AgentCommand.StartVm("c1", "vm1", XML, 2, true, SharedStorage.savedState("vm1", 2)));
        assertTrue(r.ok(), r.error());
        assertEquals("cold start: restore from saves/vm1.g2.save failed: restoring from " + file
                + ": operation failed: job 'restore' failed", r.detail());
        assertEquals(2, r.leaseGeneration());
        verify(hypervisor).define(org.mockito.ArgumentMatchers.contains("<uuid>" + RUNNING.uuid() + "</uuid>"));
        verify(hypervisor).start("vm1");
        assertFalse(Files.exists(file), "booted afresh, the guest has moved on from that saved state");
    }

    @Test
    void aSavedStateOfAnotherVmIsNeverRestored() throws Exception {
        Path file = savedState("vm1", 2);
        when(hypervisor.savedDomain(file)).thenReturn(new SavedDomain("vm9", RUNNING.uuid()));
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF));
        CommandResult r = run(new AgentCommand.StartVm("c1", "vm1", XML, 2, true, SharedStorage.savedState("vm1", 2)));
        assertTrue(r.ok(), r.error());
        assertEquals("cold start: saved state saves/vm1.g2.save holds VM 'vm9', not 'vm1'", r.detail());
        verify(hypervisor, never()).restore(org.mockito.ArgumentMatchers.any());
        verify(hypervisor).start("vm1");
        assertTrue(Files.exists(file), "not this VM's to delete");
    }

    @Test
    void aRestoreTakesTheLeaseExactlyAsAColdStartAndRestoresNothingWhenRefused() throws Exception {
        // h2 holds vm1's lease and keeps renewing its host lease, on a clock the test moves
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
        HostLease h2 = new HostLease("h2", storage, clock::get, LocalStateStore.open(dir.resolve("h2"), "h2", "boot"),
                1, 0, clock.get(), 4000);
        assertTrue(h2.renew());
        VmLeases h2Leases = new VmLeases(storage, h2, new HostLiveness(storage, clock::get), clock::get, ms -> {});
        assertEquals(new VmLeases.Acquisition.Acquired(1), h2Leases.acquire("vm1", 1));
        HostLiveness observed = new HostLiveness(storage, clock::get);
        VmLeases waiting = new VmLeases(storage, lease, observed, clock::get, ms -> {
            clock.addAndGet(ms * 1_000_000L);
            lease.renew();
            h2.renew();
            observed.pollAll();
        });
        VmCommands h1 = new VmCommands("h1", hypervisor, storage, waiting, lease, state, Runnable::run);
        Path file = savedState("vm1", 2);
        when(hypervisor.savedDomain(file)).thenReturn(new SavedDomain("vm1", RUNNING.uuid()));
        when(hypervisor.domain("vm1")).thenReturn(Optional.empty(), Optional.of(SHUTOFF));
        CommandResult r = h1.execute(new AgentCommand.StartVm("c1", "vm1", XML, 2, true, SharedStorage.savedState("vm1", 2))).get();
        assertFalse(r.ok());
        assertEquals("lease of vm1 held by h2", r.error());
        verify(hypervisor, never()).restore(org.mockito.ArgumentMatchers.any());
        verify(hypervisor, never()).start(anyString());
        verify(hypervisor).undefine("vm1"); // no trace of a VM this host may not run
        assertTrue(Files.exists(file), "left for a host that gets the lease");
        assertFalse(state.leasedVms().contains("vm1"));
    }

    @Test
    void savedStatePathsOutsideSavesAreRefusedBeforeAnythingHappens() throws Exception {
        for (String bad : List.of("../x.save", "/etc/x.save", "leases/vm1/gen-1", "saves/../leases/x.save", "saves/sub/x.save",
                "saves/.hidden.save", "saves/vm1.g2.part", "")) {
            CommandResult save = run(new AgentCommand.SaveVm("s-" + bad, "vm1", bad));
            assertFalse(save.ok(), bad);
            assertTrue(save.error().contains("saves/") || save.error().contains("no saved-state path"), save.error());
            CommandResult start = run(new AgentCommand.StartVm("r-" + bad, "vm1", XML, 1, true, bad));
            assertFalse(start.ok(), bad);
        }
        verify(hypervisor, never()).define(anyString());
        verify(hypervisor, never()).save(anyString(), org.mockito.ArgumentMatchers.any());
        assertFalse(Files.exists(storage.vmLeaseDir("vm1")));
    }
}
