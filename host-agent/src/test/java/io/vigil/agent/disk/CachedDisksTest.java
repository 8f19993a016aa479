package io.vigil.agent.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.agent.nbd.SocketOwner;
import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's disk service with its real NBD server, caches and images, driven by real NBD clients ({@code nbdcopy},
 * {@code fio}): what reaches the image when, what a restart keeps, and a reclaim under load.
 */
class CachedDisksTest {
    private static final long MiB = 1 << 20;
    @TempDir Path dir;
    Path socketDir;
    CachedDisks disks;

    @BeforeEach
    void start() throws IOException {
        socketDir = Files.createTempDirectory(Path.of("/tmp"), "vcd-");
        disks = CachedDisks.start(socketDir, dir.resolve("arenas"), dir.resolve("records"));
    }

    @AfterEach
    void stop() throws IOException {
        if (disks != null) disks.close();
        try (var left = Files.list(socketDir)) {
            for (Path p : left.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(socketDir);
    }

    private DiskXml.Rewritten vm(String name, int mib, String... targets) throws IOException {
        StringBuilder devices = new StringBuilder();
        for (String t : targets) {
            Path image = dir.resolve("shared").resolve(name + "-" + t + ".img");
            Files.createDirectories(image.getParent());
            try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(mib * MiB);
            }
            devices.append("<disk type='file'><source file='").append(image).append("'/><target dev='").append(t)
                    .append("'/></disk>");
        }
        return disks.prepare(name, "<domain><name>" + name + "</name><devices>" + devices + "</devices></domain>");
    }

    private String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + disks.socketOf(export.substring(0, export.indexOf('/')));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
    }

    private byte[] randomFile(String name, int mib) throws IOException {
        byte[] data = new byte[mib << 20];
        new java.util.Random(name.hashCode()).nextBytes(data);
        Files.write(dir.resolve(name), data);
        return data;
    }

    @Test
    void writesStayInTheCacheUntilTheVmIsReleasedThenTheImageHasThemAndNoArenaRemains() throws Exception {
        DiskXml.Rewritten web = vm("web1", 16, "vda");
        disks.budgets(Map.of("web1", 32L));
        disks.serve("web1", web, CacheMode.WRITE_BACK, 1);
        byte[] data = randomFile("data", 8);

        run("nbdcopy", dir.resolve("data").toString(), uri("web1/vda"));
        DiskService.CacheUse use = disks.use("web1");
        assertTrue(use.bytes() >= 8 * MiB, "the written blocks are cached: " + use);

        disks.release("web1");
        byte[] image = Files.readAllBytes(web.disks().get(0).image());
        assertArrayEquals(data, java.util.Arrays.copyOf(image, data.length), "the image holds every write");
        try (var arenas = Files.list(dir.resolve("arenas"))) {
            assertEquals(List.of(), arenas.toList());
        }
        assertEquals(DiskService.CacheUse.NONE, disks.use("web1"));
    }

    @Test
    void aVmTheControllerRestartedElsewhereIsDiscardedWithoutItsCacheReachingTheImage() throws Exception {
        DiskXml.Rewritten web = vm("web2", 16, "vda");
        disks.budgets(Map.of("web2", 32L));
        disks.serve("web2", web, CacheMode.WRITE_BACK_RECOVERABLE, 1);
        randomFile("data", 1);
        run("nbdcopy", dir.resolve("data").toString(), uri("web2/vda"));

        disks.discard("web2");
        assertTrue(Files.exists(web.disks().get(0).image()));
        try (var arenas = Files.list(dir.resolve("arenas"))) {
            assertEquals(List.of(), arenas.toList(), "its arena is gone");
        }
        assertFalse(Files.exists(dir.resolve("records/web2.json")), "and it is not served again after a restart");
    }

    @Test
    void aRestartedServiceServesTheSameDisksFromTheirArenasAndWritesThemBackOnRelease() throws Exception {
        DiskXml.Rewritten db = vm("db1", 16, "vda", "vdb");
        disks.budgets(Map.of("db1", 32L));
        disks.serve("db1", db, CacheMode.WRITE_BACK, 3);
        byte[] a = randomFile("a", 4);
        byte[] b = randomFile("b", 4);
        run("nbdcopy", dir.resolve("a").toString(), uri("db1/vda"));
        run("nbdcopy", dir.resolve("b").toString(), uri("db1/vdb"));
        disks.close(); // an agent stop: nothing written back, the arenas stay

        disks = CachedDisks.start(socketDir, dir.resolve("arenas"), dir.resolve("records"));
        assertEquals(List.of("db1"), disks.recover(vm -> true, vm -> true));
        Path copy = dir.resolve("read-back");
        run("nbdcopy", uri("db1/vda"), copy.toString());
        assertArrayEquals(a, java.util.Arrays.copyOf(Files.readAllBytes(copy), a.length), "served again, same data");
        assertTrue(disks.use("db1").bytes() > 0, "its caches kept their size until the controller's budgets arrive");

        disks.release("db1");
        assertArrayEquals(a, java.util.Arrays.copyOf(Files.readAllBytes(db.disks().get(0).image()), a.length));
        assertArrayEquals(b, java.util.Arrays.copyOf(Files.readAllBytes(db.disks().get(1).image()), b.length));
    }

