package io.vigil.agent.leader;

import io.vigil.protocol.storage.RecordFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The highest leader epoch this agent has seen, kept in {@code <stateDir>/leader-epoch} (local, like the agent's
 * restart state: it must survive an agent restart, and be readable when shared storage is not). Never lowered.
 * Thread-safe: one lock, held across the durable write, so that no command of a new epoch is admitted before that
 * epoch is on disk.
 */
public final class LeaderEpochs {
    private static final Logger log = LoggerFactory.getLogger(LeaderEpochs.class);
    public static final String FILE = "leader-epoch";

    /** The file's content. */
    public record Stored(long highestEpoch) {}

    /** Whether a command's epoch may act; {@code refusal} says why not (null when admitted). */
    public record Admission(boolean admitted, String refusal) {
        static final Admission ADMITTED = new Admission(true, null);
    }

    private final Path file;
    private long highest;
    /** The highest epoch known to be on disk: a command at or below it needs no write. */
    private long durable;

    private LeaderEpochs(Path file, long highest) {
        this.file = file;
        this.highest = highest;
        this.durable = highest;
    }

    /** Opens the record in {@code stateDir}; an unreadable one counts as 0 (the leader lease on storage raises it again). */
    public static LeaderEpochs open(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        Path file = stateDir.resolve(FILE);
        long highest = 0;
        try {
            Optional<Stored> stored = RecordFiles.read(file, Stored.class);
            if (stored.isPresent()) highest = Math.max(0, stored.get().highestEpoch());
        } catch (IOException e) {
            log.warn("ignoring unreadable leader epoch {}: {}; the leader lease on shared storage will raise it again",
                    file, e.getMessage());
        }
        return new LeaderEpochs(file, highest);
    }

    public synchronized long highest() {
        return highest;
    }

    /**
     * Admits a command of leader epoch {@code epoch}, or refuses it: lower than the highest seen (0, "no leader lease",
     * counts as lower once any epoch is known), or higher but not recordable on disk (executing it unrecorded would let
     * an older leader act again after an agent restart).
     */
    public synchronized Admission admit(long epoch) {
        if (epoch < highest) {
            return new Admission(false, "refused: command from leader epoch " + epoch + ", but epoch " + highest
                    + " is current (" + (epoch <= 0 ? "a controller without the leader lease" : "a replaced leader") + ")");
        }
        if (epoch > durable) {
            try {
                write(epoch);
            } catch (IOException e) {
                return new Admission(false, "refused: cannot record leader epoch " + epoch + " in " + file + ": "
                        + e.getMessage());
            }
        }
        highest = epoch;
        return Admission.ADMITTED;
    }

    /**
     * Raises the floor to {@code epoch} (claimed on shared storage); returns whether it rose. Recorded on disk as
     * well as it can be: a failed write is logged and tried again at the next command or raise.
     */
    public synchronized boolean raise(long epoch) {
        if (epoch <= highest) return false;
        log.info("leader epoch {} is current (was {})", epoch, highest);
        highest = epoch;
        try {
            write(epoch);
        } catch (IOException e) {
            log.warn("cannot record leader epoch {} in {}: {}", epoch, file, e.getMessage());
        }
        return true;
    }

    /** Replaces the file and syncs its directory: durable, whole or absent, when this returns. */
    private void write(long epoch) throws IOException {
        RecordFiles.replace(file, new Stored(epoch));
        RecordFiles.syncDirectory(file.getParent());
        durable = epoch;
    }
}
