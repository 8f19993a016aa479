package io.vigil.memory;

/**
 * What a memory keeper hands a peer whose grant it accepted, for reading a region with RDMA READ: the registered
 * region's remote address, remote key and size, and a one-time {@code ticket} (16 bytes) that the peer presents as
 * private data when it connects through the RDMA connection manager; the keeper admits no connection without one.
 */
public record VerbsTicket(long address, int rkey, long size, byte[] ticket) {
    public static final int TICKET_BYTES = 16;

    public VerbsTicket {
        if (ticket == null || ticket.length != TICKET_BYTES)
            throw new IllegalArgumentException("ticket must be " + TICKET_BYTES + " bytes");
        ticket = ticket.clone();
    }

    @Override
    public byte[] ticket() {
        return ticket.clone();
    }
}
