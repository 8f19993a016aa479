package io.vigil.agent.fence;

import io.vigil.protocol.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * {@code <stateDir>/fence-deadline.json}: written by tmp + rename, so a reader sees the old or the new record, never a
 * torn one. Not fsynced: it is local, and a crash of the host takes the VMs it guards down with it (the boot id
 * differs afterwards anyway).
 */
public final class FenceDeadlineFile {
    public static final String NAME = "fence-deadline.json";

    private FenceDeadlineFile() {}

    public static Path in(Path stateDir) {
        return stateDir.resolve(NAME);
    }

    public static void write(Path stateDir, FenceDeadline deadline) throws IOException {
        Path file = in(stateDir);
        Path tmp = stateDir.resolve(NAME + ".tmp");
        Files.writeString(tmp, Json.write(deadline));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The current record; empty when there is none.
     *
     * @throws IllegalArgumentException when the file is not a deadline record
     */
    public static Optional<FenceDeadline> read(Path stateDir) throws IOException {
        String text;
        try {
            text = Files.readString(in(stateDir));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        FenceDeadline d = Json.read(text, FenceDeadline.class);
        if (d == null || d.bootId() == null || d.deadlineNanos() == 0)
            throw new IllegalArgumentException("no boot id or deadline in " + in(stateDir));
        return Optional.of(d);
    }
}
