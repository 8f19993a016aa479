package io.vigil.protocol.storage;

import io.vigil.protocol.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Reads and writes small JSON records on shared storage. A record file is one line {@code <crc32c hex> <json>};
 * a file whose checksum does not match is reported as corrupt, never parsed.
 */
public final class RecordFiles {
    private RecordFiles() {}

    static String encode(Object record) {
        String json = Json.write(record);
        return String.format("%08x %s%n", crc(json), json);
    }

    static <T> T decode(String text, Class<T> type, Path origin) throws IOException {
        String line = text.strip();
        int space = line.indexOf(' ');
        if (space != 8) throw new IOException("corrupt record " + origin + ": no checksum");
        String json = line.substring(9);
        long expected;
        try {
            expected = Long.parseLong(line.substring(0, 8), 16);
        } catch (NumberFormatException e) {
            throw new IOException("corrupt record " + origin + ": bad checksum field");
        }
        if (crc(json) != expected) throw new IOException("corrupt record " + origin + ": checksum mismatch");
        try {
            return Json.read(json, type);
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt record " + origin + ": " + e.getMessage());
        }
    }

    private static long crc(String json) {
        CRC32C crc = new CRC32C();
        crc.update(json.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    /** Replaces {@code file} atomically with {@code record}, durable when this returns. */
    public static void replace(Path file, Object record) throws IOException {
        Files.createDirectories(file.getParent());
        replaceInExistingDir(file, record);
    }

    /**
     * Like {@link #replace} but never creates directories: when the parent is gone the write fails. Writers on
     * shared storage use this, so that a vanished mount (or a removed symlink to it) makes writes fail instead of
     * silently recreating the path on local disk, where a heartbeat would keep "succeeding" unseen by anyone.
     */
    public static void replaceInExistingDir(Path file, Object record) throws IOException {
        Path dir = file.getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        writeDurably(tmp, encode(record), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("shared storage must support atomic rename: " + dir, e);
        }
    }

    /**
     * Creates {@code file} holding {@code record} only if it does not exist yet (O_CREAT|O_EXCL, atomic on local
     * file systems and NFSv3+). Returns false when it already exists: someone else created it first.
     */
    public static boolean createExclusively(Path file, Object record) throws IOException {
        Files.createDirectories(file.getParent());
        return createExclusivelyInExistingDir(file, record);
    }

    /** Like {@link #createExclusively} but never creates directories (see {@link #replaceInExistingDir}). */
    public static boolean createExclusivelyInExistingDir(Path file, Object record) throws IOException {
        try {
            writeDurably(file, encode(record), StandardOpenOption.CREATE_NEW);
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * Creates {@code file} holding {@code record} only if it does not exist yet, and never visible half-written: the
     * record is written to a temporary file in the same directory and fsynced, then hard-linked to its name
     * ({@code link(2)} fails with EEXIST when the name is taken; atomic on local file systems and on NFS), then the
     * directory is fsynced. Returns false when someone else created it first. A crash at any point leaves either no
     * file or the whole record, plus at most a stray temporary file (named {@code .<name>.<random>.tmp}).
     */
    public static boolean createWhole(Path file, Object record) throws IOException {
        Path dir = file.getParent();
        Path tmp = dir.resolve("." + file.getFileName() + "." + java.util.UUID.randomUUID() + ".tmp");
        writeDurably(tmp, encode(record), StandardOpenOption.CREATE_NEW);
        try {
            Files.createLink(file, tmp);
            syncDirectory(dir);
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Makes the directory's entries (creations, renames, removals) durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Decodes a record read from {@code origin}; a bad checksum or unparsable JSON is an IOException naming it. */
    public static <T> T decodeRecord(String text, Class<T> type, Path origin) throws IOException {
        return decode(text, type, origin);
    }

    /** One record as it is written: {@code <crc32c hex> <json>} and a newline. */
    public static String encodeRecord(Object record) {
        return encode(record);
    }

    public static <T> Optional<T> read(Path file, Class<T> type) throws IOException {
        if (!Files.exists(file)) return Optional.empty();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
        if (text.isBlank()) return Optional.empty(); // created but not yet written by a concurrent creator
        return Optional.of(decode(text, type, file));
    }

    private static void writeDurably(Path file, String text, StandardOpenOption... options) throws IOException {
        java.util.Set<StandardOpenOption> opts = new java.util.HashSet<>(java.util.List.of(options));
        opts.add(StandardOpenOption.WRITE);
        try (FileChannel ch = FileChannel.open(file, opts)) {
            ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
    }
}
