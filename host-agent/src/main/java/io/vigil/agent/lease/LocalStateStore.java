package io.vigil.agent.lease;

import io.vigil.protocol.storage.RecordFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The agent's local state file ({@code <stateDir>/agent-state}); thread-safe. */
public final class LocalStateStore {
    private static final Logger log = LoggerFactory.getLogger(LocalStateStore.class);

    private final Path file;
    private final String host;
    private final String bootId;
    private final Set<String> haVms = new TreeSet<>();
    private final Set<String> leasedVms = new TreeSet<>();
    private long generation;
    private long counter;
    private long lastRenewalStartNanos;
    private long leaseTimeoutMillis;

    private LocalStateStore(Path file, String host, String bootId) {
        this.file = file;
        this.host = host;
        this.bootId = bootId;
    }

    /** Opens the store and returns it with the predecessor's state, if any (a corrupt file counts as none). */
    public static LocalStateStore open(Path stateDir, String host, String bootId) throws IOException {
        Files.createDirectories(stateDir);
        LocalStateStore store = new LocalStateStore(stateDir.resolve("agent-state"), host, bootId);
        store.previous().ifPresent(s -> {
            store.haVms.addAll(s.haVms());
            store.leasedVms.addAll(s.leasedVms());
            store.leasedVms.addAll(s.haVms());
        });
        return store;
    }

    public Optional<LocalState> previous() {
        try {
            return RecordFiles.read(file, LocalState.class).filter(s -> host.equals(s.host()));
        } catch (IOException e) {
            log.warn("ignoring unreadable local state {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    public String bootId() {
        return bootId;
    }

    public synchronized void recordRenewal(long generation, long counter, long startNanos, long leaseTimeoutMillis) {
        this.generation = generation;
        this.counter = counter;
        this.lastRenewalStartNanos = startNanos;
        this.leaseTimeoutMillis = leaseTimeoutMillis;
        save();
    }

    public synchronized void setHa(String vm, boolean ha) {
        boolean changed = ha ? haVms.add(vm) : haVms.remove(vm);
        if (changed && generation > 0) save();
    }

    public synchronized Set<String> haVms() {
        return Set.copyOf(haVms);
    }

    /** Records whether {@code vm} was started here under a disk lease (and must be fenced if the lease lapses). */
    public synchronized void setLeased(String vm, boolean leased) {
        boolean changed = leased ? leasedVms.add(vm) : leasedVms.remove(vm);
        if (changed && generation > 0) save();
    }

    /** Every VM started here under a disk lease, HA or not: what a lapsed host lease must fence. */
    public synchronized Set<String> leasedVms() {
        return Set.copyOf(leasedVms);
    }

    public synchronized boolean isHa(String vm) {
        return haVms.contains(vm);
    }

    private void save() {
        try {
            RecordFiles.replace(file, new LocalState(host, bootId, generation, counter, lastRenewalStartNanos,
                    leaseTimeoutMillis, java.util.List.copyOf(haVms), java.util.List.copyOf(leasedVms)));
        } catch (IOException e) {
            log.warn("cannot write local state {}: {}", file, e.getMessage());
        }
    }

    /** The kernel's boot id; a constant stand-in where /proc is not Linux's. */
    public static String currentBootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException e) {
            return "unknown-boot";
        }
    }
}
