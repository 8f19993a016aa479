package io.vigil.memory;

import java.nio.ByteBuffer;

/** One read: {@code dst}'s remaining bytes from {@code offset} of the region. */
public record RemoteRead(long offset, ByteBuffer dst) {
    public RemoteRead {
        if (offset < 0) throw new IllegalArgumentException("offset must not be negative: " + offset);
        if (dst == null) throw new IllegalArgumentException("dst is required");
    }
}
