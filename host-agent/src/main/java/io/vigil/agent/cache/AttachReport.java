package io.vigil.agent.cache;

import java.time.Duration;

/**
 * What {@link BlockCache#open} found. {@code created}: a new arena. Otherwise the arena was re-attached: its valid
 * dirty blocks were written to the image in sequence order and fsynced ({@code dirtyBlocksWrittenBack}); dirty slots
 * that failed validation were skipped ({@code tornSkipped}: the two sequence copies differ, the write was never
 * acknowledged; {@code corruptSkipped}: the frame's checksum does not match); {@code warmBlocks} clean blocks stay
 * cached. {@code staleDiscarded}: the arena was of an older lease generation and was dropped unread.
 */
public record AttachReport(boolean created, boolean staleDiscarded, int dirtyBlocksWrittenBack, long bytesWrittenBack,
                           int tornSkipped, int corruptSkipped, int warmBlocks, Duration took) {
}
