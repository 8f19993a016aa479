package io.vigil.memory.tcp;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.RemoteRead;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.keeper.KeeperFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads through the TCP transport from a real keeper on loopback return exactly the arena's bytes. */
class TcpRemoteMemoryTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final String REGION = "web-1/vda";

    @TempDir
    Path arenas;

    private KeeperFixture keeper;
    private TcpRemoteMemory memory;

    @BeforeEach
    void start() throws IOException {
        keeper = new KeeperFixture(arenas);
        memory = new TcpRemoteMemory(Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        memory.close();
        keeper.close();
    }

    private RemoteRegion open(String region) throws IOException {
        return memory.open(keeper.endpoint(), region, keeper.grant(region.substring(0, region.indexOf('/'))), TIMEOUT);
    }

    @Test
    void thousandsOfPipelinedReadsReturnTheArenasBytesWhileItsWriterKeepsWriting() throws Exception {
        int size = 24 << 20;
        int hot = 20 << 20; // the writer rewrites [hot, size); reads of [0, hot) must see the bytes as written
        byte[] bytes = keeper.arena(REGION, size, 1);
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong rewrites = new AtomicLong();
        Thread writer = new Thread(() -> {
            Random random = new Random(2);
            ByteBuffer block = ByteBuffer.allocate(4096);
            try (FileChannel ch = FileChannel.open(keeper.file(REGION), StandardOpenOption.WRITE)) {
                while (writing.get()) {
                    random.nextBytes(block.array());
                    ch.write(block.clear(), hot + 4096L * random.nextInt((size - hot) / 4096));
                    rewrites.incrementAndGet();
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        writer.start();
        try (RemoteRegion region = open(REGION)) {
            assertEquals(size, region.size());
            assertEquals(REGION, region.name());
            Random random = new Random(3);
            for (int round = 0; round < 3; round++) { // several calls on one connection
                List<RemoteRead> reads = new ArrayList<>();
                List<RemoteRead> hotReads = new ArrayList<>();
                for (int i = 0; i < 4000; i++) {
                    int length = 1 + random.nextInt(i % 10 == 0 ? 300_000 : 9000);
                    int offset = random.nextInt(hot - length);
                    ByteBuffer dst = i % 2 == 0 ? ByteBuffer.allocate(length) : ByteBuffer.allocateDirect(length);
                    reads.add(new RemoteRead(offset, dst));
                    if (i % 50 == 0) hotReads.add(new RemoteRead(hot + random.nextInt(size - hot - 4096), ByteBuffer.allocate(4096)));
                }
                List<RemoteRead> all = new ArrayList<>(reads);
                all.addAll(hotReads);
                java.util.Collections.shuffle(all, random);
                region.read(all);
                for (RemoteRead r : reads) assertBytes(bytes, r);
                for (RemoteRead r : hotReads) assertFalse(r.dst().hasRemaining(), "every read fills its buffer");
            }
        } finally {
            writing.set(false);
            writer.join();
        }
        assertTrue(rewrites.get() > 0, "the writer ran during the reads");
    }

    @Test
    void readsLargerThanTheKeepersLargestReadAreSplitAndWholeArenaReadsWork() throws Exception {
        int size = (5 << 20) + 12345; // the fixture's keeper reads at most 1 MiB at once
        byte[] bytes = keeper.arena(REGION, size, 4);
        try (RemoteRegion region = open(REGION)) {
            ByteBuffer whole = ByteBuffer.allocateDirect(size);
            region.read(0, whole);
            assertFalse(whole.hasRemaining());
            assertEquals(ByteBuffer.wrap(bytes), whole.flip());

            ByteBuffer part = ByteBuffer.allocate(size - 7 + 100);
            part.position(100); // fills from the position to the limit, and leaves the bytes before it alone
            region.read(7, part);
            assertEquals(part.limit(), part.position());
            assertEquals(ByteBuffer.wrap(bytes, 7, size - 7), part.position(100));
            assertEquals(ByteBuffer.allocate(100), part.duplicate().position(0).limit(100));
        }
    }

    @Test
    void emptyReadsAndReadsEndingExactlyAtTheEndAreServed() throws Exception {
        byte[] bytes = keeper.arena(REGION, 10_000, 5);
        try (RemoteRegion region = open(REGION)) {
            ByteBuffer tail = ByteBuffer.allocate(1000);
            region.read(List.of(new RemoteRead(10_000, ByteBuffer.allocate(0)), new RemoteRead(9000, tail),
                    new RemoteRead(0, ByteBuffer.allocate(0))));
            assertEquals(ByteBuffer.wrap(bytes, 9000, 1000), tail.flip());
            region.read(List.of());
        }
    }

    @Test
    void aReadPastTheRegionIsRefusedBeforeItIsSentAndTheRegionStaysUsable() throws Exception {
        byte[] bytes = keeper.arena(REGION, 10_000, 6);
        try (RemoteRegion region = open(REGION)) {
            ByteBuffer first = ByteBuffer.allocate(10);
            RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                    () -> region.read(List.of(new RemoteRead(0, first), new RemoteRead(9999, ByteBuffer.allocate(2)))));
            assertEquals(Kind.OUT_OF_RANGE, e.kind());
            assertEquals(0, first.position(), "nothing was read");
            assertEquals(Kind.OUT_OF_RANGE, assertThrows(RemoteMemoryException.class,
                    () -> region.read(Long.MAX_VALUE - 5, ByteBuffer.allocate(10))).kind());
            ByteBuffer ok = ByteBuffer.allocate(100);
            region.read(500, ok);
            assertEquals(ByteBuffer.wrap(bytes, 500, 100), ok.flip());
        }
    }

    @Test
    void anArenaThatShrankAfterOpenReadsAsZerosPastItsNewEnd() throws Exception {
        byte[] bytes = keeper.arena(REGION, 3 << 20, 7);
        try (RemoteRegion region = open(REGION)) {
            try (FileChannel ch = FileChannel.open(keeper.file(REGION), StandardOpenOption.WRITE)) {
                ch.truncate(1 << 20);
            }
            for (int length : new int[] {4096, 2 << 20}) { // through the reply buffer, and through sendfile
                ByteBuffer dst = ByteBuffer.allocate(length);
                region.read((1 << 20) - 100, dst);
                byte[] expected = new byte[length];
                System.arraycopy(bytes, (1 << 20) - 100, expected, 0, 100);
                assertArrayEquals(expected, dst.array());
            }
        }
    }

    @Test
    void regionsOfOneTransportAreReadInParallel() throws Exception {
        byte[][] arenas = new byte[4][];
        for (int i = 0; i < 4; i++) arenas[i] = keeper.arena("vm-" + i + "/vda", 4 << 20, 10 + i);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int vm = i;
                done.add(pool.submit(() -> {
                    try (RemoteRegion region = open("vm-" + vm + "/vda")) {
                        Random random = new Random(vm);
                        List<RemoteRead> reads = new ArrayList<>();
                        for (int k = 0; k < 500; k++) {
                            int length = 1 + random.nextInt(64 << 10);
                            reads.add(new RemoteRead(random.nextInt((4 << 20) - length), ByteBuffer.allocate(length)));
                        }
                        region.read(reads);
                        for (RemoteRead r : reads) assertBytes(arenas[vm], r);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aKeeperClosingMidReadFailsTheReadAndTheRegion() throws Exception {
        keeper.arena(REGION, 8 << 20, 8);
        RemoteRegion region = open(REGION);
        List<RemoteRead> reads = new ArrayList<>();
        ByteBuffer into = ByteBuffer.allocateDirect(256 << 10); // 5 GiB of reads, all landing here
        for (int i = 0; i < 20_000; i++) reads.add(new RemoteRead(0, into.duplicate()));
        Thread closer = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            keeper.close();
        });
        closer.start();
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class, () -> region.read(reads));
        closer.join();
        assertEquals(Kind.PROTOCOL, e.kind(), e.getMessage());
        assertEquals(Kind.PROTOCOL, assertThrows(RemoteMemoryException.class, () -> region.read(0, ByteBuffer.allocate(1))).kind());
        region.close();
    }

    @Test
    void closingTheTransportClosesItsRegions() throws Exception {
        keeper.arena(REGION, 4096, 9);
        RemoteRegion region = open(REGION);
        memory.close();
        assertThrows(RemoteMemoryException.class, () -> region.read(0, ByteBuffer.allocate(1)));
        assertThrows(IllegalStateException.class, () -> open(REGION));
        assertTrue(keeper.awaitConnections(0, TIMEOUT), "the keeper saw the connection end");
    }

    @Test
    void transportIsTcp() {
        assertEquals("tcp", memory.transport());
    }

    static void assertBytes(byte[] arena, RemoteRead read) {
        ByteBuffer dst = read.dst();
        assertFalse(dst.hasRemaining(), "read fills its buffer");
        ByteBuffer got = dst.duplicate().flip();
        int offset = (int) read.offset();
        if (!ByteBuffer.wrap(arena, offset, got.remaining()).equals(got)) {
            byte[] g = new byte[got.remaining()];
            got.get(g);
            fail("bytes differ at region offset " + offset + " (" + g.length + " bytes); first difference at "
                    + Arrays.mismatch(g, Arrays.copyOfRange(arena, offset, offset + g.length)));
        }
    }
}
