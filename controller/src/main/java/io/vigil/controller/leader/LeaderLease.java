package io.vigil.controller.leader;

import io.vigil.protocol.storage.LeaderEpoch;
import io.vigil.protocol.storage.LeaderHeartbeat;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.LeaderObserver;
import io.vigil.protocol.storage.LeaseTiming;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This controller's part in the leader lease on shared storage ({@link LeaderLeaseFiles}): it claims epoch E + 1 when
 * epoch E's holder has not renewed for a whole lease timeout on this controller's clock (or released it), renews
 * while it holds the highest epoch, and counts itself the leader only while its last renewal started less than
 * {@link LeaseTiming#fenceDeadlineMillis} ago on its own clock. So a leader that is frozen, slow or cut off from
 * storage stops deciding before anyone else may claim; and if it resumes in the middle of sending, its commands carry
 * an epoch the agents have already seen superseded. Hazelcast membership plays no part.
 *
 * <p>Its state is owned by its one timer thread; {@link #isLeader} and {@link #epoch} may be read from any thread.
 */
public final class LeaderLease implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderLease.class);

    private final LeaderLeaseFiles files;
    private final String controller;
    private final String instance;
    private final long leaseTimeoutMillis;
    private final long renewIntervalMillis;
    private final LongSupplier nanoClock;
    private final LongSupplier wallClock;
    private final LeaderObserver observer = new LeaderObserver();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-leader-lease");
        t.setDaemon(true);
        return t;
    });
    private volatile long heldEpoch; // 0: not held
    private volatile long renewedAtNanos; // start of the last successful renewal (or claim)
    private long counter;
    private volatile Runnable onChange = () -> {};

    public LeaderLease(LeaderLeaseFiles files, String controller, String instance, long leaseTimeoutMillis,
                       LongSupplier nanoClock, LongSupplier wallClock) {
        if (!LeaseTiming.isSafe(leaseTimeoutMillis))
            throw new IllegalArgumentException("leader lease timeout " + leaseTimeoutMillis + " ms is too short to be safe");
        this.files = files;
        this.controller = controller;
        this.instance = instance;
        this.leaseTimeoutMillis = leaseTimeoutMillis;
        this.renewIntervalMillis = Math.max(100, leaseTimeoutMillis / 5);
        this.nanoClock = nanoClock;
        this.wallClock = wallClock;
    }

    /** {@code listener} runs (on the lease's thread) whenever this controller gains or loses the lease. */
    public void onChange(Runnable listener) {
        this.onChange = listener;
    }

    /** Takes a first look at once (a controller that finds no leader claims epoch 1 right away), then every interval. */
    public LeaderLease start() {
        timer.scheduleWithFixedDelay(this::tickQuietly, 0, renewIntervalMillis, TimeUnit.MILLISECONDS);
        return this;
    }

    public long leaseTimeoutMillis() {
        return leaseTimeoutMillis;
    }

    /** Whether this controller may decide now: it holds the highest epoch and renewed it within the deadline. */
    public boolean isLeader() {
        long held = heldEpoch;
        return held != 0 && nanoClock.getAsLong() - renewedAtNanos < LeaseTiming.fenceDeadlineMillis(leaseTimeoutMillis) * 1_000_000L;
    }

    /** The epoch this controller leads in, or 0 when it is not the leader now. */
    public long epoch() {
        long held = heldEpoch;
        return isLeader() ? held : 0;
    }

    /** The highest epoch seen on storage at the last look. */
    public long currentEpoch() {
        synchronized (observer) {
            return observer.epoch();
        }
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (IOException | RuntimeException e) {
            log.warn("leader lease: cannot read or write {}: {}", files.dir(), e.toString());
        }
    }

    /** One look at the lease: renew it, notice it was taken, or claim it. Package-private for tests. */
    void tick() throws IOException {
        long started = nanoClock.getAsLong();
        long highest = files.highestEpoch();
        LeaderHeartbeat heartbeat = highest == 0 ? null : files.heartbeat(highest).orElse(null);
        boolean expired;
        synchronized (observer) {
            observer.observe(highest, heartbeat, started);
            expired = observer.isExpired(started, leaseTimeoutMillis);
        }
        long held = heldEpoch;
        if (held != 0 && highest > held) {
            heldEpoch = 0;
            log.warn("leader lease: epoch {} was claimed by another controller; this one ({}, epoch {}) stops deciding",
                    highest, controller, held);
            onChange.run();
            return;
        }
        if (held != 0) {
            boolean wasLeader = isLeader();
            files.renew(new LeaderHeartbeat(held, controller, instance, ++counter, false, leaseTimeoutMillis, wallClock.getAsLong()));
            if (files.highestEpoch() > held) { // claimed while this renewal was on its way: it does not count
                heldEpoch = 0;
                log.warn("leader lease: epoch {} was claimed by another controller during a renewal; {} stops deciding",
                        held + 1, controller);
                onChange.run();
                return;
            }
            renewedAtNanos = started;
            if (!wasLeader) {
                log.warn("leader lease: renewed epoch {} after missing the deadline; deciding again", held);
                onChange.run();
            }
            return;
        }
        if (highest != 0 && !expired) return;
        long next = highest + 1;
        LeaderEpoch claim = new LeaderEpoch(next, controller, instance, leaseTimeoutMillis, wallClock.getAsLong());
        counter = 0;
        if (files.claim(claim, new LeaderHeartbeat(next, controller, instance, counter, false, leaseTimeoutMillis,
                wallClock.getAsLong()))) {
            renewedAtNanos = started;
            heldEpoch = next;
            log.info("leader lease: {} leads the cluster at epoch {}{}", controller, next, highest == 0 ? ""
                    : " (epoch " + highest + (heartbeat != null && heartbeat.released() ? " was released)" : " expired)"));
            files.removeOldEpochs(next);
            onChange.run();
        }
    }

    /**
     * Stops renewing; a leader releases its epoch so that another controller takes over at once instead of after a
     * lease timeout.
     */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long held = heldEpoch;
        heldEpoch = 0;
        if (held == 0) return;
        try {
            if (files.highestEpoch() == held) {
                files.renew(new LeaderHeartbeat(held, controller, instance, ++counter, true, leaseTimeoutMillis,
                        wallClock.getAsLong()));
                log.info("leader lease: released epoch {}", held);
            }
        } catch (IOException e) {
            log.warn("leader lease: could not release epoch {} ({}); another controller takes over after the lease timeout",
                    held, e.toString());
        }
    }
}
