package io.vigil.agent.libvirt;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where libvirt's QEMU driver writes the pid of each running domain's QEMU process ({@code <dir>/<vm>.pid}), so
 * that a process other than libvirt's (the fence watchdog) can kill a VM without talking to libvirt:
 * {@code qemu:///embed?root=R} writes them under {@code R/run/qemu}, {@code qemu:///system} under
 * {@code /run/libvirt/qemu}. Other URIs (the test driver, a remote host, another hypervisor) have no QEMU process
 * here to find.
 */
public final class QemuPidFiles {
    private static final Path SYSTEM_DIR = Path.of("/run/libvirt/qemu");

    private final Path dir;

    private QemuPidFiles(Path dir) {
        this.dir = dir;
    }

    /** The pid files of {@code libvirtUri}'s QEMU processes on this machine, if it runs any. */
    public static Optional<QemuPidFiles> forUri(String libvirtUri) {
        Optional<Path> root = EmbeddedRoot.rootOf(libvirtUri);
        if (root.isPresent()) return Optional.of(new QemuPidFiles(root.get().resolve("run").resolve("qemu")));
        try {
            URI uri = new URI(libvirtUri);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme();
            boolean local = uri.getHost() == null || uri.getHost().isEmpty();
            if ((scheme.equals("qemu") || scheme.equals("qemu+unix")) && local && "/system".equals(uri.getPath()))
                return Optional.of(new QemuPidFiles(SYSTEM_DIR));
        } catch (Exception e) {
            // not a URI we know: no processes
        }
        return Optional.empty();
    }

    public Path dir() {
        return dir;
    }

    /**
     * The QEMU process running {@code vm} now: the pid libvirt recorded, if that process still runs this guest (a
     * pid file can outlive its process, and a pid can be reused).
     */
    public Optional<ProcessHandle> runningQemu(String vm) {
        OptionalLong pid = pidOf(vm);
        if (pid.isEmpty() || !ProcFiles.runsGuest(pid.getAsLong(), vm)) return Optional.empty();
        return ProcessHandle.of(pid.getAsLong());
    }

    /** The pid libvirt recorded for {@code vm}'s running QEMU; empty when it does not run (libvirt removes the file). */
    public OptionalLong pidOf(String vm) {
        try {
            String text = Files.readString(dir.resolve(vm + ".pid")).strip();
            return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
