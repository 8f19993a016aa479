package io.vigil.agent.cache;

import java.nio.charset.StandardCharsets;

/**
 * Whose disk an arena caches: the VM, the disk, and the VM's lease generation. A re-attach only replays an arena
 * written under the same VM, disk and generation; an arena of an older generation is stale (another host may have
 * recovered it and written the image since) and is discarded.
 */
public record ArenaIdentity(String vmId, String diskId, long generation) {
    /** The header holds each id in a fixed field of this many UTF-8 bytes, zero-padded. */
    public static final int MAX_ID_BYTES = 64;

    public ArenaIdentity {
        checkId("vmId", vmId);
        checkId("diskId", diskId);
        if (generation < 0) throw new IllegalArgumentException("generation must not be negative, not " + generation);
    }

    private static void checkId(String name, String value) {
        if (value == null || value.isBlank()) throw new IllegalArgumentException(name + " must not be blank");
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_ID_BYTES || value.indexOf('\0') >= 0)
            throw new IllegalArgumentException(name + " must be at most " + MAX_ID_BYTES + " UTF-8 bytes without NUL, not '"
                    + value + "' (" + bytes + " bytes)");
    }
}
