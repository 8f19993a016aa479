package io.vigil.memory.tcp;

import io.vigil.memory.RemoteMemory;
import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.VerbsTicket;
import io.vigil.memory.VerbsTicketSource;
import io.vigil.memory.keeper.KeeperProtocol;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TCP transport of remote memory: reads a peer's arenas from its memory keeper's TCP port, one connection per
 * opened region. Also the {@link VerbsTicketSource} of the verbs transport, which presents its grant on the same port.
 */
public final class TcpRemoteMemory implements RemoteMemory, VerbsTicketSource {
    /** How long a read may make no progress before the keeper counts as unreachable. */
    public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(30);

    private final long ioTimeoutNanos;
    private final Set<TcpRegion> regions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public TcpRemoteMemory() {
        this(DEFAULT_IO_TIMEOUT);
    }

    /** @param ioTimeout longest a region's read may wait on the keeper without any progress (UNREACHABLE after) */
    public TcpRemoteMemory(Duration ioTimeout) {
        if (ioTimeout == null || ioTimeout.isNegative() || ioTimeout.isZero())
            throw new IllegalArgumentException("ioTimeout must be positive");
        this.ioTimeoutNanos = ioTimeout.toNanos();
    }

    @Override
    public String transport() {
        return "tcp";
    }

    /** {@inheritDoc} {@code timeout} covers connecting and the keeper's answer to OPEN. */
    @Override
    public RemoteRegion open(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout) throws IOException {
        if (closed) throw new IllegalStateException("closed");
        long deadline = System.nanoTime() + timeout.toNanos();
        KeeperChannel channel = KeeperChannel.connect(address(keeper), keeper.host(), deadline);
        try {
            ByteBuffer body = KeeperHandshake.open(channel, KeeperProtocol.OP_OPEN_TCP, region, grant,
                    KeeperProtocol.OPEN_TCP_BODY_BYTES, deadline);
            long size = body.getLong();
            int maxRead = body.getInt();
            if (size < 0 || maxRead < 4096) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of "
                    + keeper.host() + " answered size " + size + ", largest read " + maxRead);
            TcpRegion opened = new TcpRegion(channel, region, size, maxRead, ioTimeoutNanos, regions::remove);
            regions.add(opened);
            if (closed) opened.close(); // closed meanwhile: leave nothing open behind close()
            return opened;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Presents {@code grant} for {@code region} and returns the keeper's RDMA ticket. REFUSED and NO_SUCH_REGION as
     * for {@link #open}; UNREACHABLE also when the keeper has no RDMA device.
     */
    @Override
    public VerbsTicket request(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout) throws IOException {
        if (closed) throw new IllegalStateException("closed");
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KeeperChannel channel = KeeperChannel.connect(address(keeper), keeper.host(), deadline)) {
            ByteBuffer body = KeeperHandshake.open(channel, KeeperProtocol.OP_OPEN_VERBS, region, grant,
                    KeeperProtocol.OPEN_VERBS_BODY_BYTES, deadline);
            long address = body.getLong();
            int rkey = body.getInt();
            long size = body.getLong();
            byte[] ticket = new byte[VerbsTicket.TICKET_BYTES];
            body.get(ticket);
            return new VerbsTicket(address, rkey, size, ticket);
        }
    }

    private static InetSocketAddress address(MemoryKeeperEndpoint keeper) {
        return new InetSocketAddress(keeper.address(), keeper.tcpPort());
    }

    /** Closes every region still open. */
    @Override
    public void close() {
        closed = true;
        for (TcpRegion r : List.copyOf(regions)) r.close();
    }
}
