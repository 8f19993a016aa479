package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The verbs hot path against the fake provider: the shim's real post/poll calls, a fake device underneath. */
class RdmaReadPipelineTest {
    private static final int REGION_BYTES = 4 << 20;
    private static final int RKEY = 0x5eed;
    private static final int LKEY = 0x10ca1;
    private static final int IBV_WC_LOC_PROT_ERR = 4;
    private static final int IBV_WC_GENERAL_ERR = 21;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private NativeMapping remote;
    private byte[] reference;
    private FakeProvider fake;

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) closing.get(i).close();
    }

    /** A fake device holding a region of random bytes, and a pipeline reading it. */
    private RdmaReadPipeline pipeline(int sendQueueDepth, int completionsPerPoll, int window, int maxMessage,
            int bounceSlots, long regionSizeSeenByReader) throws IOException {
        remote = track(NativeMapping.anonymous(REGION_BYTES));
        reference = new byte[REGION_BYTES];
        new Random(42).nextBytes(reference);
        remote.buffer().put(reference);
        NativeMapping bounce = track(NativeMapping.anonymous((long) bounceSlots * maxMessage));
        fake = track(new FakeProvider(sendQueueDepth, completionsPerPoll));
        fake.remote(RKEY, remote.address(), REGION_BYTES);
        fake.local(LKEY, bounce.address(), bounce.length());
        return new RdmaReadPipeline(fake.qp(), fake.cq(),
                new RegisteredBuffer(bounce.address(), (int) bounce.length(), LKEY),
                new RegionKey(remote.addressValue(), RKEY, regionSizeSeenByReader), window, maxMessage,
                Duration.ofMillis(300));
    }

    private RdmaReadPipeline pipeline(int sendQueueDepth, int completionsPerPoll, int window, int maxMessage)
            throws IOException {
        return pipeline(sendQueueDepth, completionsPerPoll, window, maxMessage, window, REGION_BYTES);
    }

    private <T extends AutoCloseable> T track(T resource) {
        closing.add(resource);
        return resource;
    }

    private byte[] expected(long offset, int length) {
        return Arrays.copyOfRange(reference, (int) offset, (int) offset + length);
    }

    private static byte[] remaining(ByteBuffer buffer, int from, int to) {
        byte[] bytes = new byte[to - from];
        buffer.get(from, bytes);
        return bytes;
    }

    @ParameterizedTest(name = "{0} completions per poll")
    @ValueSource(ints = {1, 3, 64})
    void manyRandomReadsReturnTheRegionsBytes(int completionsPerPoll) throws IOException {
        RdmaReadPipeline pipeline = pipeline(16, completionsPerPoll, 16, 4096);
        Random random = new Random(completionsPerPoll);
        for (int call = 0; call < 150; call++) {
            List<RemoteRead> reads = new ArrayList<>();
            List<int[]> spans = new ArrayList<>(); // position, limit
            int count = 1 + random.nextInt(40);
            for (int i = 0; i < count; i++) {
                int length = random.nextInt(5) == 0 ? random.nextInt(64) : random.nextInt(20_000);
                long offset = random.nextInt(REGION_BYTES - length + 1);
                int slack = random.nextInt(100);
                ByteBuffer dst = random.nextBoolean() ? ByteBuffer.allocate(length + 2 * slack)
                        : ByteBuffer.allocateDirect(length + 2 * slack);
                dst.position(slack).limit(slack + length);
                reads.add(new RemoteRead(offset, dst));
                spans.add(new int[] {slack, slack + length});
            }
            pipeline.read(reads);
            for (int i = 0; i < count; i++) {
                RemoteRead read = reads.get(i);
                int[] span = spans.get(i);
                assertEquals(span[1], read.dst().position(), "position advanced to the limit");
                assertArrayEquals(expected(read.offset(), span[1] - span[0]), remaining(read.dst(), span[0], span[1]),
                        "call " + call + " read " + i + " at offset " + read.offset());
            }
        }
        assertEquals(0, fake.stat(FakeProvider.FULL_POSTS), "never posted beyond the send queue");
        assertTrue(fake.stat(FakeProvider.MAX_OUTSTANDING) <= 16);
    }

    @Test
    void bytesOutsideAReadsSpanAreLeftAlone() throws IOException {
        RdmaReadPipeline pipeline = pipeline(8, 2, 8, 1000);
        ByteBuffer dst = ByteBuffer.allocate(10_000);
        Arrays.fill(dst.array(), (byte) 0x7e);
        dst.position(100).limit(9_900);
        pipeline.read(12_345, dst);
        assertArrayEquals(expected(12_345, 9_800), remaining(dst, 100, 9_900));
        for (int i = 0; i < 100; i++) assertEquals(0x7e, dst.array()[i]);
        for (int i = 9_900; i < 10_000; i++) assertEquals(0x7e, dst.array()[i]);
    }

    @Test
    void aLargeReadIsSplitIntoMessagesOfAtMostTheMaximum() throws IOException {
        RdmaReadPipeline pipeline = pipeline(8, 4, 8, 64 * 1024);
        ByteBuffer dst = ByteBuffer.allocateDirect(1 << 20);
        pipeline.read(777, dst);
        assertEquals(1 << 20, dst.position());
        assertArrayEquals(expected(777, 1 << 20), remaining(dst, 0, 1 << 20));
        assertEquals(16, fake.stat(FakeProvider.POSTED), "1 MiB in 64 KiB messages");
        assertEquals(64 * 1024, fake.stat(FakeProvider.MAX_LENGTH));
    }

    @Test
    void aReadThatIsNotAMultipleOfTheMessageSizeEndsWithAShortMessage() throws IOException {
        RdmaReadPipeline pipeline = pipeline(4, 4, 4, 4096);
        ByteBuffer dst = ByteBuffer.allocate(3 * 4096 + 5);
        pipeline.read(REGION_BYTES - dst.capacity(), dst);
        assertArrayEquals(expected(REGION_BYTES - dst.capacity(), dst.capacity()), dst.array(), "up to the last byte");
        assertEquals(4, fake.stat(FakeProvider.POSTED));
    }

    @Test
    void theWindowBoundsTheRequestsInFlight() throws IOException {
        RdmaReadPipeline pipeline = pipeline(64, 64, 4, 1024);
        pipeline.read(0, ByteBuffer.allocate(100 * 1024));
        assertEquals(4, pipeline.window());
        assertEquals(4, fake.stat(FakeProvider.MAX_OUTSTANDING), "four in flight, no more");
        assertEquals(100, fake.stat(FakeProvider.POSTED));
    }

    @Test
    void aWindowAsDeepAsTheSendQueueKeepsItFullWithoutOverflowingIt() throws IOException {
        RdmaReadPipeline pipeline = pipeline(8, 1, 8, 512);
        List<RemoteRead> reads = new ArrayList<>();
        for (int i = 0; i < 200; i++) reads.add(new RemoteRead(i * 1000L, ByteBuffer.allocate(300)));
        pipeline.read(reads);
        assertEquals(8, fake.stat(FakeProvider.MAX_OUTSTANDING), "the pipeline refills the queue as slots free");
        assertEquals(0, fake.stat(FakeProvider.FULL_POSTS));
        assertTrue(fake.stat(FakeProvider.POST_CALLS) < 200, "requests are posted in batches");
        for (RemoteRead read : reads) assertArrayEquals(expected(read.offset(), 300), read.dst().array());
    }

    @Test
    void aBounceBufferSmallerThanTheWindowLimitsItToItsSlots() throws IOException {
        RdmaReadPipeline pipeline = pipeline(32, 8, 32, 2048, 3, REGION_BYTES);
        assertEquals(3, pipeline.window());
        pipeline.read(0, ByteBuffer.allocate(64 * 1024));
        assertEquals(3, fake.stat(FakeProvider.MAX_OUTSTANDING));
    }

    @Test
    void readsPastTheRegionAreRefusedBeforeAnythingIsPosted() throws IOException {
        RdmaReadPipeline pipeline = pipeline(8, 8, 8, 4096);
        List<RemoteRead> reads = List.of(new RemoteRead(0, ByteBuffer.allocate(100)),
                new RemoteRead(REGION_BYTES - 10, ByteBuffer.allocate(11)));
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class, () -> pipeline.read(reads));
        assertEquals(RemoteMemoryException.Kind.OUT_OF_RANGE, e.kind());
        e = assertThrows(RemoteMemoryException.class,
                () -> pipeline.read(REGION_BYTES + 1L, ByteBuffer.allocate(0)));
        assertEquals(RemoteMemoryException.Kind.OUT_OF_RANGE, e.kind());
        e = assertThrows(RemoteMemoryException.class,
                () -> pipeline.read(Long.MAX_VALUE - 2, ByteBuffer.allocate(10)));
        assertEquals(RemoteMemoryException.Kind.OUT_OF_RANGE, e.kind(), "no overflow past the check");
        assertEquals(0, fake.stat(FakeProvider.POSTED));

        ByteBuffer last = ByteBuffer.allocate(10);
        pipeline.read(REGION_BYTES - 10, last);
        assertArrayEquals(expected(REGION_BYTES - 10, 10), last.array(), "a refused read leaves the pipeline usable");
    }

    @Test
    void aRemoteAccessErrorIsOutOfRangeAndBreaksThePipeline() throws IOException {
        // The reader believes the region is larger than what the keeper registered (an arena that shrank).
        RdmaReadPipeline pipeline = pipeline(8, 2, 8, 4096, 8, REGION_BYTES + 65536L);
        List<RemoteRead> reads = new ArrayList<>();
        for (int i = 0; i < 30; i++)
            reads.add(new RemoteRead(REGION_BYTES - 20_000 + i * 1000L, ByteBuffer.allocate(2000)));
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class, () -> pipeline.read(reads));
        assertEquals(RemoteMemoryException.Kind.OUT_OF_RANGE, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("remote access error"), e.getMessage());
        assertEquals(0, fake.stat(FakeProvider.OUTSTANDING), "drained before throwing");

        e = assertThrows(RemoteMemoryException.class, () -> pipeline.read(0, ByteBuffer.allocate(8)));
        assertEquals(RemoteMemoryException.Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("reopen"), e.getMessage());
    }

    @Test
    void aPeerThatStoppedAnsweringIsUnreachableNotTheFlushThatFollows() throws IOException {
        RdmaReadPipeline pipeline = pipeline(8, 3, 8, 1024);
        fake.failNth(5, VerbsLayout.IBV_WC_RETRY_EXC_ERR);
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> pipeline.read(0, ByteBuffer.allocate(64 * 1024)));
        assertEquals(RemoteMemoryException.Kind.UNREACHABLE, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("at offset 5120"), e.getMessage());
        assertEquals(0, fake.stat(FakeProvider.OUTSTANDING));
    }

    @ParameterizedTest(name = "status {0}")
    @ValueSource(ints = {IBV_WC_LOC_PROT_ERR, IBV_WC_GENERAL_ERR, VerbsLayout.IBV_WC_WR_FLUSH_ERR})
    void otherFailedCompletionsAreProtocolErrors(int status) throws IOException {
        RdmaReadPipeline pipeline = pipeline(4, 4, 4, 1024);
        fake.failNth(0, status);
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> pipeline.read(0, ByteBuffer.allocate(10_000)));
        assertEquals(RemoteMemoryException.Kind.PROTOCOL, e.kind(), e.getMessage());
        assertEquals(0, fake.stat(FakeProvider.OUTSTANDING));
    }

    @Test
    void noCompletionWithinTheStallTimeoutIsUnreachable() throws IOException {
        RdmaReadPipeline pipeline = pipeline(4, 4, 4, 1024);
        fake.hold(true);
        long start = System.nanoTime();
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> pipeline.read(0, ByteBuffer.allocate(10_000)));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(RemoteMemoryException.Kind.UNREACHABLE, e.kind());
        assertTrue(millis >= 300 && millis < 5_000, "gave up after the stall timeout, not at once or never: " + millis);

        fake.hold(false); // the requests still in flight may land in the bounce buffer now: the pipeline stays broken
        e = assertThrows(RemoteMemoryException.class, () -> pipeline.read(0, ByteBuffer.allocate(8)));
        assertEquals(RemoteMemoryException.Kind.PROTOCOL, e.kind());
    }

    @Test
    void emptyReadsPostNothing() throws IOException {
        RdmaReadPipeline pipeline = pipeline(4, 4, 4, 1024);
        pipeline.read(List.of());
        ByteBuffer empty = ByteBuffer.allocate(0);
        pipeline.read(List.of(new RemoteRead(REGION_BYTES, empty), new RemoteRead(5, ByteBuffer.allocate(0))));
        assertEquals(0, fake.stat(FakeProvider.POSTED));
        assertEquals(0, fake.stat(FakeProvider.POLL_CALLS));
    }

    @Test
    void aReadOnlyBufferIsRefused() throws IOException {
        RdmaReadPipeline pipeline = pipeline(4, 4, 4, 1024);
        assertThrows(IllegalArgumentException.class,
                () -> pipeline.read(0, ByteBuffer.allocate(10).asReadOnlyBuffer()));
        assertEquals(0, fake.stat(FakeProvider.POSTED));
    }
}
