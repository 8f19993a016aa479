package io.vigil.agent.lease;

import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM leases this host holds: acquisition at a generation (exclusive create of {@code leases/<vm>/gen-<N>}),
 * release, and re-attachment after an agent restart. A lease is valid while this host's lease at the generation
 * it names is live, so there is nothing to renew per VM. Callers serialize operations per VM.
 */
public final class VmLeases {
    private static final Logger log = LoggerFactory.getLogger(VmLeases.class);
    private static final Pattern GEN_FILE = Pattern.compile("gen-(\\d+)(\\.released)?");
    private static final int GENERATIONS_KEPT = 3;
    private static final long EXTRA_WAIT_MILLIS = 2000;
    private static final long POLL_MILLIS = 250;

    /** Outcome of an acquisition. */
    public sealed interface Acquisition {
        record Acquired(long generation) implements Acquisition {}

        record Refused(String reason) implements Acquisition {}
    }

    /** What a VM's lease directory says: the highest generation, its record (blank while being created), released. */
    public record Current(long generation, Optional<VmLease> lease, boolean released) {}

    /** Sleeping is a dependency so tests can run the waiting loop without waiting. */
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final SharedStorage storage;
    private final HostLease hostLease;
    private final HostLiveness liveness;
    private final java.util.function.LongSupplier nanoClock;
    private final Sleeper sleeper;
    private final Map<String, Long> held = new ConcurrentHashMap<>();

    public VmLeases(SharedStorage storage, HostLease hostLease, HostLiveness liveness,
                    java.util.function.LongSupplier nanoClock, Sleeper sleeper) {
        this.storage = storage;
        this.hostLease = hostLease;
        this.liveness = liveness;
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
    }

    /** The generation of the lease held on {@code vm}, if any. */
    public OptionalLong held(String vm) {
        Long g = held.get(vm);
        return g == null ? OptionalLong.empty() : OptionalLong.of(g);
    }

    public Map<String, Long> heldLeases() {
        return Map.copyOf(held);
    }

    /**
     * Acquires {@code vm}'s lease at generation {@code wanted} (or the next free one above the current, if the
     * controller's number is behind the storage's). Idempotent: a lease this host already holds at its current host
     * generation is returned as is. While another live host holds it, waits up to the lease timeout + 2 s for that
     * holder's lease to lapse, then refuses.
     */
    public Acquisition acquire(String vm, long wanted) throws IOException, InterruptedException {
        long waitNanos = (hostLease.leaseTimeoutMillis() + EXTRA_WAIT_MILLIS) * 1_000_000L;
        long startedAt = nanoClock.getAsLong();
        boolean waitLogged = false;
        while (true) {
            if (!hostLease.isLive()) return new Acquisition.Refused("shared storage unreachable: host " + hostLease.host()
                    + " cannot renew its lease (self-fenced)");
            long myGeneration = hostLease.generation();
            Optional<Current> current = current(vm);
            String holder = null;
            if (current.isPresent()) {
                Current c = current.get();
                if (c.lease.isEmpty() && !c.released) {
                    holder = "a host creating generation " + c.generation; // blank file: a creator mid-write
                } else if (!c.released) {
                    VmLease lease = c.lease.get();
                    if (lease.ownerHost().equals(hostLease.host()) && lease.ownerHostGeneration() == myGeneration) {
                        if (lease.generation() >= wanted) {
                            held.put(vm, lease.generation());
                            return new Acquisition.Acquired(lease.generation());
                        }
                    } else if (!lease.ownerHost().equals(hostLease.host()) || lease.ownerHostGeneration() > myGeneration) {
                        liveness.refresh(lease.ownerHost());
                        if (!liveness.isLeaseLapsed(lease.ownerHost(), lease.ownerHostGeneration(), hostLease.leaseTimeoutMillis()))
                            holder = lease.ownerHost();
                    } // else: mine from an older host generation, lapsed with it
                }
            }
            if (holder == null) {
                long target = Math.max(wanted, current.map(c -> c.generation + 1).orElse(1L));
                Path dir = storage.vmLeaseDir(vm);
                if (!Files.isDirectory(storage.leasesDir())) throw new NoSuchFileException(storage.leasesDir().toString());
                try {
                    Files.createDirectory(dir);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // another generation's creator made it
                }
                VmLease lease = new VmLease(vm, hostLease.host(), myGeneration, target);
                if (!RecordFiles.createExclusivelyInExistingDir(dir.resolve("gen-" + target), lease))
                    return new Acquisition.Refused("lease of " + vm + " at generation " + target + " was taken by another host first");
                if (!hostLease.isLive() || hostLease.generation() != myGeneration) {
                    // the host lease lapsed while we created: what we wrote names a dead generation, holds nothing
                    return new Acquisition.Refused("host lease lapsed while acquiring the lease of " + vm);
                }
                held.put(vm, target);
                prune(dir, target);
                log.info("acquired lease of {} at generation {} (host generation {})", vm, target, myGeneration);
                return new Acquisition.Acquired(target);
            }
            if (nanoClock.getAsLong() - startedAt >= waitNanos)
                return new Acquisition.Refused("lease of " + vm + " held by " + holder);
            if (!waitLogged) {
                waitLogged = true;
                log.info("lease of {} is held by {} (heartbeat unchanged for {} ms here); waiting for it to lapse", vm,
                        holder, liveness.unchangedForMillis(holder));
            }
            sleeper.sleep(POLL_MILLIS);
        }
    }

