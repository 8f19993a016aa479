package io.vigil.memory.keeper;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Keeps a flood of turned-away connections from becoming a flood of log lines: in each window the first
 * {@code linesPerWindow} events are logged in full and the rest only counted, by source address; the count comes out
 * as one {@link #summary()} line once the window is over. Thread-safe.
 */
final class LogThrottle {
    /** Sources named in a summary; more are only counted. */
    private static final int NAMED_SOURCES = 3;
    /** Distinct sources counted per window, so that a flood from many addresses cannot grow the map. */
    private static final int COUNTED_SOURCES = 64;

    private final int linesPerWindow;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Long> suppressedFrom = new HashMap<>();
    private long windowStart;
    private int logged;
    private long suppressed;
    private String summary;

    LogThrottle(int linesPerWindow, Duration window, LongSupplier nanoTime) {
        this.linesPerWindow = linesPerWindow;
        this.windowNanos = window.toNanos();
        this.nanoTime = nanoTime;
        this.windowStart = nanoTime.getAsLong();
    }

    /** Whether to log this event from {@code source} in full; if not, it is counted for the window's summary. */
    synchronized boolean allow(String source) {
        roll();
        if (logged < linesPerWindow) {
            logged++;
            return true;
        }
        suppressed++;
        if (suppressedFrom.containsKey(source) || suppressedFrom.size() < COUNTED_SOURCES)
            suppressedFrom.merge(source, 1L, Long::sum);
        return false;
    }

    /** The line to log for windows that are over and had events left out, once; null when there is none. */
    synchronized String summary() {
        roll();
        String s = summary;
        summary = null;
        return s;
    }

    private void roll() {
        long now = nanoTime.getAsLong();
        if (now - windowStart < windowNanos) return;
        if (suppressed > 0) {
            String line = "turned away " + suppressed + " more connections in " + Duration.ofNanos(now - windowStart).toSeconds()
                    + " s without logging each; most from " + topSources();
            summary = summary == null ? line : summary + "; " + line;
        }
        windowStart = now;
        logged = 0;
        suppressed = 0;
        suppressedFrom.clear();
    }

    private String topSources() {
        String top = suppressedFrom.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(NAMED_SOURCES)
                .map(e -> e.getKey() + " (" + e.getValue() + ")")
                .collect(Collectors.joining(", "));
        return suppressedFrom.size() > NAMED_SOURCES ? top + ", ..." : top;
    }
}
