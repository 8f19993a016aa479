package io.vigil.agent.vm;

import io.vigil.agent.libvirt.HypervisorException;
import io.vigil.protocol.HostInventory;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's latest inventory, read from libvirt off the heartbeat's path: the network heartbeat sends
 * {@link #latest()}, which never waits on libvirt (a libvirtd busy starting or destroying domains answers in seconds,
 * and a host must not look dead because of it). A background thread refreshes it every period; a VM command or a
 * lifecycle event refreshes it at once ({@link #refresh()}) before its message goes out, so no heartbeat sent after a
 * command's result carries an inventory read before that command ended.
 *
 * <p>Readings may finish out of order (a slow one started before a quick one): the one started last wins.
 */
public final class InventoryFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InventoryFeed.class);

    /** Where the readings come from. */
    public interface Source {
        HostInventory read() throws HypervisorException;
    }

    private record Reading(long ticket, HostInventory inventory, long readAtNanos) {}

    private final Source source;
    private final AtomicLong tickets = new AtomicLong();
    private volatile Reading latest;
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-inventory");
        t.setDaemon(true);
        return t;
    });

    /** Reads the first inventory now (throws if libvirt cannot give one). */
    public InventoryFeed(Source source) throws HypervisorException {
        this.source = source;
        refresh();
    }

    /** Refreshes in the background every {@code periodMillis}. */
    public void start(long periodMillis) {
        refresher.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (HypervisorException | RuntimeException e) {
                log.warn("inventory refresh failed (the last one stays): {}", e.getMessage());
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Reads the inventory now (blocking on libvirt) and makes it the latest unless a later-started reading won. */
    public HostInventory refresh() throws HypervisorException {
        long ticket = tickets.incrementAndGet();
        HostInventory inventory = source.read();
        Reading reading = new Reading(ticket, inventory, System.nanoTime());
        synchronized (this) {
            if (latest == null || latest.ticket() < ticket) latest = reading;
        }
        return inventory;
    }

    /** The latest reading; never blocks. */
    public HostInventory latest() {
        return latest.inventory();
    }

    /** How old the latest reading is, in milliseconds. */
    public long ageMillis() {
        return (System.nanoTime() - latest.readAtNanos()) / 1_000_000;
    }

    /** Refreshes in the background as soon as possible (after a lifecycle event, say). */
    public void refreshSoon() {
        try {
            refresher.execute(() -> {
                try {
                    refresh();
                } catch (HypervisorException | RuntimeException e) {
                    log.warn("inventory refresh failed: {}", e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
