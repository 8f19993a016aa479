package io.vigil.agent.cache;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.Extent;
import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM disk's write-back block cache: a {@link BlockDevice} over the disk image, its blocks held in a shared-memory
 * arena ({@link ArenaFile}, layout in host-agent/ARENA.md) that survives the agent and can be read remotely.
 *
 * <p>Lifecycle, as the agent calls it: {@link #open} (creates the arena, or re-attaches to one an agent crash left,
 * writing its dirty blocks to the image first: {@link #attachReport}); then the {@link BlockDevice} calls, from many
 * threads; {@link #resize} and {@link #setMode} at any time; finally {@link #close} (a clean stop: everything written
 * back, arena deleted) or {@link #detach} (agent restart: arena left for the next {@code open}). The cache owns the
 * image: both close it. No request may be in progress when {@code close} or {@code detach} is called.
 *
 * <p>Ordering: every FLUSH starts a new epoch; every dirty block carries its epoch; write-back writes and fsyncs all
 * of epoch e before any block of e+1, so the image is always a state the guest could have seen after its last
 * completed FLUSH. A write to a block still dirty in an older epoch goes to a new frame (copy-on-write); in fact
 * every write goes to a fresh frame, so a frame is immutable while reachable and a crash mid-copy never tears the
 * version recovery would use. WRITE_BACK FLUSH waits for its epoch to be written back; WRITE_BACK_RECOVERABLE FLUSH
 * returns at once (the dirty table has it all); WRITE_THROUGH and FUA writes are cached, then written back with every
 * older epoch and fsynced before they return (write-through is durable per write, like QEMU's cache=writethrough),
 * leaving clean frames. Partial-block writes merge with the block's current version, reading it first on a miss.
 *
 * <p>Locking: a {@link StampedLock} guards the bookkeeping ({@link FrameTable}); hits copy under its read lock,
 * writes fill their private frames outside it and install under the write lock. {@code imageOrder} is held by
 * whoever writes dirty blocks to the image (the write-back thread, a FUA write, a strict FLUSH, a barrier, a shrink),
 * which keeps image writes in epoch order.
 */
public final class BlockCache implements BlockDevice {
    private static final Logger log = LoggerFactory.getLogger(BlockCache.class);
    private static final int MAX_TRY_BLOCKS = 32;
    private static final int MAX_WRITE_BLOCKS = 256;
    private static final int BATCH_BYTES = 1 << 20;
    private static final int LOAD_BYTES = 256 << 10;
    /** TRIM and WRITE_ZEROES up to this size become cached writes; larger ones are barriers passed to the image. */
    private static final long SMALL_RANGE_BYTES = 256 << 10;
    private static final long FAIL = -1, PASS_THROUGH = -2, TOO_BIG = -3, PASSED = -4;
    private static final int OK = 0, NEED_LOAD = 1, FULL = 2;

    private final BlockDevice image;
    private final long diskSize;
    private final int blockSize;
    private final int shift;
    private final long maxFrames;
    private final ArenaFile arena;
    private final FrameTable table;
    private final AttachReport attachReport;
    private final StampedLock lock = new StampedLock();
    private final ReentrantLock imageOrder = new ReentrantLock();
    private final Object progress = new Object();
    private volatile long progressCount;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final AtomicLong writtenBack = new AtomicLong();
    private volatile long lastWriteBackMillis;
    private volatile CacheMode mode;
    private volatile boolean closed;
    private volatile boolean imageUnsynced;
    private volatile int writeChunkBlocks;
    private long invalidations; // under the write lock: bumped around barriers, so loads that raced one are dropped
    private int barriers;
    private final ThreadLocal<Scratch> scratch;
    private final ByteBuffer zeroes = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();
    // owned by whoever holds imageOrder
    private final int batchMax;
    private final int[] batchFrames;
    private final long[] batchBlocks;
    private final long[] batchKeys;
    private final ByteBuffer staging;
    private final Thread writeBackThread;
    private volatile boolean writeBackIdle;
    private volatile boolean stopping;
    /** The flush interval; when the oldest dirty block began waiting (0: none waits); draining until clean. */
    private final long writeBackDelayNanos;
    private long dirtySinceNanos;
    private boolean draining;

    private BlockCache(BlockDevice image, CacheSettings settings, ArenaFile arena, FrameTable table, AttachReport report) {
        this.image = image;
        this.diskSize = image.size();
        this.blockSize = settings.blockSize();
        this.shift = Integer.numberOfTrailingZeros(blockSize);
        this.maxFrames = settings.maxFrames();
        this.arena = arena;
        this.table = table;
        this.attachReport = report;
        this.mode = settings.mode();
        this.writeBackDelayNanos = settings.writeBackDelayMillis() * 1_000_000L;
        this.batchMax = Math.max(1, BATCH_BYTES / blockSize);
        this.batchFrames = new int[batchMax];
        this.batchBlocks = new long[batchMax];
        this.batchKeys = new long[batchMax];
        this.staging = ByteBuffer.allocateDirect(batchMax * blockSize);
        int loadBlocks = Math.max(1, LOAD_BYTES / blockSize);
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(loadBlocks, blockSize));
        updateChunk();
        this.writeBackThread = new Thread(this::runWriteBack, "cache-write-back-" + arena.path().getFileName());
        writeBackThread.setDaemon(true);
        writeBackThread.start();
    }

    /**
     * Opens the cache of one VM disk. If {@code arenaPath} exists and belongs to the same VM and disk: re-attaches
     * (after an agent crash or {@link #detach}): writes its valid dirty blocks to the image in sequence order,
     * fsyncs, keeps its valid clean blocks cached, and reports what it skipped. An arena of an older lease
     * generation is discarded; one of another VM or disk, or of a newer generation, is refused with an IOException.
     * Otherwise creates the arena. {@code image} belongs to the cache from here on.
     */
    public static BlockCache open(Path arenaPath, ArenaIdentity identity, BlockDevice image, CacheSettings settings)
            throws IOException {
        long started = System.nanoTime();
        ArenaRecovery.Recovered found = Files.exists(arenaPath)
                ? ArenaRecovery.recover(arenaPath, identity, image, settings) : null;
        ArenaLayout layout = new ArenaLayout(settings.blockSize(), settings.maxFrames());
        int frames = settings.frames();
        ArenaFile arena;
        FrameTable table;
        if (found != null && found.sameLayout()) {
            arena = ArenaFile.attach(arenaPath, layout);
            try {
                arena.resize(frames);
                arena.setMode(settings.mode());
                table = new FrameTable(arena, frames, settings.dirtyFraction(), found.maxSequence(), found.nextEpoch());
                table.adoptClean(found.warmFrames(), found.warmBlocks(), found.warmSeqs(), found.warmFrames().length);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } else {
            arena = ArenaFile.create(arenaPath, layout, identity, frames, image.size(), settings.mode());
            table = new FrameTable(arena, frames, settings.dirtyFraction(),
                    found == null ? 0 : found.maxSequence(), found == null ? 0 : found.nextEpoch());
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        AttachReport report = found == null
                ? new AttachReport(true, false, 0, 0, 0, 0, 0, took)
                : new AttachReport(found.stale(), found.stale(), found.written(), found.bytesWritten(), found.torn(),
                        found.corrupt(), found.sameLayout() ? found.warmFrames().length : 0, took);
        return new BlockCache(image, settings, arena, table, report);
    }

    public AttachReport attachReport() {
        return attachReport;
    }

    public CacheMode mode() {
        return mode;
    }

    /** Takes effect for requests that start afterwards; dirty blocks already cached are written back as usual. */
    public void setMode(CacheMode newMode) {
        long stamp = lock.writeLock();
        try {
            checkOpen();
            mode = newMode;
            arena.setMode(newMode);
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    public CacheStats stats() {
        long stamp = lock.readLock();
        try {
            return new CacheStats((long) table.frameCount() * blockSize, table.used() * blockSize,
                    table.dirty() * blockSize, hits.sum(), misses.sum(), writtenBack.get(), lastWriteBackMillis);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    // ---- reads

    @Override
    public long size() {
        return diskSize;
    }

    @Override
    public int preferredBlockSize() {
        return blockSize;
    }

    @Override
    public boolean tryRead(long offset, ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) return true;
        long first = offset >>> shift;
        long last = (offset + dst.remaining() - 1) >>> shift;
        if (last - first >= MAX_TRY_BLOCKS) return false;
        long stamp = lock.readLock();
        try {
            checkOpen();
            for (long b = first; b <= last; b++) {
                int f = table.lookup(b);
                if (f < 0 || !table.readable(f)) return false;
            }
            long pos = offset;
            for (long b = first; b <= last; b++) {
                int f = table.lookup(b);
                table.touch(f);
                pos += copyOut(f, pos, dst);
            }
        } finally {
            lock.unlockRead(stamp);
        }
        hits.add(last - first + 1);
        return true;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            boolean loading = false;
            long mark = progressCount;
            long hit = 0;
            long stamp = lock.readLock();
            try {
                checkOpen();
                if (table.frameCount() == 0) {
                    image.read(pos, dst);
                    return;
                }
                while (dst.hasRemaining()) {
                    int f = table.lookup(pos >>> shift);
                    if (f < 0) break;
                    if (!table.readable(f)) {
                        loading = true;
                        break;
                    }
                    table.touch(f);
                    pos += copyOut(f, pos, dst);
                    hit++;
                }
            } finally {
                lock.unlockRead(stamp);
            }
            hits.add(hit);
            if (!dst.hasRemaining()) return;
            if (loading) awaitProgress(mark);
            else pos += load(pos, dst);
        }
    }

    private int copyOut(int f, long pos, ByteBuffer dst) {
        int at = (int) (pos & (blockSize - 1));
        int n = Math.min(blockSize - at, dst.remaining());
        arena.copyOut(f, at, dst, dst.position(), n);
        dst.position(dst.position() + n);
        return n;
    }

    /**
     * A miss at {@code pos}: reads the run of missing blocks from there (up to the request's end) from the image in
     * one request, caches them clean, and copies the requested part. Returns the bytes copied (0: retry).
     */
    private int load(long pos, ByteBuffer dst) throws IOException {
        Scratch s = scratch.get();
        long first = pos >>> shift;
        long last = (pos + dst.remaining() - 1) >>> shift;
        int n;
        long generation;
        long stamp = lock.writeLock();
        try {
            checkOpen();
            if (table.lookup(first) >= 0) return 0; // loaded or written meanwhile
            int run = 0;
            while (run < s.frames.length && run < s.loadBlocks && first + run <= last && table.lookup(first + run) < 0) run++;
            n = table.allocateUpTo(run, s.frames);
            for (int i = 0; i < n; i++) table.startLoad(first + i, s.frames[i]);
            generation = invalidations;
        } finally {
            lock.unlockWrite(stamp);
        }
        if (n == 0) return bypass(pos, dst);
        ByteBuffer buf = s.load;
        long start = first << shift;
        int bytes = (int) Math.min((long) n << shift, diskSize - start);
        boolean done = false;
        try {
            buf.clear().limit(bytes);
            image.read(start, buf);
            buf.limit(n << shift);
            while (buf.hasRemaining()) buf.put((byte) 0); // past the end of the disk
            for (int i = 0; i < n; i++) {
                arena.copyIn(s.frames[i], 0, buf, i << shift, blockSize);
                s.crcs[i] = arena.crc(s.frames[i]);
            }
            done = true;
        } finally {
            stamp = lock.writeLock();
            try {
                boolean keep = done && invalidations == generation && barriers == 0;
                for (int i = 0; i < n; i++) table.finishLoad(s.frames[i], s.crcs[i], keep);
            } finally {
                lock.unlockWrite(stamp);
            }
            signalProgress();
        }
        misses.add(n);
        int at = (int) (pos - start);
        int len = (int) Math.min(dst.remaining(), ((long) n << shift) - at);
        dst.put(dst.position(), buf, at, len);
        dst.position(dst.position() + len);
        return len;
    }

    /** No frame to load into (all dirty or busy): read this block's part straight from the image, uncached. */
    private int bypass(long pos, ByteBuffer dst) throws IOException {
        int len = (int) Math.min(dst.remaining(), blockSize - (pos & (blockSize - 1)));
        image.read(pos, dst.slice(dst.position(), len));
        dst.position(dst.position() + len);
        misses.increment();
        return len;
    }

    // ---- writes

    @Override
    public boolean tryWrite(long offset, ByteBuffer src, boolean fua) throws IOException {
        if (!src.hasRemaining()) return true;
        if (fua || mode == CacheMode.WRITE_THROUGH) return false;
        if (((offset + src.remaining() - 1) >>> shift) - (offset >>> shift) >= MAX_TRY_BLOCKS) return false;
        return writeCached(offset, src, true) >= 0;
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        boolean sync = fua || mode == CacheMode.WRITE_THROUGH;
        long pos = offset;
        int chunk = writeChunkBlocks;
        while (src.hasRemaining()) {
            long end = Math.min(pos + src.remaining(), ((pos >>> shift) + chunk) << shift);
            int len = (int) (end - pos);
            int limit = src.limit();
            src.limit(src.position() + len);
            long result;
            try {
                result = writeCached(pos, src, false);
                if (result == PASS_THROUGH) result = passThroughWrite(pos, src, fua) ? PASSED : FAIL;
            } finally {
                src.limit(limit);
            }
            if (result == TOO_BIG) {
                chunk = 1; // the cache shrank under us
                continue;
            }
            if (result == FAIL) continue; // the cache grew from capacity 0 meanwhile
            if (sync && result != PASSED) syncRange(pos, len, result);
            pos += len;
        }
    }

    /** Capacity 0: straight to the image, under the read lock so that a concurrent grow waits for it. */
    private boolean passThroughWrite(long pos, ByteBuffer src, boolean fua) throws IOException {
        long stamp = lock.readLock();
        try {
            checkOpen();
            if (table.frameCount() != 0) return false;
            image.write(pos, src, fua);
            if (!fua) imageUnsynced = true;
            return true;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /**
     * Copies {@code src} (at most {@link #writeChunkBlocks} blocks) into fresh frames and installs them dirty in the
     * current epoch. Returns that epoch, or FAIL (try only: it would wait), PASS_THROUGH or TOO_BIG.
     */
    private long writeCached(long offset, ByteBuffer src, boolean tryOnly) throws IOException {
        int len = src.remaining();
        long end = offset + len;
        long first = offset >>> shift;
        long last = (end - 1) >>> shift;
        int k = (int) (last - first + 1);
        boolean headPartial = !covers(first, offset, end);
        boolean tailPartial = last != first && !covers(last, offset, end);
        Scratch s = scratch.get();
        int[] frames = k <= s.frames.length ? s.frames : new int[k];
        int[] crcs = k <= s.crcs.length ? s.crcs : new int[k];
        int srcPos = src.position();
        while (true) {
            long mark = progressCount;
            int status;
            long stamp = lock.writeLock();
            try {
                checkOpen();
                if (table.frameCount() == 0) return PASS_THROUGH;
                if (k > 1 && k > table.maxDirty()) return TOO_BIG;
                if ((headPartial && !present(first)) || (tailPartial && !present(last))) {
                    status = NEED_LOAD;
                } else if (table.dirtyRoomFor(k) && table.allocate(k, frames)) {
                    table.reserveDirty(k);
                    status = OK;
                } else {
                    status = FULL;
                }
            } finally {
                lock.unlockWrite(stamp);
            }
            if (status != OK) {
                if (tryOnly) return FAIL;
                if (status == NEED_LOAD) {
                    if (headPartial) ensureCached(first);
                    if (tailPartial) ensureCached(last);
                } else {
                    wakeWriteBack();
                    awaitProgress(mark);
                }
                continue;
            }
            // whole blocks: fill the private frames without the lock
            for (int i = 0; i < k; i++) {
                if ((i == 0 && headPartial) || (i == k - 1 && tailPartial)) continue;
                long b = first + i;
                int n = blockLength(b);
                arena.copyIn(frames[i], 0, src, srcPos + (int) ((b << shift) - offset), n);
                if (n < blockSize) arena.zero(frames[i], n, blockSize - n);
                crcs[i] = arena.crc(frames[i]);
            }
            long epoch;
            stamp = lock.writeLock();
            try {
                if (closed || (headPartial && !present(first)) || (tailPartial && !present(last))) {
                    for (int i = 0; i < k; i++) table.release(frames[i]);
                    table.unreserveDirty(k);
                    checkOpen();
                    epoch = FAIL; // a partial block's current version went meanwhile: start over
                } else {
                    for (int i = 0; i < k; i++) {
                        long b = first + i;
                        if ((i == 0 && headPartial) || (i == k - 1 && tailPartial)) {
                            long blockStart = b << shift;
                            long from = Math.max(offset, blockStart);
                            int n = (int) (Math.min(end, blockStart + blockSize) - from);
                            arena.copyFrame(table.lookup(b), frames[i]);
                            arena.copyIn(frames[i], (int) (from - blockStart), src, srcPos + (int) (from - offset), n);
                            crcs[i] = arena.crc(frames[i]);
                        }
                        table.installDirty(b, frames[i], crcs[i]);
                    }
                    epoch = table.currentEpoch();
                }
            } finally {
                lock.unlockWrite(stamp);
            }
            if (epoch == FAIL) {
                if (tryOnly) return FAIL;
                continue;
            }
            src.position(srcPos + len);
            wakeWriteBack();
            return epoch;
        }
    }

    private boolean present(long block) {
        int f = table.lookup(block);
        return f >= 0 && table.readable(f);
    }

    private boolean covers(long block, long from, long to) {
        long start = block << shift;
        return from <= start && to >= Math.min(start + blockSize, diskSize);
    }

    private int blockLength(long block) {
        return (int) Math.min(blockSize, diskSize - (block << shift));
    }

    /** Brings a block into the cache (for a partial write), through the read path. */
    private void ensureCached(long block) throws IOException {
        Scratch s = scratch.get();
        read(block << shift, s.block.clear().limit(blockLength(block)));
    }

    /**
     * A FUA or write-through write is cached in {@code epoch}: write back every older epoch, then this range, and
     * fsync. If a concurrent FLUSH and write already put a newer version in a later epoch, this write's version is
     * an older one still queued in {@code epoch}: the whole epoch goes.
     */
    private void syncRange(long offset, int len, long epoch) throws IOException {
        long first = offset >>> shift;
        long last = (offset + len - 1) >>> shift;
        imageOrder.lock();
        try {
            drainBefore(epoch);
            if (writeRange(first, last, epoch)) drainBefore(epoch + 1);
        } finally {
            imageOrder.unlock();
        }
    }

    // ---- flush, trim, zeroes, allocation

    @Override
    public void flush() throws IOException {
        long closedEpoch;
        long stamp = lock.writeLock();
        try {
            checkOpen();
            closedEpoch = table.frameCount() == 0 ? -1 : table.startEpoch();
        } finally {
            lock.unlockWrite(stamp);
        }
        if (closedEpoch >= 0 && mode != CacheMode.WRITE_BACK_RECOVERABLE) {
            imageOrder.lock();
            try {
                drainBefore(closedEpoch + 1);
            } finally {
                imageOrder.unlock();
            }
        }
        if (closedEpoch < 0 || imageUnsynced) {
            imageUnsynced = false;
            image.flush();
        }
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        // Advisory: small ranges are ignored (keeping the data is correct); large ones reach the image's allocator.
        long[] middle = alignedMiddle(offset, length);
        if (length <= SMALL_RANGE_BYTES || middle == null) return;
        barrier(middle[0], middle[1], () -> image.trim(middle[0], middle[1]));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) throws IOException {
        long[] middle = alignedMiddle(offset, length);
        if (length <= SMALL_RANGE_BYTES || middle == null) {
            writeZeroBytes(offset, length, fua);
            return;
        }
        if (middle[0] > offset) writeZeroBytes(offset, middle[0] - offset, fua);
        barrier(middle[0], middle[1], () -> {
            image.writeZeroes(middle[0], middle[1], mayPunchHole, fua);
            if (!fua) imageUnsynced = true;
        });
        long tail = middle[0] + middle[1];
        if (tail < offset + length) writeZeroBytes(tail, offset + length - tail, fua);
    }

    /** The whole blocks inside the range as {start, length}, the last block counting as whole at the disk's end. */
    private long[] alignedMiddle(long offset, long length) {
        long start = (offset + blockSize - 1) & -(long) blockSize;
        long end = offset + length == diskSize ? diskSize : (offset + length) & -(long) blockSize;
        return end > start ? new long[] {start, end - start} : null;
    }

    private void writeZeroBytes(long offset, long length, boolean fua) throws IOException {
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(length - done, zeroes.capacity());
            write(offset + done, zeroes.duplicate().limit(n), fua);
            done += n;
        }
    }

    private interface ImageOp {
        void run() throws IOException;
    }

    /**
     * An operation on a large aligned range of the image, in order with the cache: every older epoch and the range's
     * dirty blocks are written back first, the range's clean blocks dropped (and loads racing it not kept), then the
     * image does it. Writes racing it stay cached and reach the image after it.
     */
    private void barrier(long offset, long length, ImageOp op) throws IOException {
        long first = offset >>> shift;
        long last = (offset + length - 1) >>> shift;
        imageOrder.lock();
        try {
            long epoch;
            long stamp = lock.writeLock();
            try {
                checkOpen();
                epoch = table.frameCount() == 0 ? -1 : table.currentEpoch();
                barriers++;
                invalidations++;
            } finally {
                lock.unlockWrite(stamp);
            }
            try {
                if (epoch >= 0) {
                    drainBefore(epoch);
                    writeRange(first, last, epoch);
                    stamp = lock.writeLock();
                    try {
                        table.dropClean(first, last);
                    } finally {
                        lock.unlockWrite(stamp);
                    }
                }
                op.run();
            } finally {
                stamp = lock.writeLock();
                barriers--;
                invalidations++;
                lock.unlockWrite(stamp);
            }
        } finally {
            imageOrder.unlock();
        }
    }

    /** The image's answer, with cached dirty blocks counted as data (possibly covering less than asked). */
    @Override
    public List<Extent> allocation(long offset, long length) throws IOException {
        List<Extent> fromImage = image.allocation(offset, length);
        List<Extent> out = new ArrayList<>();
        long pos = offset;
        for (Extent x : fromImage) {
            if (x.hole() || x.zero()) {
                long dirty;
                long stamp = lock.readLock();
                try {
                    dirty = table.frameCount() == 0 ? -1 : table.firstDirty(pos >>> shift, (pos + x.length() - 1) >>> shift);
                } finally {
                    lock.unlockRead(stamp);
                }
                if (dirty >= 0) {
                    long dirtyStart = Math.max(pos, dirty << shift);
                    if (dirtyStart > pos) out.add(new Extent(dirtyStart - pos, x.hole(), x.zero()));
                    else out.add(Extent.data(Math.min(pos + x.length(), (dirty + 1) << shift) - pos));
                    return out;
                }
            }
            out.add(x);
            pos += x.length();
        }
        return out;
    }

    // ---- write-back

    private void runWriteBack() {
        while (!stopping) {
            boolean wrote = false;
            imageOrder.lock();
            try {
                if (!stopping && writeBackDue()) wrote = writeBackStep(Long.MAX_VALUE);
            } catch (IOException | RuntimeException e) {
                log.warn("Cache {}: write-back to the image failed, retrying: {}", arena.path(), e.toString());
                LockSupport.parkNanos(100_000_000L);
            } finally {
                imageOrder.unlock();
            }
            if (!wrote) {
                writeBackIdle = true;
                LockSupport.parkNanos(20_000_000L);
                writeBackIdle = false;
            }
        }
    }

    /**
     * Whether the background write-back should run now: at once without a flush interval; else once the oldest dirty
     * block has waited the interval (then until the cache is clean), or while half the dirty bound is used (so writers
     * rarely wait). FLUSH, shrink and close write back on their own, whatever this says.
     */
    private boolean writeBackDue() {
        if (writeBackDelayNanos == 0) return true;
        long dirty, maxDirty;
        long stamp = lock.readLock();
        try {
            dirty = table.dirty();
            maxDirty = table.maxDirty();
        } finally {
            lock.unlockRead(stamp);
        }
        long now = System.nanoTime();
        if (dirty == 0) {
            dirtySinceNanos = 0;
            draining = false;
            return false;
        }
        if (dirtySinceNanos == 0) dirtySinceNanos = now;
        if (now - dirtySinceNanos >= writeBackDelayNanos) draining = true;
        return draining || dirty * 2 >= maxDirty;
    }

    private void wakeWriteBack() {
        if (writeBackIdle) LockSupport.unpark(writeBackThread);
    }

    /** One batch of the oldest epoch below {@code epochLimit}; false when there is nothing to write there. */
    private boolean writeBackStep(long epochLimit) throws IOException {
        int n;
        long stamp = lock.writeLock();
        try {
            n = table.takeBatch(epochLimit, batchFrames, batchBlocks, batchMax);
        } finally {
            lock.unlockWrite(stamp);
        }
        if (n == 0) return false;
        writeOut(n);
        return true;
    }

    /** Writes back (and fsyncs) every epoch below {@code epoch}. Caller holds imageOrder. */
    private void drainBefore(long epoch) throws IOException {
        while (true) {
            if (writeBackStep(epoch)) continue;
            long stamp = lock.writeLock();
            try {
                if (table.durableBelow(epoch)) return;
            } finally {
                lock.unlockWrite(stamp);
            }
        }
    }

    /** Writes back the range's blocks dirty in epochs up to {@code maxEpoch}; true if a later version exists. */
    private boolean writeRange(long first, long last, long maxEpoch) throws IOException {
        boolean newer = false;
        while (true) {
            int n;
            long stamp = lock.writeLock();
            try {
                n = table.takeRange(first, last, maxEpoch, batchFrames, batchBlocks, batchMax);
                newer |= table.sawNewer();
            } finally {
                lock.unlockWrite(stamp);
            }
            if (n == 0) return newer;
            writeOut(n);
        }
    }

    /** Writes the in-flight batch to the image, adjacent blocks coalesced into one request, then fsyncs. */
    private void writeOut(int n) throws IOException {
        for (int i = 0; i < n; i++) batchKeys[i] = batchBlocks[i] << 20 | i;
        Arrays.sort(batchKeys, 0, n);
        long bytes = 0;
        try {
            staging.clear();
            int i = 0;
            while (i < n) {
                int j = (int) (batchKeys[i] & 0xFFFFF);
                long b = batchBlocks[j];
                boolean alone = i + 1 == n || batchBlocks[(int) (batchKeys[i + 1] & 0xFFFFF)] != b + 1;
                if (alone) { // no neighbour: written from the arena itself, no copy
                    int len = blockLength(b);
                    arena.writeFrame(batchFrames[j], len, image, b << shift);
                    bytes += len;
                    i++;
                    continue;
                }
                long runStart = b; // adjacent blocks: gathered into one request
                long next = b;
                while (i < n && batchBlocks[(int) (batchKeys[i] & 0xFFFFF)] == next) {
                    int k = (int) (batchKeys[i] & 0xFFFFF);
                    int len = blockLength(next);
                    arena.copyOut(batchFrames[k], 0, staging, staging.position(), len);
                    staging.position(staging.position() + len);
                    next++;
                    i++;
                }
                bytes += writeRun(runStart);
            }
            image.flush();
        } catch (IOException | RuntimeException e) {
            long stamp = lock.writeLock();
            try {
                table.abortWriteBack(batchFrames, n);
            } finally {
                lock.unlockWrite(stamp);
            }
            throw e;
        }
        long now = System.currentTimeMillis();
        long stamp = lock.writeLock();
        try {
            table.completeWriteBack(batchFrames, n, now);
        } finally {
            lock.unlockWrite(stamp);
        }
        writtenBack.addAndGet(bytes);
        lastWriteBackMillis = now;
        signalProgress();
    }

    private int writeRun(long runStart) throws IOException {
        staging.flip();
        int bytes = staging.remaining();
        image.write(runStart << shift, staging, false);
        staging.clear();
        return bytes;
    }

    // ---- resize and lifecycle

    /**
     * Changes the cache to {@code capacityBytes} (rounded down to whole blocks, at most the maximum fixed at open).
     * Growing appends frames. Shrinking writes back, oldest epoch first, what no longer fits under the new dirty
     * bound, moves the remaining dirty frames below the new end, drops clean ones, and truncates the arena, which
     * returns the memory. Requests keep being served meanwhile (writers may wait for room).
     */
    public ResizeReport resize(long capacityBytes) throws IOException {
        long frames = capacityBytes / blockSize;
        if (capacityBytes < 0 || frames > maxFrames)
            throw new IllegalArgumentException("capacityBytes must be from 0 to " + maxFrames * blockSize + ", not " + capacityBytes);
        int target = (int) frames;
        long started = System.nanoTime();
        long writtenBefore = writtenBack.get();
        int from;
        int moved = 0;
        int[] dropped = new int[0];
        Thread releaser = null;
        imageOrder.lock();
        try {
            long stamp = lock.writeLock();
            try {
                checkOpen();
                from = table.frameCount();
                if (target >= from) {
                    arena.resize(target);
                    table.grow(target);
                } else {
                    table.startShrink(target);
                    dropped = table.dropCleanAbove(target);
                }
            } finally {
                lock.unlockWrite(stamp);
            }
            updateChunk();
            if (dropped.length > 0) { // the clean frames' memory goes back while the dirty ones are written back
                int[] clean = dropped;
                releaser = new Thread(() -> releaseRuns(clean), "vigil-cache-release");
                releaser.start();
            }
            if (target < from) moved = finishShrink(target);
        } finally {
            imageOrder.unlock();
            joinQuietly(releaser);
        }
        signalProgress();
        ResizeReport report = new ResizeReport((long) from * blockSize, (long) target * blockSize,
                Duration.ofNanos(System.nanoTime() - started), writtenBack.get() - writtenBefore, moved);
        log.info("Cache {} resized: {}", arena.path(), report);
        return report;
    }

    /** Punches the frames out of the arena, one call per run of adjacent frames. */
    private void releaseRuns(int[] frames) {
        int i = 0;
        while (i < frames.length) {
            int j = i + 1;
            while (j < frames.length && frames[j] == frames[j - 1] + 1) j++;
            arena.releaseFrames(frames[i], j - i);
            i = j;
        }
    }

    private static void joinQuietly(Thread t) {
        if (t == null) return;
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private int finishShrink(int target) throws IOException {
        while (true) {
            long mark = progressCount;
            boolean ready;
            long stamp = lock.writeLock();
            try {
                ready = table.dirty() <= table.maxDirty() && !table.privateFramesAbove(target)
                        && table.canFinishShrink(target);
                if (ready) {
                    int moved = table.finishShrink(target);
                    arena.resize(target);
                    return moved;
                }
            } finally {
                lock.unlockWrite(stamp);
            }
            if (!writeBackStep(Long.MAX_VALUE)) awaitProgress(mark);
        }
    }

    /**
     * A clean stop: writes back everything, fsyncs the image, deletes the arena (nothing is left to recover) and
     * closes the image. If writing back fails, the arena stays for a later {@link #open} to replay.
     */
    @Override
    public void close() throws IOException {
        if (closed) return;
        stopWriteBack();
        imageOrder.lock();
        try {
            long epoch;
            long stamp = lock.writeLock();
            try {
                if (closed) return;
                closed = true;
                epoch = table.startEpoch();
            } finally {
                lock.unlockWrite(stamp);
            }
            drainBefore(epoch + 1);
            image.flush();
            stamp = lock.writeLock();
            try {
                arena.delete();
            } finally {
                lock.unlockWrite(stamp);
            }
        } finally {
            imageOrder.unlock();
            signalProgress();
        }
        image.close();
    }

    /**
     * Stops the write-back thread and unmaps the arena without writing anything back, leaving it for a later
     * {@link #open} (an agent restart while QEMU keeps running). Closes the image handle.
     */
    public void detach() throws IOException {
        if (closed) return;
        stopWriteBack();
        imageOrder.lock();
        try {
            long stamp = lock.writeLock();
            try {
                if (closed) return;
                closed = true;
                arena.setAgentState(ArenaLayout.AGENT_DETACHED);
                arena.close();
            } finally {
                lock.unlockWrite(stamp);
            }
        } finally {
            imageOrder.unlock();
            signalProgress();
        }
        image.close();
    }

    private void stopWriteBack() {
        stopping = true;
        LockSupport.unpark(writeBackThread);
        try {
            writeBackThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- helpers

    private void checkOpen() throws IOException {
        if (closed) throw new IOException("cache " + arena.path() + " is closed");
    }

    private void updateChunk() {
        long stamp = lock.readLock();
        try {
            writeChunkBlocks = (int) Math.max(1, Math.min(MAX_WRITE_BLOCKS, table.maxDirty() / 2));
        } finally {
            lock.unlockRead(stamp);
        }
    }

    private void signalProgress() {
        synchronized (progress) {
            progressCount++;
            progress.notifyAll();
        }
    }

    /** Waits until something changed since {@code mark} was read (write-back done, a load finished, a resize). */
    private void awaitProgress(long mark) throws IOException {
        synchronized (progress) {
            try {
                long deadline = System.nanoTime() + 50_000_000L;
                while (progressCount == mark && !closed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) break;
                    progress.wait(Math.max(1, left / 1_000_000L));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the cache", e);
            }
        }
        checkOpen();
    }

    /** Per-thread buffers, so that hits and writes with room allocate nothing. */
    private static final class Scratch {
        final int loadBlocks;
        final int[] frames = new int[MAX_WRITE_BLOCKS];
        final int[] crcs = new int[MAX_WRITE_BLOCKS];
        final ByteBuffer load;
        final ByteBuffer block;

        Scratch(int loadBlocks, int blockSize) {
            this.loadBlocks = loadBlocks;
            this.load = ByteBuffer.allocateDirect(loadBlocks * blockSize);
            this.block = ByteBuffer.allocate(blockSize);
        }
    }
}
