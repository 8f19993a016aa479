package io.vigil.agent.libvirt;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The log libvirt keeps of each domain's QEMU ({@code /var/log/libvirt/qemu/VM.log} for {@code qemu:///system},
 * {@code ROOT/log/qemu/VM.log} for an embedded root): where QEMU says why a disk failed, which libvirt's pause reason
 * ({@code ioerror}) does not.
 */
public final class QemuLogs {
    private static final Path SYSTEM_DIR = Path.of("/var/log/libvirt/qemu");
    private static final int TAIL_BYTES = 64 * 1024;
    private static final Pattern DISK_ERROR = Pattern.compile(
            "(?i).*(nbd|failed to connect|permission denied|i/o error|no such file|connection refused).*");

    private final Path dir;

    private QemuLogs(Path dir) {
        this.dir = dir;
    }

    /** The QEMU logs of {@code libvirtUri}'s domains on this machine, if libvirt keeps them here. */
    public static Optional<QemuLogs> forUri(String libvirtUri) {
        Optional<Path> root = EmbeddedRoot.rootOf(libvirtUri);
        if (root.isPresent()) return Optional.of(new QemuLogs(root.get().resolve("log").resolve("qemu")));
        try {
            URI uri = new URI(libvirtUri);
            boolean local = uri.getHost() == null || uri.getHost().isEmpty();
            if (uri.getScheme() != null && uri.getScheme().startsWith("qemu") && local && "/system".equals(uri.getPath()))
                return Optional.of(new QemuLogs(SYSTEM_DIR));
        } catch (Exception e) {
            // not a URI we know
        }
        return Optional.empty();
    }

    /** The last line of {@code vm}'s QEMU log that speaks of a disk or connection error, if any. */
    public Optional<String> lastDiskError(String vm) {
        Path log = dir.resolve(vm + ".log");
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long from = Math.max(0, length - TAIL_BYTES);
            byte[] tail = new byte[(int) (length - from)];
            file.seek(from);
            file.readFully(tail);
            String[] lines = new String(tail, StandardCharsets.UTF_8).split("\n");
            for (int i = lines.length - 1; i >= 0; i--) {
                String line = lines[i].strip();
                if (DISK_ERROR.matcher(line).matches()) return Optional.of(line.length() > 400 ? line.substring(0, 400) : line);
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
