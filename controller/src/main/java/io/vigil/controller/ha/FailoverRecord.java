package io.vigil.controller.ha;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One failover of one host, from detection to the last VM started: when each step happened (milliseconds since
 * detection, in the order they happened) and which of its VMs are still to be restarted.
 */
record FailoverRecord(String id, String host, long detectedNanos, long detectedMillis, Map<String, Long> steps,
        Set<String> outstanding, int started, int failed, boolean fenced) {

    FailoverRecord {
        steps = Collections.unmodifiableMap(new LinkedHashMap<>(steps));
        outstanding = Collections.unmodifiableSet(new TreeSet<>(outstanding));
    }

    static FailoverRecord detected(String id, String host, Now now) {
        return new FailoverRecord(id, host, now.monotonicNanos(), now.epochMillis(), Map.of("detected", 0L), Set.of(),
                0, 0, false);
    }

    long elapsedMillis(Now now) {
        return now.millisSince(detectedNanos);
    }

    /** Records the first time a step happened (or every time, for steps that mark the latest occurrence). */
    FailoverRecord step(String step, long elapsed, boolean overwrite) {
        if (!overwrite && steps.containsKey(step)) return this;
        Map<String, Long> next = new LinkedHashMap<>(steps);
        next.remove(step);
        next.put(step, elapsed);
        return new FailoverRecord(id, host, detectedNanos, detectedMillis, next, outstanding, started, failed, fenced);
    }

    FailoverRecord fencedWith(Set<String> vms) {
        return new FailoverRecord(id, host, detectedNanos, detectedMillis, steps, vms, started, failed, true);
    }

    FailoverRecord finished(String vm, boolean ok) {
        if (!outstanding.contains(vm)) return this;
        Set<String> next = new TreeSet<>(outstanding);
        next.remove(vm);
        return new FailoverRecord(id, host, detectedNanos, detectedMillis, steps, next, started + (ok ? 1 : 0),
                failed + (ok ? 0 : 1), fenced);
    }
}
