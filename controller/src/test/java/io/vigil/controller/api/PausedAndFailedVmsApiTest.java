package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.VmPowerState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What an operator sees and can do when a VM is in trouble, against a real controller with the test playing the host's
 * agent: a VM its agent reports paused, a VM the HA core gave up on, and a libvirt event that repeats itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PausedAndFailedVmsApiTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String PROBLEM = "paused on an I/O error and could not be resumed: QEMU cannot connect to its"
            + " disk socket /run/vigil/nbd/pv1.sock: Permission denied";
    private TestController ctl;
    private FakeAgent agent;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        // One host cannot survive a host failure: with admission control on, no HA VM would be admitted.
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"off\"}").status());
        agent = ctl.connectedHost("trouble-h1", 4096);
    }

    @AfterAll
    void stop() throws Exception {
        agent.close();
        ctl.close();
    }

    private Map<String, Object> vm(String name) {
        return ctl.get("/api/v1/vms/" + name).json();
    }

    private void create(String name, String settings) {
        Reply created = ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(name), settings));
        assertEquals(201, created.status(), created.body());
    }

    private void awaitState(String name, String state) {
        Await.until(name + " " + state, WAIT, () -> state.equals(vm(name).get("state")));
    }

    private void delete(String name) {
        assertEquals(202, ctl.delete("/api/v1/vms/" + name).status());
        Await.until(name + " forgotten", WAIT, () -> ctl.get("/api/v1/vms/" + name).status() == 404);
    }

    private Map<?, ?> listed(String name) {
        return ctl.get("/api/v1/vms").jsonList().stream().map(o -> (Map<?, ?>) o)
                .filter(v -> name.equals(v.get("name"))).findFirst().orElseThrow();
    }

    private long commandsFor(String name) {
        return agent.commands.stream().filter(c -> name.equals(c.vm())).count();
    }

    @Test
    void aVmItsAgentReportsPausedIsShownPausedUntilItIsReportedRunning() throws Exception {
        create("tr-paused", "\"start\":true");
        awaitState("tr-paused", "running");
        long commands = commandsFor("tr-paused");

        agent.report("tr-paused", VmPowerState.PAUSED, "ioerror", PROBLEM);
        awaitState("tr-paused", "paused");
        Map<String, Object> paused = vm("tr-paused");
        assertEquals("trouble-h1", paused.get("host"));
        assertEquals("ioerror", paused.get("stateReason"));
        assertEquals(PROBLEM, paused.get("lastError"));
        Map<?, ?> inList = listed("tr-paused");
        assertEquals("paused", inList.get("state"));
        assertEquals("ioerror", inList.get("stateReason"));
        assertEquals(PROBLEM, inList.get("lastError"));
        Map<?, ?> byState = (Map<?, ?>) ((Map<?, ?>) ctl.get("/api/v1/cluster").json().get("vms")).get("byState");
        assertEquals(1, byState.get("paused"), byState.toString());
        // An event, so the event log (and the dashboard, which reloads its VM table on a VM's events) hears of it.
        Await.until("a vm-paused event", WAIT, () -> ctl.get("/api/v1/events?vm=tr-paused&type=vm-paused").jsonList()
                .stream().anyMatch(o -> ((String) ((Map<?, ?>) o).get("message")).contains(PROBLEM)));

        // A start cannot resume it: a 409 that says so, and nothing changes.
        Reply start = ctl.postEmpty("/api/v1/vms/tr-paused/start");
        assertEquals(409, start.status(), start.body());
        assertEquals("application/problem+json", start.contentType());
        String detail = (String) start.json().get("detail");
        assertTrue(detail.contains("is paused") && detail.contains(PROBLEM) && detail.contains("virsh resume tr-paused"),
                detail);

        agent.report("tr-paused", VmPowerState.PAUSED, "ioerror", null);
        Await.until("the lastError from libvirt's reason", WAIT,
                () -> "paused by libvirt (reason: ioerror)".equals(vm("tr-paused").get("lastError")));
        assertEquals("paused", vm("tr-paused").get("state"));
        assertEquals(commands, commandsFor("tr-paused"), "the core left it where it is: " + agent.commands);

        agent.report("tr-paused", VmPowerState.RUNNING, null, null);
        awaitState("tr-paused", "running");
        Map<String, Object> resumed = vm("tr-paused");
        assertNull(resumed.get("lastError"));
        assertNull(resumed.get("stateReason"));
        assertEquals(commands, commandsFor("tr-paused"));
        Await.until("a vm-resumed event", WAIT,
                () -> !ctl.get("/api/v1/events?vm=tr-paused&type=vm-resumed").jsonList().isEmpty());
        delete("tr-paused");
    }

    @Test
    void aStartAcknowledgesAnErrorAndTheVmIsStartedAgain() {
        agent.refuseStarts.add("tr-error");
        create("tr-error", "\"start\":true,\"maxRestarts\":0,\"maxRelocations\":0");
        awaitState("tr-error", "error");
        String error = (String) vm("tr-error").get("lastError");
        assertTrue(error.contains("libvirt refused to start tr-error"), error);

        agent.refuseStarts.clear();
        Reply start = ctl.postEmpty("/api/v1/vms/tr-error/start");
        assertEquals(202, start.status(), start.body());
        assertEquals("starting", start.json().get("state"), start.body());
        assertNull(start.json().get("lastError"));
        awaitState("tr-error", "running");
        assertNull(vm("tr-error").get("lastError"));
        assertEquals(2, agent.commands.stream().filter(c -> c instanceof AgentCommand.StartVm s
                && s.vm().equals("tr-error")).count(), "started once more: " + agent.commands);
        List<Object> requested = ctl.get("/api/v1/events?vm=tr-error&type=vm-start-requested").jsonList();
        Map<?, ?> last = (Map<?, ?>) requested.get(requested.size() - 1);
        assertEquals(error, ((Map<?, ?>) last.get("details")).get("acknowledgedError"), last.toString());

        Reply again = ctl.postEmpty("/api/v1/vms/tr-error/start");
        assertEquals(202, again.status(), again.body());
        assertEquals("running", again.json().get("state"), "a running VM is left as it is");
        delete("tr-error");
    }

    @Test
    void aLibvirtEventRepeatedWithinSecondsIsRecordedOnceWithItsCount() {
        create("tr-flap", "\"start\":true");
        awaitState("tr-flap", "running");
        for (int i = 0; i < 5; i++) agent.lifecycle("tr-flap", "suspended", "ioerror", VmPowerState.PAUSED);
        agent.lifecycle("tr-flap", "resumed", "unpaused", VmPowerState.RUNNING);

        String query = "/api/v1/events?vm=tr-flap&type=vm-lifecycle";
        Await.until("the resumed event recorded", WAIT, () -> ctl.get(query).jsonList().stream()
                .anyMatch(o -> "resumed".equals(((Map<?, ?>) ((Map<?, ?>) o).get("details")).get("event"))));
        List<Map<?, ?>> details = ctl.get(query).jsonList().stream()
                .<Map<?, ?>>map(o -> (Map<?, ?>) ((Map<?, ?>) o).get("details")).toList();
        List<Map<?, ?>> suspended = details.stream().filter(d -> "suspended".equals(d.get("event"))).toList();
        assertEquals(1, suspended.size(), details.toString());
        assertEquals("ioerror", suspended.get(0).get("detail"));
        Map<?, ?> resumed = details.stream().filter(d -> "resumed".equals(d.get("event"))).findFirst().orElseThrow();
        assertEquals(4, resumed.get("repeated"), details.toString());
        delete("tr-flap");
    }
}
