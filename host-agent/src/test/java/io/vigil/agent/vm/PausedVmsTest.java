package io.vigil.agent.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.Hypervisor;
import io.vigil.protocol.VmPowerState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PausedVmsTest {
    private final Hypervisor hypervisor = mock(Hypervisor.class);
    private final List<Long> sleeps = new ArrayList<>();

    private PausedVms paused() {
        return new PausedVms(hypervisor, vm -> "its disk socket /run/vigil/nbd/" + vm + ".sock: Permission denied",
                60_000, sleeps::add);
    }

    private static Optional<DomainStatus> state(VmPowerState state, String reason) {
        return Optional.of(new DomainStatus("pv1", "u", state, 64, 1, reason));
    }

    @Test
    void aVmThatStaysPausedOnADiskErrorIsResumedAFewTimesThenReportedWithTheCause() throws Exception {
        when(hypervisor.domain("pv1")).thenReturn(state(VmPowerState.PAUSED, "ioerror"));
        PausedVms p = paused();

        assertEquals(List.of("pv1"), p.resume(List.of("pv1")));

        long waited = sleeps.stream().mapToLong(Long::longValue).sum();
        assertTrue(waited >= 60_000, "it tried for the whole window: " + sleeps);
        assertTrue(sleeps.size() <= 12, "a backoff, not a resume every half second: " + sleeps);
        verify(hypervisor, times(sleeps.size() + 1)).resume("pv1");
        assertTrue(p.problem("pv1").contains("Permission denied") && p.problem("pv1").contains("could not be resumed"),
                p.problem("pv1"));
        assertTrue(!p.worthResuming("pv1"), "given up on: a new pause event does not start another round");
        p.cleared("pv1");
        assertNull(p.problem("pv1"));
    }

    @Test
    void aVmWhoseDisksComeBackIsResumedAndNothingIsReported() throws Exception {
        AtomicInteger resumes = new AtomicInteger();
        when(hypervisor.domain("pv1")).thenAnswer(i -> resumes.get() >= 3
                ? state(VmPowerState.RUNNING, null) : state(VmPowerState.PAUSED, "ioerror"));
        doAnswer(i -> resumes.incrementAndGet()).when(hypervisor).resume("pv1");

        assertEquals(List.of(), paused().resume(List.of("pv1")));
        assertEquals(3, resumes.get());
        assertEquals(List.of(500L, 1000L, 2000L), sleeps);
    }

    @Test
    void aVmPausedOnPurposeIsLeftPaused() throws Exception {
        when(hypervisor.domain("pv1")).thenReturn(state(VmPowerState.PAUSED, "user"));
        PausedVms p = paused();
        assertEquals(List.of(), p.resume(List.of("pv1")));
        verify(hypervisor, never()).resume("pv1");
        assertNull(p.problem("pv1"));
    }
}
