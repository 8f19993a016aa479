package io.vigil.memory.verbs;

import com.sun.jna.Pointer;
import java.util.Optional;

/**
 * The verbs shim, {@code libvigilverbs.so} (src/main/c/vigil_verbs.h), bundled on the classpath under JNA's resource
 * prefix: the hot-path calls that libibverbs only offers as static inline functions, and the layout it was built with.
 */
final class VerbsShim {
    /** Why the shim could not be loaded, if it could not. */
    static final Optional<String> UNAVAILABLE = NativeBinding.register(VerbsShim.class, "vigilverbs");

    private VerbsShim() {}

    /**
     * Posts {@code n} signaled RDMA READs in as few ibv_post_send calls as the shim allows; returns 0 or a positive
     * errno value, and sets {@code posted[0]} to how many the queue pair accepted either way.
     */
    static native int vigil_post_reads(Pointer qp, int lkey, int rkey, int n, long[] wrIds, long[] localAddrs,
            long[] remoteAddrs, int[] lengths, int[] posted);

    /** Polls up to {@code max} (at most POLL_MAX) completions; returns how many, or a negative value on failure. */
    static native int vigil_poll(Pointer cq, int max, long[] wrIds, int[] statuses, int[] byteLens);

    /** Waits for an event on a connection manager channel: 1 ready, 0 timeout, negative errno on failure. */
    static native int vigil_cm_wait(Pointer channel, int timeoutMs);

    /** A layout value the shim was built with, or -1. */
    static native long vigil_layout(String name);
}