    @Test
    void eachVmHasItsOwnSocketServingOnlyItsOwnDisks() throws Exception {
        disks.serve("iso-a", vm("iso-a", 4, "vda"), CacheMode.WRITE_BACK, 1);
        disks.serve("iso-b", vm("iso-b", 4, "vda"), CacheMode.WRITE_BACK, 1);
        Path aSocket = disks.socketOf("iso-a");
        assertEquals(socketDir.resolve("iso-a.sock"), aSocket);

        String listed = output("nbdinfo", "--list", "nbd+unix://?socket=" + aSocket);
        assertTrue(listed.contains("iso-a/vda") && !listed.contains("iso-b"), "a VM's socket lists its own exports only: " + listed);
        Process other = new ProcessBuilder("nbdinfo", "nbd+unix:///iso-b/vda?socket=" + aSocket).redirectErrorStream(true).start();
        String refused = new String(other.getInputStream().readAllBytes());
        assertTrue(other.waitFor(60, TimeUnit.SECONDS));
        assertTrue(other.exitValue() != 0, "another VM's export cannot be opened on this socket: " + refused);
        run("nbdinfo", "nbd+unix:///iso-b/vda?socket=" + disks.socketOf("iso-b")); // on its own socket, it can

        disks.release("iso-a");
        assertFalse(Files.exists(aSocket), "a released VM's socket is gone");
    }

    @Test
    void aVmSocketBelongsToQemusAccountAndGetsItBackAfterAHandChmodAndARestart() throws Exception {
        disks.close();
        SocketOwner nobody = new SocketOwner(65534, 65534);
        disks = CachedDisks.start(socketDir, dir.resolve("arenas"), dir.resolve("records"), 0,
                xml -> java.util.Optional.of("+65534:+65534"));
        disks.serve("own1", vm("own1", 4, "vda"), CacheMode.WRITE_BACK, 1);
        Path socket = disks.socketOf("own1");
        assertOwnedBy(nobody, socket);
        assertEquals("rwx--x--x", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socketDir)), "the socket folder is searchable, not listable");

        // An operator's chmod and chown by hand, then an agent restart: the socket is made again as QEMU needs it.
        Files.setAttribute(socket, "unix:uid", 0);
        Files.setAttribute(socket, "unix:gid", 0);
        Files.setPosixFilePermissions(socket, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        disks.close();
        disks = CachedDisks.start(socketDir, dir.resolve("arenas"), dir.resolve("records"), 0,
                xml -> java.util.Optional.of("+65534:+65534"));
        assertEquals(List.of("own1"), disks.recover(vm -> true, vm -> true));
        assertOwnedBy(nobody, disks.socketOf("own1"));
        run("nbdinfo", "nbd+unix:///own1/vda?socket=" + disks.socketOf("own1")); // root still reaches it
    }

    @Test
    void aSocketQemusAccountCannotReachIsRefusedWithTheFolderThatBlocksIt() throws Exception {
        disks.close();
        Path hidden = Files.createTempDirectory(Path.of("/tmp"), "vch-"); // 0700: nobody cannot search it
        try {
            disks = CachedDisks.start(hidden.resolve("nbd"), dir.resolve("arenas"), dir.resolve("records"), 0,
                    xml -> java.util.Optional.of("+65534:+65534"));
            DiskXml.Rewritten w = disks.prepare("hid1", vm("hid1", 4, "vda").xml());
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> disks.serve("hid1", w, CacheMode.WRITE_BACK, 1));
            assertTrue(e.getMessage().contains(hidden.toString()) && e.getMessage().contains("+65534:+65534"), e.getMessage());
            assertEquals(List.of(), disks.exports(), "nothing is left served");
        } finally {
            disks.close();
            disks = null;
            try (var all = Files.walk(hidden)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static void assertOwnedBy(SocketOwner owner, Path socket) throws IOException {
        assertEquals(owner.uid(), Files.getAttribute(socket, "unix:uid"), "owner of " + socket);
        assertEquals(owner.gid(), Files.getAttribute(socket, "unix:gid"), "group of " + socket);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    private static String output(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    @Test
    void aVmWhoseLeaseIsGoneIsNotServedAgainAndItsArenaIsLeftForRecovery() throws Exception {
        DiskXml.Rewritten app = vm("app1", 8, "vda");
        disks.budgets(Map.of("app1", 8L));
        disks.serve("app1", app, CacheMode.WRITE_BACK, 1);
        disks.close();

        disks = CachedDisks.start(socketDir, dir.resolve("arenas"), dir.resolve("records"));
        assertEquals(List.of(), disks.recover(vm -> false, vm -> true));
        try (var arenas = Files.list(dir.resolve("arenas"))) {
            assertEquals(1, arenas.count(), "the arena stays for the host that takes the VM over");
        }
    }

    @Test
    void aReclaimUnderLoadShrinksTheCachesWhileAVerifyingWriterCarriesOn() throws Exception {
        DiskXml.Rewritten busy = vm("busy1", 64, "vda");
        disks.budgets(Map.of("busy1", 64L));
        disks.serve("busy1", busy, CacheMode.WRITE_BACK, 1);
        waitFor(() -> capacityMiB() == 64, "the budget applied");

        Process fio = new ProcessBuilder("fio", "--name=load", "--ioengine=nbd", "--uri=" + uri("busy1/vda"),
                "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=48m", "--rate_iops=4000", "--verify=crc32c",
                "--do_verify=1", "--verify_fatal=1").redirectErrorStream(true)
                .directory(dir.toFile()).start(); // fio writes its verify state into its working directory
        Thread.sleep(1000);
        assertTrue(fio.isAlive(), "the writer is still writing when the reclaim starts");
        Duration took = disks.reclaim(48);
        String out = new String(fio.getInputStream().readAllBytes());
        assertTrue(fio.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, fio.exitValue(), "fio verified every block it wrote:\n" + out);
        assertTrue(took.toMillis() >= 0);
        assertTrue(capacityMiB() <= 16, "48 of 64 MiB given back: " + capacityMiB() + " MiB left");
    }

    private long capacityMiB() {
        return disks.capacity("busy1") / MiB;
    }

    private static void waitFor(BooleanSupplier c, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError("timed out: " + what);
            Thread.sleep(50);
        }
    }
}
