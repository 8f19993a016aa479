package io.vigil.memory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The memory keeper's RDMA side, present when the host has an RDMA device: registers an arena file's mapping for
 * remote reads and admits, on its connection-manager port, only connections bearing a ticket it issued.
 */
public interface VerbsExporter extends AutoCloseable {

    /** The RDMA connection manager port it listens on. */
    int port();

    /** Registers {@code arenaFile} (region {@code region}) for RDMA READ and issues a one-time ticket for it. */
    VerbsTicket export(String region, Path arenaFile) throws IOException;

    @Override
    void close();
}
