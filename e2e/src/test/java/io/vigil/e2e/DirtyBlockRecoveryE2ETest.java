package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A host dies with writes of its VM acknowledged but only in its cache: the host taking the VM over reads them from
 * the failed host's memory keeper and writes them to the disk before the VM starts, so none is lost. If the keeper
 * died too, the VM starts from the image alone and the event names the unflushed window.
 */
class DirtyBlockRecoveryE2ETest {
    private static final int BLOCK = 4096;
    private static final long DISK_MIB = 64;

    private LocalCluster cluster;
    private DoubleRunWatch watch;
    private String home;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(!"false".equals(System.getProperty("vigil.e2e")), "end-to-end tests disabled (-Dvigil.e2e=false)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")), "QEMU is not installed");
        cluster = new LocalCluster(LocalCluster.repositoryHome(), List.of("h1", "h2"), 1024);
        watch = new DoubleRunWatch(cluster.census(), 100);
        cluster.startController();
        cluster.startKeepers();
        cluster.startAgents();
        cluster.awaitConnectedHosts(2, Duration.ofSeconds(120));
        Path disk = cluster.createDiskImage("db", DISK_MIB);
        RestClient.Reply r = cluster.rest().post("/vms", Map.of("domainXml", LocalCluster.domainXml("db", 128, disk),
                "haEnabled", true, "priority", "high", "cacheMode", "write-back"));
        assertEquals(201, r.status(), () -> "create vm: " + r.body());
        cluster.awaitRunning("db", Duration.ofSeconds(120));
        home = cluster.vm("db").path("host").asText();
        // The controller lends the VM cache from the host's reserve; until the budget arrives writes go straight through.
        LocalCluster.awaitTrue("a cache budget for db", Duration.ofSeconds(30),
                () -> cluster.vm("db").path("cacheBudgetMiB").asLong() >= 16);
    }

    @AfterEach
    void stop() throws Exception {
        if (watch != null) watch.close();
        if (cluster != null) cluster.close();
    }

    /** Writes random blocks through the VM's NBD export on its host; returns what was acknowledged, block by block. */
    private Map<Long, byte[]> writeAcknowledged(int count) throws IOException {
        Map<Long, byte[]> acknowledged = new TreeMap<>();
        Random random = new Random(42);
        try (NbdClient writer = NbdClient.open(cluster.nbdSocket(home, "db"), "db/vda")) {
            assertEquals(DISK_MIB << 20, writer.size());
            for (int i = 0; i < count; i++) {
                long offset = (long) random.nextInt((int) ((DISK_MIB << 20) / BLOCK)) * BLOCK;
                byte[] data = new byte[BLOCK];
                random.nextBytes(data);
                writer.write(offset, data); // returns only once the agent acknowledged the write
                acknowledged.put(offset, data);
            }
        }
        return acknowledged;
    }

    private String failHome() {
        cluster.killHost(home); // agent, fence watchdog and QEMU: SIGKILL; the memory keeper lives on
        LocalCluster.awaitTrue("db running on the other host", Duration.ofSeconds(90), () -> {
            JsonNode v = cluster.vm("db");
            return "running".equals(v.path("state").asText()) && !home.equals(v.path("host").asText());
        });
        return cluster.vm("db").path("host").asText();
    }

    /** The last event of {@code type} for db, waiting a little: the start's result may come after the heartbeat. */
    private JsonNode lastEvent(String type) {
        LocalCluster.awaitTrue("a " + type + " event", Duration.ofSeconds(30), () -> cluster.events("vm=db").stream()
                .anyMatch(e -> e.path("type").asText().equals(type)));
        return cluster.events("vm=db").stream().filter(e -> e.path("type").asText().equals(type)).reduce((a, b) -> b)
                .orElseThrow();
    }

    @Test
    void everyAcknowledgedWriteSurvivesWhileTheFailedHostsMemoryIsReachable() throws IOException {
        Map<Long, byte[]> acknowledged = writeAcknowledged(3000);
        LocalCluster.awaitTrue("dirty cache reported", Duration.ofSeconds(10),
                () -> cluster.vm("db").path("cacheDirtyMiB").asLong() > 0);

        String target = failHome();
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");

        JsonNode recovered = lastEvent("cache-recovered");
        assertEquals(target, recovered.path("host").asText());
        assertEquals(home, recovered.path("details").path("from").asText());
        assertEquals("tcp", recovered.path("details").path("transport").asText());
        assertTrue(recovered.path("details").path("blocks").asLong() > 0, "dirty blocks were recovered: " + recovered);
        // (The event may follow vm-started: a heartbeat can show the VM running before the start's result arrives.)

        try (NbdClient reader = NbdClient.open(cluster.nbdSocket(target, "db"), "db/vda")) {
            for (Map.Entry<Long, byte[]> w : acknowledged.entrySet())
                assertTrue(Arrays.equals(w.getValue(), reader.read(w.getKey(), BLOCK)),
                        "the acknowledged write at offset " + w.getKey() + " is on the disk as read through " + target);
        }
    }

    @Test
    void withTheKeeperDeadTooTheVmStartsFromItsImageAndTheEventNamesTheUnflushedWindow() throws IOException {
        writeAcknowledged(500);
        LocalCluster.awaitTrue("dirty cache reported", Duration.ofSeconds(10),
                () -> cluster.vm("db").path("cacheDirtyMiB").asLong() > 0);
        cluster.killKeeper(home);
        failHome();
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
        JsonNode lost = lastEvent("cache-unrecovered");
        assertEquals(home, lost.path("details").path("from").asText());
        assertEquals("unreachable", lost.path("details").path("outcome").asText());
        assertTrue(lost.path("message").asText().contains("unflushed window"), lost.toString());
        assertTrue(lost.path("details").has("unflushedSince"), lost.toString());
    }
}
