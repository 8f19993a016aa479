package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.VerbsTicketSource;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What can run here without an RDMA device: the transport must fail cleanly, never crash or hang. */
class VerbsRemoteMemoryTest {
    private static final MemoryKeeperEndpoint KEEPER =
            new MemoryKeeperEndpoint("host-b", "127.0.0.1", 7470, 7471, "a2V5");

    @Test
    void withoutADeviceOpenIsUnreachableAndAsksForNoTicket() {
        assumeFalse(RdmaDevicesTest.hostHasRdmaDevice());
        AtomicInteger requests = new AtomicInteger();
        VerbsTicketSource tickets = (keeper, region, grant, timeout) -> {
            requests.incrementAndGet();
            throw new AssertionError("no ticket should be requested");
        };
        try (VerbsRemoteMemory memory = new VerbsRemoteMemory(tickets)) {
            assertEquals("verbs", memory.transport());
            long start = System.nanoTime();
            RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                    () -> memory.open(KEEPER, "web-1/vda", "v1:grant", Duration.ofSeconds(5)));
            assertEquals(RemoteMemoryException.Kind.UNREACHABLE, e.kind());
            assertTrue(e.getMessage().contains("no RDMA device"), e.getMessage());
            assertTrue(System.nanoTime() - start < 2_000_000_000L, "fails at once, not at the timeout");
        }
        assertEquals(0, requests.get());
    }

    @Test
    void withoutADeviceTheConnectionManagerPathFailsUnreachable() {
        assumeFalse(RdmaDevicesTest.hostHasRdmaDevice());
        // Past the device check: the real librdmacm calls, which find no device, and the teardown of what was made.
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> VerbsConnection.connect(new InetSocketAddress("127.0.0.1", 7471), new byte[16],
                        VerbsSettings.DEFAULTS, Duration.ofSeconds(2)));
        assertEquals(RemoteMemoryException.Kind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().contains("rdma_create_event_channel"), e.getMessage());
    }

    @Test
    void anUnresolvableKeeperIsUnreachable() {
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> VerbsConnection.connect(InetSocketAddress.createUnresolved("keeper.invalid", 7471), new byte[16],
                        VerbsSettings.DEFAULTS, Duration.ofSeconds(1)));
        assertEquals(RemoteMemoryException.Kind.UNREACHABLE, e.kind());
    }

    @Test
    void aClosedTransportOpensNothing() {
        VerbsRemoteMemory memory = new VerbsRemoteMemory((keeper, region, grant, timeout) -> {
            throw new IOException("unused");
        });
        memory.close();
        memory.close();
        assertThrows(IllegalStateException.class,
                () -> memory.open(KEEPER, "web-1/vda", "v1:grant", Duration.ofSeconds(1)));
    }

    @Test
    void settingsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new VerbsSettings(0, 4096, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new VerbsSettings(1 << 16, 1 << 16, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new VerbsSettings(8, 4096, Duration.ZERO));
        assertEquals(32 * 256 * 1024, VerbsSettings.DEFAULTS.bounceBytes());
    }
}
