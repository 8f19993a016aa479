package io.vigil.memory;

import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.time.Duration;

/**
 * The control half of the verbs transport: presents a grant to a keeper (over its TCP port, where the grant is
 * checked exactly as for TCP reads) and gets a {@link VerbsTicket} for one region. Errors as for
 * {@link RemoteMemory#open}.
 */
@FunctionalInterface
public interface VerbsTicketSource {
    VerbsTicket request(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout) throws IOException;
}
