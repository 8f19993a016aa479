package io.vigil.agent.leader;

import io.vigil.protocol.storage.LeaderHeartbeat;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.LeaderObserver;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the controllers' leader lease on shared storage about once a second, on a thread of its own: a read can hang
 * on NFS, and nothing here may wait on libvirt either. Each read raises the {@link LeaderEpochs} floor to the highest
 * claimed epoch and feeds a {@link LeaderObserver} on this agent's monotonic clock, which says whether the control
 * plane is alive. Thread-safe: reads run on one thread at a time, and the lock around the observer is never held
 * across a read, so that a hung mount cannot block whoever asks {@link #controlPlaneAlive}.
 */
public final class LeaderLeaseWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderLeaseWatch.class);
    public static final long READ_INTERVAL_MILLIS = 1000;

    private final LeaderLeaseFiles files;
    private final LeaderEpochs epochs;
    private final LongSupplier nanoClock;
    private final long defaultTimeoutMillis;
    private final LeaderObserver observer = new LeaderObserver();
    private final ScheduledExecutorService reader = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-leader-lease");
        t.setDaemon(true);
        return t;
    });
    private final Object reading = new Object();
    private boolean readFailureLogged;

    /** {@code defaultTimeoutMillis}: the leader's lease timeout when its heartbeat does not say (the agent's own). */
    public LeaderLeaseWatch(LeaderLeaseFiles files, LeaderEpochs epochs, LongSupplier nanoClock, long defaultTimeoutMillis) {
        this.files = files;
        this.epochs = epochs;
        this.nanoClock = nanoClock;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
    }

    public void start() {
        reader.scheduleWithFixedDelay(() -> {
            try {
                read();
            } catch (RuntimeException e) {
                log.warn("leader lease read failed: {}", e.toString());
            }
        }, READ_INTERVAL_MILLIS, READ_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Reads the lease once. An unreadable directory observes nothing (no renewal is invented: the leader then looks
     * dead once its timeout passes); a torn or missing heartbeat is observed as none.
     */
    public void read() {
        synchronized (reading) {
            long highest;
            try {
                highest = files.highestEpoch();
            } catch (IOException e) {
                if (!readFailureLogged) log.warn("cannot read the leader lease in {}: {}", files.dir(), e.getMessage());
                readFailureLogged = true;
                return;
            }
            readFailureLogged = false;
            LeaderHeartbeat heartbeat = null;
            if (highest > 0) {
                try {
                    heartbeat = files.heartbeat(highest).orElse(null);
                } catch (IOException e) {
                    heartbeat = null; // torn or foreign: no renewal
                }
            }
            synchronized (observer) {
                observer.observe(highest, heartbeat, nanoClock.getAsLong());
            }
            epochs.raise(highest);
        }
    }

    /** Whether the leader lease is being renewed: its heartbeat changed within its lease timeout, on our clock. */
    public boolean controlPlaneAlive() {
        synchronized (observer) {
            return observer.isAlive(nanoClock.getAsLong(), defaultTimeoutMillis);
        }
    }

    /**
     * Whether the leader lease was seen renewed after {@code sinceNanos} by a margin that rules out a renewal made
     * before it and read only after it (two read intervals): proof that some leader lived after that instant.
     */
    public boolean renewedAfter(long sinceNanos) {
        synchronized (observer) {
            long seen = observer.lastChangeSeenNanos();
            return seen != Long.MIN_VALUE && seen - sinceNanos > RENEWAL_MARGIN_NANOS;
        }
    }

    /** A renewal written before an instant is read within one interval of it: two intervals leave no doubt. */
    static final long RENEWAL_MARGIN_NANOS = 2 * READ_INTERVAL_MILLIS * 1_000_000L;

    /** The highest epoch claimed on storage at the last read, 0 if none. */
    public long epochOnStorage() {
        synchronized (observer) {
            return observer.epoch();
        }
    }

    @Override
    public void close() {
        reader.shutdownNow();
    }
}
