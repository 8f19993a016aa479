package io.vigil.agent.libvirt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The one embedded libvirt root of a test JVM: libvirt's embedded QEMU driver serves one root per process ("already
 * open with path ..."), and every test class runs in the same surefire JVM. Sharing it also pays libvirt's probe of
 * QEMU's capabilities (seconds, on the first define) once. Under /tmp: libvirt's socket paths must stay short.
 * Removed when the JVM exits; test classes destroy and undefine the domains they made.
 */
public final class TestLibvirt {
    private TestLibvirt() {}

    private static final class Root {
        static final Path DIR = create();

        private static Path create() {
            try {
                Path dir = Files.createTempDirectory(Path.of("/tmp"), "vgl-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Whether real QEMU can run here; tests that need it are skipped otherwise. */
    public static boolean qemuInstalled() {
        return Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64"));
    }

    public static Path root() {
        return Root.DIR;
    }

    public static String uri() {
        return "qemu:///embed?root=" + root();
    }

    /** KVM where this process may use it, else QEMU's emulator. */
    public static String domainType() {
        Path kvm = Path.of("/dev/kvm");
        return Files.isReadable(kvm) && Files.isWritable(kvm) ? "kvm" : "qemu";
    }

    /** A minimal real VM: 64 MiB, qboot, no disk, no display; no UUID, so libvirt makes one up at define. */
    public static String domainXml(String name) {
        return "<domain type='" + domainType() + "'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type arch='x86_64' machine='pc'>hvm</type><loader type='rom'>/usr/share/qemu/qboot.rom</loader></os>"
                + "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><video><model type='none'/></video>"
                + "<memballoon model='none'/></devices></domain>";
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at exit
        }
    }
}
