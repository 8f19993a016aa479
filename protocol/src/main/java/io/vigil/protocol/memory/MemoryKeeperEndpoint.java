package io.vigil.protocol.memory;

/**
 * Where a host's memory keeper serves one-sided reads of its cache arenas, as the keeper writes it to its endpoint
 * file and the agent reports it to the controller. {@code tcpPort}: the TCP transport (always served);
 * {@code verbsPort}: the RDMA connection manager's port, 0 when the host has no RDMA device. {@code grantKey}: the
 * keeper's HMAC key (base64), with which the controller signs {@link RegionGrant}s for this keeper; it travels only
 * on the agent's connection to the controller. The endpoint the controller hands a recovering host has none
 * ({@link #withoutGrantKey}): that host gets a grant, never the key that mints them.
 */
public record MemoryKeeperEndpoint(String host, String address, int tcpPort, int verbsPort, String grantKey) {
    public MemoryKeeperEndpoint {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host is required");
        if (address == null || address.isBlank()) throw new IllegalArgumentException("address is required");
        if (tcpPort <= 0 || tcpPort > 65535) throw new IllegalArgumentException("tcpPort must be 1-65535, not " + tcpPort);
        if (verbsPort < 0 || verbsPort > 65535) throw new IllegalArgumentException("verbsPort must be 0-65535, not " + verbsPort);
        if (grantKey != null && grantKey.isBlank()) throw new IllegalArgumentException("grantKey must not be blank");
    }

    /** This endpoint as another host may know it: where to connect, without the key. */
    public MemoryKeeperEndpoint withoutGrantKey() {
        return new MemoryKeeperEndpoint(host, address, tcpPort, verbsPort, null);
    }

    public boolean servesVerbs() {
        return verbsPort > 0;
    }

    @Override
    public String toString() { // never print the key
        return "MemoryKeeperEndpoint[host=" + host + ", address=" + address + ", tcpPort=" + tcpPort + ", verbsPort="
                + verbsPort + "]";
    }
}
