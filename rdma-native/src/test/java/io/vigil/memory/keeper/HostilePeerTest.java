package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteRegion;
import io.vigil.memory.tcp.TcpRemoteMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that break the protocol get an error reply or a closed connection, and the keeper goes on serving everyone
 * else: each test ends by reading the whole arena through a well-behaved client.
 */
class HostilePeerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final String REGION = "web-1/vda";
    private static final int SIZE = 3 << 20;

    @TempDir
    Path arenas;

    private KeeperFixture keeper;
    private TcpRemoteMemory memory;
    private byte[] arena;

    @BeforeEach
    void start() throws IOException {
        keeper = new KeeperFixture(arenas);
        memory = new TcpRemoteMemory();
        arena = keeper.arena(REGION, SIZE, 1);
    }

    @AfterEach
    void stop() {
        memory.close();
        keeper.close();
    }

    private void assertStillServes() throws IOException {
        try (RemoteRegion region = memory.open(keeper.endpoint(), REGION, keeper.grant("web-1"), TIMEOUT)) {
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            region.read(0, all);
            assertArrayEquals(arena, all.array());
        }
    }

    private RawPeer openedPeer() throws IOException {
        RawPeer peer = new RawPeer(keeper.port());
        RawPeer.OpenReply reply = peer.open(REGION, keeper.grant("web-1"));
        assertEquals(KeeperStatus.OK.code(), reply.status(), reply.text());
        assertEquals(SIZE, ByteBuffer.wrap(reply.body()).getLong());
        return peer;
    }

    @Test
    void somethingElseThanTheKeeperProtocolGetsTheConnectionClosedWithoutAReply() throws Exception {
        try (RawPeer peer = new RawPeer(keeper.port())) {
            peer.out.write("GET / HTTP/1.1\r\nHost: keeper\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            peer.out.flush();
            assertEquals(0, peer.bytesUntilClosed());
        }
        byte[] garbage = new byte[64 << 10];
        new Random(7).nextBytes(garbage);
        try (RawPeer peer = new RawPeer(keeper.port())) {
            peer.out.write(garbage);
            peer.out.flush();
            assertEquals(0, peer.bytesUntilClosed());
        }
        assertStillServes();
    }

    @Test
    void aHandshakeThatStopsHalfWayIsClosedAtTheHandshakeDeadline() throws Exception {
        try (RawPeer silent = new RawPeer(keeper.port()); RawPeer half = new RawPeer(keeper.port());
                RawPeer trickle = new RawPeer(keeper.port())) {
            half.out.writeInt(KeeperProtocol.MAGIC);
            half.out.writeShort(KeeperProtocol.VERSION);
            half.out.flush();
            boolean trickleCut = false;
            for (int i = 0; i < 30 && !trickleCut; i++) { // 3 s of progress, a byte at a time, past the 1 s deadline
                try {
                    trickle.out.write(i == 0 ? 'V' : 0);
                    trickle.out.flush();
                } catch (IOException e) { // broken pipe: the keeper closed it
                    trickleCut = true;
                }
                Thread.sleep(100);
            }
            assertEquals(0, silent.bytesUntilClosed());
            assertEquals(0, half.bytesUntilClosed());
            assertTrue(trickleCut || trickle.bytesUntilClosed() == 0, "progress does not extend the handshake deadline");
        }
        try (RawPeer cut = new RawPeer(keeper.port())) { // and a peer that hangs up mid-handshake
            cut.out.writeInt(KeeperProtocol.MAGIC);
            cut.out.flush();
        }
        assertTrue(keeper.awaitConnections(0, TIMEOUT));
        assertStillServes();
    }

    @Test
    void announcedLengthsOverTheLimitsAreRefusedBeforeTheyAreRead() throws Exception {
        for (int[] lengths : new int[][] {{65535, 10}, {10, 65535}, {KeeperProtocol.MAX_REGION_BYTES + 1, 0}}) {
            try (RawPeer peer = new RawPeer(keeper.port())) {
                peer.out.writeInt(KeeperProtocol.MAGIC);
                peer.out.writeShort(KeeperProtocol.VERSION);
                peer.out.writeShort(KeeperProtocol.OP_OPEN_TCP);
                peer.out.writeShort(lengths[0]);
                peer.out.writeShort(lengths[1]);
                peer.out.flush(); // and nothing of what was announced
                RawPeer.OpenReply reply = peer.readOpenReply();
                assertEquals(KeeperStatus.BAD_REQUEST.code(), reply.status());
                assertTrue(reply.text().contains("longer than"), reply.text());
                assertTrue(peer.closedByKeeper());
            }
        }
        assertStillServes();
    }

    @Test
    void anUnknownVersionOrOpIsABadRequest() throws Exception {
        try (RawPeer peer = new RawPeer(keeper.port())) {
            peer.sendOpen(2, KeeperProtocol.OP_OPEN_TCP, REGION, keeper.grant("web-1"));
            RawPeer.OpenReply reply = peer.readOpenReply();
            assertEquals(KeeperStatus.BAD_REQUEST.code(), reply.status());
            assertTrue(reply.text().contains("version 2"), reply.text());
            assertTrue(peer.closedByKeeper());
        }
        try (RawPeer peer = new RawPeer(keeper.port())) {
            peer.sendOpen(KeeperProtocol.VERSION, 9, REGION, keeper.grant("web-1"));
            assertEquals(KeeperStatus.BAD_REQUEST.code(), peer.readOpenReply().status());
            assertTrue(peer.closedByKeeper());
        }
        assertStillServes();
    }

    @Test
    void aReadLongerThanTheLimitIsABadRequestAndEndsTheConnection() throws Exception {
        try (RawPeer peer = openedPeer()) {
            peer.sendRead(1, 0, 4096);
            peer.sendRead(2, 0, 0xFFFF_FFFFL);
            peer.sendRead(3, 0, 4096);
            RawPeer.ReadReply ok = peer.readReply();
            assertEquals(1, ok.id());
            assertEquals(KeeperStatus.OK.code(), ok.status());
            assertArrayEquals(java.util.Arrays.copyOf(arena, 4096), ok.body());
            RawPeer.ReadReply refused = peer.readReply();
            assertEquals(2, refused.id());
            assertEquals(KeeperStatus.BAD_REQUEST.code(), refused.status());
            assertEquals(0, peer.bytesUntilClosed(), "read 3 is not answered");
        }
        assertStillServes();
    }

    @Test
    void aReadOutsideTheRegionIsRefusedAndInRangeReadsWorkOnANewConnection() throws Exception {
        try (RawPeer peer = openedPeer()) {
            peer.sendRead(1, SIZE - 10, 20);
            peer.sendRead(2, 0, 10);
            RawPeer.ReadReply refused = peer.readReply();
            assertEquals(1, refused.id());
            assertEquals(KeeperStatus.OUT_OF_RANGE.code(), refused.status());
            assertTrue(new String(refused.body(), StandardCharsets.UTF_8).contains("outside region " + REGION));
            assertEquals(0, peer.bytesUntilClosed(), "nothing more is served on that connection");
        }
        try (RawPeer peer = openedPeer()) {
            peer.sendRead(1, -1L, 1); // 2^64 - 1 as an unsigned offset
            assertEquals(KeeperStatus.OUT_OF_RANGE.code(), peer.readReply().status());
            assertTrue(peer.closedByKeeper());
        }
        try (RawPeer peer = openedPeer()) {
            peer.sendRead(1, SIZE, 0); // the end itself is in range
            peer.sendRead(2, SIZE - 10, 10);
            assertEquals(KeeperStatus.OK.code(), peer.readReply().status());
            RawPeer.ReadReply tail = peer.readReply();
            assertArrayEquals(java.util.Arrays.copyOfRange(arena, SIZE - 10, SIZE), tail.body());
        }
        assertStillServes();
    }

    @Test
    void aPeerThatHangsUpMidRequestOrMidReplyChangesNothing() throws Exception {
        try (RawPeer peer = openedPeer()) {
            peer.out.write(new byte[7]); // a third of a READ
            peer.out.flush();
        }
        try (RawPeer peer = openedPeer()) {
            for (int i = 0; i < 50; i++) peer.sendRead(i, 0, 1 << 20);
            peer.in.readNBytes(100);
            peer.socket.setSoLinger(true, 0); // reset, mid-reply
        }
        assertTrue(keeper.awaitConnections(0, TIMEOUT));
        assertStillServes();
    }

    @Test
    void aPeerThatNeverReadsDoesNotHoldUpOthersAndLosesItsConnection() throws Exception {
        try (RawPeer stuck = openedPeer()) {
            for (int i = 0; i < 500; i++) stuck.sendRead(i, 0, 1 << 20); // 500 MiB asked for, none taken
            for (int i = 0; i < 3; i++) assertStillServes();
            assertTrue(keeper.awaitConnections(0, TIMEOUT), "the stuck connection is closed after the stall timeout");
            assertTrue(stuck.closedByKeeper());
        }
        assertStillServes();
    }
}
