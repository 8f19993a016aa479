package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.tcp.TcpRemoteMemory;
import io.vigil.protocol.memory.RegionGrant;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers without a valid grant (silent, or sending bad grants) can fill only the keeper's handshake stage, never its
 * serving slots: a grant holder is still served while they hang, and the serving slot count never passes
 * {@code maxConnections}. Flooders connect from their own loopback addresses (127.0.0.2 and up), the grant holder from
 * 127.0.0.1, so that the keeper counts them apart as it would hosts.
 */
class HandshakeFloodTest {
    /** Generous bounds for waiting on conditions on a loaded machine; no assertion is about speed. */
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String REGION = "web-1/vda";
    private static final int SIZE = 1 << 20;

    @TempDir
    Path arenas;

    private KeeperFixture keeper;
    private byte[] arena;
    private final TcpRemoteMemory memory = new TcpRemoteMemory();
    private final List<AutoCloseable> peers = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    /** The most serving connections seen at once, sampled all through each test. */
    private final AtomicInteger peakServing = new AtomicInteger();

    /**
     * A keeper with {@code serving} slots and a handshake stage of 4 slots (2 per address) and 8 waiting, whose
     * handshakes time out after {@code handshakeTimeout}.
     */
    private void start(int serving, Duration handshakeTimeout) throws IOException {
        keeper = new KeeperFixture(arenas, new KeeperLimits(serving, 1 << 20, handshakeTimeout, Duration.ofSeconds(30),
                Duration.ofSeconds(30), 4, 2, 8), null);
        arena = keeper.arena(REGION, SIZE, 1);
        background("serving-sampler", () -> {
            try {
                while (running) {
                    peakServing.accumulateAndGet(keeper.keeper.serving(), Math::max);
                    Thread.sleep(1);
                }
            } catch (InterruptedException e) {
                // the test is over
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        running = false;
        for (Thread t : threads) t.join(WAIT.toMillis());
        synchronized (peers) {
            for (AutoCloseable p : peers) p.close();
        }
        memory.close();
        if (keeper != null) keeper.close();
    }

    private void background(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail("not within " + WAIT.toSeconds() + " s: " + what);
            Thread.sleep(10);
        }
    }

    /** A peer from {@code from}, closed when the test ends. */
    private RawPeer peer(String from) throws IOException {
        RawPeer p = new RawPeer(from, keeper.port());
        peers.add(p);
        return p;
    }

    /** Opens the region with a valid grant and reads all of it, as a recovering host does. */
    private void assertGrantHolderIsServed() throws IOException {
        try (RemoteRegion region = memory.open(keeper.endpoint(), REGION, keeper.grant("web-1"), WAIT)) {
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            region.read(0, all);
            assertArrayEquals(arena, all.array());
        }
    }

    /** Grants the keeper must refuse: malformed, expired, signed with another key, for another keeper, altered. */
    private List<String> badGrants() {
        long inAnHour = System.currentTimeMillis() + 3_600_000;
        String good = keeper.grant("web-1");
        return List.of("not a grant",
                RegionGrant.issue(keeper.key, "web-1", KeeperFixture.HOST, "taker", System.currentTimeMillis() - 1000).token(),
                RegionGrant.issue(KeeperFixture.newKey(), "web-1", KeeperFixture.HOST, "taker", inAnHour).token(),
                RegionGrant.issue(keeper.key, "web-1", "other-host", "taker", inAnHour).token(),
                good.replace("taker-host", "thief-host"));
    }

    /**
     * Sends bad grants from {@code from}, one connection after another, until the test ends; counts the REFUSED
     * replies that came with the connection closed, and collects anything else.
     */
    private AtomicLong floodBadGrants(String from, List<String> unexpected) {
        AtomicLong refused = new AtomicLong();
        List<String> grants = badGrants();
        background("bad-grants-" + from, () -> {
            for (int i = 0; running; i++) {
                try (RawPeer p = new RawPeer(from, keeper.port())) {
                    RawPeer.OpenReply reply = p.open(REGION, grants.get(i % grants.size()));
                    if (reply.status() != KeeperStatus.REFUSED.code()) unexpected.add("status " + reply.status() + ": " + reply.text());
                    else if (!p.closedByKeeper()) unexpected.add("a refused connection was left open");
                    else refused.incrementAndGet();
                } catch (IOException e) {
                    if (running) unexpected.add(e.toString());
                }
            }
        });
        return refused;
    }

    @Test
    void silentPeersAndBadGrantsHoldNoServingSlotAndAGrantHolderIsServedWhileTheyHang() throws Exception {
        start(1, Duration.ofSeconds(60)); // one serving slot; silent peers hang for the whole test
        List<RawPeer> silent = new ArrayList<>();
        for (int i = 0; i < 12; i++) silent.add(peer("127.0.0.2"));
        await(() -> keeper.keeper.handshaking() == 2 && keeper.keeper.waiting() == 8,
                "2 silent peers in their handshake (the limit per address), 8 waiting (the line)");
        for (RawPeer p : silent.subList(10, 12)) { // past the line: turned away at once, not left hanging
            RawPeer.OpenReply reply = p.readOpenReply();
            assertEquals(KeeperStatus.BUSY.code(), reply.status(), reply.text());
            assertTrue(p.closedByKeeper());
        }
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        AtomicLong refused = floodBadGrants("127.0.0.3", problems);
        await(() -> refused.get() >= 3 * badGrants().size(), "bad grants refused, one connection after another");

        assertGrantHolderIsServed();
        // The keeper gives the slot back once it sees the close, which may come a moment after the client's.
        await(() -> keeper.keeper.serving() == 0, "the first grant holder's slot given back");
        assertGrantHolderIsServed(); // and again: its slot was given back

        running = false;
        threads.forEach(t -> assertDoesNotThrow(() -> t.join(WAIT.toMillis())));
        assertEquals(List.of(), problems, "every bad grant is refused and its connection closed");
        await(() -> keeper.keeper.handshaking() == 2, "the last bad grant's handshake over");
        assertEquals(8, keeper.keeper.waiting(), "the silent peers still hang, in their handshake and in line");
        assertTrue(peakServing.get() <= 1, "only the grant holder ever held the serving slot: " + peakServing.get());
    }

    @Test
    void aGrantHolderGetsInWhileSilentPeersFromSeveralAddressesKeepTheHandshakeStageFull() throws Exception {
        start(1, Duration.ofSeconds(1));
        // Two addresses, four silent connections each, reconnecting as the keeper closes them at the deadline: the
        // four handshake slots stay full, and the rest of the flood waits in line.
        AtomicLong bytesToFlooders = new AtomicLong();
        AtomicLong cut = new AtomicLong();
        background("silent-flood", () -> {
            Map<String, List<SocketChannel>> open = new HashMap<>();
            try {
                while (running) {
                    for (String from : List.of("127.0.0.4", "127.0.0.5")) {
                        List<SocketChannel> mine = open.computeIfAbsent(from, f -> new ArrayList<>());
                        for (SocketChannel c : new ArrayList<>(mine)) {
                            if (closedByKeeper(c, bytesToFlooders)) {
                                c.close();
                                mine.remove(c);
                                cut.incrementAndGet();
                            }
                        }
                        while (mine.size() < 4) mine.add(silentChannel(from));
                    }
                    Thread.sleep(5);
                }
            } catch (IOException | InterruptedException e) {
                if (running) throw new AssertionError(e);
            } finally {
                open.values().forEach(l -> l.forEach(HandshakeFloodTest::closeQuietly));
            }
        });
        await(() -> keeper.keeper.handshaking() == 4 && keeper.keeper.waiting() >= 2, "the handshake stage full");

        long cutBefore = cut.get();
        assertGrantHolderIsServed(); // it waits for the first flooder's deadline, then goes ahead of their line
        await(() -> cut.get() > cutBefore + 4, "the flood goes on, its connections cut at the deadline");
        await(() -> keeper.keeper.serving() == 0, "the first grant holder's slot given back");
        assertGrantHolderIsServed();

        running = false;
        threads.forEach(t -> assertDoesNotThrow(() -> t.join(WAIT.toMillis())));
        assertEquals(0, bytesToFlooders.get(), "silent peers are closed without a byte");
        assertTrue(peakServing.get() <= 1, "only the grant holder ever held the serving slot: " + peakServing.get());
    }

    @Test
    void aFullServingStageTurnsAGrantHolderAwayBusyWithoutHoldingUpHandshakes() throws Exception {
        start(2, Duration.ofSeconds(60));
        peer("127.0.0.2"); // hangs in its handshake throughout
        List<RawPeer> served = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            RawPeer p = peer("127.0.0.1");
            RawPeer.OpenReply reply = p.open(REGION, keeper.grant("web-1"));
            assertEquals(KeeperStatus.OK.code(), reply.status(), reply.text());
            served.add(p);
        }
        await(() -> keeper.keeper.serving() == 2, "both serving slots taken");

        try (RawPeer third = new RawPeer(keeper.port())) {
            RawPeer.OpenReply reply = third.open(REGION, keeper.grant("web-1"));
            assertEquals(KeeperStatus.BUSY.code(), reply.status(), reply.text());
            assertTrue(third.closedByKeeper());
        }
        RemoteMemoryException busy = assertThrows(RemoteMemoryException.class,
                () -> memory.open(keeper.endpoint(), REGION, keeper.grant("web-1"), WAIT));
        assertEquals(Kind.UNREACHABLE, busy.kind(), busy.getMessage());
        assertTrue(busy.getMessage().contains("BUSY"), busy.getMessage());
        // Handshakes go on meanwhile: a bad grant is refused, not left waiting for a serving slot.
        try (RawPeer bad = new RawPeer("127.0.0.3", keeper.port())) {
            assertEquals(KeeperStatus.REFUSED.code(), bad.open(REGION, badGrants().get(1)).status());
        }
        assertEquals(1, keeper.keeper.handshaking(), "the silent peer still hangs in its handshake");

        // The served peers are really served: a READ on each.
        for (RawPeer p : served) {
            p.sendRead(7, 4096, 16);
            RawPeer.ReadReply read = p.readReply();
            assertEquals(KeeperStatus.OK.code(), read.status());
            assertArrayEquals(java.util.Arrays.copyOfRange(arena, 4096, 4096 + 16), read.body());
        }
        served.get(0).close();
        await(() -> keeper.keeper.serving() == 1, "the closed connection's slot given back");
        assertGrantHolderIsServed();
        assertEquals(2, peakServing.get(), "never more serving connections than slots");
        assertEquals(1, keeper.keeper.handshaking(), "and the silent peer hangs on");
    }

    private SocketChannel silentChannel(String from) throws IOException {
        SocketChannel c = SocketChannel.open();
        c.bind(new InetSocketAddress(from, 0));
        c.connect(new InetSocketAddress("127.0.0.1", keeper.port()));
        c.configureBlocking(false);
        return c;
    }

    /** Whether the keeper closed {@code c}; counts any byte it sent first. */
    private static boolean closedByKeeper(SocketChannel c, AtomicLong bytes) {
        ByteBuffer buf = ByteBuffer.allocate(256);
        try {
            int n;
            while ((n = c.read(buf.clear())) > 0) bytes.addAndGet(n);
            return n < 0;
        } catch (IOException e) { // reset
            return true;
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // the test is over
        }
    }
}
