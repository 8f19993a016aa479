package io.vigil.agent.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.HostInventory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InventoryFeedTest {

    private static HostInventory inventory(long freeMiB) {
        return new HostInventory(2, 1024, freeMiB, List.of(), null);
    }

    @Test
    void theLatestInventoryIsAnsweredWhileLibvirtIsStuck() throws Exception {
        CountDownLatch stuck = new CountDownLatch(1);
        AtomicInteger reads = new AtomicInteger();
        try (InventoryFeed feed = new InventoryFeed(() -> {
            if (reads.incrementAndGet() > 1) {
                try {
                    stuck.await(); // libvirtd busy starting domains
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return inventory(100);
            }
            return inventory(1000);
        })) {
            CompletableFuture<HostInventory> slow = CompletableFuture.supplyAsync(() -> {
                try {
                    return feed.refresh();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long started = System.nanoTime();
            for (int i = 0; i < 100; i++) assertEquals(1000, feed.latest().memoryFreeMiB());
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "latest() does not wait for libvirt");
            stuck.countDown();
            slow.get(5, TimeUnit.SECONDS);
            assertEquals(100, feed.latest().memoryFreeMiB(), "the finished reading is the latest");
        }
    }

    @Test
    void aReadingStartedEarlierThatFinishesLaterDoesNotReplaceANewerOne() throws Exception {
        CountDownLatch releaseOld = new CountDownLatch(1);
        CountDownLatch oldStarted = new CountDownLatch(1);
        AtomicInteger reads = new AtomicInteger();
        try (InventoryFeed feed = new InventoryFeed(() -> {
            int n = reads.incrementAndGet();
            if (n == 2) {
                oldStarted.countDown();
                try {
                    releaseOld.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return inventory(200); // read before the command below ended
            }
            return inventory(n == 1 ? 1000 : 300);
        })) {
            CompletableFuture<HostInventory> old = CompletableFuture.supplyAsync(() -> {
                try {
                    return feed.refresh();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(oldStarted.await(5, TimeUnit.SECONDS));
            feed.refresh(); // after a command: the newer reading
            assertEquals(300, feed.latest().memoryFreeMiB());
            releaseOld.countDown();
            old.get(5, TimeUnit.SECONDS);
            assertEquals(300, feed.latest().memoryFreeMiB(), "the older reading finished last but does not win");
        }
    }
}
