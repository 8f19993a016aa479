package io.vigil.controller.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.protocol.storage.RecordFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The durable cluster state on shared storage: the only place where acknowledged desired and security state lives.
 * Layout (format 2, documented in {@code controller/STORE.md}):
 * <pre>
 *   control-plane/FORMAT                                 "vigil-control-plane 2"
 *   control-plane/state/&lt;collection&gt;/&lt;key&gt;/&lt;revision&gt;.rec   one revision of one record ({@link StoredRecord})
 * </pre>
 * Keys are percent-encoded into file names. A write is a compare-and-set: it creates revision N + 1 whole and
 * exclusively ({@link RecordFiles#createWhole}: written to a temporary file, fsynced, hard-linked to its name, the
 * directory fsynced), so of two writers that both read revision N one wins and the other retries; there is no lock, so
 * a frozen or dead controller blocks nobody. A crash at any instant leaves the old revision or the new one, never a
 * torn record. Readers take the highest revision; all but the newest two are removed after each write.
 *
 * <p>Format 2 differs from format 1 only in that records of the secret collections hold their value sealed
 * ({@link StoredRecord#sealed}); a format-1 directory opens as such ({@link #holdsPlaintextSecrets}) until
 * {@link StorageSealing} has sealed them and called {@link #secretsSealed}.
 *
 * <p>A record whose checksum or JSON is bad is reported by its path and left out; nothing else stops. Thread-safe.
 */
public final class StateDirectory {
    public static final String FORMAT_LINE = "vigil-control-plane 2";
    /** Before secrets were sealed: opened, and converted by {@link StorageSealing}. */
    static final String FORMAT_1_LINE = "vigil-control-plane 1";
    private static final Pattern REVISION = Pattern.compile("\\d{16}\\.rec");

    /** A record that could not be read: its file and why. */
    public record Corrupt(Path file, String reason) {}

    /** What a full read of a collection found. */
    public record Snapshot(Map<String, StoredRecord> records, List<Corrupt> corrupt) {}

    private final Path root;
    private final Path formatFile;
    private volatile boolean plaintextSecrets;
    private final String writer;
    private final LongSupplier clock;
    private final Map<Path, String> reportedCorrupt = new ConcurrentHashMap<>();

    private StateDirectory(Path root, Path formatFile, boolean plaintextSecrets, String writer, LongSupplier clock) {
        this.root = root;
        this.formatFile = formatFile;
        this.plaintextSecrets = plaintextSecrets;
        this.writer = writer;
        this.clock = clock;
    }

    /**
     * Opens (creating on first use) the state directory under {@code controlPlaneDir}; refuses a directory written in
     * a format this controller does not know.
     */
    public static StateDirectory open(Path controlPlaneDir, String writer, LongSupplier clock) throws IOException {
        Files.createDirectories(controlPlaneDir.resolve("state"));
        Path format = controlPlaneDir.resolve("FORMAT");
        if (!Files.exists(format)) {
            Path tmp = controlPlaneDir.resolve(".FORMAT." + java.util.UUID.randomUUID() + ".tmp");
            Files.writeString(tmp, FORMAT_LINE + "\n");
            try {
                Files.createLink(format, tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another controller initialized it first
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        String found = Files.readString(format, StandardCharsets.UTF_8).strip();
        if (!found.equals(FORMAT_LINE) && !found.equals(FORMAT_1_LINE))
            throw new IOException(format + " says '" + found + "'; this controller reads '" + FORMAT_LINE + "' (and converts '"
                    + FORMAT_1_LINE + "') only");
        return new StateDirectory(controlPlaneDir.resolve("state"), format, found.equals(FORMAT_1_LINE), writer, clock);
    }

    public Path root() {
        return root;
    }

    /** Whether this is a format-1 directory, whose secret collections may hold plaintext records. */
    public boolean holdsPlaintextSecrets() {
        return plaintextSecrets;
    }

    /** Records that every secret collection is sealed now: the directory becomes format 2 (an atomic rename). */
    void secretsSealed() throws IOException {
        Path tmp = formatFile.resolveSibling(".FORMAT." + java.util.UUID.randomUUID() + ".tmp");
        try {
            Files.writeString(tmp, FORMAT_LINE + "\n");
            Files.move(tmp, formatFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            RecordFiles.syncDirectory(formatFile.getParent());
        } finally {
            Files.deleteIfExists(tmp);
        }
        plaintextSecrets = false;
    }

    /** The newest revision of {@code key}, tombstones included; empty when it was never written. */
    public Optional<StoredRecord> read(String collection, String key) {
        Path dir = keyDir(collection, key);
        try {
            for (long revision : revisionsNewestFirst(dir)) {
                Path file = dir.resolve(fileName(revision));
                try {
                    Optional<StoredRecord> r = RecordFiles.read(file, StoredRecord.class);
                    if (r.isEmpty()) continue; // removed by a concurrent cleanup: an older one is gone too, list again
                    check(r.get(), collection, key, revision, file);
                    return r;
                } catch (IOException e) {
                    report(file, e.getMessage());
                    throw new CorruptRecordException(file, e.getMessage());
                }
            }
            return Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + dir, e);
        }
    }

    /**
     * Writes revision {@code expectedRevision + 1} of {@code key} ({@code value} null: a tombstone). False when that
     * revision exists already: someone else wrote {@code key} since it was read. Durable when it returns true.
     */
    public boolean write(String collection, String key, long expectedRevision, JsonNode value) {
        return write(collection, key, expectedRevision, value, null);
    }

    /** As {@link #write}, for a record of a secret collection: its value {@code sealed}. */
    public boolean writeSealed(String collection, String key, long expectedRevision, String sealed) {
        return write(collection, key, expectedRevision, null, java.util.Objects.requireNonNull(sealed));
    }

    private boolean write(String collection, String key, long expectedRevision, JsonNode value, String sealed) {
        Path dir = keyDir(collection, key);
        long revision = expectedRevision + 1;
        StoredRecord record = new StoredRecord(StoredRecord.FORMAT, collection, key, revision, value == null && sealed == null,
                value, sealed, writer, clock.getAsLong());
        try {
            boolean fresh = !Files.isDirectory(dir);
            Files.createDirectories(dir);
            if (fresh) RecordFiles.syncDirectory(dir.getParent());
            if (!RecordFiles.createWhole(dir.resolve(fileName(revision)), record)) return false;
            removeOlderThan(dir, revision - 1);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + dir.resolve(fileName(revision)), e);
        }
    }

    /** Every key of {@code collection} at its newest revision (tombstones included), and what could not be read. */
    public Snapshot readAll(String collection) {
        Map<String, StoredRecord> out = new TreeMap<>();
        List<Corrupt> corrupt = new ArrayList<>();
        Path dir = root.resolve(collection);
        if (!Files.isDirectory(dir)) return new Snapshot(out, corrupt);
        try (DirectoryStream<Path> keys = Files.newDirectoryStream(dir)) {
            for (Path keyDir : keys) {
                String name = keyDir.getFileName().toString();
                if (name.startsWith(".")) continue;
                String key;
                try {
                    key = KeyNames.decode(name);
                } catch (IllegalArgumentException e) {
                    corrupt.add(new Corrupt(keyDir, "not a key name: " + e.getMessage()));
                    continue;
                }
                try {
                    read(collection, key).ifPresent(r -> out.put(key, r));
                } catch (CorruptRecordException e) {
                    corrupt.add(new Corrupt(e.file(), e.reason()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not list " + dir, e);
        }
        return new Snapshot(out, corrupt);
    }

    private void check(StoredRecord r, String collection, String key, long revision, Path file) throws IOException {
        if (r.format() != StoredRecord.FORMAT) throw new IOException("format " + r.format() + " is not " + StoredRecord.FORMAT);
        if (!collection.equals(r.collection()) || !key.equals(r.key()) || r.revision() != revision)
            throw new IOException("names " + r.collection() + "/" + r.key() + " revision " + r.revision()
                    + ", not the file it is in");
        if (!r.deleted() && r.value() == null && r.sealed() == null) throw new IOException("no value and not deleted");
    }

    private void report(Path file, String reason) {
        if (reportedCorrupt.put(file, reason) == null)
            org.slf4j.LoggerFactory.getLogger(StateDirectory.class).error(
                    "corrupt record {} ({}): left out; every other record is served. Restore it from a backup or "
                            + "delete the file to go back to the previous revision", file, reason);
    }

    /**
     * Reports revision {@code revision} of {@code key} as corrupt for a reason found above this layer (a sealed value
     * that does not open): logged once, like the ones found here.
     */
    public Corrupt reportCorrupt(String collection, String key, long revision, String reason) {
        Path file = keyDir(collection, key).resolve(fileName(revision));
        report(file, reason);
        return new Corrupt(file, reason);
    }

    /**
     * Removes every revision of {@code key} but the newest: after a conversion, so that no older revision keeps what
     * the newest one no longer holds in plaintext.
     */
    void keepNewestRevisionOnly(String collection, String key) {
        Path dir = keyDir(collection, key);
        try {
            List<Long> revisions = revisionsNewestFirst(dir);
            if (!revisions.isEmpty()) removeOlderThan(dir, revisions.get(0));
        } catch (NoSuchFileException e) {
            // removed meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException("could not clean up " + dir, e);
        }
    }

    /** Every corrupt record seen so far, by file. */
    public Map<Path, String> corruptRecords() {
        return Map.copyOf(reportedCorrupt);
    }

    private Path keyDir(String collection, String key) {
        return root.resolve(collection).resolve(KeyNames.encode(key));
    }

    private static String fileName(long revision) {
        return String.format("%016d.rec", revision);
    }

    private static List<Long> revisionsNewestFirst(Path dir) throws IOException {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (REVISION.matcher(n).matches()) out.add(Long.parseLong(n.substring(0, 16)));
            }
        }
        out.sort(Comparator.reverseOrder());
        return out;
    }

    private static void removeOlderThan(Path dir, long keepFrom) throws IOException {
        for (long r : revisionsNewestFirst(dir)) if (r < keepFrom) Files.deleteIfExists(dir.resolve(fileName(r)));
    }

    /** A record on storage that cannot be believed: a bad checksum, bad JSON, or a record naming another place. */
    public static final class CorruptRecordException extends RuntimeException {
        private final transient Path file;
        private final String reason;

        CorruptRecordException(Path file, String reason) {
            super("corrupt record " + file + ": " + reason);
            this.file = file;
            this.reason = reason;
        }

        public Path file() {
            return file;
        }

        public String reason() {
            return reason;
        }
    }
}
