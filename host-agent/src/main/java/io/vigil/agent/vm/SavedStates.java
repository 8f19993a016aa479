package io.vigil.agent.vm;

import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * VM memory states saved on shared storage for a planned move ({@code saves/<vm>.g<N>.save}). The controller names
 * them relative to the storage root; only plain files directly in {@code saves/} are accepted, so that a command can
 * neither write nor delete anything else (a lease, a disk image). A save is written under a {@code .part} name and
 * renamed once complete: a file under the final name is always a whole saved state.
 */
final class SavedStates {
    private static final String PART = ".part";

    private final Path root;
    private final Path savesDir;
    private final Path leasesDir;

    SavedStates(SharedStorage storage) {
        this.root = storage.root().toAbsolutePath().normalize();
        this.savesDir = root.resolve(storage.savesDir().getFileName());
        this.leasesDir = storage.leasesDir().toAbsolutePath().normalize();
    }

    /** The absolute path of {@code relative}; a person-readable {@link IllegalArgumentException} if it is not one. */
    Path resolve(String relative) {
        if (relative == null || relative.isBlank())
            throw new IllegalArgumentException("no saved-state path given");
        Path p;
        try {
            p = Path.of(relative);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("saved-state path '" + relative + "' is not a path");
        }
        Path file = root.resolve(p).normalize();
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        if (p.isAbsolute() || !savesDir.equals(file.getParent()) || !name.endsWith(".save") || name.startsWith("."))
            throw new IllegalArgumentException("saved-state path '" + relative
                    + "' must name a .save file in saves/ under the shared storage root, e.g. saves/vm1.g4.save");
        return file;
    }

    /** The relative name of {@code file} for messages, as the controller gave it. */
    String relative(Path file) {
        return root.relativize(file).toString();
    }

    /**
     * Where a save to {@code file} is written until complete. Creates {@code saves/} next to {@code leases/} if it is
     * missing, but never in a storage root without {@code leases/}: that is a vanished mount, not shared storage.
     */
    Path partFor(Path file) throws IOException {
        if (!Files.isDirectory(savesDir)) {
            if (!Files.isDirectory(leasesDir)) throw new NoSuchFileException(leasesDir.toString(), null,
                    "shared storage is not mounted (no leases directory)");
            try {
                Files.createDirectory(savesDir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made by another host meanwhile
            }
        }
        Path part = file.resolveSibling(file.getFileName() + PART);
        Files.deleteIfExists(part); // left by a save that did not finish
        return part;
    }

    /** Gives the complete save its final name. */
    void complete(Path part, Path file) throws IOException {
        Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
