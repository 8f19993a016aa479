package io.vigil.memory.verbs;

import static io.vigil.memory.RemoteMemoryException.Kind.OUT_OF_RANGE;
import static io.vigil.memory.RemoteMemoryException.Kind.PROTOCOL;
import static io.vigil.memory.RemoteMemoryException.Kind.UNREACHABLE;

import com.sun.jna.Pointer;
import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRead;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The hot path of the verbs transport: performs reads of one remote region as RDMA READs on one connected queue pair.
 *
 * <p>The registered bounce buffer is cut into slots of {@code maxMessageBytes}; each RDMA READ lands in one slot, and
 * its work request id is the slot number. Reads longer than a slot are split. Up to one request per slot (never more
 * than the window, which the caller bounds by the send queue depth) is in flight; as completions arrive their bytes are
 * copied to the reads' buffers and the slots are refilled, so the wire stays busy. Every read is checked against the
 * region's size before anything is posted.
 *
 * <p>A failed completion puts the queue pair in the error state (the rest are flushed), so after any failure the
 * pipeline drains what is still in flight (a slot must not be reused while the device may still write to it) and
 * refuses further reads: the region must be reopened. Not thread-safe: one reader at a time.
 */
final class RdmaReadPipeline {
    private static final int SPINS_BEFORE_PARKING = 2_000;
    private static final long PARK_NANOS = 20_000;

    private final Pointer qp;
    private final Pointer cq;
    private final int lkey;
    private final long bounceAddress;
    private final ByteBuffer bounce;
    private final RegionKey region;
    private final int slotBytes;
    private final int slots;
    private final long stallNanos;

    // What each slot's request reads: the destination, where in it, and which bytes of the region.
    private final ByteBuffer[] slotDst;
    private final int[] slotDstIndex;
    private final long[] slotOffset;
    private final int[] slotLength;
    private final int[] freeSlots;
    private int freeCount;

    // Arguments of the shim's calls, reused so that the hot path allocates nothing per request.
    private final long[] postIds;
    private final long[] postLocal;
    private final long[] postRemote;
    private final int[] postLengths;
    private final int[] posted = new int[1];
    private final long[] wcIds = new long[VerbsLayout.POLL_MAX];
    private final int[] wcStatuses = new int[VerbsLayout.POLL_MAX];
    private final int[] wcLengths = new int[VerbsLayout.POLL_MAX];

    private String broken;

