package io.vigil.agent.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for requests served by workers, in power-of-two size classes with room for a reply header in front.
 * Direct because the JDK would otherwise copy heap buffers through a per-thread direct buffer of the same size, and
 * pooled because allocating direct memory is slow. Keeps at most {@code maxIdleBytes} idle.
 */
final class BufferPool {
    /** Room before the data for the largest reply header. */
    static final int HEADROOM = 64;
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;

    private final ConcurrentLinkedQueue<ByteBuffer>[] idle;
    private final AtomicLong idleBytes = new AtomicLong();
    private final long maxIdleBytes;

    @SuppressWarnings("unchecked")
    BufferPool(long maxIdleBytes) {
        this.maxIdleBytes = maxIdleBytes;
        idle = new ConcurrentLinkedQueue[MAX_SHIFT - MIN_SHIFT + 1];
        for (int i = 0; i < idle.length; i++) idle[i] = new ConcurrentLinkedQueue<>();
    }

    /** A cleared buffer with at least {@code HEADROOM + dataBytes} capacity. */
    ByteBuffer take(int dataBytes) {
        int sizeClass = sizeClass(dataBytes);
        if (sizeClass < 0) return ByteBuffer.allocateDirect(HEADROOM + dataBytes);
        ByteBuffer buffer = idle[sizeClass].poll();
        if (buffer == null) return ByteBuffer.allocateDirect(HEADROOM + (1 << (sizeClass + MIN_SHIFT)));
        idleBytes.addAndGet(-buffer.capacity());
        return buffer.clear();
    }

    void give(ByteBuffer buffer) {
        int dataBytes = buffer.capacity() - HEADROOM;
        int sizeClass = sizeClass(dataBytes);
        if (sizeClass < 0 || 1 << (sizeClass + MIN_SHIFT) != dataBytes) return;
        if (idleBytes.addAndGet(buffer.capacity()) > maxIdleBytes) {
            idleBytes.addAndGet(-buffer.capacity());
            return; // left to the garbage collector
        }
        idle[sizeClass].offer(buffer);
    }

    private static int sizeClass(int dataBytes) {
        int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(Math.max(dataBytes, 1) - 1));
        return shift > MAX_SHIFT ? -1 : shift - MIN_SHIFT;
    }
}
