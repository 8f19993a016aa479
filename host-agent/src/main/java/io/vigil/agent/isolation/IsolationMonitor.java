package io.vigil.agent.isolation;

import io.vigil.agent.lease.HostLease;
import io.vigil.protocol.IsolationResponse;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the cluster's isolation response when this host has lost its controller for longer than the failure
 * timeout while its storage heartbeat is fine. The controller then sees the host as isolated (storage alive) and
 * restarts none of its VMs, so what happens to them is this host's call: leave them (none), shut them down
 * (shutdown, destroying stragglers after a timeout), or power them off (poweroff); stopped VMs' leases are released.
 * Applied once per outage, and only after a controller welcomed this agent at least once (an agent started while
 * the controllers are down keeps its VMs). Storage loss is not isolation: the self-fence handles that.
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
    }

    private final Link link;
    private final HostLease hostLease;
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
    private volatile boolean appliedThisOutage;

    public IsolationMonitor(Link link, HostLease hostLease, Actions actions, long failureTimeoutMillis,
                            long shutdownTimeoutMillis, LongSupplier nanoClock) {
        this.link = link;
        this.hostLease = hostLease;
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

    /** One check; returns true if it applied the isolation response now. */
    public boolean check() {
        if (link.isConnected()) {
            if (appliedThisOutage) log.info("controller link is back: the isolation is over");
            appliedThisOutage = false;
            return false;
        }
        if (appliedThisOutage || !link.everConnected()) return false;
        long downMillis = (nanoClock.getAsLong() - link.downSinceNanos()) / 1_000_000;
        if (downMillis <= failureTimeoutMillis) return false;
        if (!hostLease.isLive()) return false; // storage lost too: not isolation, the self-fence acts
        appliedThisOutage = true;
        IsolationResponse r = response;
        log.warn("ISOLATED: no controller for {} ms while shared storage is fine; isolation response: {}", downMillis, r.wireName());
        switch (r) {
            case NONE -> log.info("isolation response none: leaving the VMs running");
            case SHUTDOWN -> actions.stopHaVms(Math.max(1, shutdownTimeoutMillis));
            case POWEROFF -> actions.stopHaVms(0);
        }
        return true;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
