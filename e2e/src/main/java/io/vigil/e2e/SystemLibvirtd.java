package io.vigil.e2e;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt as users run it: {@code libvirtd} with the QEMU driver in privileged mode ({@code qemu:///system}), QEMU as
 * {@code libvirt-qemu} under the DAC security driver, QEMU's output through {@code virtlogd}. With no systemd on the
 * test machines, {@link #start} runs {@code virtlogd} and {@code libvirtd} as child processes of the test, libvirtd
 * with its own configuration file and its own socket folder under {@code dir} (the URI names the socket:
 * {@code qemu:///system?socket=DIR/libvirt-sock}). A privileged QEMU driver keeps its state where the package put it
 * ({@code /etc/libvirt/qemu}, {@code /var/lib/libvirt/qemu}, {@code /run/libvirt/qemu}, {@code /var/log/libvirt/qemu}):
 * those paths are fixed when libvirt is built, so that is where these tests' domains live too.
 *
 * <p>If a libvirtd already runs on this machine (a developer's), it is used as it is, on {@code qemu:///system}: two
 * daemons must not manage the same QEMU state. The domains a test defines are its own to remove
 * ({@link #removeDomains}); nothing else of that daemon is touched.
 */
public final class SystemLibvirtd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemLibvirtd.class);
    private static final Path SYSTEM_SOCKET = Path.of("/run/libvirt/libvirt-sock");
    private static final Path VIRTLOGD_SOCKET = Path.of("/run/libvirt/virtlogd-sock");

    private final Path dir;
    private final String uri;
    private final List<Process> children = new ArrayList<>();

    private SystemLibvirtd(Path dir, String uri) {
        this.dir = dir;
        this.uri = uri;
    }

    /** Starts virtlogd (unless one answers) and a libvirtd of its own (unless one runs), and waits until both answer. */
    public static SystemLibvirtd start(Path dir) throws IOException {
        if (!Files.isExecutable(Path.of("/usr/sbin/libvirtd")))
            throw new IllegalStateException("libvirtd is not installed (Debian: libvirt-daemon-system)");
        if (answers(SYSTEM_SOCKET)) {
            log.info("a libvirtd already runs here: using it on qemu:///system");
            return new SystemLibvirtd(dir, "qemu:///system");
        }
        Files.createDirectories(dir);
        Path sockets = dir.resolve("sock");
        Files.createDirectories(sockets);
        SystemLibvirtd d = new SystemLibvirtd(dir, "qemu:///system?socket=" + sockets.resolve("libvirt-sock"));
        try {
            if (!answers(VIRTLOGD_SOCKET)) {
                Files.createDirectories(VIRTLOGD_SOCKET.getParent());
                d.children.add(d.launch("virtlogd", List.of("/usr/sbin/virtlogd", "--pid-file", dir.resolve("virtlogd.pid").toString())));
                awaitSocket(VIRTLOGD_SOCKET, d.children.get(0), "virtlogd");
            }
            Path conf = dir.resolve("libvirtd.conf");
            Files.writeString(conf, String.join("\n",
                    "unix_sock_dir = \"" + sockets + "\"",
                    "unix_sock_group = \"root\"",
                    "unix_sock_rw_perms = \"0700\"",
                    "unix_sock_ro_perms = \"0700\"",
                    "auth_unix_rw = \"none\"",
                    "auth_unix_ro = \"none\"",
                    "log_outputs = \"3:stderr\"",
                    ""));
            Process libvirtd = d.launch("libvirtd", List.of("/usr/sbin/libvirtd", "--config", conf.toString(), "--pid-file",
                    dir.resolve("libvirtd.pid").toString()));
            d.children.add(libvirtd);
            try {
                awaitSocket(sockets.resolve("libvirt-sock"), libvirtd, "libvirtd");
            } catch (IOException e) {
                throw new IOException(e.getMessage() + " (another libvirtd running here?); its log: "
                        + tail(dir.resolve("libvirtd.log")), e);
            }
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        log.info("libvirtd started on {}", d.uri);
        return d;
    }

    /** The URI agents connect with. */
    public String uri() {
        return uri;
    }

    /** Where libvirt writes a running domain's status ({@code <domstatus state='running'...}). */
    public static Path statusFile(String vm) {
        return Path.of("/run/libvirt/qemu", vm + ".xml");
    }

    /** The folder whose paths a QEMU of this daemon names on its command line (its per-domain state). */
    public static Path qemuStateDir() {
        return Path.of("/var/lib/libvirt/qemu");
    }

    /** The account QEMU runs as, per {@code virsh capabilities} (libvirt's DAC base label, e.g. {@code +999:+995}). */
    public String qemuDacLabel() throws IOException {
        String caps = virsh("capabilities");
        int model = caps.indexOf("<model>dac</model>");
        int start = caps.indexOf(">", caps.indexOf("<baselabel", model)) + 1;
        return caps.substring(start, caps.indexOf("</baselabel>", start)).strip();
    }

    /** Destroys and undefines the named domains (a test's own; others are left alone). */
    public void removeDomains(List<String> names) {
        for (String name : names) {
            try {
                virsh("destroy", name);
            } catch (IOException notRunning) {
                // fine
            }
            try {
                virsh("undefine", name);
            } catch (IOException notDefined) {
                // fine
            }
        }
    }

    /** Runs virsh against this daemon; throws with virsh's message when it fails. */
    public String virsh(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", uri));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("virsh " + String.join(" ", args) + " did not finish in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) throw new IOException("virsh " + String.join(" ", args) + ": " + out.strip());
        return out;
    }

    private Process launch(String name, List<String> command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()));
        log.info("starting {} (log {})", name, dir.resolve(name + ".log"));
        return pb.start();
    }

    private static void awaitSocket(Path socket, Process process, String what) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (answers(socket)) return;
            if (!process.isAlive()) throw new IOException(what + " exited with status " + process.exitValue());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        throw new IOException(what + " did not listen on " + socket + " within 30 s");
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static boolean answers(Path socket) {
        if (!Files.exists(socket)) return false;
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops the daemons this object started (libvirtd first); QEMU processes they ran are the tests' to stop. */
    @Override
    public void close() {
        for (int i = children.size() - 1; i >= 0; i--) {
            Process p = children.get(i);
            p.destroy();
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        children.clear();
    }
}
