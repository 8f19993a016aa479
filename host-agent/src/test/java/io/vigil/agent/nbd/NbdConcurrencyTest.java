package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many requests in flight on several connections at once, replies in any order, checked against a reference copy.
 * Each connection owns its own stripe of the disk, so the expected contents are known whatever the order.
 */
@Timeout(30)
class NbdConcurrencyTest {
    private static final int CONNECTIONS = 4;
    private static final int STRIPE = 2 << 20;
    private static final int IN_FLIGHT = 32;
    private static final int REQUESTS = 3000;

    @ParameterizedTest(name = "fast path {0}")
    @ValueSource(booleans = {true, false})
    void concurrentRandomReadsAndWritesMatchTheReference(boolean fastPath) throws Exception {
        MemoryDisk disk = new MemoryDisk(CONNECTIONS * STRIPE, fastPath);
        byte[] reference = new byte[CONNECTIONS * STRIPE];
        new Random(1).nextBytes(reference);
        disk.fill(reference);
        try (NbdTestServer test = new NbdTestServer()) {
            test.server.addExport("vm1/vda", "", disk);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (int c = 0; c < CONNECTIONS; c++) {
                int stripe = c;
                Thread thread = new Thread(() -> {
                    try {
                        exercise(test, stripe, reference, stripe % 2 == 0);
                    } catch (Throwable e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                }, "client-" + c);
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) thread.join();
            if (!failures.isEmpty()) throw new AssertionError("a client failed", failures.get(0));
        }
        assertArrayEquals(reference, disk.contents());
    }

    /** Pipelines random reads and writes within one stripe, checking each read against the reference. */
    private static void exercise(NbdTestServer test, int stripe, byte[] reference, boolean structured) throws Exception {
        Random random = new Random(100 + stripe);
        long base = (long) stripe * STRIPE;
        try (NbdTestClient client = NbdTestClient.open(test.socket, "vm1/vda", structured)) {
            Semaphore window = new Semaphore(IN_FLIGHT);
            // A read may only be checked against bytes no write in flight can change: writes lock their blocks.
            Map<Long, long[]> pending = new ConcurrentHashMap<>();
            Map<Long, byte[]> expected = new ConcurrentHashMap<>();
            boolean[] busy = new boolean[STRIPE / 4096];
            Thread receiver = new Thread(() -> {
                try {
                    for (int i = 0; i < REQUESTS; i++) {
                        NbdTestClient.Reply reply = client.readReply();
                        assertEquals(0, reply.error(), "error " + reply.message());
                        long[] request = pending.remove(reply.cookie());
                        byte[] want = expected.remove(reply.cookie());
                        if (want != null) assertArrayEquals(want, reply.data(), "read " + Arrays.toString(request));
                        synchronized (busy) {
                            for (long b = request[0]; b < request[0] + request[1]; b++) busy[(int) b] = false;
                            busy.notifyAll();
                        }
                        window.release();
                    }
                } catch (Throwable e) {
                    pending.put(-1L, new long[0]);
                    window.release(REQUESTS);
                    throw new AssertionError(e);
                }
            });
            receiver.setDaemon(true);
            receiver.start();
            for (long cookie = 0; cookie < REQUESTS; cookie++) {
                window.acquire();
                assertFalse(pending.containsKey(-1L), "the receiver failed");
                int blocks = 1 + random.nextInt(random.nextInt(10) == 0 ? 64 : 4);
                int first;
                synchronized (busy) {
                    while (anyBusy(busy, first = random.nextInt(busy.length - blocks), blocks)) {
                        busy.wait(1); // lets the receiver free blocks
                    }
                    for (int b = first; b < first + blocks; b++) busy[b] = true;
                }
                long offset = base + (long) first * 4096;
                int length = blocks * 4096;
                pending.put(cookie, new long[] {first, blocks});
                if (random.nextBoolean()) {
                    byte[] data = new byte[length];
                    random.nextBytes(data);
                    System.arraycopy(data, 0, reference, (int) offset, length);
                    client.request(random.nextInt(8) == 0 ? CMD_FLAG_FUA : 0, CMD_WRITE, cookie, offset, length, data);
                } else {
                    expected.put(cookie, Arrays.copyOfRange(reference, (int) offset, (int) offset + length));
                    client.request(0, CMD_READ, cookie, offset, length, null);
                }
            }
            receiver.join();
            assertTrue(pending.isEmpty(), "unanswered requests: " + pending.keySet());
            assertEquals(0, client.call(0, CMD_FLUSH, 0, 0, null).error());
        }
    }

    private static boolean anyBusy(boolean[] busy, int first, int blocks) {
        for (int b = first; b < first + blocks; b++) if (busy[b]) return true;
        return false;
    }

    @Test
    void removingAnExportClosesItsConnectionsAfterTheirRequestsFinish() throws Exception {
        MemoryDisk slow = new MemoryDisk(1 << 20, false) {
            @Override
            public void flush() {
                sleep(300);
                super.flush();
            }
        };
        MemoryDisk other = new MemoryDisk(1 << 20, true);
        try (NbdTestServer test = new NbdTestServer()) {
            test.server.addExport("vm1/vda", "", slow);
            test.server.addExport("vm2/vda", "", other);
            NbdTestClient client = NbdTestClient.open(test.socket, "vm1/vda", false);
            NbdTestClient bystander = NbdTestClient.open(test.socket, "vm2/vda", false);
            client.request(0, CMD_FLUSH, 1, 0, 0, null);
            sleep(50); // the flush is running
            long start = System.nanoTime();
            assertTrue(test.server.removeExport("vm1/vda"));
            assertTrue(System.nanoTime() - start > 150_000_000L, "removeExport waited for the flush");
            assertEquals(1, slow.flushes.get(), "the flush in flight completed before the remove returned");
            client.assertClosedBy(Duration.ofSeconds(5));
            client.close();
            assertFalse(test.server.removeExport("vm1/vda"));
            assertEquals(List.of("vm2/vda"), test.server.exports().stream().map(Export::name).toList());
            try (NbdTestClient late = NbdTestClient.connect(test.socket)) {
                late.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
                List<NbdTestClient.OptionReply> replies = late.option(OPT_GO, NbdTestClient.goData("vm1/vda"));
                assertEquals(REP_ERR_UNKNOWN, replies.get(replies.size() - 1).type());
            }
            assertEquals(4096, bystander.read(0, 4096).length);
            bystander.close();
        }
    }

    @Test
    void serverRefusesDuplicateExportsLongSocketPathsAndReplacesStaleSockets() throws Exception {
        try (NbdTestServer test = new NbdTestServer()) {
            test.server.addExport("a", "", new MemoryDisk(4096, true));
            assertThrows(IllegalArgumentException.class, () -> test.server.addExport("a", "", new MemoryDisk(4096, true)));
            assertThrows(IOException.class, () -> NbdServer.start(test.socket, 1), "someone listens there");
        }
        assertThrows(IllegalArgumentException.class,
                () -> NbdServer.start(Path.of("/tmp/" + "x".repeat(120)), 1));
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "vnbd-");
        Path stale = dir.resolve("s");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                .bind(UnixDomainSocketAddress.of(stale));
        dead.close(); // leaves the socket file behind, like a crashed agent
        assertTrue(Files.exists(stale));
        try (NbdServer server = NbdServer.start(stale, 1)) {
            server.addExport("a", "", new MemoryDisk(4096, true));
            try (NbdTestClient client = NbdTestClient.open(stale, "a", true)) {
                assertEquals(4096, client.read(0, 4096).length);
            }
        }
        Files.deleteIfExists(stale);
        Files.delete(dir);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
