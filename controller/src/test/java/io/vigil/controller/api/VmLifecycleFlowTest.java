package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.ProtocolVersion;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Create, list, read, stop, start and delete a VM through the REST API while the test plays the host's agent over a
 * real WebSocket: the controller's HA core places the VM and the agent carries out its commands.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmLifecycleFlowTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private TestController ctl;
    private FakeAgent agent;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        // One host cannot survive a host failure: with admission control on, no HA VM would be admitted.
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"off\"}").status());
        agent = new FakeAgent("flow-h1", ctl.sharedStorage(), 4096).join(ctl.port(), ProtocolVersion.CURRENT);
        Await.until("host flow-h1 listed as connected", WAIT, () -> {
            var r = ctl.get("/api/v1/hosts/flow-h1");
            return r.status() == 200 && "connected".equals(r.json().get("state"));
        });
    }

    @AfterAll
    void stop() throws Exception {
        agent.close();
        ctl.close();
    }

    private Map<String, Object> vm(String name) {
        return ctl.get("/api/v1/vms/" + name).json();
    }

    /** {@code host} null: any host. */
    private void awaitVm(String name, String state, String host) {
        Await.until(name + " " + state + " on " + host, WAIT, () -> {
            var r = ctl.get("/api/v1/vms/" + name);
            return r.status() == 200 && state.equals(r.json().get("state")) && (host == null || host.equals(r.json().get("host")));
        });
    }

    @Test
    void hostIsShownWithCapacity() {
        Map<String, Object> h = ctl.get("/api/v1/hosts/flow-h1").json();
        assertEquals("flow-h1", h.get("name"));
        assertEquals(4, h.get("cpus"));
        assertEquals(4096, h.get("memoryTotalMiB"));
        assertEquals(true, h.get("connected"));
        assertNotNull(h.get("lastHeartbeat"));
        assertTrue(((Number) h.get("freeMiB")).longValue() <= 4096);
        assertTrue(ctl.get("/api/v1/hosts").jsonList().stream().anyMatch(x -> "flow-h1".equals(((Map<?, ?>) x).get("name"))));
    }

    @Test
    void createStopStartDelete() {
        var created = ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("flow-vm"), "\"priority\":\"high\""));
        assertEquals(201, created.status(), created.body());

        awaitVm("flow-vm", "running", "flow-h1");
        Map<String, Object> running = vm("flow-vm");
        assertTrue(((Number) running.get("generation")).longValue() >= 1, running.toString());
        assertEquals("started", running.get("requestedState"));
        assertTrue(agent.commands.stream().anyMatch(c -> c instanceof AgentCommand.StartVm s && s.vm().equals("flow-vm")
                && s.domainXml().contains("<name>flow-vm</name>") && s.haEnabled()));
        Await.until("flow-vm listed on its host", WAIT, () -> ((List<?>) ctl.get("/api/v1/hosts/flow-h1").json().get("vms")).contains("flow-vm"));

        assertEquals(202, ctl.postEmpty("/api/v1/vms/flow-vm/stop").status());
        awaitVm("flow-vm", "stopped", null);
        assertTrue(agent.commands.stream().anyMatch(c -> (c instanceof AgentCommand.StopVm || c instanceof AgentCommand.DestroyVm)
                && c.vm().equals("flow-vm")));
        assertEquals("stopped", vm("flow-vm").get("requestedState"));

        assertEquals(202, ctl.postEmpty("/api/v1/vms/flow-vm/start").status());
        awaitVm("flow-vm", "running", "flow-h1");

        assertEquals(202, ctl.delete("/api/v1/vms/flow-vm").status());
        Await.until("flow-vm forgotten", WAIT, () -> ctl.get("/api/v1/vms/flow-vm").status() == 404);
        assertFalse(agent.vms().containsKey("flow-vm"), "the agent was told to undefine it: " + agent.commands);
        assertTrue(ctl.get("/api/v1/vms").jsonList().stream().noneMatch(v -> "flow-vm".equals(((Map<?, ?>) v).get("name"))));

        // The event log tells the story, filtered by VM, oldest first.
        List<Object> events = ctl.get("/api/v1/events?vm=flow-vm").jsonList();
        assertFalse(events.isEmpty());
        long previous = Long.MIN_VALUE;
        for (Object o : events) {
            Map<?, ?> e = (Map<?, ?>) o;
            assertEquals("flow-vm", e.get("vm"));
            long seq = ((Number) e.get("sequence")).longValue();
            assertTrue(seq > previous, "sequences increase");
            previous = seq;
        }
        assertTrue(events.stream().anyMatch(o -> "vm-started".equals(((Map<?, ?>) o).get("type"))), events.toString());
        long firstSeq = ((Number) ((Map<?, ?>) events.get(0)).get("sequence")).longValue();
        assertEquals(events.size() - 1, ctl.get("/api/v1/events?vm=flow-vm&since=" + firstSeq).jsonList().size());
        assertEquals(1, ctl.get("/api/v1/events?vm=flow-vm&limit=1").jsonList().size());
        assertTrue(ctl.get("/api/v1/events?type=vm-started").jsonList().stream()
                .allMatch(o -> "vm-started".equals(((Map<?, ?>) o).get("type"))));
    }

    @Test
    void createdStoppedStaysStoppedAndPolicyChangesReachTheAgent() throws Exception {
        assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("flow-idle"), "\"start\":false")).status());
        Thread.sleep(1000);
        assertTrue(agent.commands.stream().noneMatch(c -> c instanceof AgentCommand.StartVm s && s.vm().equals("flow-idle")));
        assertEquals("stopped", vm("flow-idle").get("state"));

        agent.received.clear();
        var patch = ctl.patch("/api/v1/policy", "{\"leaseTimeoutSeconds\":6,\"isolationResponse\":\"shutdown\"}");
        assertEquals(200, patch.status(), patch.body());
        var update = agent.next(ControllerMessage.PolicyUpdate.class, 10);
        assertNotNull(update, "the agent receives the new policy");
        assertEquals(6000, update.policy().leaseTimeoutMillis());
    }
}
