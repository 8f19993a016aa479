package io.vigil.agent.recovery;

import io.vigil.agent.cache.ArenaFormatException;
import io.vigil.agent.cache.ArenaHeader;
import io.vigil.agent.cache.ArenaReader;
import io.vigil.agent.cache.ArenaSlot;
import io.vigil.memory.RemoteMemory;
import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRead;
import io.vigil.memory.RemoteRegion;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a failed host's cache arenas for one VM through {@link RemoteMemory} and writes their valid dirty blocks
 * over the disk images, in sequence order, before the VM starts here.
 *
 * <p>Per arena: the header is checked (magic, version, sizes; the VM and disk it belongs to; its lease generation:
 * an arena older than the generation the failed host last held is stale and not applied), the dirty table is read in
 * large pipelined reads, then the dirty frames in batches (frames adjacent in the arena in one read), each checked
 * against its slot's CRC32C. Torn slots and frames whose checksum fails are counted, logged and not applied. The
 * image is fsynced before the report is returned.
 *
 * <p>The keeper gets {@link RecoverySource#deadlineMillis()} to answer; if it cannot be reached by then, nothing is
 * applied and the report says {@code unreachable}, with the failed host's last write-back time: the start of the
 * window of writes that may be lost.
 */
public final class DirtyBlockRecovery {
    private static final Logger log = LoggerFactory.getLogger(DirtyBlockRecovery.class);
    /** Bytes of the dirty table and of frames per remote read, and frames fetched before they are written. */
    static final int READ_BYTES = 1 << 20;
    static final int BATCH_BYTES = 32 << 20;

    /** One VM disk whose arena may hold dirty blocks: its target device (the region's disk name) and its image. */
    public record Disk(String target, Path image) {}

    private final RemoteMemory memory;

    public DirtyBlockRecovery(RemoteMemory memory) {
        this.memory = memory;
    }

    public RecoveryReport recover(String vm, List<Disk> disks, RecoverySource from) {
        long started = System.nanoTime();
        long deadline = started + from.deadlineMillis() * 1_000_000L;
        Tally tally = new Tally();
        for (Disk disk : disks) {
            String region = Regions.name(vm, disk.target());
            RemoteRegion opened;
            try {
                opened = openWithin(region, from, deadline);
            } catch (RemoteMemoryException e) {
                if (e.kind() == RemoteMemoryException.Kind.NO_SUCH_REGION) {
                    log.info("{}: the memory keeper of {} holds no arena for {}: nothing to recover for it", vm,
                            from.host(), region);
                    continue;
                }
                if (e.kind() == RemoteMemoryException.Kind.UNREACHABLE && tally.arenas == 0 && tally.blocks == 0) {
                    return report(from, RecoveryReport.UNREACHABLE, tally, started, from.lastWriteBackMillis(),
                            "the memory keeper of " + from.host() + " could not be reached within "
                                    + from.deadlineMillis() + " ms: " + e.getMessage());
                }
                return report(from, RecoveryReport.FAILED, tally, started, from.lastWriteBackMillis(),
                        region + ": " + e.getMessage());
            }
            try (RemoteRegion r = opened) {
                recoverArena(vm, disk, r, from, tally);
            } catch (IOException | RuntimeException e) {
                log.warn("{}: recovering {} from {} broke off: {}", vm, region, from.host(), e.toString());
                return report(from, RecoveryReport.FAILED, tally, started, tally.lastWriteBack(from),
                        region + ": " + e.getMessage());
            }
        }
        return report(from, RecoveryReport.RECOVERED, tally, started, tally.lastWriteBack(from), null);
    }

    /**
     * One attempt, within what is left of the deadline: a refused connection means nothing listens on that host now
     * (its keeper died with it), and a host that does not answer is down; waiting longer would only delay the VM.
     */
    private RemoteRegion openWithin(String region, RecoverySource from, long deadline) throws RemoteMemoryException {
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        try {
            return memory.open(from.keeper(), region, from.grant(), Duration.ofMillis(left));
        } catch (RemoteMemoryException e) {
            throw e;
        } catch (IOException e) {
            throw new RemoteMemoryException(RemoteMemoryException.Kind.UNREACHABLE, e.getMessage(), e);
        }
    }

    private void recoverArena(String vm, Disk disk, RemoteRegion region, RecoverySource from, Tally tally)
            throws IOException {
        ByteBuffer headerBytes = ByteBuffer.allocate(ArenaReader.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        region.read(0, headerBytes);
        ArenaHeader h = ArenaReader.header(headerBytes.flip());
        if (!h.vmId().equals(vm) || !h.diskId().equals(disk.target()))
            throw new ArenaFormatException("the arena belongs to VM '" + h.vmId() + "' disk '" + h.diskId() + "'");
        if (h.generation() < from.generation()) {
            log.warn("{}: arena {} on {} was written under lease generation {}, older than the {} the host last held: "
                    + "stale, not applied", vm, region.name(), from.host(), h.generation(), from.generation());
            tally.stale++;
            return;
        }
        tally.arenas++;
        tally.lastWriteBack = Math.max(tally.lastWriteBack, h.lastWriteBackMillis());
        List<ArenaSlot> dirty = readDirtyTable(region, h);
        dirty.sort(Comparator.comparingLong(ArenaSlot::sequence));
        // Two batch buffers: the next batch is fetched while the current one is checked and written.
        ExecutorService fetcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "recovery-fetch-" + region.name());
            t.setDaemon(true);
            return t;
        });
        try (FileChannel image = FileChannel.open(disk.image(), StandardOpenOption.WRITE)) {
            long imageSize = image.size();
            int blockSize = h.blockSize();
            ByteBuffer[] buffers = {ByteBuffer.allocateDirect(Math.max(BATCH_BYTES, blockSize)),
                    ByteBuffer.allocateDirect(Math.max(BATCH_BYTES, blockSize))};
            int[] next = {0};
            Batch current = plan(vm, region.name(), h, dirty, next, buffers[0], tally);
            Future<?> fetching = fetch(fetcher, region, current);
            long written = 0;
            for (int k = 1; !current.slots().isEmpty(); k++) {
                await(fetching);
                Batch following = plan(vm, region.name(), h, dirty, next, buffers[k % 2], tally);
                fetching = following.slots().isEmpty() ? null : fetch(fetcher, region, following);
                written += apply(vm, region.name(), h, current.slots(), current.frames(), image, imageSize, tally);
                current = following;
            }
            if (written > 0) image.force(true);
        } finally {
            fetcher.shutdownNow();
        }
    }

    /** The dirty slots of one batch, in sequence order, and the reads that fetch their frames into {@code frames}. */
    private record Batch(List<ArenaSlot> slots, List<RemoteRead> reads, ByteBuffer frames) {}

    /** As many slots from {@code next[0]} as fit in {@code frames}; frames adjacent in the arena read as one. */
    private static Batch plan(String vm, String region, ArenaHeader h, List<ArenaSlot> dirty, int[] next,
            ByteBuffer frames, Tally tally) {
        int blockSize = h.blockSize();
        List<RemoteRead> reads = new ArrayList<>();
        List<ArenaSlot> batch = new ArrayList<>();
        frames.clear();
        ByteBuffer current = null;
        int currentStart = 0, lastFrame = -2;
        int i = next[0];
        while (i < dirty.size() && frames.position() + blockSize <= frames.capacity()) {
            ArenaSlot s = dirty.get(i++);
            if (s.validity() == ArenaSlot.Validity.TORN) {
                tally.torn++;
                log.warn("{}: arena {}: dirty block at offset {} (frame {}, sequence {}) is torn (never acknowledged): "
                        + "not applied", vm, region, s.diskOffset(), s.frame(), s.sequence());
                continue;
            }
            if (s.frame() >= h.frameCount()) continue;
            int at = frames.position();
            if (current != null && s.frame() == lastFrame + 1 && at + blockSize - currentStart <= READ_BYTES) {
                current.limit(at + blockSize);
            } else {
                current = frames.duplicate();
                current.position(at).limit(at + blockSize);
                currentStart = at;
                reads.add(new RemoteRead(h.framesOffset() + (long) s.frame() * blockSize, current));
            }
            lastFrame = s.frame();
            frames.position(at + blockSize);
            batch.add(s);
        }
        next[0] = i;
        return new Batch(batch, reads, frames);
    }

    private static Future<?> fetch(ExecutorService fetcher, RemoteRegion region, Batch batch) {
        return fetcher.submit(() -> {
            region.read(batch.reads());
            return null;
        });
    }

    private static void await(Future<?> fetching) throws IOException {
        if (fetching == null) return;
        try {
            fetching.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /**
     * Checks each fetched frame and writes the valid ones in the batch's (sequence) order, one write per run of
     * valid blocks that follow each other on the disk; returns the bytes written.
     */
    private static long apply(String vm, String region, ArenaHeader h, List<ArenaSlot> batch, ByteBuffer frames,
            FileChannel image, long imageSize, Tally tally) throws IOException {
        int blockSize = h.blockSize();
        long bytes = 0;
        boolean[] ok = new boolean[batch.size()];
        for (int k = 0; k < ok.length; k++) ok[k] = usable(vm, region, batch.get(k), frames, k, blockSize, imageSize, tally);
        int k = 0;
        while (k < batch.size()) {
            if (!ok[k]) {
                k++;
                continue;
            }
            int end = k + 1;
            while (end < batch.size() && ok[end] && batch.get(end).diskOffset() == batch.get(end - 1).diskOffset() + blockSize)
                end++;
            long offset = batch.get(k).diskOffset();
            long length = Math.min((long) (end - k) * blockSize, imageSize - offset);
            ByteBuffer run = frames.duplicate();
            run.position(k * blockSize).limit(k * blockSize + (int) length);
            long at = offset;
            while (run.hasRemaining()) at += image.write(run, at);
            bytes += length;
            tally.blocks += end - k;
            k = end;
        }
        tally.bytes += bytes;
        return bytes;
    }

    /** Whether the {@code k}-th fetched frame may be applied: its checksum holds and it lies on the disk. */
    private static boolean usable(String vm, String region, ArenaSlot s, ByteBuffer frames, int k, int blockSize,
            long imageSize, Tally tally) {
        ByteBuffer frame = frames.duplicate();
        frame.position(k * blockSize).limit((k + 1) * blockSize);
        if (!ArenaReader.checksumMatches(s, frame)) {
            tally.corrupt++;
            log.warn("{}: arena {}: dirty block at offset {} (frame {}, sequence {}) fails its checksum: not applied",
                    vm, region, s.diskOffset(), s.frame(), s.sequence());
            return false;
        }
        if (s.diskOffset() < 0 || s.diskOffset() % blockSize != 0 || s.diskOffset() >= imageSize) {
            tally.corrupt++;
            log.warn("{}: arena {}: dirty block at offset {} lies outside the {}-byte image: not applied", vm, region,
                    s.diskOffset(), imageSize);
            return false;
        }
        return true;
    }

    /** The dirty table's dirty slots (torn marked, the rest unchecked), read in pipelined 1 MiB pieces. */
    private static List<ArenaSlot> readDirtyTable(RemoteRegion region, ArenaHeader h) throws IOException {
        long tableBytes = h.frameCount() * ArenaReader.SLOT_BYTES;
        List<ArenaSlot> out = new ArrayList<>();
        long chunk = (long) (BATCH_BYTES / ArenaReader.SLOT_BYTES) * ArenaReader.SLOT_BYTES;
        for (long first = 0; first < tableBytes; first += chunk) {
            int n = (int) Math.min(chunk, tableBytes - first);
            ByteBuffer table = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
            List<RemoteRead> reads = new ArrayList<>();
            for (int off = 0; off < n; off += READ_BYTES) {
                ByteBuffer piece = table.duplicate();
                piece.position(off).limit(Math.min(n, off + READ_BYTES));
                reads.add(new RemoteRead(h.tableOffset() + first + off, piece));
            }
            region.read(reads);
            out.addAll(ArenaReader.dirtySlotsIn(table.clear(), first / ArenaReader.SLOT_BYTES));
        }
        return out;
    }

    private RecoveryReport report(RecoverySource from, String outcome, Tally t, long startedNanos, long lastWriteBack,
            String detail) {
        long millis = (System.nanoTime() - startedNanos) / 1_000_000;
        RecoveryReport r = new RecoveryReport(from.host(), memory.transport(), outcome, t.arenas, t.blocks, t.bytes,
                t.torn, t.corrupt, t.stale, millis, lastWriteBack, detail);
        log.info("recovery from {} over {}: {}, {} arenas, {} blocks ({} bytes) written, {} torn, {} corrupt, {} stale, "
                + "{} ms{}", from.host(), memory.transport(), outcome, t.arenas, t.blocks, t.bytes, t.torn, t.corrupt,
                t.stale, millis, detail == null ? "" : ": " + detail);
        return r;
    }

    private static final class Tally {
        int arenas, torn, corrupt, stale;
        long blocks, bytes, lastWriteBack;

        long lastWriteBack(RecoverySource from) {
            return Math.max(lastWriteBack, from.lastWriteBackMillis());
        }
    }
}
