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
        HostLease lease = new HostLease("h1", storage, System::nanoTime, state, 1, 0, System.nanoTime(), 4000);
        assertTrue(lease.renew());
        leases = new VmLeases(storage, lease, new HostLiveness(storage, System::nanoTime), System::nanoTime, Thread::sleep);
        commands = new VmCommands("h1", hypervisor, leases, lease, state, Runnable::run);
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
    void onlyUndefineVmUndefinesAVm() throws Exception {
        for (AgentCommand c : oneOfEachKind()) {
            org.mockito.Mockito.reset(hypervisor);
            when(hypervisor.domain("vm1")).thenReturn(Optional.of(RUNNING));
            run(c);
            if (c instanceof AgentCommand.UndefineVm) verify(hypervisor).undefine("vm1");
            else verify(hypervisor, never()).undefine(anyString());
        }
    }
}
