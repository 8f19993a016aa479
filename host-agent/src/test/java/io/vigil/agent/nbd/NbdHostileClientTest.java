package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Broken and hostile clients: each gets the protocol's error reply or a closed connection, and in every case the
 * disk is unchanged and a well-behaved connection to the same export keeps working.
 */
@Timeout(30)
class NbdHostileClientTest {
    private static final int SIZE = 4 << 20;
    private static final Duration CLOSE_WITHIN = Duration.ofSeconds(5);

    private NbdTestServer test;
    private final MemoryDisk disk = new MemoryDisk(SIZE, true);
    private final MemoryDisk slowDisk = new MemoryDisk(SIZE, false);
    private byte[] before;
    private NbdTestClient bystander;

    @BeforeEach
    void start() throws Exception {
        byte[] pattern = new byte[SIZE];
        new Random(42).nextBytes(pattern);
        disk.fill(pattern);
        slowDisk.fill(pattern);
        before = pattern;
        test = new NbdTestServer();
        test.server.addExport("vm1/vda", "", disk);
        test.server.addExport("vm1/slow", "", slowDisk);
        bystander = NbdTestClient.open(test.socket, "vm1/vda", false);
    }

    @AfterEach
    void stop() throws Exception {
        bystander.close();
        test.close();
    }

    /** The disks hold what they held, and the bystander connection still reads and writes. */
    private void assertUnharmed() throws Exception {
        assertArrayEquals(before, disk.contents(), "disk changed");
        assertArrayEquals(before, slowDisk.contents(), "slow disk changed");
        assertArrayEquals(Arrays.copyOfRange(before, 8192, 8192 + 4096), bystander.read(8192, 4096));
        bystander.write(8192, Arrays.copyOfRange(before, 8192, 8192 + 4096)); // same bytes: a write that works
        bystander.request(0, CMD_FLUSH, 3, 0, 0, null);
        assertEquals(0, bystander.readReply().error());
    }

    private NbdTestClient client(boolean structured) throws Exception {
        return NbdTestClient.open(test.socket, "vm1/vda", structured);
    }

    @Test
    void badRequestMagicClosesTheConnection() throws Exception {
        try (NbdTestClient client = client(false)) {
            client.writeRaw(ByteBuffer.allocate(28).putInt(0xdeadbeef).putShort((short) 0)
                    .putShort((short) CMD_WRITE).putLong(1).putLong(0).putInt(0).array());
            client.assertClosedBy(CLOSE_WITHIN);
        }
        assertUnharmed();
    }

    @Test
    void readsOutOfRangeAreInvalidAndTheConnectionGoesOn() throws Exception {
        try (NbdTestClient client = client(false)) {
            assertEquals(EINVAL, client.call(0, CMD_READ, SIZE - 100, 4096, null).error());
            assertEquals(EINVAL, client.call(0, CMD_READ, -4096, 4096, null).error(), "offset over 2^63");
            assertEquals(EINVAL, client.call(0, CMD_READ, Long.MAX_VALUE, 4096, null).error(), "offset + length wraps");
            assertEquals(EINVAL, client.call(0, CMD_READ, 0, 0, null).error(), "zero length");
            assertEquals(EINVAL, client.call(0, CMD_BLOCK_STATUS, 0, 4096, null).error(), "no context selected");
            assertEquals(EINVAL, client.call(0, CMD_TRIM, SIZE, 4096, null).error());
            assertEquals(ENOSPC, client.call(0, CMD_WRITE_ZEROES, SIZE - 4096, 8192, null).error());
            assertArrayEquals(Arrays.copyOf(before, 512), client.read(0, 512));
        }
        assertUnharmed();
    }

    @Test
    void writesOutOfRangeFailWithEnospcAndTheirPayloadIsSkipped() throws Exception {
        for (boolean structured : new boolean[] {false, true}) {
            try (NbdTestClient client = client(structured)) {
                NbdTestClient.Reply reply = client.call(0, CMD_WRITE, SIZE - 1024, 4096, new byte[4096]);
                assertEquals(ENOSPC, reply.error());
                if (structured) assertTrue(reply.message().contains("beyond the end"), reply.message());
                // A refused write larger than the server's input buffer: its payload is skipped too.
                assertEquals(ENOSPC, client.call(0, CMD_WRITE, SIZE, 2 << 20, new byte[2 << 20]).error());
                assertArrayEquals(Arrays.copyOf(before, 512), client.read(0, 512), "in step after the payloads");
            }
        }
        assertUnharmed();
    }

    @Test
    void oversizedReadIsInvalid() throws Exception {
        try (NbdTestClient client = client(true)) {
            NbdTestClient.Reply reply = client.call(0, CMD_READ, 0, 64 << 20, null);
            assertEquals(EINVAL, reply.error());
            assertNull(reply.data());
            assertArrayEquals(Arrays.copyOf(before, 512), client.read(0, 512));
        }
        assertUnharmed();
    }

