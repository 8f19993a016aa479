package io.vigil.memory.verbs;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * An arena file mapped read-only and registered for remote reads: what one verbs ticket, and then one connection,
 * holds. Released (deregistered, unmapped) when the connection ends or the ticket expires unused.
 */
final class ArenaRegistration implements AutoCloseable {
    private final String region;
    private final NativeMapping mapping;
    private final Pointer mr;
    private boolean closed;

    private ArenaRegistration(String region, NativeMapping mapping, Pointer mr) {
        this.region = region;
        this.mapping = mapping;
        this.mr = mr;
    }

    /** Maps {@code arenaFile} and registers it in protection domain {@code pd} for RDMA READ by peers. */
    static ArenaRegistration register(Pointer pd, String region, Path arenaFile) throws IOException {
        NativeMapping mapping = NativeMapping.readOnly(arenaFile);
        // Remote read only: no local write, so the read-only shared mapping can be pinned as it is.
        Pointer mr = Ibverbs.ibv_reg_mr(pd, mapping.address(), mapping.length(), VerbsLayout.IBV_ACCESS_REMOTE_READ);
        if (mr == null) {
            String error = Libc.lastError("ibv_reg_mr of " + arenaFile + " (" + mapping.length() + " bytes)");
            mapping.close();
            throw new IOException(error);
        }
        return new ArenaRegistration(region, mapping, mr);
    }

    String region() {
        return region;
    }

    long address() {
        return mapping.addressValue();
    }

    long size() {
        return mapping.length();
    }

    int rkey() {
        return mr.getInt(VerbsLayout.MR_RKEY);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Ibverbs.ibv_dereg_mr(mr);
        mapping.close();
    }

    @Override
    public String toString() {
        return "ArenaRegistration[region=" + region + ", size=" + size() + "]";
    }
}
