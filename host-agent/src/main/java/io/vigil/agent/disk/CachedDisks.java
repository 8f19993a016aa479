package io.vigil.agent.disk;

import io.vigil.agent.cache.ArenaIdentity;
import io.vigil.agent.cache.AttachReport;
import io.vigil.agent.cache.BlockCache;
import io.vigil.agent.cache.CacheSettings;
import io.vigil.agent.cache.CacheStats;
import io.vigil.agent.cache.ResizeReport;
import io.vigil.agent.nbd.NbdServer;
import io.vigil.agent.nbd.SocketOwner;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.function.Function;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.storage.RecordFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's VM disks served by the agent's NBD server, each through a write-back {@link BlockCache} whose arena
 * is a shared-memory file in {@code arenaDir}. Each VM has its own socket in {@code socketDir}, owned by the account its
 * QEMU runs as (libvirt's DAC label for it) with mode 0600, on which only that VM's exports can be opened: a QEMU
 * reaches its own VM's disks and no other's, and no other user but root reaches any. The socket is made again, with
 * that owner and mode, whenever the disks are served (every agent start included). Cache memory comes from the controller's budgets (lent from the
 * host's failover reserve) and is given back on {@link #reclaim}. What is served is also recorded in
 * {@code recordDir}, so that a restarted agent serves the same disks again from the same arenas.
 */
public final class CachedDisks implements DiskService {
    private static final Logger log = LoggerFactory.getLogger(CachedDisks.class);
    private static final long MiB = 1L << 20;
    /** The most one disk's cache may grow to (it fixes the size of the arena's dirty table). */
    private static final long MAX_CACHE_PER_DISK = 64L << 30;

    private final NbdServer server;
    private final Path socketDir;
    /** libvirt's DAC label of the QEMU that runs a domain XML (null XML: the default type's); empty: keep root's. */
    private final Function<String, Optional<String>> qemuDacLabel;
    private final Path arenaDir;
    private final long flushIntervalMillis;
    private final Path recordDir;
    private final Map<String, ServedVm> served = new ConcurrentHashMap<>();
    private final Map<String, Long> budgetsMiB = new ConcurrentHashMap<>();
    private final ExecutorService resizer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vigil-cache-budgets");
        t.setDaemon(true);
        return t;
    });

    /**
     * One served disk: the export QEMU reads it through, its cache (which owns the image from then on), and the most
     * that cache may grow to.
     */
    /** {@code servedSinceMillis}: when this agent began caching it (the unflushed window's start before any write-back). */
    private record Disk(DiskXml.ServedDisk disk, BlockCache cache, long maxCacheBytes, long servedSinceMillis) {}

    private record ServedVm(String vm, long generation, CacheMode mode, List<Disk> disks, Optional<SocketOwner> owner) {}

    /** What is written to {@code recordDir} for a served VM. */
    public record ServedRecord(String vm, long generation, CacheMode mode, long budgetMiB, List<DiskXml.ServedDisk> disks,
            String qemuDacLabel) {}

    private CachedDisks(NbdServer server, Path socketDir, Function<String, Optional<String>> qemuDacLabel, Path arenaDir,
            Path recordDir, long flushIntervalMillis) {
        this.server = server;
        this.socketDir = socketDir;
        this.qemuDacLabel = qemuDacLabel;
        this.arenaDir = arenaDir;
        this.recordDir = recordDir;
        this.flushIntervalMillis = flushIntervalMillis;
    }

    /** As {@link #start(Path, Path, Path, long, Function)}, writing dirty blocks back at once, sockets left root's. */
    public static CachedDisks start(Path socketDir, Path arenaDir, Path recordDir) throws IOException {
        return start(socketDir, arenaDir, recordDir, 0, xml -> Optional.empty());
    }

    /**
     * Starts the NBD server, with one socket per served VM in {@code socketDir}, given to the account
     * {@code qemuDacLabel} names for the VM's domain XML; arenas go to {@code arenaDir}, records to {@code recordDir};
     * dirty blocks are written back once the oldest has waited {@code flushIntervalMillis} (see {@link CacheSettings}).
     */
    public static CachedDisks start(Path socketDir, Path arenaDir, Path recordDir, long flushIntervalMillis,
            Function<String, Optional<String>> qemuDacLabel) throws IOException {
        Files.createDirectories(arenaDir);
        Files.createDirectories(recordDir);
        Files.createDirectories(socketDir);
        // Searchable by QEMU's account, not listable: the sockets' own owner and mode decide who connects.
        Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwx--x--x"));
        CachedDisks disks = new CachedDisks(NbdServer.withoutSocket(16), socketDir, qemuDacLabel, arenaDir, recordDir,
                flushIntervalMillis);
        disks.owner(null).ifPresent(owner -> {
            List<Path> blocked = owner.unsearchable(socketDir);
            if (!blocked.isEmpty())
                log.error("QEMU's account ({}) cannot reach the disk sockets in {}: it may not search {}; VMs with "
                        + "cached disks will not start until it can (e.g. chmod o+x)", owner, socketDir, blocked);
        });
        return disks;
    }

    /** The exports served now (for checks and tests). */
    public List<String> exports() {
        return server.exports().stream().map(e -> e.name()).toList();
    }

    /** The socket {@code vm}'s disks are served on (it exists while they are). */
    public Path socketOf(String vm) {
        Path socket = socketDir.resolve(vm + ".sock");
        if (socket.toAbsolutePath().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                <= NbdServer.MAX_SOCKET_PATH_BYTES) return socket;
        return socketDir.resolve(shortName(vm) + ".sock"); // too long a name: hashed
    }

    @Override
    public DiskXml.Rewritten prepare(String vm, String xml) {
        return DiskXml.serveThrough(vm, xml, socketOf(vm));
    }

    @Override
    public String retarget(String vm, String savedXml) {
        return DiskXml.retarget(vm, savedXml, socketOf(vm));
    }

    private static String shortName(String vm) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(vm.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "vm-" + java.util.HexFormat.of().formatHex(digest, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The owner of a socket for QEMU running {@code xml} (null: the default domain type's). */
    private Optional<SocketOwner> owner(String xml) {
        Optional<String> label = qemuDacLabel.apply(xml);
        Optional<SocketOwner> owner = label.flatMap(SocketOwner::fromDacLabel);
        if (label.isPresent() && owner.isEmpty())
            log.warn("QEMU's DAC label '{}' names no numeric user and group: its disk socket stays root's", label.get());
        return owner;
    }

    /** Listens on {@code vm}'s socket for its exports only, given to {@code owner}; checks QEMU can reach it. */
    private void listen(String vm, Optional<SocketOwner> owner) throws IOException {
        Path socket = socketOf(vm);
        if (owner.isPresent()) {
            List<Path> blocked = owner.get().unsearchable(socket.getParent());
            if (!blocked.isEmpty())
                throw new IOException("QEMU's account (" + owner.get() + ") cannot reach the disk socket " + socket
                        + ": it may not search " + blocked);
        }
        server.listen(vm, socket, owner.orElse(null));
    }

    @Override
    public synchronized void serve(String vm, DiskXml.Rewritten disks, CacheMode mode, long generation) throws IOException {
        ServedVm now = served.get(vm);
        Optional<SocketOwner> owner = owner(disks.xml());
        if (now != null) {
            listen(vm, owner.isPresent() ? owner : now.owner()); // its owner and mode again, whatever happened to it
            // Served already (a repeated start of a running VM): QEMU keeps its connections and the arenas keep the
            // generation they were written under, which a re-attach after a restart checks.
            if (now.generation() != generation)
                log.warn("{}: asked to serve its disks at lease generation {}; they are served at {} and stay so", vm,
                        generation, now.generation());
            if (now.mode() != mode) {
                for (Disk d : now.disks()) d.cache().setMode(mode);
                served.put(vm, new ServedVm(vm, now.generation(), mode, now.disks(), now.owner()));
                record(served.get(vm));
            }
            return;
        }
        ServedVm opened = open(vm, disks.disks(), mode, generation, owner);
        try {
            listen(vm, owner);
        } catch (IOException | RuntimeException e) {
            for (Disk d : opened.disks()) {
                server.removeExport(d.disk().export());
                closeQuietly(d);
            }
            throw e;
        }
        served.put(vm, opened);
        record(opened);
    }

    private ServedVm open(String vm, List<DiskXml.ServedDisk> disks, CacheMode mode, long generation,
            Optional<SocketOwner> owner) throws IOException {
        List<Disk> opened = new ArrayList<>();
        long budget = budgetPerDisk(vm, disks.size());
        try {
            for (DiskXml.ServedDisk d : disks) {
                if (!Files.isRegularFile(d.image()))
                    throw new IOException("disk image " + d.image() + " (" + d.target() + ") does not exist or is not a file");
                FileImage image = FileImage.open(d.image());
                BlockCache cache;
                long max = maxCache(image.size());
                try {
                    cache = BlockCache.open(arena(d), new ArenaIdentity(vm, d.target(), generation), image,
                            CacheSettings.of(Math.min(budget, max), max, mode).withWriteBackDelay(flushIntervalMillis));
                } catch (IOException | RuntimeException e) {
                    image.close();
                    throw e;
                }
                AttachReport report = cache.attachReport();
                if (!report.created())
                    log.info("{}: re-attached the cache of {}: {} dirty blocks written back ({} torn, {} corrupt skipped), "
                            + "{} blocks warm, in {} ms", vm, d.export(), report.dirtyBlocksWrittenBack(),
                            report.tornSkipped(), report.corruptSkipped(), report.warmBlocks(), report.took().toMillis());
                opened.add(new Disk(d, cache, max, System.currentTimeMillis()));
                server.addExport(d.export(), vm + " " + d.target() + " (" + d.image() + ")", cache);
            }
        } catch (IOException | RuntimeException e) {
            for (Disk d : opened) {
                server.removeExport(d.disk().export());
                closeQuietly(d);
            }
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        log.info("{}: serving {} disk(s) on {} through a {} cache of {} MiB each", vm, disks.size(), socketOf(vm),
                mode.wireName(), budget / MiB);
        return new ServedVm(vm, generation, mode, List.copyOf(opened), owner);
    }

    @Override
    public synchronized void release(String vm) throws IOException {
        ServedVm s = served.remove(vm);
        if (s == null) return;
        server.stopListening(vm);
        IOException failed = null;
        for (Disk d : s.disks()) {
            server.removeExport(d.disk().export());
            try {
                d.cache().close(); // every dirty block written back, the image synced and closed, the arena deleted
            } catch (IOException e) {
                failed = failed == null ? e : failed;
                log.error("{}: cannot write back the cache of {}: {}", vm, d.disk().export(), e.toString());
            }
        }
        if (failed != null) throw new IOException("writing back the disk cache of " + vm + ": " + failed.getMessage(), failed);
        Files.deleteIfExists(recordFile(vm));
    }

    @Override
    public synchronized void discard(String vm) {
        ServedVm s = served.remove(vm);
        server.stopListening(vm);
        List<DiskXml.ServedDisk> disks = s != null ? s.disks().stream().map(Disk::disk).toList()
                : readRecord(recordFile(vm)).map(ServedRecord::disks).orElse(List.of());
        if (s != null) {
            for (Disk d : s.disks()) {
                server.removeExport(d.disk().export());
                detachQuietly(d);
            }
        }
        for (DiskXml.ServedDisk d : disks) deleteQuietly(arena(d));
        deleteQuietly(recordFile(vm));
    }

    @Override
    public synchronized void abandon(String vm) {
        ServedVm s = served.remove(vm);
        server.stopListening(vm);
        if (s != null) {
            for (Disk d : s.disks()) {
                server.removeExport(d.disk().export());
                detachQuietly(d); // the arena stays for whoever recovers it; never written back from here
            }
        }
        deleteQuietly(recordFile(vm));
    }

    @Override
    public void budgets(Map<String, Long> budgets) {
        synchronized (this) {
            budgetsMiB.clear();
            budgetsMiB.putAll(budgets);
        }
        resizer.execute(this::applyBudgets);
    }

    private synchronized void applyBudgets() {
        for (ServedVm s : served.values()) {
            long perDisk = budgetPerDisk(s.vm(), s.disks().size());
            for (Disk d : s.disks()) {
                long target = Math.min(perDisk, d.maxCacheBytes());
                if (d.cache().stats().capacityBytes() / MiB == target / MiB) continue;
                try {
                    ResizeReport r = d.cache().resize(target);
                    log.info("{}: cache {} MiB -> {} MiB in {} ms ({} MiB written back)", d.disk().export(),
                            r.fromBytes() / MiB, r.toBytes() / MiB, r.took().toMillis(), r.bytesWrittenBack() / MiB);
                } catch (IOException | RuntimeException e) {
                    log.error("{}: cannot resize its cache to {} MiB: {}", d.disk().export(), target / MiB, e.toString());
                }
            }
        }
    }

    @Override
    public synchronized Duration reclaim(long mib) throws IOException {
        long start = System.nanoTime();
        long total = 0;
        for (ServedVm s : served.values()) for (Disk d : s.disks()) total += d.cache().stats().capacityBytes();
        long keep = Math.max(0, total - mib * MiB);
        double share = total == 0 ? 0 : (double) keep / total;
        for (ServedVm s : served.values()) {
            for (Disk d : s.disks()) {
                long target = (long) (d.cache().stats().capacityBytes() * share);
                d.cache().resize(target);
            }
        }
        // Until the controller's next budgets arrive, the old ones must not grow the caches back.
        budgetsMiB.replaceAll((vm, b) -> (long) (b * share));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        log.info("reclaimed {} MiB of cache (of {} MiB lent) in {} ms", Math.min(mib, total / MiB), total / MiB,
                took.toMillis());
        return took;
    }

    @Override
    public CacheUse use(String vm) {
        ServedVm s = served.get(vm);
        if (s == null) return CacheUse.NONE;
        long bytes = 0;
        long dirty = 0;
        long since = System.currentTimeMillis();
        for (Disk d : s.disks()) {
            CacheStats st = d.cache().stats();
            bytes += st.usedBytes();
            dirty += st.dirtyBytes();
            if (st.dirtyBytes() > 0)
                since = Math.min(since, Math.max(st.lastWriteBackCompletedMillis(), d.servedSinceMillis()));
        }
        return new CacheUse(bytes, dirty, since);
    }

    /** The cache memory {@code vm}'s disks may use now (the sum of their capacities), in bytes. */
    public long capacity(String vm) {
        ServedVm s = served.get(vm);
        return s == null ? 0 : s.disks().stream().mapToLong(d -> d.cache().stats().capacityBytes()).sum();
    }

    /**
     * After an agent restart: serves again the disks of every VM recorded as served whose lease this host still holds
     * (re-attaching its arenas, which writes their dirty blocks back), and writes back and releases those whose VM
     * stopped meanwhile. A VM whose lease is no longer held is not touched: its arenas are left for recovery by the
     * host that took it over. Returns the VMs served again.
     */
    public List<String> recover(Predicate<String> leaseHeld, Predicate<String> running) {
        List<String> again = new ArrayList<>();
        List<Path> records;
        try (Stream<Path> files = Files.list(recordDir)) {
            records = files.filter(f -> f.getFileName().toString().endsWith(".json")).toList();
        } catch (IOException e) {
            log.error("cannot list served disks in {}: {}", recordDir, e.toString());
            return again;
        }
        for (Path file : records) {
            ServedRecord r = readRecord(file).orElse(null);
            if (r == null) continue;
            if (!leaseHeld.test(r.vm())) {
                log.warn("{}: its lease is no longer held here; its cache arenas are left for recovery elsewhere", r.vm());
                deleteQuietly(file);
                continue;
            }
            try {
                synchronized (this) {
                    budgetsMiB.putIfAbsent(r.vm(), r.budgetMiB()); // the cache keeps its size until budgets arrive
                    Optional<SocketOwner> owner = r.qemuDacLabel() != null
                            ? SocketOwner.fromDacLabel(r.qemuDacLabel()) : owner(null);
                    ServedVm opened = open(r.vm(), r.disks(), r.mode(), r.generation(), owner);
                    served.put(r.vm(), opened);
                    listen(r.vm(), owner); // made again with its owner and mode: a hand chmod does not outlive it
                }
                if (running.test(r.vm())) {
                    again.add(r.vm());
                } else {
                    log.info("{}: stopped while the agent was down: writing its cache back", r.vm());
                    release(r.vm());
                }
            } catch (IOException e) {
                log.error("{}: cannot serve its disks again: {}", r.vm(), e.getMessage());
            }
        }
        return again;
    }

    /**
     * Stops serving without writing back: the caches' arenas stay with their dirty blocks, and a restarted agent
     * serves the same disks from them ({@link #recover}). QEMU pauses a VM whose disk request fails meanwhile.
     */
    @Override
    public synchronized void close() {
        resizer.shutdownNow();
        server.close();
        for (ServedVm s : served.values()) for (Disk d : s.disks()) detachQuietly(d);
        served.clear();
    }

    private long budgetPerDisk(String vm, int disks) {
        return disks == 0 ? 0 : budgetsMiB.getOrDefault(vm, 0L) * MiB / disks;
    }

    private static long maxCache(long imageSize) {
        long blocks = Math.max(1, imageSize / CacheSettings.DEFAULT_BLOCK_SIZE);
        return Math.min(blocks * CacheSettings.DEFAULT_BLOCK_SIZE, MAX_CACHE_PER_DISK);
    }

    private Path arena(DiskXml.ServedDisk d) {
        return arenaDir.resolve(d.export().replace('/', '.') + ".arena");
    }

    private Path recordFile(String vm) {
        return recordDir.resolve(vm + ".json");
    }

    private void record(ServedVm s) throws IOException {
        RecordFiles.replace(recordFile(s.vm()), new ServedRecord(s.vm(), s.generation(), s.mode(),
                budgetsMiB.getOrDefault(s.vm(), 0L), s.disks().stream().map(Disk::disk).toList(),
                s.owner().map(SocketOwner::toString).orElse(null)));
    }

    private static Optional<ServedRecord> readRecord(Path file) {
        try {
            return RecordFiles.read(file, ServedRecord.class);
        } catch (IOException | RuntimeException e) {
            log.error("unreadable served-disks record {}: {}", file, e.toString());
            return java.util.Optional.empty();
        }
    }

    private static void detachQuietly(Disk d) {
        try {
            d.cache().detach(); // closes the image too
        } catch (IOException | RuntimeException e) {
            log.warn("detaching the cache of {}: {}", d.disk().export(), e.toString());
        }
    }

    private static void closeQuietly(Disk d) {
        try {
            d.cache().close(); // written back; closes the image too
        } catch (IOException | RuntimeException e) {
            log.warn("closing the cache of {}: {}", d.disk().export(), e.toString());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", file, e.toString());
        }
    }
}
