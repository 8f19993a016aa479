package io.vigil.memory.verbs;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * A connection manager event channel: the ids created on it report their events here. Waits with a timeout (the shim
 * polls the channel's descriptor, since rdma_get_cm_event itself blocks), and hands events out copied and already
 * acknowledged, so that no caller can forget the acknowledgement rdma_destroy_id waits for.
 */
final class CmChannel implements AutoCloseable {
    private final Pointer channel;
    private boolean closed;

    private CmChannel(Pointer channel) {
        this.channel = channel;
    }

    static CmChannel open() throws IOException {
        Pointer channel = RdmaCm.rdma_create_event_channel();
        if (channel == null) throw new IOException(Libc.lastError("rdma_create_event_channel"));
        return new CmChannel(channel);
    }

    Pointer pointer() {
        return channel;
    }

    /** Creates a connection manager id (TCP port space, reliable connection) reporting to this channel. */
    Pointer createId() throws IOException {
        try (Memory out = new Memory(Native.POINTER_SIZE)) {
            if (RdmaCm.rdma_create_id(channel, out, null, VerbsLayout.RDMA_PS_TCP) != 0)
                throw new IOException(Libc.lastError("rdma_create_id"));
            return out.getPointer(0);
        }
    }

    /** The next event, or empty if none arrives within {@code timeout}. */
    Optional<CmEvent> next(Duration timeout) throws IOException {
        int millis = (int) Math.max(0, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        int ready = VerbsShim.vigil_cm_wait(channel, millis);
        if (ready < 0) throw new IOException(Libc.describe("waiting for a connection manager event", -ready));
        if (ready == 0) return Optional.empty();
        try (Memory out = new Memory(Native.POINTER_SIZE)) {
            if (RdmaCm.rdma_get_cm_event(channel, out) != 0) throw new IOException(Libc.lastError("rdma_get_cm_event"));
            Pointer event = out.getPointer(0);
            try {
                return Optional.of(CmEvent.copyOf(event));
            } finally {
                RdmaCm.rdma_ack_cm_event(event);
            }
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RdmaCm.rdma_destroy_event_channel(channel);
    }
}