    /**
     * @param qp a connected RC queue pair whose send completions go to {@code cq}
     * @param bounce where RDMA READs land, registered with local write access on the queue pair's protection domain
     * @param region the remote region the reads address
     * @param window most requests in flight; at most the queue pair's send queue depth
     * @param maxMessageBytes longest single RDMA READ
     * @param stallTimeout how long to wait for the next completion before giving up on the peer
     */
    RdmaReadPipeline(Pointer qp, Pointer cq, RegisteredBuffer bounce, RegionKey region, int window,
            int maxMessageBytes, Duration stallTimeout) {
        if (qp == null || cq == null) throw new IllegalArgumentException("qp and cq are required");
        if (window < 1) throw new IllegalArgumentException("window must be positive: " + window);
        if (maxMessageBytes < 1 || maxMessageBytes > bounce.length())
            throw new IllegalArgumentException(
                    "maxMessageBytes must be 1.." + bounce.length() + ": " + maxMessageBytes);
        this.qp = qp;
        this.cq = cq;
        this.lkey = bounce.lkey();
        this.bounceAddress = Pointer.nativeValue(bounce.address());
        this.bounce = bounce.address().getByteBuffer(0, bounce.length());
        this.region = region;
        this.slotBytes = maxMessageBytes;
        this.slots = Math.min(window, bounce.length() / maxMessageBytes);
        this.stallNanos = stallTimeout.toNanos();
        this.slotDst = new ByteBuffer[slots];
        this.slotDstIndex = new int[slots];
        this.slotOffset = new long[slots];
        this.slotLength = new int[slots];
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++) freeSlots[i] = slots - 1 - i;
        this.freeCount = slots;
        this.postIds = new long[slots];
        this.postLocal = new long[slots];
        this.postRemote = new long[slots];
        this.postLengths = new int[slots];
    }

    /** The most RDMA READs this pipeline keeps in flight. */
    int window() {
        return slots;
    }

    long regionSize() {
        return region.size();
    }

    /**
     * Fills every read's buffer from its position to its limit (advancing the position) with the region's bytes at the
     * read's offset. Throws OUT_OF_RANGE before posting anything if a read reaches past the region, and after a failed
     * completion: OUT_OF_RANGE when the keeper refused access, UNREACHABLE when the peer stopped answering, PROTOCOL
     * otherwise. Buffers may then be partly filled.
     */
    void read(List<RemoteRead> reads) throws RemoteMemoryException {
        if (broken != null)
            throw new RemoteMemoryException(PROTOCOL, "the connection to the keeper failed earlier (" + broken
                    + "); reopen the region");
        check(reads);
        Cursor cursor = new Cursor(reads);
        Failure failure = new Failure();
        long lastProgress = System.nanoTime();
        int idlePolls = 0;
        while (true) {
            if (!failure.happened() && freeCount > 0 && cursor.hasNext()) post(cursor, failure);
            int inFlight = slots - freeCount;
            if (inFlight == 0) {
                if (failure.happened() || !cursor.hasNext()) break;
                continue;
            }
            int n = VerbsShim.vigil_poll(cq, Math.min(inFlight, VerbsLayout.POLL_MAX), wcIds, wcStatuses, wcLengths);
            if (n < 0) {
                failure.record(new RemoteMemoryException(PROTOCOL, Libc.describe("polling the completion queue", -n)),
                        false);
                throw breakOn(failure.exception);
            }
            if (n == 0) {
                if (System.nanoTime() - lastProgress > stallNanos) {
                    failure.record(new RemoteMemoryException(UNREACHABLE, "no RDMA READ completed within "
                            + Duration.ofNanos(stallNanos).toMillis() + " ms (" + inFlight + " in flight)"), false);
                    throw breakOn(failure.exception);
                }
                if (++idlePolls < SPINS_BEFORE_PARKING) Thread.onSpinWait();
                else LockSupport.parkNanos(PARK_NANOS);
                continue;
            }
            idlePolls = 0;
            lastProgress = System.nanoTime();
            for (int i = 0; i < n; i++) complete(wcIds[i], wcStatuses[i], failure);
        }
        if (failure.happened()) throw breakOn(failure.exception);
        for (RemoteRead read : reads) read.dst().position(read.dst().limit());
    }

    void read(long offset, ByteBuffer dst) throws RemoteMemoryException {
        read(List.of(new RemoteRead(offset, dst)));
    }

    private void check(List<RemoteRead> reads) throws RemoteMemoryException {
        for (RemoteRead read : reads) {
            if (read.dst().isReadOnly()) throw new IllegalArgumentException("cannot read into a read-only buffer");
            long length = read.dst().remaining();
            if (read.offset() > region.size() || length > region.size() - read.offset())
                throw new RemoteMemoryException(OUT_OF_RANGE, "read of " + length + " bytes at offset " + read.offset()
                        + " reaches past the region's " + region.size() + " bytes");
        }
    }

    /** Posts a request for as many free slots as there are bytes left to read, in one call to the shim. */
    private void post(Cursor cursor, Failure failure) {
        int n = 0;
        while (n < freeCount && cursor.hasNext()) {
            int slot = freeSlots[freeCount - 1 - n];
            cursor.assign(slot);
            postIds[n] = slot;
            postLocal[n] = bounceAddress + (long) slot * slotBytes;
            postRemote[n] = region.address() + slotOffset[slot];
            postLengths[n] = slotLength[slot];
            n++;
        }
        freeCount -= n;
        int rc = VerbsShim.vigil_post_reads(qp, lkey, region.rkey(), n, postIds, postLocal, postRemote, postLengths,
                posted);
        int accepted = Math.max(0, Math.min(posted[0], n));
        if (rc != 0 || accepted != n) {
            for (int i = accepted; i < n; i++) release((int) postIds[i]);
            failure.record(new RemoteMemoryException(PROTOCOL, Libc.describe("ibv_post_send took " + accepted + " of "
                    + n + " RDMA READs", rc)), false);
        }
    }

    private void complete(long wrId, int status, Failure failure) {
        if (wrId < 0 || wrId >= slots || slotDst[(int) wrId] == null) {
            failure.record(new RemoteMemoryException(PROTOCOL, "completion for a work request not in flight: " + wrId),
                    false);
            return;
        }
        int slot = (int) wrId;
        if (status == VerbsLayout.IBV_WC_SUCCESS) {
            if (!failure.happened())
                slotDst[slot].put(slotDstIndex[slot], bounce, slot * slotBytes, slotLength[slot]);
        } else {
            failure.record(failureOf(status, slot), status == VerbsLayout.IBV_WC_WR_FLUSH_ERR);
        }
        release(slot);
    }

    private RemoteMemoryException failureOf(int status, int slot) {
        String what = "RDMA READ of " + slotLength[slot] + " bytes at offset " + slotOffset[slot] + " failed: "
                + statusName(status);
        return switch (status) {
            case VerbsLayout.IBV_WC_REM_ACCESS_ERR -> new RemoteMemoryException(OUT_OF_RANGE,
                    what + " (the keeper's registration does not cover it)");
            case VerbsLayout.IBV_WC_RETRY_EXC_ERR, VerbsLayout.IBV_WC_RNR_RETRY_EXC_ERR,
                    VerbsLayout.IBV_WC_RESP_TIMEOUT_ERR -> new RemoteMemoryException(UNREACHABLE,
                    what + " (the keeper stopped answering)");
            default -> new RemoteMemoryException(PROTOCOL, what);
        };
    }

    private static String statusName(int status) {
        String name = Ibverbs.UNAVAILABLE.isEmpty() ? Ibverbs.ibv_wc_status_str(status) : null;
        return name == null ? "status " + status : name + " (status " + status + ")";
    }

    private void release(int slot) {
        slotDst[slot] = null;
        freeSlots[freeCount++] = slot;
    }

    private RemoteMemoryException breakOn(RemoteMemoryException failure) {
        broken = failure.getMessage();
        return failure;
    }

    /** Walks the reads in slot-sized pieces. */
    private final class Cursor {
        private final List<RemoteRead> reads;
        private int index;
        private int issued; // bytes of reads[index] already assigned to slots

        Cursor(List<RemoteRead> reads) {
            this.reads = reads;
        }

        boolean hasNext() {
            while (index < reads.size() && issued == reads.get(index).dst().remaining()) {
                index++;
                issued = 0;
            }
            return index < reads.size();
        }

        /** Assigns the next piece to {@code slot}; only after {@link #hasNext()} said there is one. */
        void assign(int slot) {
            RemoteRead read = reads.get(index);
            ByteBuffer dst = read.dst();
            int length = Math.min(slotBytes, dst.remaining() - issued);
            slotDst[slot] = dst;
            slotDstIndex[slot] = dst.position() + issued;
            slotOffset[slot] = read.offset() + issued;
            slotLength[slot] = length;
            issued += length;
        }
    }

    /** The first failure of a read; a flushed request's failure gives way to the error that caused the flush. */
    private static final class Failure {
        RemoteMemoryException exception;
        boolean flushed;

        boolean happened() {
            return exception != null;
        }

        void record(RemoteMemoryException e, boolean flush) {
            if (exception == null || (flushed && !flush)) {
                exception = e;
                flushed = flush;
            }
        }
    }
}
