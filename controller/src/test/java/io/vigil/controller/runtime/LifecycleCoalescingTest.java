package io.vigil.controller.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.VmPowerState;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A flood of identical lifecycle events is passed on once per window, with the count of what was folded. */
class LifecycleCoalescingTest {
    private static final long SECOND = 1_000_000_000L;
    private final LifecycleCoalescing coalescing = new LifecycleCoalescing();

    private static HaInput.VmLifecycleObserved suspended(String host, String vm) {
        return new HaInput.VmLifecycleObserved(host, vm, "suspended", "ioerror", VmPowerState.PAUSED);
    }

    @Test
    void repeatsWithinTenSecondsAreFoldedAndCountedInTheNextEventPassedOn() {
        assertEquals(Optional.of(suspended("h1", "vm1")), coalescing.admit(suspended("h1", "vm1"), 0));
        for (int i = 1; i <= 5; i++)
            assertTrue(coalescing.admit(suspended("h1", "vm1"), i * SECOND).isEmpty(), "repeat " + i);

        var resumed = new HaInput.VmLifecycleObserved("h1", "vm1", "resumed", "unpaused", VmPowerState.RUNNING);
        var passed = coalescing.admit(resumed, 6 * SECOND).orElseThrow();
        assertEquals(5, passed.repeated());
        assertEquals("resumed", passed.event());
        assertEquals(0, coalescing.admit(suspended("h1", "vm1"), 7 * SECOND).orElseThrow().repeated(),
                "the count went with the event after the repeats");
    }

    @Test
    void theSameEventTenSecondsAfterTheLastOnePassedOnIsPassedOnWithItsRepeats() {
        coalescing.admit(suspended("h1", "vm1"), 0);
        assertTrue(coalescing.admit(suspended("h1", "vm1"), 3 * SECOND).isEmpty());
        assertTrue(coalescing.admit(suspended("h1", "vm1"), 9 * SECOND).isEmpty(), "the window runs from the last one passed on");
        var again = coalescing.admit(suspended("h1", "vm1"), 10 * SECOND).orElseThrow();
        assertEquals(2, again.repeated());
        assertTrue(coalescing.admit(suspended("h1", "vm1"), 11 * SECOND).isEmpty(), "a new window");
    }

    @Test
    void eachVmAndHostAndEachDetailIsItsOwn() {
        coalescing.admit(suspended("h1", "vm1"), 0);
        assertTrue(coalescing.admit(suspended("h1", "vm2"), SECOND).isPresent(), "another VM");
        assertTrue(coalescing.admit(suspended("h2", "vm1"), SECOND).isPresent(), "another host");
        var otherDetail = new HaInput.VmLifecycleObserved("h1", "vm1", "suspended", "user", VmPowerState.PAUSED);
        assertTrue(coalescing.admit(otherDetail, SECOND).isPresent(), "another detail");
        assertTrue(coalescing.admit(suspended("h1", "vm1"), 2 * SECOND).isPresent(), "no longer the last one");
    }

    @Test
    void clearForgetsEverything() {
        coalescing.admit(suspended("h1", "vm1"), 0);
        coalescing.clear();
        assertTrue(coalescing.admit(suspended("h1", "vm1"), SECOND).isPresent());
    }
}
