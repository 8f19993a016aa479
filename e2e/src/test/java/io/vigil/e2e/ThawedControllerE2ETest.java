package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * A controller thawed after a freeze longer than the lease holds a stale view: the reports agents sent it before they
 * reconnected elsewhere, and its copy of the cluster's memory-only state. Neither may make the leader act, nor the API
 * show the past. Two controllers (the leader and one more), two hosts: host X is connected to the member that does not
 * lead; that member is frozen (X reconnects to the leader), the other host dies and its VM fails over to X; then the
 * member is thawed.
 */
class ThawedControllerE2ETest extends ClusterTestBase {

    @Override
    int controllerCount() {
        return 2;
    }

    @Override
    List<String> hosts() {
        return List.of("h1", "h2");
    }

    @Override
    int vmCount() {
        return 2;
    }

    @Override
    long vmMemoryMiB(int i) {
        return 64;
    }

    @Test
    @Disabled("known limit: the leader feeds the core the agent reports a thawed member relays late (AgentConnections "
            + "drops only stale disconnects), seen making it start a VM again at a new lease generation (never twice: "
            + "the disk lease holds). The stale status view after the merge is fixed (the leader republishes its view "
            + "every 10 s)")
    void aThawedControllerNeitherActsOnNorShowsItsStaleView() throws Exception {
        String leader = controllers.awaitLeader(Duration.ofSeconds(30));
        String member = controllers.names().stream().filter(c -> !c.equals(leader)).findFirst().orElseThrow();
        String y = busiestHost(); // its VMs fail over to x
        String x = hosts().stream().filter(h -> !h.equals(y)).findFirst().orElseThrow();

        // X moves to the member that does not lead.
        int mark = cluster.logLines("agent-" + x).size();
        cluster.cutLink(x, leader);
        LocalCluster.awaitTrue(x + " welcomed by " + member, Duration.ofSeconds(30),
                () -> member.equals(welcomedSince(x, mark)));
        cluster.restoreLink(x, leader);

        // The member freezes with X's reports in its sockets; X reconnects to the leader; Y dies and fails over to X.
        int frozenMark = cluster.logLines("agent-" + x).size();
        controllers.freeze(member);
        LocalCluster.awaitTrue(x + " welcomed by " + leader, Duration.ofSeconds(30),
                () -> leader.equals(welcomedSince(x, frozenMark)));
        List<String> moved = vmsOn(y);
        cluster.killHost(y);
        awaitRunningElsewhere(moved, y, Duration.ofSeconds(60));
        Map<String, Long> generations = generations();
        Map<String, Long> pids = qemuPids();
        long thawedAt = System.currentTimeMillis();
        int thawMark = cluster.logLines("agent-" + x).size();

        controllers.thaw(member);
        LocalCluster.awaitTrue(member + " answering again", Duration.ofSeconds(10), () -> controllers.health(member) != null);
        Thread.sleep(5000);

        Map<String, String> where = placement();
        awaitRunningOn(where, Duration.ofSeconds(1)); // what the REST API shows, against what runs
        List<String> lines = cluster.logLines("agent-" + x);
        List<String> started = lines.subList(Math.min(thawMark, lines.size()), lines.size()).stream()
                .filter(l -> ControllerFailoverE2ETest.COMMAND_STARTED.matcher(l).find()).toList();
        assertEquals(List.of(), started, x + " was told to start VMs again after " + member + " was thawed");
        assertEquals(List.of(), cluster.events("type=vm-placed&since=" + thawedAt), "nothing was placed after the thaw");
        assertEquals(generations, generations(), "no VM changed its lease generation: " + cluster.rest().get("/vms").body());
        assertEquals(pids, qemuPids());
        assertNotEquals(member, controllers.awaitLeader(Duration.ofSeconds(10)));
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
    }

    /** The controller that welcomed {@code host} after line {@code mark} of its log, the last one (null: none). */
    private String welcomedSince(String host, int mark) {
        List<String> lines = cluster.logLines("agent-" + host);
        String by = null;
        for (String line : lines.subList(Math.min(mark, lines.size()), lines.size())) {
            int at = line.indexOf("welcomed by controller ");
            if (at >= 0) by = line.substring(at + "welcomed by controller ".length()).split(" ")[0];
        }
        return by;
    }

    private Map<String, Long> generations() {
        Map<String, Long> g = new TreeMap<>();
        cluster.rest().get("/vms").body().forEach(vm -> g.put(vm.path("name").asText(), vm.path("generation").asLong()));
        return g;
    }
}
