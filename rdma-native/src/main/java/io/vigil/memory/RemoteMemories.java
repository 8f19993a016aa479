package io.vigil.memory;

import io.vigil.memory.tcp.TcpRemoteMemory;
import io.vigil.memory.verbs.RdmaDevices;
import io.vigil.memory.verbs.VerbsRemoteMemory;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport a host reads peers' memory with, chosen by configuration: {@code tcp}; {@code verbs} (RDMA READ;
 * refused at start-up when this host has no usable RDMA device); {@code auto}: verbs for keepers that serve it when
 * this host has a device, tcp otherwise, with one log line saying why when there is no device.
 */
public final class RemoteMemories {
    private static final Logger log = LoggerFactory.getLogger(RemoteMemories.class);

    private RemoteMemories() {}

    public static RemoteMemory open(String transport) {
        if (!transport.equals("tcp") && !transport.equals("verbs") && !transport.equals("auto"))
            throw new IllegalArgumentException("remote memory transport must be auto, tcp or verbs, not '" + transport + "'");
        if (transport.equals("tcp")) return new TcpRemoteMemory();
        RdmaDevices.Probe rdma = RdmaDevices.probe();
        if (rdma.unavailableReason().isPresent()) {
            String why = rdma.unavailableReason().get();
            if (transport.equals("verbs"))
                throw new IllegalStateException("remoteMemory is verbs but RDMA cannot be used here: " + why);
            log.info("remote memory: {}; reading peers' arenas over the tcp transport", why);
            return new TcpRemoteMemory();
        }
        if (transport.equals("auto"))
            log.info("remote memory: RDMA device(s) {}; reading peers' arenas with RDMA READ where their keeper "
                    + "serves it", rdma.devices());
        TcpRemoteMemory tcp = new TcpRemoteMemory();
        return new Either(new VerbsRemoteMemory(tcp), tcp, transport.equals("verbs"));
    }

    /** Verbs to keepers that serve it; tcp to the others unless verbs is required. */
    private record Either(VerbsRemoteMemory verbs, TcpRemoteMemory tcp, boolean verbsOnly) implements RemoteMemory {
        @Override
        public String transport() {
            return verbs.transport();
        }

        @Override
        public RemoteRegion open(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout)
                throws IOException {
            if (keeper.servesVerbs()) return verbs.open(keeper, region, grant, timeout);
            if (verbsOnly)
                throw new RemoteMemoryException(RemoteMemoryException.Kind.UNREACHABLE, "the memory keeper of "
                        + keeper.host() + " serves no RDMA and this host reads with verbs only");
            return tcp.open(keeper, region, grant, timeout);
        }

        @Override
        public void close() {
            verbs.close();
            tcp.close();
        }
    }
}
