package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.VerbsExporter;
import io.vigil.memory.VerbsTicket;
import io.vigil.memory.tcp.TcpRemoteMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Op 2: a peer whose grant the keeper accepts gets its exporter's RDMA ticket, through the same checks as TCP reads. */
class VerbsTicketTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path arenas;

    /** An exporter standing in for the RDMA device: records what it was asked to export. */
    static final class RecordingExporter implements VerbsExporter {
        final List<String> exported = new CopyOnWriteArrayList<>();
        volatile boolean closed;
        volatile boolean failing;

        @Override
        public int port() {
            return 4791;
        }

        @Override
        public VerbsTicket export(String region, Path arenaFile) throws IOException {
            if (failing) throw new IOException("ibv_reg_mr failed");
            exported.add(region + "=" + arenaFile.getFileName() + ":" + Files.size(arenaFile));
            byte[] ticket = new byte[VerbsTicket.TICKET_BYTES];
            for (int i = 0; i < ticket.length; i++) ticket[i] = (byte) (i * 7 + 1);
            return new VerbsTicket(0x7f00_1234_5000L, 0xCAFE_F00D, Files.size(arenaFile), ticket);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void anAcceptedGrantGetsTheExportersTicket() throws Exception {
        RecordingExporter verbs = new RecordingExporter();
        try (KeeperFixture keeper = new KeeperFixture(arenas, KeeperFixture.LIMITS, verbs);
                TcpRemoteMemory memory = new TcpRemoteMemory()) {
            keeper.arena("web-1/vda", 12288, 1);
            assertEquals(4791, keeper.endpoint().verbsPort());
            VerbsTicket ticket = memory.request(keeper.endpoint(), "web-1/vda", keeper.grant("web-1"), TIMEOUT);
            assertEquals(0x7f00_1234_5000L, ticket.address());
            assertEquals(0xCAFE_F00D, ticket.rkey());
            assertEquals(12288, ticket.size());
            assertEquals(1, ticket.ticket()[0]);
            assertEquals(106, ticket.ticket()[15]);
            assertEquals(List.of("web-1/vda=web-1.vda.arena:12288"), verbs.exported);

            assertEquals(Kind.REFUSED, assertThrows(RemoteMemoryException.class,
                    () -> memory.request(keeper.endpoint(), "web-1/vda", keeper.grant("db-1"), TIMEOUT)).kind());
            assertEquals(Kind.NO_SUCH_REGION, assertThrows(RemoteMemoryException.class,
                    () -> memory.request(keeper.endpoint(), "web-1/vdb", keeper.grant("web-1"), TIMEOUT)).kind());
            assertEquals(1, verbs.exported.size(), "nothing exported for refused requests");

            verbs.failing = true;
            RemoteMemoryException failed = assertThrows(RemoteMemoryException.class,
                    () -> memory.request(keeper.endpoint(), "web-1/vda", keeper.grant("web-1"), TIMEOUT));
            assertEquals(Kind.PROTOCOL, failed.kind());
            assertTrue(failed.getMessage().contains("ibv_reg_mr failed"), failed.getMessage());
            assertTrue(keeper.awaitConnections(0, TIMEOUT), "a ticket request ends its connection");
        }
        assertTrue(verbs.closed, "the keeper closes its exporter");
    }
}
