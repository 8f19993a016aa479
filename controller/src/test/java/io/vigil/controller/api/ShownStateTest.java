package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import io.vigil.protocol.VmPowerState;
import org.junit.jupiter.api.Test;

/** A VM as the REST view shows it: the core's state, qualified by what its host's agent reports of it. */
class ShownStateTest {
    private static VmStatus status(VmState state, String lastError) {
        return new VmStatus("vm1", "h1", state, 1, lastError, 0);
    }

    @Test
    void aRunningVmReportedPausedIsPausedWithTheAgentsProblem() {
        var shown = Views.ShownState.of(status(VmState.RUNNING, null),
                new HostStatus.Reported(VmPowerState.PAUSED, "ioerror", "could not be resumed: Permission denied"));
        assertEquals(new Views.ShownState("paused", "ioerror", "could not be resumed: Permission denied"), shown);
    }

    @Test
    void withoutAProblemTheLastErrorSaysLibvirtPausedIt() {
        assertEquals(new Views.ShownState("paused", "ioerror", "paused by libvirt (reason: ioerror)"),
                Views.ShownState.of(status(VmState.RUNNING, null),
                        new HostStatus.Reported(VmPowerState.PAUSED, "ioerror", null)));
        assertEquals(new Views.ShownState("paused", null, "paused by libvirt (reason: unknown)"),
                Views.ShownState.of(status(VmState.RUNNING, null),
                        new HostStatus.Reported(VmPowerState.PAUSED, null, null)));
    }

    @Test
    void otherwiseTheCoresStateStands() {
        assertEquals(new Views.ShownState("running", null, null), Views.ShownState.of(status(VmState.RUNNING, null), null));
        assertEquals(new Views.ShownState("stopping", "migration", null), Views.ShownState.of(
                status(VmState.STOPPING, null), new HostStatus.Reported(VmPowerState.PAUSED, "migration", null)),
                "a VM the core is doing something with shows what the core does");
        assertEquals(new Views.ShownState("error", null, "stop failed"), Views.ShownState.of(
                status(VmState.ERROR, "stop failed"), new HostStatus.Reported(VmPowerState.RUNNING, null, "odd")),
                "the core's error comes first");
        assertEquals(new Views.ShownState("running", "booted", "odd disk"), Views.ShownState.of(
                status(VmState.RUNNING, null), new HostStatus.Reported(VmPowerState.RUNNING, "booted", "odd disk")));
    }
}
