package io.vigil.memory.verbs;

import static io.vigil.memory.RemoteMemoryException.Kind.UNREACHABLE;

import io.vigil.memory.RemoteMemory;
import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.VerbsTicket;
import io.vigil.memory.VerbsTicketSource;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The verbs transport: reads peers' arenas with RDMA READ. Opening a region asks the keeper for a ticket through
 * {@code tickets} (the grant is checked there, over the keeper's TCP port), then connects to the keeper's connection
 * manager port with that ticket and reads the registered region by its address and remote key. Each open region has
 * its own connection. Without a usable RDMA device every open fails UNREACHABLE, before any ticket is requested.
 */
public final class VerbsRemoteMemory implements RemoteMemory {
    public static final String TRANSPORT = "verbs";

    private final VerbsTicketSource tickets;
    private final VerbsSettings settings;
    private final Set<VerbsRegion> regions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public VerbsRemoteMemory(VerbsTicketSource tickets) {
        this(tickets, VerbsSettings.DEFAULTS);
    }

    public VerbsRemoteMemory(VerbsTicketSource tickets, VerbsSettings settings) {
        if (tickets == null || settings == null)
            throw new IllegalArgumentException("tickets and settings are required");
        this.tickets = tickets;
        this.settings = settings;
    }

    @Override
    public String transport() {
        return TRANSPORT;
    }

    @Override
    public RemoteRegion open(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout)
            throws IOException {
        if (closed) throw new IllegalStateException("this verbs transport is closed");
        Optional<String> unavailable = RdmaDevices.unavailableReason();
        if (unavailable.isPresent())
            throw new RemoteMemoryException(UNREACHABLE, "the verbs transport is unavailable on this host: "
                    + unavailable.get());
        if (!keeper.servesVerbs())
            throw new RemoteMemoryException(UNREACHABLE, "the memory keeper of " + keeper.host()
                    + " serves no RDMA reads (its verbs port is 0)");
        long deadline = System.nanoTime() + timeout.toNanos();
        VerbsTicket ticket = tickets.request(keeper, region, grant, timeout);
        Duration left = Duration.ofNanos(deadline - System.nanoTime());
        if (left.isNegative() || left.isZero())
            throw new RemoteMemoryException(UNREACHABLE, "no time left to connect to the memory keeper of "
                    + keeper.host() + " after getting a ticket");
        VerbsConnection connection = VerbsConnection.connect(
                new InetSocketAddress(keeper.address(), keeper.verbsPort()), ticket.ticket(), settings, left);
        VerbsRegion opened = new VerbsRegion(region, ticket.size(), connection.pipeline(RegionKey.of(ticket), settings),
                connection::close, regions::remove);
        regions.add(opened);
        if (closed) { // closed while we connected: do not leave the connection behind
            opened.close();
            throw new IllegalStateException("this verbs transport is closed");
        }
        return opened;
    }

    @Override
    public void close() {
        closed = true;
        for (VerbsRegion region : List.copyOf(regions)) region.close();
    }
}
