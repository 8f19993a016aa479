package io.vigil.agent.lease;

import io.vigil.protocol.storage.LeaseTiming;

import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's delta lease: the heartbeat file it rewrites every interval, and the self-fence that follows when it
 * cannot. Renewal ({@link #renew}) and the deadline check ({@link #checkDeadline}) run on different threads so that
 * a write hanging on dead storage cannot delay fencing.
 *
 * <p>Phases: LIVE (renewing at {@link #generation()}); FENCING (deadline passed, the fencer is destroying HA VMs;
 * nothing is written); FENCED (VMs are down; the generation has been bumped and the next successful write is the
 * rejoin). A write that started before a fence never counts: an epoch number tells.
 */
public final class HostLease {
    private static final Logger log = LoggerFactory.getLogger(HostLease.class);

    /** What happens to the host's VMs at the self-fence, and what it learns at the rejoin. */
    public interface Listener {
        /** Called on the watchdog thread when the deadline passed: destroy the HA VMs, quickly. */
        void fence(long lostGeneration);

        /** Called once a heartbeat at {@code newGeneration} was written after a fence: every old VM lease is gone. */
        default void rejoined(long newGeneration) {}

        /**
         * Called on the writer's thread after every successful renewal (the rejoin included), once the new fence
         * deadline ({@link #fenceDeadlineAtNanos}) holds: the fence watchdog process learns it from here.
         */
        default void renewed(long generation) {}
    }

    public enum Phase { LIVE, FENCING, FENCED }

    private final String host;
    private final SharedStorage storage;
    private final LongSupplier nanoClock;
    private final LocalStateStore stateStore;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    private final Object lock = new Object();
    private Phase phase = Phase.LIVE;
    private long generation;
    private long counter;
    private long lastSuccessStartNanos;
    private long writtenTimeoutMillis;
    private long desiredTimeoutMillis;
    private long epoch;
    private boolean failureLogged;

    /**
     * @param lastSuccessStartNanos the start of the last renewal known to have succeeded at {@code generation}: a
     *     resumed lease keeps its predecessor's; a new generation starts from "now" (nothing to fence yet)
     */
    public HostLease(String host, SharedStorage storage, LongSupplier nanoClock, LocalStateStore stateStore,
                     long generation, long counter, long lastSuccessStartNanos, long leaseTimeoutMillis) {
        this.host = host;
        this.storage = storage;
        this.nanoClock = nanoClock;
        this.stateStore = stateStore;
        this.generation = generation;
        this.counter = counter;
        this.lastSuccessStartNanos = lastSuccessStartNanos;
        this.writtenTimeoutMillis = leaseTimeoutMillis;
        this.desiredTimeoutMillis = leaseTimeoutMillis;
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public String host() {
        return host;
    }

    public long generation() {
        synchronized (lock) {
            return generation;
        }
    }

    public Phase phase() {
        synchronized (lock) {
            return phase;
        }
    }

    /** Whether this host may hold and take VM leases now (storage reachable, lease renewed in time). */
    public boolean isLive() {
        synchronized (lock) {
            return phase == Phase.LIVE && nanoClock.getAsLong() - lastSuccessStartNanos <= fenceDeadlineNanos();
        }
    }

    /** The lease timeout observers will use for this host: the smaller of the written one and the wanted one. */
    public long leaseTimeoutMillis() {
        synchronized (lock) {
            return Math.min(writtenTimeoutMillis, desiredTimeoutMillis);
        }
    }

    /**
     * Sets the lease timeout to write from the next renewal on. Until that renewal is written the fence deadline
     * follows the smaller of the old and new timeouts, so that shortening it is safe at once.
     */
    public void setLeaseTimeoutMillis(long leaseTimeoutMillis) {
        synchronized (lock) {
            desiredTimeoutMillis = leaseTimeoutMillis;
        }
    }

    /**
     * The {@link System#nanoTime()} (CLOCK_MONOTONIC, shared by every process of this boot) past which the HA VMs
     * must be gone: the start of the last successful renewal plus F.
     */
    public long fenceDeadlineAtNanos() {
        synchronized (lock) {
            return lastSuccessStartNanos + fenceDeadlineNanos();
        }
    }

    private long fenceDeadlineNanos() {
        return LeaseTiming.fenceDeadlineMillis(Math.min(writtenTimeoutMillis, desiredTimeoutMillis)) * 1_000_000L;
    }

    /** One renewal attempt; true when the heartbeat was written (and, if FENCED, the host has rejoined). */
    public boolean renew() {
        long start = nanoClock.getAsLong();
        long gen, next, timeout, myEpoch;
        synchronized (lock) {
            if (phase == Phase.FENCING) return false;
            // Past the deadline the lease may already count as expired elsewhere: renewing now would be a lie.
            if (phase == Phase.LIVE && start - lastSuccessStartNanos > fenceDeadlineNanos()) return false;
            gen = generation;
            next = counter + 1;
            timeout = desiredTimeoutMillis;
            myEpoch = epoch;
        }
        try {
            RecordFiles.replaceInExistingDir(storage.hostHeartbeat(host),
                    new HostHeartbeat(host, gen, next, timeout, System.currentTimeMillis()));
        } catch (IOException e) {
            synchronized (lock) {
                if (!failureLogged) log.warn("heartbeat write to shared storage failed: {}", e.toString());
                failureLogged = true;
            }
            return false;
        }
        boolean rejoined;
        synchronized (lock) {
            if (myEpoch != epoch) return false; // started before a fence
            counter = next;
            lastSuccessStartNanos = start;
            writtenTimeoutMillis = timeout;
            rejoined = phase == Phase.FENCED;
            phase = Phase.LIVE;
            if (failureLogged) log.info("heartbeat write to shared storage works again");
            failureLogged = false;
        }
        stateStore.recordRenewal(gen, next, start, timeout);
        if (rejoined) {
            log.warn("shared storage is back: rejoined with host generation {}; no VM lease from before is kept", gen);
            for (Listener l : listeners) l.rejoined(gen);
        }
        for (Listener l : listeners) {
            try {
                l.renewed(gen);
            } catch (RuntimeException e) {
                log.error("renewal listener failed", e);
            }
        }
        return true;
    }

    /**
     * Self-fences if the last successful renewal started more than F ago: destroys the HA VMs through the
     * listeners, then moves to the next generation. Returns true if it fenced.
     */
    public boolean checkDeadline() {
        long lost;
        long sinceMillis;
        synchronized (lock) {
            if (phase != Phase.LIVE) return false;
            long since = nanoClock.getAsLong() - lastSuccessStartNanos;
            if (since <= fenceDeadlineNanos()) return false;
            phase = Phase.FENCING;
            epoch++;
            lost = generation;
            sinceMillis = since / 1_000_000;
        }
        log.error("SELF-FENCE: host {} could not renew its lease on shared storage for {} ms (deadline {} ms): "
                        + "destroying its HA VMs; generation {} is given up", host, sinceMillis,
                LeaseTiming.fenceDeadlineMillis(leaseTimeoutMillis()), lost);
        for (Listener l : listeners) {
            try {
                l.fence(lost);
            } catch (RuntimeException e) {
                log.error("self-fence action failed", e);
            }
        }
        synchronized (lock) {
            generation = lost + 1;
            counter = 0;
            phase = Phase.FENCED;
        }
        return true;
    }
}
