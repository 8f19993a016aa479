package io.vigil.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.ProtocolVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two real controllers (two Hazelcast members joined by TCP-IP on loopback, in this JVM) and a fake agent connected
 * to the one that does not lead: its reports reach the leader's HA core and the core's commands reach it, through
 * the relay's topics. Then the leader stops, and the surviving member takes over without disturbing the agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiControllerTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private Path shared;
    private TestController leader;
    private TestController follower;
    private FakeAgent agent;

    @BeforeAll
    void start() throws Exception {
        shared = Files.createTempDirectory("vigil-multi-shared-");
        int leaderPort = TestController.freePort();
        leader = new TestController("mc-1", shared, leaderPort, List.of("127.0.0.1:" + leaderPort));
        follower = new TestController("mc-2", shared, TestController.freePort(), List.of("127.0.0.1:" + leaderPort));
        Await.until("a cluster of two", WAIT, () -> follower.controller.store().hazelcast().getCluster().getMembers().size() == 2);
        assertEquals(true, leader.get("/api/v1/health").json().get("leader"));
        assertEquals(false, follower.get("/api/v1/health").json().get("leader"));
        // One host most of the time: it could not survive a host failure, so admission control would refuse HA VMs.
        assertEquals(200, follower.patch("/api/v1/policy", "{\"admissionControl\":\"off\"}").status());

        agent = new FakeAgent("mc-h1", shared, 4096).join(follower.port(), ProtocolVersion.CURRENT);
        var welcome = agent.next(ControllerMessage.Welcome.class, 10);
        assertNotNull(welcome);
        assertEquals("mc-2", welcome.controller());
        assertEquals(2, welcome.controllers().size(), "the Welcome names both controllers: " + welcome.controllers());
        for (TestController c : List.of(leader, follower)) {
            Await.until("mc-h1 connected, seen through " + c.port(), WAIT, () -> {
                var r = c.get("/api/v1/hosts/mc-h1");
                return r.status() == 200 && "connected".equals(r.json().get("state"));
            });
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) agent.close();
        if (follower != null) follower.close();
        if (leader != null) leader.close();
        try (var files = Files.walk(shared)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static void awaitRunning(TestController c, String vm, String host) {
        Await.until(vm + " running on " + host + ", seen through " + c.port(), WAIT, () -> {
            var r = c.get("/api/v1/vms/" + vm);
            return r.status() == 200 && "running".equals(r.json().get("state")) && host.equals(r.json().get("host"));
        });
    }

    private long startsOf(String vm) {
        return agent.commands.stream().filter(c -> c instanceof AgentCommand.StartVm s && s.vm().equals(vm)).count();
    }

    @Test
    @Order(1)
    void vmsCreatedThroughEitherMemberStartOnAnAgentOfTheFollower() {
        assertEquals(201, follower.post("/api/v1/vms", vmBody("mc-vm1")).status());
        assertEquals(201, leader.post("/api/v1/vms", vmBody("mc-vm2")).status());
        for (String vm : List.of("mc-vm1", "mc-vm2")) {
            for (TestController c : List.of(leader, follower)) awaitRunning(c, vm, "mc-h1");
            assertEquals(1, startsOf(vm), "one StartVm for " + vm + ": " + agent.commands);
        }
        Map<String, Object> vm1 = follower.get("/api/v1/vms/mc-vm1").json();
        assertTrue(((Number) vm1.get("generation")).longValue() >= 1, vm1.toString());
    }

    @Test
    @Order(2)
    void policyChangesReachAnAgentOfTheFollower() throws Exception {
        agent.received.clear();
        var put = follower.put("/api/v1/policy", "{\"heartbeatIntervalSeconds\":1,\"failureTimeoutSeconds\":3,"
                + "\"leaseTimeoutSeconds\":4,\"isolationResponse\":\"shutdown\",\"admissionControl\":\"off\"}");
        assertEquals(200, put.status(), put.body());
        var update = agent.next(ControllerMessage.PolicyUpdate.class, 10);
        assertNotNull(update, "the leader's broadcast reaches the follower's agent");
        assertEquals("shutdown", update.policy().isolationResponse().wireName());
    }

    /**
     * Rules, maintenance and moves requested on the member that does not lead reach the leader's HA core (rules and
     * maintenance through the store's listeners, moves over their topic), and the core's commands reach the agents
     * on either member.
     */
    @Test
    @Order(3)
    void operatorRequestsMadeOnTheFollowerReachTheLeadersCore() throws Exception {
        try (FakeAgent other = new FakeAgent("mc-h3", shared, 4096).join(leader.port(), ProtocolVersion.CURRENT)) {
            Await.until("mc-h3 connected", WAIT, () -> "connected".equals(follower.get("/api/v1/hosts/mc-h3").json().get("state")));
            long before = latestSequence();
            var rule = follower.post("/api/v1/rules", "{\"name\":\"mc-apart\",\"type\":\"anti-affinity\","
                    + "\"vms\":[\"mc-vm1\",\"mc-vm2\"]}");
            assertEquals(201, rule.status(), rule.body());
            Await.until("the leader's core saw the rule", WAIT, () -> leader.get("/api/v1/events?type=rules-changed&since="
                    + before).jsonList().stream().anyMatch(e -> String.valueOf(((Map<?, ?>) e).get("message")).contains("mc-apart")));
            assertEquals(204, follower.delete("/api/v1/rules/mc-apart").status());

            var on = follower.post("/api/v1/hosts/mc-h3/maintenance", "{\"enabled\":true}");
            assertEquals(202, on.status(), on.body());
            Await.until("mc-h3 in maintenance", WAIT, () -> Boolean.TRUE.equals(leader.get("/api/v1/hosts/mc-h3").json().get("maintenance")));
            assertEquals(202, follower.post("/api/v1/hosts/mc-h3/maintenance", "{\"enabled\":false}").status());
            Await.until("mc-h3 out of maintenance", WAIT, () -> Boolean.FALSE.equals(leader.get("/api/v1/hosts/mc-h3").json().get("maintenance")));

            // mc-vm2 runs on mc-h1, whose agent is on the follower; the target's agent is on the leader.
            var move = follower.post("/api/v1/vms/mc-vm2/migrate", "{\"host\":\"mc-h3\"}");
            assertEquals(202, move.status(), move.body());
            awaitRunning(follower, "mc-vm2", "mc-h3");
            assertTrue(agent.commands.stream().anyMatch(c -> c instanceof AgentCommand.SaveVm s && s.vm().equals("mc-vm2")),
                    "mc-h1 saved mc-vm2: " + agent.commands);
            assertTrue(other.commands.stream().anyMatch(c -> c instanceof AgentCommand.StartVm s && s.vm().equals("mc-vm2")
                    && s.restoreFrom() != null), "mc-h3 restored mc-vm2: " + other.commands);
            assertEquals(202, leader.post("/api/v1/vms/mc-vm2/relocate", "{\"host\":\"mc-h1\"}").status());
            awaitRunning(follower, "mc-vm2", "mc-h1");
        }
    }

    @Test
    @Order(4)
    void aDisconnectFromAReplacedConnectionOnAnotherMemberIsIgnored() throws Exception {
        try (FakeAgent first = new FakeAgent("mc-h2", shared, 1024).join(follower.port(), ProtocolVersion.CURRENT);
                FakeAgent second = new FakeAgent("mc-h2", shared, 1024)) {
            Await.until("mc-h2 connected through the follower", WAIT,
                    () -> "connected".equals(leader.get("/api/v1/hosts/mc-h2").json().get("state")));
            long before = latestSequence();
            // The host reconnects to the leader; only then does its old connection on the follower close.
            second.join(leader.port(), ProtocolVersion.CURRENT);
            assertNotNull(second.next(ControllerMessage.Welcome.class, 10));
            Await.until("mc-h2 on the leader's gateway", WAIT, () -> leader.controller.gateway().connectedHosts().contains("mc-h2"));
            first.close();
            Await.until("the follower saw the old connection close", WAIT,
                    () -> !follower.controller.gateway().connectedHosts().contains("mc-h2"));
            Thread.sleep(1500); // the relayed close has reached the leader's loop by now
            List<Object> disconnects = leader.get("/api/v1/events?host=mc-h2&type=host-disconnected&since=" + before).jsonList();
            assertTrue(disconnects.isEmpty(), "the stale close must not disconnect the host: " + disconnects);
            assertEquals("connected", leader.get("/api/v1/hosts/mc-h2").json().get("state"));
        }
        // Its current connection closing does count, whichever member held it.
        Await.until("mc-h2 disconnected", WAIT,
                () -> Boolean.FALSE.equals(leader.get("/api/v1/hosts/mc-h2").json().get("connected")));
    }

    @Test
    @Order(5)
    void whenTheLeaderStopsTheFollowerLeadsAndTheConnectedHostKeepsItsVms() throws Exception {
        long startsBefore = agent.commands.stream().filter(c -> c instanceof AgentCommand.StartVm).count();
        String heartbeatBefore = String.valueOf(follower.get("/api/v1/hosts/mc-h1").json().get("lastHeartbeat"));
        leader.close();
        leader = null;
        Await.until("the follower leads", WAIT, () -> Boolean.TRUE.equals(follower.get("/api/v1/health").json().get("leader")));
        // The new leader's core receives the agent's heartbeats ...
        Await.until("a heartbeat processed by the new leader", WAIT,
                () -> !heartbeatBefore.equals(String.valueOf(follower.get("/api/v1/hosts/mc-h1").json().get("lastHeartbeat"))));
        // ... and across more than the failure timeout (3 s) nothing moves: the host never stopped being connected.
        Thread.sleep(4000);
        for (String vm : List.of("mc-vm1", "mc-vm2")) awaitRunning(follower, vm, "mc-h1");
        assertEquals("connected", follower.get("/api/v1/hosts/mc-h1").json().get("state"));
        assertEquals(startsBefore, agent.commands.stream().filter(c -> c instanceof AgentCommand.StartVm).count(),
                "no new StartVm: " + agent.commands);
        assertFalse(agent.isClosed());

        // The new leader delivers over its own connection now.
        assertEquals(201, follower.post("/api/v1/vms", vmBody("mc-vm3")).status());
        awaitRunning(follower, "mc-vm3", "mc-h1");
        assertEquals(1, startsOf("mc-vm3"));
    }

    private static String vmBody(String name) {
        return "{\"domainXml\":" + Jsons.string("<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>96</memory>"
                + "<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>") + "}";
    }

    private long latestSequence() {
        List<Object> events = follower.get("/api/v1/events?limit=1").jsonList();
        return events.isEmpty() ? 0 : ((Number) ((Map<?, ?>) events.get(0)).get("sequence")).longValue();
    }
}
