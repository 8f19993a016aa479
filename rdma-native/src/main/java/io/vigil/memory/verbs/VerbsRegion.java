package io.vigil.memory.verbs;

import static io.vigil.memory.RemoteMemoryException.Kind.PROTOCOL;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRead;
import io.vigil.memory.RemoteRegion;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * A region opened over the verbs transport: its own connection to the keeper, read by RDMA READ. Reads and close
 * are serialized, so that closing (possibly from {@link VerbsRemoteMemory#close()} on another thread) never frees the
 * queue pair under a read.
 */
final class VerbsRegion implements RemoteRegion {
    private final String name;
    private final long size;
    private final Runnable disconnect;
    private final RdmaReadPipeline pipeline;
    private final Consumer<VerbsRegion> onClose;
    private boolean closed;

    /**
     * @param disconnect releases the region's connection (and with it the queue pair the pipeline uses)
     * @param onClose told once the region is closed
     */
    VerbsRegion(String name, long size, RdmaReadPipeline pipeline, Runnable disconnect, Consumer<VerbsRegion> onClose) {
        this.name = name;
        this.size = size;
        this.disconnect = disconnect;
        this.pipeline = pipeline;
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public synchronized void read(List<RemoteRead> reads) throws IOException {
        if (closed) throw new RemoteMemoryException(PROTOCOL, "region " + name + " is closed");
        pipeline.read(reads);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            disconnect.run();
        }
        onClose.accept(this);
    }

    @Override
    public String toString() {
        return "VerbsRegion[" + name + ", " + size + " bytes]";
    }
}
