package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.ProtocolVersion;
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
 * Maintenance, migrate and relocate over real HTTP, with fake agents over real WebSockets and the real HA core: the
 * refusals (404 unknown, 409 when the cluster cannot do it now, 400 for a bad body) change nothing, and accepted
 * requests reach the core and, as commands, the agents. Also a host's clean shutdown reaching the core and its
 * clearance reaching the agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostOperationsTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private TestController ctl;
    private FakeAgent h1;
    private FakeAgent h2;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"off\"}").status());
        h1 = ctl.connectedHost("ops-h1", 4096);
        h2 = ctl.connectedHost("ops-h2", 4096);
        // ops-vm prefers ops-h1, so the test knows where it starts.
        assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("ops-vm"),
                "\"preferredHosts\":[{\"host\":\"ops-h1\",\"priority\":10}]")).status());
        awaitRunning("ops-vm", "ops-h1");
    }

    @AfterAll
    void stop() throws Exception {
        h1.close();
        h2.close();
        ctl.close();
    }

    private void awaitRunning(String vm, String host) {
        Await.until(vm + " running on " + host, WAIT, () -> {
            var r = ctl.get("/api/v1/vms/" + vm);
            return r.status() == 200 && "running".equals(r.json().get("state")) && host.equals(r.json().get("host"));
        });
    }

    private void awaitMaintenance(String host, boolean on) {
        Await.until(host + " maintenance " + on, WAIT,
                () -> Boolean.valueOf(on).equals(ctl.get("/api/v1/hosts/" + host).json().get("maintenance")));
    }

    private Map<String, Object> vm() {
        return ctl.get("/api/v1/vms/ops-vm").json();
    }

    @Test
    @Order(1)
    void maintenanceRefusals() throws Exception {
        assertProblem(ctl.post("/api/v1/hosts/ops-nohost/maintenance", "{\"enabled\":true}"), 404, "ops-nohost");
        assertProblem(ctl.post("/api/v1/hosts/ops-h2/maintenance", "{}"), 400, "enabled");
        assertProblem(ctl.post("/api/v1/hosts/ops-h2/maintenance", "{\"enabled\":\"yes\"}"), 400, "enabled");
        assertProblem(ctl.post("/api/v1/hosts/ops-h2/maintenance", "{\"enabled\":true,\"until\":5}"), 400, "until");
        assertEquals("Malformed JSON", assertProblem(ctl.post("/api/v1/hosts/ops-h2/maintenance", "{\"enabled\":tru}"),
                400, "not valid JSON").get("title"));

        FakeAgent gone = ctl.connectedHost("ops-gone", 2048);
        gone.close();
        Await.until("ops-gone disconnected", WAIT,
                () -> Boolean.FALSE.equals(ctl.get("/api/v1/hosts/ops-gone").json().get("connected")));
        assertProblem(ctl.post("/api/v1/hosts/ops-gone/maintenance", "{\"enabled\":true}"), 409, "ops-gone", "offline");

        Thread.sleep(500); // nothing was stored, so nothing reaches the core
        for (String h : List.of("ops-h2", "ops-gone")) assertEquals(false, ctl.get("/api/v1/hosts/" + h).json().get("maintenance"));
    }

    @Test
    @Order(2)
    void moveRefusals() {
        assertProblem(ctl.post("/api/v1/vms/ops-novm/migrate", "{\"host\":\"ops-h2\"}"), 404, "ops-novm");
        assertProblem(ctl.post("/api/v1/vms/ops-novm/relocate", "{\"host\":\"ops-h2\"}"), 404, "ops-novm");
        assertProblem(ctl.post("/api/v1/vms/ops-vm/migrate", "{}"), 400, "host");
        assertProblem(ctl.post("/api/v1/vms/ops-vm/relocate", "{\"host\":\"\"}"), 400, "host");
        assertProblem(ctl.post("/api/v1/vms/ops-vm/migrate", "{\"host\":\"ops-h2\",\"live\":true}"), 400, "live");
        for (String kind : List.of("migrate", "relocate")) {
            assertEquals("Malformed JSON", assertProblem(ctl.post("/api/v1/vms/ops-vm/" + kind, "{\"host\":"), 400,
                    "not valid JSON").get("title"));
            assertProblem(ctl.post("/api/v1/vms/ops-vm/" + kind, "{\"host\":\"ops-h1\"}"), 409, "already runs on ops-h1");
            assertProblem(ctl.post("/api/v1/vms/ops-vm/" + kind, "{\"host\":\"ops-nohost\"}"), 409, "ops-nohost");
        }
        assertProblem(ctl.post("/api/v1/vms/ops-vm/migrate", "{\"host\":\"ops-gone\"}"), 409, "offline");
        assertTrue(h1.commands.stream().noneMatch(c -> c instanceof AgentCommand.SaveVm || c instanceof AgentCommand.StopVm),
                "no move began: " + h1.commands);
        awaitRunning("ops-vm", "ops-h1");
    }

    @Test
    @Order(3)
    void aHostInMaintenanceTakesNoMovesAndShowsIt() {
        Reply on = ctl.post("/api/v1/hosts/ops-h2/maintenance", "{\"enabled\":true}");
        assertEquals(202, on.status(), on.body());
        assertEquals(Map.of("host", "ops-h2", "enabled", true), on.json());
        awaitMaintenance("ops-h2", true);
        assertProblem(ctl.post("/api/v1/vms/ops-vm/migrate", "{\"host\":\"ops-h2\"}"), 409, "maintenance");
        assertProblem(ctl.post("/api/v1/vms/ops-vm/relocate", "{\"host\":\"ops-h2\"}"), 409, "maintenance");
        assertEquals(202, ctl.post("/api/v1/hosts/ops-h2/maintenance", "{\"enabled\":false}").status());
        awaitMaintenance("ops-h2", false);
        awaitRunning("ops-vm", "ops-h1");
    }

    @Test
    @Order(4)
    void anAcceptedMigrateSavesTheVmAndRestoresItOnTheTarget() {
        Reply r = ctl.post("/api/v1/vms/ops-vm/migrate", "{\"host\":\"ops-h2\"}");
        assertEquals(202, r.status(), r.body());
        assertEquals(Map.of("vm", "ops-vm", "from", "ops-h1", "target", "ops-h2", "kind", "migrate"), r.json());
        Await.until("ops-h1 told to save ops-vm", WAIT,
                () -> h1.commands.stream().anyMatch(c -> c instanceof AgentCommand.SaveVm s && s.vm().equals("ops-vm")));
        awaitRunning("ops-vm", "ops-h2");
        AgentCommand.SaveVm save = h1.commands.stream().filter(c -> c instanceof AgentCommand.SaveVm)
                .map(c -> (AgentCommand.SaveVm) c).findFirst().orElseThrow();
        assertTrue(h2.commands.stream().anyMatch(c -> c instanceof AgentCommand.StartVm s && s.vm().equals("ops-vm")
                && save.saveTo().equals(s.restoreFrom())), "ops-h2 restores what ops-h1 saved: " + h2.commands);
    }

    @Test
    @Order(5)
    void anAcceptedRelocateStopsTheVmAndStartsItOnTheTarget() {
        Reply r = ctl.post("/api/v1/vms/ops-vm/relocate", "{\"host\":\"ops-h1\"}");
        assertEquals(202, r.status(), r.body());
        assertEquals("relocate", r.json().get("kind"));
        awaitRunning("ops-vm", "ops-h1");
        assertTrue(h2.commands.stream().anyMatch(c -> c instanceof AgentCommand.StopVm s && s.vm().equals("ops-vm")),
                h2.commands.toString());
        assertTrue(h1.commands.stream().anyMatch(c -> c instanceof AgentCommand.StartVm s && s.vm().equals("ops-vm")
                && s.restoreFrom() == null), h1.commands.toString());
    }

    @Test
    @Order(6)
    void maintenanceMovesTheHostsVmsAway() {
        assertEquals(202, ctl.post("/api/v1/hosts/ops-h1/maintenance", "{\"enabled\":true}").status());
        awaitMaintenance("ops-h1", true);
        awaitRunning("ops-vm", "ops-h2");
        assertEquals(202, ctl.post("/api/v1/hosts/ops-h1/maintenance", "{\"enabled\":false}").status());
        awaitMaintenance("ops-h1", false);
    }

    @Test
    @Order(7)
    void aCleanShutdownReachesTheCoreAndItsClearanceTheAgent() throws Exception {
        try (FakeAgent leaving = new FakeAgent("ops-leaving", ctl.sharedStorage(), 2048)) {
            leaving.join(ctl.port(), ProtocolVersion.CURRENT);
            Await.until("ops-leaving connected", WAIT, () -> "connected".equals(ctl.get("/api/v1/hosts/ops-leaving").json().get("state")));
            leaving.shutDown("systemctl poweroff");
            ControllerMessage.ShutdownCleared cleared = leaving.next(ControllerMessage.ShutdownCleared.class, 10);
            assertNotNull(cleared, "the controller clears the shutdown of a host without VMs");
            List<Object> events = ctl.get("/api/v1/events?host=ops-leaving&type=host-shutting-down").jsonList();
            assertEquals(1, events.size(), events.toString());
            assertEquals("systemctl poweroff", ((Map<?, ?>) events.get(0)).get("cause"));
        }
        Await.until("ops-leaving offline", WAIT, () -> "offline".equals(ctl.get("/api/v1/hosts/ops-leaving").json().get("state")));
        assertEquals("running", vm().get("state"));
    }
}
