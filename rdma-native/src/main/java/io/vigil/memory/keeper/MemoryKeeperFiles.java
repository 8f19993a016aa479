package io.vigil.memory.keeper;

import io.vigil.protocol.Json;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The memory keeper's files in its state directory: {@code grant.key} (its HMAC key, base64 of 32 random bytes,
 * made once and kept, so that grants survive a keeper restart) and {@code keeper.json} (its
 * {@link MemoryKeeperEndpoint}, which the host's agent reads and reports to the controller). Both hold the key:
 * owner-only.
 */
public final class MemoryKeeperFiles {
    public static final String GRANT_KEY_FILE = "grant.key";
    public static final String ENDPOINT_FILE = "keeper.json";
    private static final int KEY_BYTES = 32;
    private static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_RWX = PosixFilePermissions.fromString("rwx------");

    private MemoryKeeperFiles() {}

    /** Creates {@code dir} owner-only if it is missing (an existing directory's mode is left as it is). */
    public static Path ensureDirectory(Path dir) throws IOException {
        return Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_RWX));
    }

    /** The keeper's grant key from {@code <stateDir>/grant.key}, made (0600) on first use. */
    public static String loadOrCreateGrantKey(Path stateDir) throws IOException {
        ensureDirectory(stateDir);
        Path file = stateDir.resolve(GRANT_KEY_FILE);
        if (!Files.exists(file)) {
            byte[] key = new byte[KEY_BYTES];
            new SecureRandom().nextBytes(key);
            Path tmp = writeOwnerOnly(stateDir, GRANT_KEY_FILE, Base64.getEncoder().encodeToString(key) + "\n");
            try {
                Files.createLink(file, tmp); // atomic and exclusive: a keeper starting alongside keeps the first key
            } catch (FileAlreadyExistsException e) {
                // the other one's key it is
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        String key = Files.readString(file, StandardCharsets.US_ASCII).strip();
        try {
            if (Base64.getDecoder().decode(key).length == KEY_BYTES) return key;
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new IOException(file + " is not a grant key (base64 of " + KEY_BYTES + " bytes); remove it to make a new one,"
                + " which invalidates grants issued under the old one");
    }

    /** Replaces {@code <stateDir>/keeper.json} atomically (0600). */
    public static void writeEndpoint(Path stateDir, MemoryKeeperEndpoint endpoint) throws IOException {
        ensureDirectory(stateDir);
        Path tmp = writeOwnerOnly(stateDir, ENDPOINT_FILE, Json.write(endpoint) + "\n");
        Files.move(tmp, stateDir.resolve(ENDPOINT_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The endpoint of the memory keeper whose state directory is {@code stateDir}: empty when none has written one
     * (none runs there, or it stopped cleanly); an {@link IOException} naming the file when it is unreadable.
     */
    public static Optional<MemoryKeeperEndpoint> readEndpoint(Path stateDir) throws IOException {
        Path file = stateDir.resolve(ENDPOINT_FILE);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.read(text, MemoryKeeperEndpoint.class));
        } catch (IllegalArgumentException e) {
            throw new IOException("memory keeper endpoint " + file + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Removes {@code keeper.json} if it still describes {@code endpoint} (not a newer keeper's). */
    public static void removeEndpoint(Path stateDir, MemoryKeeperEndpoint endpoint) throws IOException {
        Optional<MemoryKeeperEndpoint> current;
        try {
            current = readEndpoint(stateDir);
        } catch (IOException e) {
            return;
        }
        if (current.isPresent() && current.get().equals(endpoint)) Files.deleteIfExists(stateDir.resolve(ENDPOINT_FILE));
    }

    /** Writes {@code text} durably to a new owner-only temporary file next to {@code name}; returns it. */
    private static Path writeOwnerOnly(Path dir, String name, String text) throws IOException {
        Path tmp = dir.resolve("." + name + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(tmp);
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(OWNER_RW);
        try (FileChannel ch = FileChannel.open(tmp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), mode)) {
            ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
        return tmp;
    }
}
