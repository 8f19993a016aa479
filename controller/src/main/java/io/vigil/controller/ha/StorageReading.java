package io.vigil.controller.ha;

/** The latest storage-heartbeat reading for a host and when (monotonic) the core received it. */
record StorageReading(HaInput.StorageView view, long receivedNanos) {

    /** How long the heartbeat has been unchanged as of {@code now}, assuming it did not change since the reading. */
    long unchangedMillis(Now now) {
        return view.unchangedForMillis() + Math.max(0, now.millisSince(receivedNanos));
    }
}
