package io.vigil.controller.runtime;

import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.VmPowerState;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a flood of identical libvirt lifecycle events out of the event log: an agent forwards each one as it happens,
 * and a guest paused on an I/O error that its agent keeps resuming (or a crash loop) sends the same few events
 * without end. An event for the same VM and host with the same event, detail and state as the last one passed on,
 * less than {@link #WINDOW_MILLIS} after it, is folded (not handed to the core); the next one passed on for that VM and
 * host carries the count ({@link HaInput.VmLifecycleObserved#repeated}), which the core records in its details. So a
 * flood is recorded once per window, and nothing of it is lost but the copies.
 *
 * <p>Owned by the HA loop's thread; cleared when this controller stops leading. Time is monotonic nanoseconds.
 */
final class LifecycleCoalescing {
    static final long WINDOW_MILLIS = 10_000;
    private static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS);

    private record Key(String host, String vm) {}

    /** The last event passed on for a VM and host, when, and how many identical ones were folded since. */
    private record Last(String event, String detail, VmPowerState state, long atNanos, int folded) {
        boolean sameAs(HaInput.VmLifecycleObserved l) {
            return Objects.equals(event, l.event()) && Objects.equals(detail, l.detail()) && state == l.state();
        }
    }

    private final Map<Key, Last> last = new HashMap<>();

    /** {@code l} to hand to the core, with the repeats folded before it; empty when it is folded itself. */
    Optional<HaInput.VmLifecycleObserved> admit(HaInput.VmLifecycleObserved l, long nowNanos) {
        Key key = new Key(l.host(), l.vm());
        Last previous = last.get(key);
        if (previous != null && previous.sameAs(l) && nowNanos - previous.atNanos() < WINDOW_NANOS) {
            last.put(key, new Last(previous.event(), previous.detail(), previous.state(), previous.atNanos(),
                    previous.folded() + 1));
            return Optional.empty();
        }
        forgetQuiet(nowNanos);
        last.put(key, new Last(l.event(), l.detail(), l.state(), nowNanos, 0));
        int folded = previous == null ? 0 : previous.folded();
        return Optional.of(folded == 0 ? l : l.withRepeated(folded));
    }

    /** Drops what no longer matters: entries past their window with nothing folded (keeps the map small). */
    private void forgetQuiet(long nowNanos) {
        last.values().removeIf(e -> e.folded() == 0 && nowNanos - e.atNanos() >= WINDOW_NANOS);
    }

    void clear() {
        last.clear();
    }
}
