package io.vigil.memory.verbs;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The fake verbs provider (src/test/c/vigil_fake_verbs.h, built by Maven into the test classpath): a queue pair and
 * completion queue whose post_send and poll_cq run in this process, reading a "remote" region of native memory.
 */
final class FakeProvider implements AutoCloseable {
    static final int POSTED = 0;
    static final int POST_CALLS = 1;
    static final int MAX_OUTSTANDING = 2;
    static final int MAX_LENGTH = 3;
    static final int POLL_CALLS = 4;
    static final int OUTSTANDING = 5;
    static final int FULL_POSTS = 6;

    static {
        Native.register(FakeProvider.class, NativeLibrary.getInstance("vigilfakeverbs"));
    }

    private final Pointer fake;

    FakeProvider(int sendQueueDepth, int completionsPerPoll) {
        fake = vigil_fake_open(sendQueueDepth, completionsPerPoll);
        if (fake == null) throw new IllegalArgumentException("vigil_fake_open refused");
    }

    Pointer qp() {
        return vigil_fake_qp(fake);
    }

    Pointer cq() {
        return vigil_fake_cq(fake);
    }

    void remote(int rkey, Pointer base, long length) {
        vigil_fake_set_remote(fake, rkey, Pointer.nativeValue(base), length);
    }

    void local(int lkey, Pointer base, long length) {
        vigil_fake_set_local(fake, lkey, Pointer.nativeValue(base), length);
    }

    /** The {@code nth} request executed from now completes with {@code status}. */
    void failNth(long nth, int status) {
        vigil_fake_fail_nth(fake, nth, status);
    }

    void hold(boolean hold) {
        vigil_fake_hold(fake, hold ? 1 : 0);
    }

    long stat(int which) {
        return vigil_fake_stat(fake, which);
    }

    @Override
    public void close() {
        vigil_fake_close(fake);
    }

    private static native Pointer vigil_fake_open(int sqDepth, int cqBunch);

    private static native void vigil_fake_close(Pointer fake);

    private static native Pointer vigil_fake_qp(Pointer fake);

    private static native Pointer vigil_fake_cq(Pointer fake);

    private static native void vigil_fake_set_remote(Pointer fake, int rkey, long base, long length);

    private static native void vigil_fake_set_local(Pointer fake, int lkey, long base, long length);

    private static native void vigil_fake_fail_nth(Pointer fake, long nth, int status);

    private static native void vigil_fake_hold(Pointer fake, int hold);

    private static native long vigil_fake_stat(Pointer fake, int which);
}
