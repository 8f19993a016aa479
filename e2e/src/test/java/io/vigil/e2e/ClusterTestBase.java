package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;

/**
 * Starts a real three-host cluster with six HA VMs before each test and tears it down after; watches QEMU processes
 * for a VM running on two hosts for the whole test. A subclass may change the number of controllers, the hosts and
 * the VMs ({@link #controllerCount}, {@link #hosts}, {@link #vmCount}).
 */
abstract class ClusterTestBase {
    static final List<String> HOSTS = List.of("h1", "h2", "h3");
    static final String[] PRIORITIES = {"highest", "high", "medium", "medium", "low", "lowest"};
    /** Default policy (see ClusterPolicy.DEFAULT): the lease timeout every fence deadline is measured against. */
    static final long LEASE_TIMEOUT_MILLIS = 4000;

    LocalCluster cluster;
    /** The cluster's controllers (one unless {@link #controllerCount} says more). */
    LocalControllers controllers;
    DoubleRunWatch watch;

    @BeforeEach
    void startCluster(TestInfo info) throws Exception {
        assumeTrue(!"false".equals(System.getProperty("vigil.e2e")), "end-to-end tests disabled (-Dvigil.e2e=false)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")), "QEMU is not installed");
        cluster = new LocalCluster(LocalCluster.repositoryHome(), hosts(), 1024, controllerCount());
        controllers = cluster.controllers();
        watch = new DoubleRunWatch(cluster.census(), 100);
        // The first controller alone (it makes the cluster's CA) and the agents enrolled with it; the other
        // controllers join while the VMs are created and start (a member joining slows the store for a moment: an
        // enrollment whose answer is late is retried, and a one-time join token is not good twice).
        List<String> names = controllers.names();
        controllers.start(names.get(0));
        cluster.startAgents();
        cluster.awaitConnectedHosts(hosts().size(), Duration.ofSeconds(120));
        for (String c : names.subList(1, names.size())) controllers.launch(c);
        int vms = vmCount();
        for (int i = 1; i <= vms; i++) {
            RestClient.Reply r = cluster.createVm("vm" + i, vmMemoryMiB(i), PRIORITIES[(i - 1) % PRIORITIES.length]);
            assertEquals(201, r.status(), () -> "create vm: " + r.body());
        }
        for (String c : names.subList(1, names.size())) controllers.await(c);
        for (int i = 1; i <= vms; i++) cluster.awaitRunning("vm" + i, Duration.ofSeconds(120));
        LocalCluster.awaitTrue(vms + " QEMU processes", Duration.ofSeconds(30), () -> cluster.census().hostsByVm().size() == vms);
    }

    /** How many controllers the cluster has (c1..cN). */
    int controllerCount() {
        return 1;
    }

    List<String> hosts() {
        return HOSTS;
    }

    /** How many HA VMs (vm1..vmN) run before the test starts. */
    int vmCount() {
        return 6;
    }

    /** The memory of VM {@code i} (1-based). */
    long vmMemoryMiB(int i) {
        return 64 + 32 * ((i - 1) % 3);
    }

    @AfterEach
    void stopCluster() throws Exception {
        if (watch != null) watch.close();
        if (cluster != null) cluster.close();
    }

    /** The host running the most VMs right now (ground truth), so that a failure of it moves several. */
    String busiestHost() {
        return placement().entrySet().stream().collect(Collectors.groupingBy(Map.Entry::getValue, Collectors.counting()))
                .entrySet().stream().max(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .orElseThrow().getKey();
    }

    /** VM name to the one host a QEMU process runs it on (ground truth). */
    Map<String, String> placement() {
        Map<String, String> where = new HashMap<>();
        cluster.census().hostsByVm().forEach((vm, hosts) -> where.put(vm, hosts.get(0)));
        return where;
    }

    Map<String, Long> qemuPids() {
        Map<String, Long> pids = new HashMap<>();
        for (QemuCensus.Qemu q : cluster.census().take()) if (!q.host().equals("?")) pids.put(q.vm(), q.pid());
        return pids;
    }

    List<String> vmsOn(String host) {
        return placement().entrySet().stream().filter(e -> e.getValue().equals(host)).map(Map.Entry::getKey).sorted().toList();
    }

    String restHostOf(String vm) {
        JsonNode v = cluster.vm(vm);
        return v == null ? null : v.path("host").asText(null);
    }

    String restState(String vm) {
        JsonNode v = cluster.vm(vm);
        return v == null ? null : v.path("state").asText(null);
    }

    JsonNode host(String name) {
        return cluster.rest().get("/hosts/" + name).body();
    }

    /** Waits until every VM in {@code vms} runs (REST and QEMU agree) on a host other than {@code notOn}. */
    void awaitRunningElsewhere(List<String> vms, String notOn, Duration timeout) {
        LocalCluster.awaitTrue(vms + " running away from " + notOn, timeout, () -> {
            Map<String, List<String>> truth = cluster.census().hostsByVm();
            for (String vm : vms) {
                List<String> where = truth.get(vm);
                if (where == null || where.size() != 1 || where.get(0).equals(notOn)) return false;
                if (!"running".equals(restState(vm)) || !where.get(0).equals(restHostOf(vm))) return false;
            }
            return true;
        });
    }

    /** Waits until every VM in {@code where} runs (REST says so) on the host {@code where} names for it. */
    void awaitRunningOn(Map<String, String> where, Duration timeout) {
        try {
            LocalCluster.awaitTrue("the VMs running on " + where, timeout, () -> {
                for (Map.Entry<String, String> e : where.entrySet()) {
                    if (!"running".equals(restState(e.getKey())) || !e.getValue().equals(restHostOf(e.getKey()))) return false;
                }
                return true;
            });
        } catch (AssertionError e) {
            StringBuilder vms = new StringBuilder();
            for (String vm : where.keySet()) vms.append("\n").append(cluster.vm(vm));
            throw new AssertionError(e.getMessage() + "; the REST API says:" + vms + "\nhosts: " + cluster.rest().get("/hosts").body(), e);
        }
    }

    /**
     * Waits until every host named in {@code where} is connected and reports (in {@code GET /hosts}, from its agent's
     * heartbeats) the VMs {@code where} puts on it.
     */
    void awaitHostsReport(Map<String, String> where, Duration timeout) {
        try {
            LocalCluster.awaitTrue("the hosts reporting " + where, timeout, () -> {
                for (Map.Entry<String, String> e : where.entrySet()) {
                    JsonNode h = host(e.getValue());
                    if (h == null || !"connected".equals(h.path("state").asText())) return false;
                    boolean listed = false;
                    for (JsonNode vm : h.path("vms")) listed |= vm.asText().equals(e.getKey());
                    if (!listed) return false;
                }
                return true;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; hosts: " + cluster.rest().get("/hosts").body(), e);
        }
    }

    long eventCount(String query) {
        return cluster.events(query).size();
    }
}