    /**
     * Gives up {@code vm}'s lease if this host holds it and it is still the current one. A release whose write fails
     * keeps the lease held, so that a later release (a retried StopVm or SaveVm) can still hand it over.
     */
    public void release(String vm) throws IOException {
        Long gen = held.get(vm);
        if (gen == null) return;
        Optional<Current> current = current(vm);
        VmLease lease = current.filter(c -> c.generation == gen && !c.released).flatMap(c -> c.lease).orElse(null);
        if (lease != null && lease.ownerHost().equals(hostLease.host())) {
            RecordFiles.createExclusivelyInExistingDir(storage.vmLeaseDir(vm).resolve("gen-" + gen + ".released"),
                    new VmLease.Release(vm, hostLease.host(), gen, System.currentTimeMillis()));
            log.info("released lease of {} at generation {}", vm, gen);
        }
        held.remove(vm, gen);
    }

    /** Drops {@code vm}'s lease from memory without touching storage (another host has taken it over). */
    public void forget(String vm) {
        held.remove(vm);
    }

    /** Drops every lease: the host generation they named is gone. */
    public void forgetAll() {
        held.clear();
    }

    /**
     * After a restart that resumed the host generation: takes back every lease on storage that is current, not
     * released and names this host at its current generation. Returns them (vm to generation).
     */
    public Map<String, Long> reattach() throws IOException {
        long myGeneration = hostLease.generation();
        if (!Files.isDirectory(storage.leasesDir())) return Map.of();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(storage.leasesDir())) {
            for (Path dir : dirs) {
                String vm = dir.getFileName().toString();
                if (!Files.isDirectory(dir)) continue;
                current(vm).ifPresent(c -> c.lease.filter(l -> !c.released && l.ownerHost().equals(hostLease.host())
                        && l.ownerHostGeneration() == myGeneration).ifPresent(l -> held.put(vm, l.generation())));
            }
        }
        return heldLeases();
    }

    /** Reads the current (highest) generation of {@code vm}'s lease. */
    public Optional<Current> current(String vm) throws IOException {
        TreeMap<Long, Boolean> gens = generations(storage.vmLeaseDir(vm));
        if (gens.isEmpty()) return Optional.empty();
        long top = gens.lastKey();
        Optional<VmLease> lease = RecordFiles.read(storage.vmLeaseDir(vm).resolve("gen-" + top), VmLease.class);
        return Optional.of(new Current(top, lease, gens.get(top)));
    }

    /** generation to released, for the files in {@code dir}. */
    private static TreeMap<Long, Boolean> generations(Path dir) throws IOException {
        TreeMap<Long, Boolean> gens = new TreeMap<>();
        if (!Files.isDirectory(dir)) return gens;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "gen-*")) {
            for (Path f : files) {
                Matcher m = GEN_FILE.matcher(f.getFileName().toString());
                if (!m.matches()) continue;
                long g = Long.parseLong(m.group(1));
                gens.merge(g, m.group(2) != null, Boolean::logicalOr);
            }
        }
        return gens;
    }

    private static void prune(Path dir, long newest) {
        try {
            for (Map.Entry<Long, Boolean> e : generations(dir).entrySet()) {
                if (e.getKey() > newest - GENERATIONS_KEPT) continue;
                Files.deleteIfExists(dir.resolve("gen-" + e.getKey() + ".released"));
                Files.deleteIfExists(dir.resolve("gen-" + e.getKey()));
            }
        } catch (IOException e) {
            log.debug("pruning old leases in {}: {}", dir, e.toString());
        }
    }
}
