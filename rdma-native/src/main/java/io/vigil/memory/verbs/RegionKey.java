package io.vigil.memory.verbs;

import io.vigil.memory.VerbsTicket;

/** How a peer addresses a keeper's registered region: its remote address, remote key and size in bytes. */
record RegionKey(long address, int rkey, long size) {
    RegionKey {
        if (size < 0) throw new IllegalArgumentException("size must not be negative: " + size);
    }

    static RegionKey of(VerbsTicket ticket) {
        return new RegionKey(ticket.address(), ticket.rkey(), ticket.size());
    }
}