    @Test
    void oversizedWriteIsRefusedAndClosesTheConnection() throws Exception {
        try (NbdTestClient client = client(false)) {
            client.request(0, CMD_WRITE, 9, 0, 64 << 20, new byte[1 << 16]);
            NbdTestClient.Reply reply = client.readReply();
            assertEquals(9, reply.cookie());
            assertEquals(EINVAL, reply.error());
            client.assertClosedBy(CLOSE_WITHIN);
        }
        assertUnharmed();
    }

    @Test
    void unknownCommandsAndFlagsAreInvalid() throws Exception {
        try (NbdTestClient client = client(false)) {
            assertEquals(EINVAL, client.call(0, 42, 0, 4096, null).error());
            assertEquals(EINVAL, client.call(0, 5 /* CACHE, not advertised */, 0, 4096, null).error());
            assertEquals(EINVAL, client.call(CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 0, 4096, null).error());
            assertEquals(EINVAL, client.call(0x8000, CMD_READ, 0, 4096, null).error());
            assertEquals(EINVAL, client.call(0x8000, CMD_WRITE, 0, 16, new byte[16]).error());
            assertArrayEquals(Arrays.copyOf(before, 512), client.read(0, 512));
        }
        assertUnharmed();
    }

    @Test
    void requestsDuringTheHandshakeCloseTheConnection() throws Exception {
        try (NbdTestClient client = NbdTestClient.connect(test.socket)) {
            client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            client.request(0, CMD_WRITE, 1, 0, 4096, new byte[4096]); // no export chosen yet
            client.assertClosedBy(CLOSE_WITHIN);
        }
        try (NbdTestClient client = NbdTestClient.connect(test.socket)) {
            client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            client.sendOption(OPT_GO, NbdTestClient.goData("vm1/vda"));
            client.request(0, CMD_WRITE, 1, 0, 4096, new byte[4096]); // before reading the GO reply: allowed
            while (client.readOptionReply().type() != REP_ACK) {
                // the NBD_REP_INFO replies before the acknowledgement
            }
            assertEquals(0, client.readReply().error());
            assertArrayEquals(new byte[4096], Arrays.copyOf(disk.contents(), 4096), "that write was legal");
            client.write(0, Arrays.copyOf(before, 4096));
        }
        assertUnharmed();
    }

    @Test
    void garbageClosesTheConnection() throws Exception {
        byte[] garbage = new byte[100_000];
        new Random(7).nextBytes(garbage);
        try (NbdTestClient client = client(false)) {
            client.writeRaw(garbage);
            client.assertClosedBy(CLOSE_WITHIN);
        }
        assertUnharmed();
    }

    @Test
    void connectionDroppedMidRequestOrMidPayloadWritesNothing() throws Exception {
        for (String export : new String[] {"vm1/vda", "vm1/slow"}) {
            try (NbdTestClient client = NbdTestClient.open(test.socket, export, false)) {
                client.writeRaw(Arrays.copyOf(ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).array(), 10));
            }
            try (NbdTestClient client = NbdTestClient.open(test.socket, export, false)) {
                ByteBuffer half = ByteBuffer.allocate(28 + 1000).putInt(REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) CMD_WRITE).putLong(1).putLong(0).putInt(4096);
                client.writeRaw(half.array());
            }
            try (NbdTestClient client = NbdTestClient.open(test.socket, export, false)) {
                ByteBuffer half = ByteBuffer.allocate(28 + (3 << 20)).putInt(REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) CMD_WRITE).putLong(1).putLong(0).putInt(8 << 20);
                client.writeRaw(half.array()); // larger than the input buffer: read into its own buffer
            }
        }
        Thread.sleep(200); // let the server notice
        assertUnharmed();
    }

    @Test
    void connectionDroppedWithRequestsInFlight() throws Exception {
        try (NbdTestClient client = NbdTestClient.open(test.socket, "vm1/slow", true)) {
            for (int i = 0; i < 200; i++) client.request(0, CMD_READ, i, (long) i * 4096, 65536, null);
        }
        Thread.sleep(200);
        assertUnharmed();
    }

    @Test
    void aClientThatDoesNotReadItsRepliesOnlyStallsItself() throws Exception {
        long directBefore = directMemory();
        NbdTestClient hog = NbdTestClient.open(test.socket, "vm1/slow", false);
        Thread flood = new Thread(() -> {
            try {
                for (int i = 0; i < 4000; i++) hog.request(0, CMD_READ, i, 0, 1 << 20, null); // 4 GiB of replies
            } catch (Exception e) {
                // the socket fills up and the test closes it
            }
        }, "hog");
        flood.setDaemon(true);
        flood.start();
        Thread.sleep(1500);
        assertTrue(flood.isAlive(), "the server should have stopped reading the hog's requests");
        long grown = directMemory() - directBefore;
        assertTrue(grown < 200L << 20, "direct memory grew by " + (grown >> 20) + " MiB");
        assertUnharmed();
        try (NbdTestClient slowUser = NbdTestClient.open(test.socket, "vm1/slow", false)) {
            assertArrayEquals(Arrays.copyOf(before, 4096), slowUser.read(0, 4096), "workers are not all stuck");
        }
        hog.close();
        flood.join(5000);
    }

    private static long directMemory() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }
}
