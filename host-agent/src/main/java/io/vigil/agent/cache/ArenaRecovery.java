package io.vigil.agent.cache;

import io.vigil.agent.disk.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-attaching to an arena left by an agent that stopped without closing: checks whose it is, writes every valid
 * dirty block to the image in sequence order, fsyncs, and picks the frames that can stay as warm clean cache. Reads
 * the file with {@link ArenaReader}, as remote recovery would. Replaying is idempotent: a crash during it leaves the
 * arena unchanged for the next attempt.
 */
final class ArenaRecovery {
    private static final Logger log = LoggerFactory.getLogger(ArenaRecovery.class);

    /** What the arena held. {@code warm*}: frames to keep cached (same layout only). */
    record Recovered(boolean stale, boolean sameLayout, int written, long bytesWritten, int torn, int corrupt,
                     int[] warmFrames, long[] warmBlocks, long[] warmSeqs, long maxSequence, long nextEpoch) {
    }

    private ArenaRecovery() {
    }

    static Recovered recover(Path path, ArenaIdentity identity, BlockDevice image, CacheSettings settings) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ArenaReader reader = ArenaReader.of(channel);
            ArenaHeader h = reader.header();
            if (!h.vmId().equals(identity.vmId()) || !h.diskId().equals(identity.diskId()))
                throw new IOException("cache arena " + path + " belongs to VM '" + h.vmId() + "' disk '" + h.diskId()
                        + "', not VM '" + identity.vmId() + "' disk '" + identity.diskId() + "'; remove it or use another path");
            if (h.generation() > identity.generation())
                throw new IOException("cache arena " + path + " was written under lease generation " + h.generation()
                        + ", newer than this agent's " + identity.generation() + ": this agent's lease is stale");
            if (h.generation() < identity.generation()) {
                log.warn("Cache arena {} is of lease generation {}, older than {}: another host owned the disk since; "
                        + "discarding it unread", path, h.generation(), identity.generation());
                return new Recovered(true, false, 0, 0, 0, 0, new int[0], new long[0], new long[0], 0, 0);
            }
            List<ArenaSlot> slots = reader.slots();
            long maxSequence = 0;
            for (ArenaSlot s : slots) maxSequence = Math.max(maxSequence, s.sequence());

            int written = 0, torn = 0, corrupt = 0;
            long bytes = 0;
            ByteBuffer frame = ByteBuffer.allocateDirect(h.blockSize());
            Map<Long, ArenaSlot> newestDirty = new HashMap<>();
            Map<Long, Long> newestInvalid = new HashMap<>();
            for (ArenaSlot s : reader.dirtyBlocks()) {
                if (!s.valid()) {
                    if (s.validity() == ArenaSlot.Validity.TORN) torn++;
                    else corrupt++;
                    log.warn("Cache arena {}: skipping dirty block at offset {} (frame {}, sequence {}): {}", path,
                            s.diskOffset(), s.frame(), s.sequence(), s.validity());
                    newestInvalid.merge(s.diskOffset(), s.sequence(), Math::max);
                    continue;
                }
                if (s.diskOffset() < 0 || s.diskOffset() >= image.size() || s.diskOffset() % h.blockSize() != 0) {
                    corrupt++;
                    log.warn("Cache arena {}: dirty block at offset {} is outside the {}-byte image; skipped", path,
                            s.diskOffset(), image.size());
                    continue;
                }
                reader.readFrame(s.frame(), frame.clear());
                frame.flip().limit((int) Math.min(h.blockSize(), image.size() - s.diskOffset()));
                bytes += frame.remaining();
                image.write(s.diskOffset(), frame, false);
                written++;
                newestDirty.put(s.diskOffset(), s);
            }
            if (written > 0) image.flush();

            boolean sameLayout = h.blockSize() == settings.blockSize() && h.maxFrameCount() == settings.maxFrames();
            int[] frames = new int[slots.size()];
            long[] blocks = new long[slots.size()];
            long[] seqs = new long[slots.size()];
            int n = 0;
            if (sameLayout) {
                Map<Long, ArenaSlot> newestClean = new HashMap<>();
                for (ArenaSlot s : slots)
                    if (!s.dirty() && s.valid()) newestClean.merge(s.diskOffset(), s, (a, b) -> a.sequence() >= b.sequence() ? a : b);
                Map<Long, ArenaSlot> keep = new HashMap<>(newestClean);
                keep.putAll(newestDirty); // what was just written is what the image now holds
                for (ArenaSlot s : keep.values()) {
                    Long invalid = newestInvalid.get(s.diskOffset());
                    if (invalid != null && invalid > s.sequence()) continue;
                    ArenaSlot dirty = newestDirty.get(s.diskOffset());
                    if (dirty != null && dirty != s) continue;
                    if (s.diskOffset() >= image.size()) continue;
                    frames[n] = s.frame();
                    blocks[n] = s.diskOffset() / h.blockSize();
                    seqs[n] = s.sequence();
                    n++;
                }
            }
            log.info("Cache arena {} re-attached: {} dirty blocks ({} bytes) written to the image, {} torn and {} corrupt "
                    + "skipped, {} clean blocks kept", path, written, bytes, torn, corrupt, n);
            return new Recovered(false, sameLayout, written, bytes, torn, corrupt, java.util.Arrays.copyOf(frames, n),
                    java.util.Arrays.copyOf(blocks, n), java.util.Arrays.copyOf(seqs, n), maxSequence, h.currentEpoch() + 1);
        }
    }
}
