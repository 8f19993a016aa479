package io.vigil.agent.disk;

import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * How this host serves its VMs' disks. With the disk cache on ({@link CachedDisks}), a VM's raw image disks are served
 * by the agent's NBD server through a write-back cache lent from the host's failover reserve; with it off
 * ({@link #DIRECT}) QEMU opens the images itself.
 *
 * <p>The order of calls around a VM's life protects its data: {@link #serve} only once the VM's disk lease is held,
 * and {@link #release} (which writes every dirty block back) before the lease is given up. A VM restarted elsewhere
 * while this host was out is {@link #discard discarded}: its cache must never reach the image again.
 */
public interface DiskService extends AutoCloseable {

    /** QEMU opens the images itself; nothing is cached. */
    DiskService DIRECT = new DiskService() {};

    /** {@code xml} with the disks this service serves pointed at it (pure: nothing is served yet). */
    default DiskXml.Rewritten prepare(String vm, String xml) {
        return new DiskXml.Rewritten(xml, java.util.List.of());
    }

    /** {@code savedXml} (a saved state's definition) pointed at this host's server, for a restore here. */
    default String retarget(String vm, String savedXml) {
        return savedXml;
    }

    /**
     * Starts serving {@code vm}'s disks (idempotent: disks served already stay as they are, caches included). Throws
     * with a reason a person can act on when an image cannot be opened.
     */
    default void serve(String vm, DiskXml.Rewritten disks, CacheMode mode, long generation) throws IOException {}

    /** Writes {@code vm}'s dirty blocks back and stops serving its disks. Throws if the write-back failed. */
    default void release(String vm) throws IOException {}

    /** Stops serving {@code vm}'s disks and drops its caches without writing them back (it runs elsewhere now). */
    default void discard(String vm) {}

    /**
     * Stops serving {@code vm}'s disks at once, leaving its cache arenas as they are (a self-fence: the host that
     * takes the VM over may recover them; this agent never writes them back).
     */
    default void abandon(String vm) {}

    /** The controller's cache budgets, MiB by VM; VMs not listed get none. Applied in the background. */
    default void budgets(Map<String, Long> budgetsMiB) {}

    /** Shrinks this host's caches by {@code mib} (for a VM about to start here); returns how long it took. */
    default Duration reclaim(long mib) throws IOException {
        return Duration.ZERO;
    }

    /** What {@code vm}'s caches hold now. */
    default CacheUse use(String vm) {
        return CacheUse.NONE;
    }

    /**
     * Memory a VM's disk caches hold, how much of it is not yet written back, and since when writes may be only in
     * the cache ({@code writeBackMillis}: the last completed write-back of a cache still holding dirty blocks, or the
     * time of this reading when none does; 0 when unknown or there is no cache).
     */
    record CacheUse(long bytes, long dirtyBytes, long writeBackMillis) {
        public static final CacheUse NONE = new CacheUse(0, 0, 0);

        public CacheUse(long bytes, long dirtyBytes) {
            this(bytes, dirtyBytes, 0);
        }
    }

    @Override
    default void close() {}
}
