package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A flood of refusals costs a few lines and one count per window, on a clock of the test's. */
class LogThrottleTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LogThrottle throttle = new LogThrottle(3, Duration.ofSeconds(10), now::get);

    private int allowed(int events, String source) {
        int n = 0;
        for (int i = 0; i < events; i++) if (throttle.allow(source)) n++;
        return n;
    }

    @Test
    void theFirstLinesOfAWindowPassAndTheRestComeOutAsOneCount() {
        assertEquals(3, allowed(1000, "10.0.0.66"));
        assertEquals(0, allowed(20, "10.0.0.67"));
        assertNull(throttle.summary(), "no summary before the window is over");
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        String summary = throttle.summary();
        assertNotNull(summary);
        assertTrue(summary.contains("turned away 1017 more connections"), summary);
        assertTrue(summary.indexOf("10.0.0.66 (997)") < summary.indexOf("10.0.0.67 (20)"), summary);
        assertNull(throttle.summary(), "a summary comes out once");
        assertEquals(3, allowed(5, "10.0.0.11"), "a new window lets lines through again");
    }

    @Test
    void aQuietWindowHasNoSummary() {
        assertEquals(2, allowed(2, "10.0.0.11"));
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertNull(throttle.summary());
    }

    @Test
    void aSummaryNamesTheBusiestSourcesOnly() {
        allowed(3, "first");
        for (int source = 0; source < 200; source++) allowed(source % 7 + 1, "10.0.1." + source);
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        String summary = throttle.summary();
        assertTrue(summary.endsWith(", ..."), summary);
        assertEquals(3, summary.split("\\(").length - 1, summary);
    }
}
