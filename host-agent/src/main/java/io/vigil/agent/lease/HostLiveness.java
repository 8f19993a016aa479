package io.vigil.agent.lease;

import io.vigil.protocol.storage.HeartbeatObserver;
import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * This agent's view of every host's delta lease, read from shared storage with the agent's own monotonic clock
 * ({@link HeartbeatObserver}). A poller calls {@link #pollAll()} every ~250 ms; lease decisions call
 * {@link #refresh} first so that they judge the freshest value. Thread-safe (one lock around the observer).
 */
public final class HostLiveness {
    private final SharedStorage storage;
    private final LongSupplier nanoClock;
    private final HeartbeatObserver observer = new HeartbeatObserver();

    public HostLiveness(SharedStorage storage, LongSupplier nanoClock) {
        this.storage = storage;
        this.nanoClock = nanoClock;
    }

    /** Reads every heartbeat file once. A failing directory read observes nothing (no renewal is invented). */
    public synchronized void pollAll() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(storage.hostsDir(), "*.heartbeat")) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                observe(name.substring(0, name.length() - ".heartbeat".length()));
            }
        } catch (IOException e) {
            // shared storage unreachable: our own heartbeat writer notices and self-fences
        }
    }

    /** Reads {@code host}'s heartbeat now. */
    public synchronized void refresh(String host) {
        observe(host);
    }

    private void observe(String host) {
        HostHeartbeat hb;
        try {
            hb = RecordFiles.read(storage.hostHeartbeat(host), HostHeartbeat.class).orElse(null);
        } catch (IOException e) {
            hb = null; // torn or foreign: no renewal
        }
        observer.observe(host, hb, nanoClock.getAsLong());
    }

    /**
     * Whether a lease owned by {@code owner} at host generation {@code ownerGeneration} is no longer valid: the
     * owner has since rejoined with a newer generation, or its heartbeat has not changed for its lease timeout on
     * our clock ({@code defaultTimeoutMillis} if its heartbeat was never readable).
     */
    public synchronized boolean isLeaseLapsed(String owner, long ownerGeneration, long defaultTimeoutMillis) {
        long now = nanoClock.getAsLong();
        var last = observer.last(owner);
        if (last.isPresent() && last.get().generation() > ownerGeneration) return true;
        return observer.isExpired(owner, now, defaultTimeoutMillis);
    }

    /** Milliseconds {@code host}'s heartbeat has been unchanged on our clock, or -1 if never read. */
    public synchronized long unchangedForMillis(String host) {
        long nanos = observer.unchangedForNanos(host, nanoClock.getAsLong());
        return nanos < 0 ? -1 : nanos / 1_000_000L;
    }

    public synchronized java.util.Optional<HostHeartbeat> last(String host) {
        return observer.last(host);
    }
}
