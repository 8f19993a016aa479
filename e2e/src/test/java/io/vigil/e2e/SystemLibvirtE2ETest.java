package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Vigil where its users run it: host h2's agent on a real libvirtd ({@code qemu:///system}, QEMU as libvirt-qemu
 * under the DAC driver, started by {@link SystemLibvirtd}), host h1's on an embedded root, the VM's disk served by
 * h2's agent through its write-back cache. The VM's guest writes its disk all along; each stage checks that it still
 * does: the agent restarting under it (after an operator's hand chmod of the socket), a stop and a start, a pause
 * shown as one, heartbeats while libvirtd starts and destroys domains, storage loss on h2 (failover from it) and the
 * failure of h1 (failover to it).
 */
class SystemLibvirtE2ETest {
    private static final String VM = "sys1";
    private static final List<String> CHURN = List.of("churn1", "churn2", "churn3");

    SystemLibvirtd libvirtd;
    LocalCluster cluster;
    DoubleRunWatch watch;
    Path daemonDir;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(!"false".equals(System.getProperty("vigil.e2e")), "end-to-end tests disabled (-Dvigil.e2e=false)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")), "QEMU is not installed");
        daemonDir = Files.createTempDirectory(Path.of("/tmp"), "vls");
        libvirtd = SystemLibvirtd.start(daemonDir);
        libvirtd.removeDomains(concat(List.of(VM), CHURN)); // a previous run's, if it was killed
        cluster = new LocalCluster(LocalCluster.repositoryHome(), List.of("h1", "h2"), 1024, 1, Map.of("h2", libvirtd));
        watch = new DoubleRunWatch(cluster.census(), 100);
        cluster.startController();
        cluster.startAgents();
        cluster.awaitConnectedHosts(2, Duration.ofSeconds(120));
    }

    @AfterEach
    void stop() throws Exception {
        if (watch != null) watch.close();
        if (cluster != null) cluster.close();
        if (libvirtd != null) {
            libvirtd.removeDomains(concat(List.of(VM), CHURN));
            libvirtd.close();
        }
        if (daemonDir != null) deleteTree(daemonDir);
    }

    @Test
    void aVmOnTheSystemLibvirtdRunsAsQemusAccountAndSurvivesRestartsStopsAndFailoversToAndFromIt() throws Exception {
        Path image = DiskLoopGuest.image(cluster.dir().resolve("shared/images/" + VM + ".img"), 4);
        RestClient.Reply created = cluster.rest().post("/vms", Map.of("domainXml", DiskLoopGuest.domainXml(VM, image),
                "haEnabled", true, "priority", "high", "failback", false,
                "preferredHosts", List.of(Map.of("host", "h2", "priority", 10))));
        assertEquals(201, created.status(), () -> "create: " + created.body());
        cluster.awaitRunning(VM, Duration.ofSeconds(120));
        assertEquals("h2", cluster.vm(VM).path("host").asText());

        // QEMU runs as the account libvirt names; the VM's socket is that account's alone.
        String label = libvirtd.qemuDacLabel();
        int uid = Integer.parseInt(label.substring(1, label.indexOf(':')));
        long qemu = qemuPid("h2");
        assertEquals(uid, processUid(qemu), "QEMU runs as libvirt's DAC user " + label);
        assertTrue(uid != 0, "the system driver runs QEMU unprivileged");
        Path socket = cluster.nbdSocket("h2", VM);
        assertSocketOwnedBy(socket, label);
        awaitGuestWriting("h2", "the guest boots from its NBD disk and writes it");

        // An operator chmods the socket by hand, then the agent dies and comes back: the socket is QEMU's again,
        // the guest goes on in the same QEMU process.
        Files.setAttribute(socket, "unix:uid", 0);
        Files.setAttribute(socket, "unix:gid", 0);
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxr-xr-x"));
        long starts = agentStarts("h2");
        cluster.killAgent("h2");
        cluster.startAgent("h2");
        LocalCluster.awaitTrue("h2's agent started again and connected", Duration.ofSeconds(60),
                () -> agentStarts("h2") > starts && "connected".equals(host("h2").path("state").asText()));
        assertSocketOwnedBy(socket, label);
        awaitGuestWriting("h2", "the guest writes its disk again after the agent restart");
        assertEquals(qemu, qemuPid("h2"), "the VM kept its QEMU process");
        LocalCluster.awaitTrue(VM + " running, not paused", Duration.ofSeconds(30), () -> "running".equals(state()));

        // A pause is shown as one, with libvirt's reason; resumed, it runs again.
        libvirtd.virsh("suspend", VM);
        LocalCluster.awaitTrue(VM + " shown paused by the user", Duration.ofSeconds(15),
                () -> "paused".equals(state()) && "user".equals(cluster.vm(VM).path("stateReason").asText()));
        libvirtd.virsh("resume", VM);
        LocalCluster.awaitTrue(VM + " shown running again", Duration.ofSeconds(15), () -> "running".equals(state()));

        // A stop and a start through the REST API.
        assertEquals(202, cluster.rest().post("/vms/" + VM + "/stop", Map.of()).status());
        LocalCluster.awaitTrue(VM + " stopped", Duration.ofSeconds(60), () -> "stopped".equals(state()));
        assertEquals(202, cluster.rest().post("/vms/" + VM + "/start", Map.of()).status());
        cluster.awaitRunning(VM, Duration.ofSeconds(120));
        awaitGuestWriting(cluster.vm(VM).path("host").asText(), "the guest writes its disk after a stop and a start");

        // libvirtd starts and destroys domains on h2 while its heartbeats go on: h2 never looks suspect.
        heartbeatsDuringChurn();

        // Storage loss on h2: it fences itself, the VM restarts on h1 (failover from the system libvirtd).
        String before = cluster.vm(VM).path("host").asText();
        if (before.equals("h2")) {
            cluster.cutStorage("h2");
            LocalCluster.awaitTrue(VM + " running on h1", Duration.ofSeconds(90),
                    () -> "h1".equals(cluster.vm(VM).path("host").asText()) && "running".equals(state())
                            && cluster.census().hostsByVm().getOrDefault(VM, List.of()).equals(List.of("h1")));
            awaitGuestWriting("h1", "the guest writes its disk on h1 after h2 lost its storage");
            cluster.restoreStorage("h2");
            LocalCluster.awaitTrue("h2 back", Duration.ofSeconds(60), () -> "connected".equals(host("h2").path("state").asText()));
        }

        // h1 fails: the VM restarts on h2 (failover to the system libvirtd), under QEMU's account again.
        cluster.killHost("h1");
        LocalCluster.awaitTrue(VM + " running on h2", Duration.ofSeconds(90),
                () -> "h2".equals(cluster.vm(VM).path("host").asText()) && "running".equals(state())
                        && cluster.census().hostsByVm().getOrDefault(VM, List.of()).equals(List.of("h2")));
        assertEquals(uid, processUid(qemuPid("h2")));
        assertSocketOwnedBy(socket, label);
        awaitGuestWriting("h2", "the guest writes its disk on h2 after h1 failed");
        assertEquals(List.of(), watch.violations(), "the VM never ran on two hosts at once");
    }

    /**
     * Starts and destroys throwaway domains on h2's libvirtd, sampling h2's state, its network heartbeats as the
     * controller saw them and its lease renewals on shared storage meanwhile; prints the gaps.
     */
    private void heartbeatsDuringChurn() throws Exception {
        List<String> states = new ArrayList<>();
        List<Long> beats = new ArrayList<>();
        List<Long> renewals = new ArrayList<>();
        Path leaseFile = cluster.dir().resolve("shared/hosts/h2.heartbeat");
        Thread sampler = new Thread(() -> {
            long lastRenewal = -1;
            while (!Thread.currentThread().isInterrupted()) {
                JsonNode h = host("h2");
                states.add(h.path("state").asText());
                String last = h.path("lastHeartbeat").asText(null);
                if (last != null) {
                    long at = Instant.parse(last).toEpochMilli();
                    synchronized (beats) {
                        if (beats.isEmpty() || beats.get(beats.size() - 1) != at) beats.add(at);
                    }
                }
                try {
                    long renewed = Files.getLastModifiedTime(leaseFile).toMillis();
                    if (renewed != lastRenewal) {
                        synchronized (renewals) {
                            renewals.add(renewed);
                        }
                        lastRenewal = renewed;
                    }
                } catch (IOException e) {
                    // replaced while read: next sample
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.start();
        try {
            for (int round = 0; round < 2; round++) {
                for (String name : CHURN) {
                    Path xml = cluster.dir().resolve(name + ".xml");
                    Files.writeString(xml, LocalCluster.domainXml(name, 32));
                    libvirtd.virsh("create", xml.toString());
                }
                for (String name : CHURN) libvirtd.virsh("destroy", name);
            }
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        assertTrue(states.stream().allMatch("connected"::equals), "h2 stayed connected all along: " + states);
        List<Long> beatGaps = gaps(beats);
        List<Long> renewalGaps = gaps(renewals);
        System.out.println("h2 during libvirt churn (6 domain starts and destroys), heartbeat interval 1000 ms: "
                + "network heartbeat gaps at the controller (ms) " + beatGaps + ", max " + max(beatGaps)
                + "; lease renewal gaps on storage (ms) " + renewalGaps + ", max " + max(renewalGaps));
    }

    private static List<Long> gaps(List<Long> times) {
        List<Long> gaps = new ArrayList<>();
        synchronized (times) {
            for (int i = 1; i < times.size(); i++) gaps.add(times.get(i) - times.get(i - 1));
        }
        return gaps;
    }

    private static long max(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private void awaitGuestWriting(String host, String what) {
        Path socket = cluster.nbdSocket(host, VM);
        long[] first = {-1};
        LocalCluster.awaitTrue(what, Duration.ofSeconds(90), () -> {
            try {
                long now = DiskLoopGuest.counter(socket, VM);
                if (first[0] < 0) first[0] = now;
                return now >= first[0] + 5;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    /** How many times the host's agent has said it started, in its log. */
    private long agentStarts(String host) {
        return cluster.logLines("agent-" + host).stream().filter(l -> l.contains("agent " + host + " started:")).count();
    }

    private long qemuPid(String host) {
        return cluster.census().take().stream().filter(q -> q.vm().equals(VM) && q.host().equals(host))
                .mapToLong(QemuCensus.Qemu::pid).findFirst().orElseThrow(() -> new AssertionError("no QEMU for " + VM + " on " + host));
    }

    private static int processUid(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("Uid:")) return Integer.parseInt(line.split("\\s+")[1]);
        }
        throw new AssertionError("no Uid line for pid " + pid);
    }

    private void assertSocketOwnedBy(Path socket, String dacLabel) throws IOException {
        String[] ids = dacLabel.replace("+", "").split(":");
        assertEquals(Integer.parseInt(ids[0]), Files.getAttribute(socket, "unix:uid"),
                () -> "socket owner; agent-h2's log:\n" + cluster.logTail("agent-h2", 60));
        assertEquals(Integer.parseInt(ids[1]), Files.getAttribute(socket, "unix:gid"), "socket group");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)), "socket mode");
    }

    private String state() {
        JsonNode v = cluster.vm(VM);
        return v == null ? null : v.path("state").asText(null);
    }

    private JsonNode host(String name) {
        return cluster.rest().get("/hosts/" + name).body();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static void deleteTree(Path root) throws IOException {
        try (var all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
