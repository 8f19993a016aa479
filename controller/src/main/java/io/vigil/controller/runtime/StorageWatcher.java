package io.vigil.controller.runtime;

import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.storage.HeartbeatObserver;
import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indirect monitoring: reads every host heartbeat on shared storage every 250 ms and reports, per host, how long it
 * has been unchanged and whether its lease has expired, measured on this controller's monotonic clock by a
 * {@link HeartbeatObserver}. Runs on its own thread because a read from a hung NFS mount may block: the HA loop must
 * keep ticking meanwhile (it then simply sees no fresh reading).
 */
public final class StorageWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StorageWatcher.class);
    private static final String SUFFIX = ".heartbeat";

    private final SharedStorage storage;
    private final Consumer<HaInput> sink;
    private final LongSupplier defaultLeaseTimeoutMillis;
    private final HeartbeatObserver observer = new HeartbeatObserver();
    private final Set<String> known = new HashSet<>();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-storage-watcher");
        t.setDaemon(true);
        return t;
    });
    private boolean listingFailed;

    /**
     * @param defaultLeaseTimeoutMillis the lease timeout for a host whose heartbeat was never readable (the policy's)
     */
    public StorageWatcher(SharedStorage storage, Consumer<HaInput> sink, LongSupplier defaultLeaseTimeoutMillis) {
        this.storage = storage;
        this.sink = sink;
        this.defaultLeaseTimeoutMillis = defaultLeaseTimeoutMillis;
    }

    public void start(long periodMillis) {
        thread.scheduleWithFixedDelay(() -> {
            try {
                sink.accept(poll(System.nanoTime()));
            } catch (RuntimeException e) {
                log.warn("storage poll failed", e);
            }
        }, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** One reading of all heartbeats at {@code nowNanos}. Not thread-safe: called from the watcher's thread (or a test). */
    public HaInput.StorageObserved poll(long nowNanos) {
        Set<String> seen = new HashSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(storage.hostsDir(), "*" + SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.startsWith(".")) continue; // a writer's temporary file
                String host = name.substring(0, name.length() - SUFFIX.length());
                seen.add(host);
                observer.observe(host, readQuietly(file), nowNanos);
            }
            if (listingFailed) log.info("shared storage readable again: {}", storage.hostsDir());
            listingFailed = false;
        } catch (NoSuchFileException e) {
            // No host has written a heartbeat yet.
        } catch (IOException e) {
            if (!listingFailed) log.warn("cannot list host heartbeats in {}: {}", storage.hostsDir(), e.toString());
            listingFailed = true;
        }
        known.addAll(seen);
        for (String host : known) {
            // A vanished or unlistable file is no renewal: the host's heartbeat counts as unchanged.
            if (!seen.contains(host)) observer.observe(host, null, nowNanos);
        }
        Map<String, HaInput.StorageView> views = new TreeMap<>();
        long defaultTimeout = defaultLeaseTimeoutMillis.getAsLong();
        for (String host : known) {
            long generation = observer.last(host).map(HostHeartbeat::generation).orElse(0L);
            long unchanged = Math.max(0, observer.unchangedForNanos(host, nowNanos)) / 1_000_000L;
            views.put(host, new HaInput.StorageView(generation, unchanged, observer.isExpired(host, nowNanos, defaultTimeout)));
        }
        return new HaInput.StorageObserved(views);
    }

    private HostHeartbeat readQuietly(Path file) {
        try {
            return RecordFiles.read(file, HostHeartbeat.class).orElse(null);
        } catch (IOException e) {
            log.debug("unreadable heartbeat {}: {}", file, e.toString());
            return null;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
