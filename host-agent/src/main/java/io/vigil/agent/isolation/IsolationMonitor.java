package io.vigil.agent.isolation;

import io.vigil.protocol.IsolationResponse;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the cluster's isolation response when this host alone is cut off: its controller link has been down for
 * longer than the failure timeout while its storage heartbeat is fine <em>and</em> the control plane is alive (the
 * leader lease on shared storage is being renewed). The controller then sees the host as isolated (storage alive) and
 * restarts none of its VMs, so what happens to them is this host's call: leave them (none), shut them down
 * (shutdown, destroying stragglers after a timeout), or power them off (poweroff); stopped VMs' leases are released.
 *
 * <p>Applied once per outage, and only after a controller welcomed this agent at least once (an agent started while
 * the controllers are down keeps its VMs). Not isolation, and nothing is applied: storage loss (the self-fence handles
 * that), and a control-plane outage (every controller down or frozen: no leader renews its lease, and every host
 * would otherwise stop its VMs at once). When the control plane comes back while the link is still down, the link is
 * given a failure timeout plus its longest redial backoff to reach it before the host counts as isolated: a
 * control plane that restarts must not find every host applying its isolation response.
 */
public final class IsolationMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IsolationMonitor.class);

    /** How the response is carried out on the host's HA VMs. */
    public interface Actions {
        /** Stops the HA VMs: gracefully within {@code timeoutMillis}, or at once when it is 0; releases their leases. */
        void stopHaVms(long timeoutMillis);
    }

    /** The link's state, as the monitor needs it. */
    public interface Link {
        boolean isConnected();

        boolean everConnected();

        long downSinceNanos();

        /** The longest the link waits between two dials: how long it may take to notice a controller is back. */
        long longestRedialMillis();
    }

    /** What one {@link #check} found. */
    public enum Verdict {
        /** A controller is connected: no outage. */
        CONNECTED,
        /** No controller ever welcomed this agent since it started: it keeps its VMs. */
        NEVER_CONNECTED,
        /** Applied earlier in this outage. */
        ALREADY_APPLIED,
        /** Down for less than the failure timeout. */
        WAITING,
        /** This host's storage lease is not live: not isolation, the self-fence acts. */
        STORAGE_LOST,
        /** The leader lease is not renewed: the control plane is out, not this host. */
        CONTROL_PLANE_DOWN,
        /**
         * The leader lease has not been seen renewed since the link went down: the controller this agent lost may be
         * the leader that died (its last renewal still looks fresh for a lease timeout); not isolation yet.
         */
        NO_RENEWAL_SINCE_DOWN,
        /** The control plane came back only lately: the link is given time to reach it. */
        CONTROL_PLANE_RETURNING,
        /** The isolation response was applied by this check. */
        APPLIED
    }

    private final Link link;
    private final BooleanSupplier hostLeaseLive;
    private final BooleanSupplier controlPlaneAlive;
    private final java.util.function.LongPredicate renewedAfter;
    private final Actions actions;
    private final long shutdownTimeoutMillis;
    private final LongSupplier nanoClock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-isolation");
        t.setDaemon(true);
        return t;
    });
    private volatile IsolationResponse response = IsolationResponse.NONE;
    private volatile long failureTimeoutMillis;
    // Owned by the thread that calls check() (the timer, or a test).
    private boolean appliedThisOutage;
    private boolean controlPlaneDownLogged;
    private boolean controlPlaneSeenAlive;
    /** nanoTime since which the control plane has been seen alive without a break (while controlPlaneSeenAlive). */
    private long controlPlaneAliveSinceNanos;

    /**
     * @param hostLeaseLive      whether this host's storage lease is live
     * @param controlPlaneAlive  whether the controllers' leader lease is being renewed (on this agent's clock)
     */
    public IsolationMonitor(Link link, BooleanSupplier hostLeaseLive, BooleanSupplier controlPlaneAlive, Actions actions,
                            long failureTimeoutMillis, long shutdownTimeoutMillis, LongSupplier nanoClock) {
        this(link, hostLeaseLive, controlPlaneAlive, since -> true, actions, failureTimeoutMillis, shutdownTimeoutMillis,
                nanoClock);
    }

    /**
     * @param renewedAfter whether the leader lease was seen renewed after the given instant (nanos): the control plane
     *                     must prove it lived after this agent's link went down before the agent calls itself isolated
     */
    public IsolationMonitor(Link link, BooleanSupplier hostLeaseLive, BooleanSupplier controlPlaneAlive,
                            java.util.function.LongPredicate renewedAfter, Actions actions,
                            long failureTimeoutMillis, long shutdownTimeoutMillis, LongSupplier nanoClock) {
        this.renewedAfter = renewedAfter;
        this.link = link;
        this.hostLeaseLive = hostLeaseLive;
        this.controlPlaneAlive = controlPlaneAlive;
        this.actions = actions;
        this.failureTimeoutMillis = failureTimeoutMillis;
        this.shutdownTimeoutMillis = shutdownTimeoutMillis;
        this.nanoClock = nanoClock;
    }

    public void start() {
        timer.scheduleWithFixedDelay(() -> {
            try {
                check();
            } catch (RuntimeException e) {
                log.error("isolation check failed", e);
            }
        }, 200, 200, TimeUnit.MILLISECONDS);
    }

    public void setResponse(IsolationResponse response) {
        this.response = response == null ? IsolationResponse.NONE : response;
    }

    public IsolationResponse response() {
        return response;
    }

    /** How long the link may be down before the host counts as isolated (the cluster policy's failure timeout). */
    public void setFailureTimeoutMillis(long millis) {
        if (millis <= 0) throw new IllegalArgumentException("failure timeout must be positive");
        this.failureTimeoutMillis = millis;
    }

    public long failureTimeoutMillis() {
        return failureTimeoutMillis;
    }

    /** One check; applies the isolation response when {@link Verdict#APPLIED}. */
    public Verdict check() {
        long now = nanoClock.getAsLong();
        boolean alive = controlPlaneAlive.getAsBoolean();
        if (alive && !controlPlaneSeenAlive) controlPlaneAliveSinceNanos = now;
        controlPlaneSeenAlive = alive;

        if (link.isConnected()) {
            if (appliedThisOutage) log.info("controller link is back: the isolation is over");
            appliedThisOutage = false;
            controlPlaneDownLogged = false;
            return Verdict.CONNECTED;
        }
        if (appliedThisOutage) return Verdict.ALREADY_APPLIED;
        if (!link.everConnected()) return Verdict.NEVER_CONNECTED;
        long timeout = failureTimeoutMillis;
        long downMillis = (now - link.downSinceNanos()) / 1_000_000;
        if (downMillis <= timeout) return Verdict.WAITING;
        if (!hostLeaseLive.getAsBoolean()) return Verdict.STORAGE_LOST;
        if (!alive) {
            if (!controlPlaneDownLogged) {
                log.warn("control plane unreachable and its leader lease is not renewed: not isolation, keeping VMs "
                        + "(no controller for {} ms)", downMillis);
                controlPlaneDownLogged = true;
            }
            return Verdict.CONTROL_PLANE_DOWN;
        }
        if (!renewedAfter.test(link.downSinceNanos())) return Verdict.NO_RENEWAL_SINCE_DOWN;
        long aliveMillis = (now - controlPlaneAliveSinceNanos) / 1_000_000;
        if (aliveMillis <= timeout + link.longestRedialMillis()) return Verdict.CONTROL_PLANE_RETURNING;
        appliedThisOutage = true;
        IsolationResponse r = response;
        log.warn("ISOLATED: no controller for {} ms while shared storage is fine and the control plane is alive; "
                + "isolation response: {}", downMillis, r.wireName());
        switch (r) {
            case NONE -> log.info("isolation response none: leaving the VMs running");
            case SHUTDOWN -> actions.stopHaVms(Math.max(1, shutdownTimeoutMillis));
            case POWEROFF -> actions.stopHaVms(0);
        }
        return Verdict.APPLIED;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
