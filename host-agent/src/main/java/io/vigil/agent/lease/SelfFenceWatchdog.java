package io.vigil.agent.lease;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Checks the host lease's fence deadline every 50 ms on its own thread, and renews the lease every heartbeat
 * interval on another: a renewal hanging in a dead NFS mount must not stop the check.
 */
public final class SelfFenceWatchdog implements AutoCloseable {
    private final HostLease lease;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "vigil-fence-watchdog"));
    private final ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "vigil-heartbeat-writer"));
    private volatile java.util.concurrent.ScheduledFuture<?> renewal;

    public SelfFenceWatchdog(HostLease lease) {
        this.lease = lease;
    }

    public void start(long heartbeatIntervalMillis) {
        watchdog.scheduleWithFixedDelay(guarded(lease::checkDeadline), 50, 50, TimeUnit.MILLISECONDS);
        setInterval(heartbeatIntervalMillis);
    }

    public synchronized void setInterval(long heartbeatIntervalMillis) {
        if (renewal != null) renewal.cancel(false);
        renewal = renewer.scheduleAtFixedRate(guarded(lease::renew), 0, heartbeatIntervalMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        renewer.shutdown(); // no interrupt: a renewal in progress completes (or hangs on its own daemon thread)
    }

    /** A scheduled task that throws is never run again; these must keep running whatever happens. */
    private static Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                org.slf4j.LoggerFactory.getLogger(SelfFenceWatchdog.class).error("lease task failed", e);
            }
        };
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
