package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.tcp.TcpRemoteMemory;
import io.vigil.protocol.memory.RegionGrant;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The keeper serves a region only to a peer holding a grant it verifies for that region's VM, and only that region. */
class GrantCheckTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final String REGION = "web-1/vda";

    @TempDir
    Path dir;

    private KeeperFixture keeper;
    private TcpRemoteMemory memory;
    private byte[] arena;

    @BeforeEach
    void start() throws Exception {
        Path arenas = Files.createDirectory(dir.resolve("arenas"));
        keeper = new KeeperFixture(arenas);
        memory = new TcpRemoteMemory();
        arena = keeper.arena(REGION, 64 << 10, 1);
        keeper.arena("db-1/vda", 4096, 2);
    }

    @AfterEach
    void stop() {
        memory.close();
        keeper.close();
    }

    private RemoteMemoryException refusedOpen(String region, String grant) {
        return assertThrows(RemoteMemoryException.class, () -> memory.open(keeper.endpoint(), region, grant, TIMEOUT).close());
    }

    private long inAnHour() {
        return System.currentTimeMillis() + 3_600_000;
    }

    @Test
    void aValidGrantOpensItsVmsRegion() throws Exception {
        try (RemoteRegion region = memory.open(keeper.endpoint(), REGION, keeper.grant("web-1"), TIMEOUT)) {
            ByteBuffer dst = ByteBuffer.allocate(arena.length);
            region.read(0, dst);
            assertArrayEquals(arena, dst.array());
        }
    }

    @Test
    void everyBadGrantIsRefusedWithItsReason() {
        String otherKey = KeeperFixture.newKey();
        String good = keeper.grant("web-1");
        record Case(String grant, String reason) {}
        List<Case> cases = List.of(
                new Case("", "malformed"),
                new Case("not a grant", "malformed"),
                new Case(RegionGrant.issue(otherKey, "web-1", KeeperFixture.HOST, "taker", inAnHour()).token(), "signature"),
                new Case(good.substring(0, good.length() - 2) + (good.endsWith("00") ? "11" : "00"), "signature"),
                new Case(good.replace("taker-host", "thief-host"), "signature"),
                new Case(RegionGrant.issue(keeper.key, "web-1", "other-host", "taker", inAnHour()).token(), "other-host"),
                new Case(RegionGrant.issue(keeper.key, "web-1", KeeperFixture.HOST, "taker", System.currentTimeMillis() - 1000)
                        .token(), "expired"),
                new Case(keeper.grant("db-1"), "does not cover"));
        for (Case c : cases) {
            RemoteMemoryException e = refusedOpen(REGION, c.grant());
            assertEquals(Kind.REFUSED, e.kind(), c.toString());
            assertTrue(e.getMessage().contains(c.reason()), c + ": " + e.getMessage());
        }
    }

    @Test
    void aRefusedPeerGetsNoDataEvenIfItSendsReadsAnyway() throws Exception {
        try (RawPeer peer = new RawPeer(keeper.port())) {
            // Pipelined: the READ is at the keeper before the refusal goes out (sent after it, it may meet a closed
            // connection, which is no data too, but then the refusal itself may be lost to the reset).
            peer.sendOpenAndRead(REGION, keeper.grant("db-1"), 1, 0, 4096);
            RawPeer.OpenReply reply = peer.readOpenReply();
            assertEquals(KeeperProtocol.MAGIC, reply.magic());
            assertEquals(KeeperStatus.REFUSED.code(), reply.status());
            assertTrue(peer.closedByKeeper(), "the keeper closes the connection");
        }
    }

    @Test
    void aGrantDoesNotTellWhetherAnotherVmsArenaExists() {
        String grant = keeper.grant("web-1");
        assertEquals(Kind.REFUSED, refusedOpen("db-1/vda", grant).kind());
        assertEquals(Kind.REFUSED, refusedOpen("nothing-here/vda", grant).kind());
    }

    @Test
    void aRegionWithoutAnArenaIsNoSuchRegion() {
        RemoteMemoryException e = refusedOpen("web-1/vdb", keeper.grant("web-1"));
        assertEquals(Kind.NO_SUCH_REGION, e.kind());
    }

    @ParameterizedTest
    @ValueSource(strings = {"../arenas/web-1/vda", "web-1/../../etc/passwd", "web-1/vda/../../../etc/passwd",
            "web-1/../vda", "web-1", "web-1/", "/web-1/vda", "web-1//vda", "web-1/VDA", "web-1/vda\u0000", "web-1/v da",
            ".."})
    void regionNamesThatAreNotVmSlashDiskAreRefused(String region) {
        // The grant is for the name's own leading part, so that only the name's shape can be what is refused.
        String vm = region.contains("/") && !region.startsWith("/") ? region.substring(0, region.indexOf('/')) : "web-1";
        String grant = vm.isEmpty() || vm.contains(":") ? keeper.grant("web-1") : keeper.grant(vm);
        RemoteMemoryException e = refusedOpen(region, grant);
        assertEquals(Kind.REFUSED, e.kind(), e.getMessage());
    }

    @Test
    void aSymlinkInTheArenaDirectoryIsNotFollowed() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "not an arena");
        Files.createSymbolicLink(keeper.arenas.resolve("web-1.vdb.arena"), secret);
        assertEquals(Kind.NO_SUCH_REGION, refusedOpen("web-1/vdb", keeper.grant("web-1")).kind());
    }

    @Test
    void aVmNamedDotDotStaysInsideTheArenaDirectory() throws Exception {
        // ".." is a valid VM name; its arena file is "...vda.arena" in the arena directory, nothing above it.
        Files.write(dir.resolve("vda.arena"), new byte[] {1, 2, 3});
        assertEquals(Kind.NO_SUCH_REGION, refusedOpen("../vda", keeper.grant("..")).kind());
        keeper.arena("../vda", 10, 3);
        assertTrue(Files.exists(keeper.arenas.resolve("...vda.arena")));
        try (RemoteRegion region = memory.open(keeper.endpoint(), "../vda", keeper.grant(".."), TIMEOUT)) {
            assertEquals(10, region.size());
        }
    }

    @Test
    void verbsTicketsNeedTheSameGrantAndAKeeperWithRdma() {
        RemoteMemoryException refused = assertThrows(RemoteMemoryException.class,
                () -> memory.request(keeper.endpoint(), REGION, keeper.grant("db-1"), TIMEOUT));
        assertEquals(Kind.REFUSED, refused.kind());
        RemoteMemoryException noVerbs = assertThrows(RemoteMemoryException.class,
                () -> memory.request(keeper.endpoint(), REGION, keeper.grant("web-1"), TIMEOUT));
        assertEquals(Kind.UNREACHABLE, noVerbs.kind());
        assertTrue(noVerbs.getMessage().contains("NO_VERBS"), noVerbs.getMessage());
    }
}
