package io.vigil.agent.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.protocol.VmPowerState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against real libvirt with real QEMU, through the test JVM's embedded driver root ({@link TestLibvirt}). */
class LibvirtHypervisorTest {
    static Path root;
    static LibvirtHypervisor hypervisor;
    static final ExecutorService events = Executors.newSingleThreadExecutor();
    static final BlockingQueue<LifecycleEvent> received = new LinkedBlockingQueue<>();

    static String domainXml(String name) {
        return TestLibvirt.domainXml(name);
    }

    @BeforeAll
    static void open() throws Exception {
        assumeTrue(TestLibvirt.qemuInstalled(), "QEMU is not installed");
        root = TestLibvirt.root();
        hypervisor = LibvirtHypervisor.open(TestLibvirt.uri(), events);
        hypervisor.onLifecycle(received::add);
    }

    @AfterAll
    static void close() throws Exception {
        if (hypervisor != null) {
            for (DomainStatus d : hypervisor.domains()) {
                if (!d.name().startsWith("lv-")) continue;
                hypervisor.destroy(d.name());
                hypervisor.undefine(d.name());
            }
            hypervisor.close();
        }
        events.shutdownNow();
    }

    private static LifecycleEvent awaitEvent(String vm, String type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            LifecycleEvent e = received.poll(500, TimeUnit.MILLISECONDS);
            if (e != null && e.vm().equals(vm) && e.event().equals(type)) return e;
        }
        throw new AssertionError("no '" + type + "' event for " + vm);
    }

    @Test
    void writesTheEmbeddedRootsQemuConf() throws Exception {
        String conf = Files.readString(root.resolve("etc/qemu.conf"));
        assertTrue(conf.contains("security_driver = \"none\""), conf);
        assertTrue(conf.contains("stdio_handler = \"file\""), conf);
        assertEquals(java.util.Optional.of(Path.of("/tmp/x y")), EmbeddedRoot.rootOf("qemu:///embed?root=/tmp/x%20y"));
        assertTrue(EmbeddedRoot.rootOf("qemu:///system").isEmpty());
    }

    @Test
    void definesStartsReportsDestroysAndUndefinesARealVm() throws Exception {
        assertTrue(hypervisor.node().cpus() > 0);
        hypervisor.define(domainXml("lv-t1"));
        assertEquals(VmPowerState.SHUTOFF, hypervisor.domain("lv-t1").orElseThrow().state());
        hypervisor.start("lv-t1");
        awaitEvent("lv-t1", "started");
        DomainStatus running = hypervisor.domain("lv-t1").orElseThrow();
        assertEquals(VmPowerState.RUNNING, running.state());
        assertEquals(64, running.memoryMiB());
        assertEquals(1, running.vcpus());
        assertNotNull(running.uuid());
        assertTrue(hypervisor.domains().stream().anyMatch(d -> d.name().equals("lv-t1") && d.state() == VmPowerState.RUNNING));
        hypervisor.start("lv-t1"); // already running: no-op

        hypervisor.destroy("lv-t1");
        LifecycleEvent stopped = awaitEvent("lv-t1", "stopped");
        assertTrue(stopped.domainStopped());
        assertEquals("destroyed", stopped.detail());
        assertEquals(VmPowerState.SHUTOFF, hypervisor.domain("lv-t1").orElseThrow().state());
        hypervisor.destroy("lv-t1"); // already stopped: no-op

        hypervisor.undefine("lv-t1");
        assertTrue(hypervisor.domain("lv-t1").isEmpty());
        hypervisor.destroy("never-defined");
        hypervisor.undefine("never-defined");
        assertThrows(HypervisorException.class, () -> hypervisor.start("never-defined"));
    }

    @Test
    void qemusAccountIsLibvirtsDacLabelOrTheDomainsOwn() {
        // The embedded root's qemu.conf runs QEMU as root; libvirt's capabilities say so.
        assertEquals(java.util.Optional.of("+0:+0"), hypervisor.qemuDacLabel(null));
        assertEquals(java.util.Optional.of("+0:+0"), hypervisor.qemuDacLabel(domainXml("lv-acct")));
        String own = domainXml("lv-acct").replace("</domain>",
                "<seclabel type='static' model='dac' relabel='yes'><label>+1234:+5678</label></seclabel></domain>");
        assertEquals(java.util.Optional.of("+1234:+5678"), hypervisor.qemuDacLabel(own));
    }

    @Test
    void dacBaseLabelsAreReadFromCapabilities() {
        String caps = "<capabilities><host><secmodel><model>none</model><doi>0</doi></secmodel><secmodel><model>dac</model>"
                + "<doi>0</doi><baselabel type='kvm'>+999:+995</baselabel><baselabel type='qemu'>+64055:+994</baselabel>"
                + "</secmodel></host></capabilities>";
        assertEquals(java.util.Map.of("kvm", "+999:+995", "qemu", "+64055:+994"),
                LibvirtHypervisor.parseDacBaseLabels(caps).orElseThrow());
        assertTrue(LibvirtHypervisor.parseDacBaseLabels("<capabilities><host/></capabilities>").isEmpty());
        assertTrue(LibvirtHypervisor.parseDacBaseLabels("not xml").isEmpty());
        assertEquals("ioerror", LibvirtHypervisor.pausedReason(5));
        assertEquals("user", LibvirtHypervisor.pausedReason(1));
        assertEquals("unknown", LibvirtHypervisor.pausedReason(99));
    }

    @Test
    void killStopsQemuWithSigkill() throws Exception {
        hypervisor.define(domainXml("lv-k1"));
        hypervisor.start("lv-k1");
        String uuid = hypervisor.domain("lv-k1").orElseThrow().uuid();
        assertTrue(ProcessHandle.allProcesses().anyMatch(p -> p.info().arguments().map(a -> java.util.Arrays.asList(a).contains(uuid)).orElse(false)),
                "a QEMU process runs the domain");
        long start = System.nanoTime();
        hypervisor.kill("lv-k1");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(VmPowerState.SHUTOFF, hypervisor.domain("lv-k1").orElseThrow().state());
        assertFalse(ProcessHandle.allProcesses().anyMatch(p -> p.info().arguments().map(a -> java.util.Arrays.asList(a).contains(uuid)).orElse(false)),
                "no QEMU process left");
        // SIGKILL, not libvirt's SIGTERM: a QEMU asked to terminate logs it.
        assertFalse(Files.readString(root.resolve("log/qemu/lv-k1.log")).contains("terminating on signal"),
                "QEMU was killed, not asked to terminate");
        // QEMU is dead milliseconds after SIGKILL; libvirt's clean-up afterwards takes longer. Bounded loosely so the
        // test stays about killing.
        assertTrue(millis < 5000, "kill took " + millis + " ms");
        hypervisor.undefine("lv-k1");
    }

    @Test
    void qemuPidFilesNameTheRunningQemu() throws Exception {
        QemuPidFiles pids = QemuPidFiles.forUri("qemu:///embed?root=" + root).orElseThrow();
        assertEquals(Path.of("/run/libvirt/qemu"), QemuPidFiles.forUri("qemu:///system").orElseThrow().dir());
        assertTrue(QemuPidFiles.forUri("test:///default").isEmpty());
        assertTrue(QemuPidFiles.forUri("qemu+ssh://other/system").isEmpty());
        hypervisor.define(domainXml("lv-p1"));
        assertTrue(pids.pidOf("lv-p1").isEmpty(), "no pid while it does not run");
        hypervisor.start("lv-p1");
        long pid = pids.pidOf("lv-p1").orElseThrow();
        String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("qemu-system") && cmdline.contains("guest=lv-p1,"), cmdline);
        assertEquals(pid, pids.runningQemu("lv-p1").orElseThrow().pid());
        assertTrue(pids.runningQemu("lv-other").isEmpty(), "no pid file, no process");
        hypervisor.destroy("lv-p1");
        assertTrue(pids.runningQemu("lv-p1").isEmpty());
        assertTrue(pids.pidOf("lv-p1").isEmpty(), "libvirt removes it when the VM stops");
        hypervisor.undefine("lv-p1");
    }

    @Test
    void refusesAnInvalidDefinitionWithLibvirtsMessage() {
        String invalid = domainXml("lv-bad").replace("<video>", "<graphics type='none'/><video>");
        HypervisorException e = assertThrows(HypervisorException.class, () -> hypervisor.define(invalid));
        assertTrue(e.getMessage().contains("graphics") || e.getMessage().contains("XML"), e.getMessage());
        HypervisorException malformed = assertThrows(HypervisorException.class, () -> hypervisor.define("<domain"));
        assertFalse(malformed.getMessage().isBlank());
        assertDoesNotExist("lv-bad");
    }

    private static void assertDoesNotExist(String vm) {
        try {
            assertTrue(hypervisor.domain(vm).isEmpty(), vm + " was defined");
        } catch (HypervisorException e) {
            throw new AssertionError(e);
        }
    }
}
