package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Admission control and the failover reserve over real HTTP, with two fake hosts of 4096 MiB and 4 CPUs: the hosts
 * show the reserve the policy asks for, and creating, starting or patching an HA VM that would break it is a 409
 * naming the missing capacity, unless {@code ?override=true}, which is recorded as an event.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdmissionApiTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private TestController ctl;
    private FakeAgent h1;
    private FakeAgent h2;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        h1 = ctl.connectedHost("adm-h1", 4096);
        h2 = ctl.connectedHost("adm-h2", 4096);
    }

    @AfterAll
    void stop() throws Exception {
        h1.close();
        h2.close();
        ctl.close();
    }

    private void policy(String mergePatch) {
        Reply r = ctl.patch("/api/v1/policy", mergePatch);
        assertEquals(200, r.status(), r.body());
    }

    private static long number(Map<?, ?> m, String field) {
        return ((Number) m.get(field)).longValue();
    }

    /** Both hosts show {@code reserveMiB} and the free memory that leaves. */
    private void awaitReserve(long reserveMiB) {
        Await.until("hosts reserving " + reserveMiB + " MiB", WAIT, () -> ctl.get("/api/v1/hosts").jsonList().stream()
                .map(o -> (Map<?, ?>) o).allMatch(h -> number(h, "reserveMiB") == reserveMiB));
        for (Object o : ctl.get("/api/v1/hosts").jsonList()) {
            Map<?, ?> h = (Map<?, ?>) o;
            assertEquals(Math.max(0, number(h, "memoryTotalMiB") - number(h, "memoryUsedMiB") - reserveMiB),
                    number(h, "freeMiB"), h.toString());
            assertEquals(false, h.get("maintenance"));
        }
    }

    /**
     * A deletion is asynchronous (the agent undefines the VM, then the core forgets it): the next test's admission
     * must not count a VM still on its way out, so wait until it is forgotten and no host reports it any more.
     */
    private void awaitGone(String... vms) {
        for (String vm : vms) {
            Await.until(vm + " forgotten and on no host", WAIT, () -> ctl.get("/api/v1/vms/" + vm).status() == 404
                    && ctl.get("/api/v1/hosts").jsonList().stream().noneMatch(h -> String.valueOf(((Map<?, ?>) h).get("vms")).contains(vm)));
        }
    }

    private List<Object> overrideEvents(String vm) {
        return ctl.get("/api/v1/events?type=admission-overridden&vm=" + vm).jsonList();
    }

    @Test
    void hostsShowTheReserveThePolicyAsksFor() {
        policy("{\"admissionControl\":\"percentage\",\"reservePercent\":25}");
        awaitReserve(1024);
        policy("{\"reservePercent\":50}");
        awaitReserve(2048);
        policy("{\"admissionControl\":\"dedicated\",\"failoverHosts\":[\"adm-h2\"]}");
        Await.until("adm-h2 reserving all its memory", WAIT,
                () -> number(ctl.get("/api/v1/hosts/adm-h2").json(), "reserveMiB") == 4096
                        && number(ctl.get("/api/v1/hosts/adm-h1").json(), "reserveMiB") == 0);
        assertEquals(0L, number(ctl.get("/api/v1/hosts/adm-h2").json(), "freeMiB"));
        policy("{\"admissionControl\":\"off\",\"failoverHosts\":null}");
        awaitReserve(0);
    }

    @Test
    void anHaVmThatWouldBreakTheReserveIsRefusedUnlessOverridden() {
        // 99% of 8192 MiB and 8 CPUs kept free: 81 MiB and no CPU left for a VM of 96 MiB and 2 vCPUs.
        policy("{\"admissionControl\":\"percentage\",\"reservePercent\":99}");
        String body = RestApiTest.createBody(RestApiTest.domain("adm-big"), "\"priority\":\"high\"");
        Reply refused = ctl.post("/api/v1/vms", body);
        Map<String, Object> problem = assertProblem(refused, 409, "admission control", "adm-big", "override=true");
        assertEquals("Admission Control Refused", problem.get("title"));
        long missingMiB = ((Number) problem.get("missingMiB")).longValue();
        long missingCpus = ((Number) problem.get("missingCpus")).longValue();
        assertTrue(missingMiB > 0, problem.toString());
        assertEquals(2, missingCpus, problem.toString());
        assertTrue(((String) problem.get("detail")).contains("missing " + missingMiB + " MiB and 2 CPU(s)"), problem.toString());
        assertEquals(404, ctl.get("/api/v1/vms/adm-big").status(), "a refused create stores nothing");
        assertTrue(overrideEvents("adm-big").isEmpty());

        Reply forced = ctl.post("/api/v1/vms?override=true", body);
        assertEquals(201, forced.status(), forced.body());
        List<Object> events = overrideEvents("adm-big");
        assertEquals(1, events.size(), events.toString());
        Map<?, ?> event = (Map<?, ?>) events.get(0);
        assertTrue(String.valueOf(event.get("message")).contains(missingMiB + " MiB"), event.toString());
        assertEquals(missingMiB, number((Map<?, ?>) event.get("details"), "missingMiB"));
        assertEquals("create", ((Map<?, ?>) event.get("details")).get("request"));
        assertEquals(202, ctl.delete("/api/v1/vms/adm-big").status());
        awaitGone("adm-big");
    }

    @Test
    void startingOrPatchingAVmIntoAnHaVmIsCheckedToo() {
        policy("{\"admissionControl\":\"percentage\",\"reservePercent\":99}");
        // Neither a stopped HA VM nor a started non-HA VM is checked.
        assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("adm-stopped"), "\"start\":false")).status());
        assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("adm-plain"), "\"haEnabled\":false")).status());

        Map<String, Object> start = assertProblem(ctl.postEmpty("/api/v1/vms/adm-stopped/start"), 409, "adm-stopped", "missing");
        assertTrue(((Number) start.get("missingMiB")).longValue() > 0);
        assertEquals("stopped", ctl.get("/api/v1/vms/adm-stopped").json().get("requestedState"));
        assertProblem(ctl.patch("/api/v1/vms/adm-stopped", "{\"requestedState\":\"started\"}"), 409, "missing");
        Reply started = ctl.postEmpty("/api/v1/vms/adm-stopped/start?override=true");
        assertEquals(202, started.status(), started.body());
        assertEquals("started", ctl.get("/api/v1/vms/adm-stopped").json().get("requestedState"));
        assertEquals("start", ((Map<?, ?>) ((Map<?, ?>) overrideEvents("adm-stopped").get(0)).get("details")).get("request"));

        assertProblem(ctl.patch("/api/v1/vms/adm-plain", "{\"haEnabled\":true}"), 409, "adm-plain", "missing");
        assertEquals(false, ctl.get("/api/v1/vms/adm-plain").json().get("haEnabled"));
        Reply patched = ctl.patch("/api/v1/vms/adm-plain?override=true", "{\"haEnabled\":true}");
        assertEquals(200, patched.status(), patched.body());
        assertEquals(true, patched.json().get("haEnabled"));
        assertEquals(1, overrideEvents("adm-plain").size());

        // Settings that leave it an HA VM, and stopping it, are not checked again.
        assertEquals(200, ctl.patch("/api/v1/vms/adm-plain", "{\"priority\":\"low\"}").status());
        assertEquals(202, ctl.postEmpty("/api/v1/vms/adm-plain/stop").status());
        assertEquals(1, overrideEvents("adm-plain").size());

        // With room to spare, the same request passes.
        policy("{\"reservePercent\":10}");
        assertEquals(202, ctl.postEmpty("/api/v1/vms/adm-plain/start").status());
        assertEquals(1, overrideEvents("adm-plain").size());
        for (String vm : List.of("adm-stopped", "adm-plain")) assertEquals(202, ctl.delete("/api/v1/vms/" + vm).status());
        awaitGone("adm-stopped", "adm-plain");
    }

    @Test
    void theDefaultPolicyRefusesAnHaVmThatNoSurvivingHostCouldRestart() {
        // host-failures, tolerating one: 2 x 4096 MiB, so an HA VM of 4000 MiB could never be restarted after a failure.
        assertEquals(200, ctl.put("/api/v1/policy", "{}").status());
        String xml = RestApiTest.domain("adm-huge").replace("<memory unit='MiB'>96</memory>", "<memory unit='MiB'>4000</memory>");
        Map<String, Object> p = assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(xml, "")), 409, "host-failures");
        assertTrue(((Number) p.get("missingMiB")).longValue() > 0, p.toString());
        assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("adm-small"), "")).status(),
                "a small HA VM fits");
        assertEquals(202, ctl.delete("/api/v1/vms/adm-small").status());
        awaitGone("adm-small");
    }
}
