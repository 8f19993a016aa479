package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * The disk cache over real HTTP, with two fake hosts of 4096 MiB: a VM's cacheWeight is set at creation and by
 * PATCH and refused out of range with a 400 naming it; hosts show what they lend and what their agent reports the
 * caches hold; VMs show their budget and their cache. Two HA VMs of 96 MiB run on cache-h1 only: with one host
 * failure tolerated each host reserves 192 MiB, and cache-h1 lends all of it, shared by weight.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheLendingApiTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final long MIB = 1 << 20;
    private TestController ctl;
    private FakeAgent h1;
    private FakeAgent h2;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        h1 = ctl.connectedHost("cache-h1", 4096);
        h2 = ctl.connectedHost("cache-h2", 4096);
        String onH1 = "\"preferredHosts\":[{\"host\":\"cache-h1\",\"priority\":1}],\"strict\":true";
        Reply a = ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("cache-a"), onH1 + ",\"cacheWeight\":3"));
        assertEquals(201, a.status(), a.body());
        assertEquals(3, a.json().get("cacheWeight"));
        Reply b = ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("cache-b"), onH1));
        assertEquals(201, b.status(), b.body());
        assertEquals(1, b.json().get("cacheWeight"), "the default weight");
        for (String vm : List.of("cache-a", "cache-b"))
            Await.until(vm + " running", WAIT, () -> "running".equals(ctl.get("/api/v1/vms/" + vm).json().get("state")));
    }

    @AfterAll
    void stop() throws Exception {
        h1.close();
        h2.close();
        ctl.close();
    }

    private static long number(Map<String, Object> m, String field) {
        return ((Number) m.get(field)).longValue();
    }

    @Test
    void hostsShowWhatTheyLendAndWhatTheirCachesHold() {
        Await.until("cache-h1 lends its reserve", WAIT, () -> number(ctl.get("/api/v1/hosts/cache-h1").json(),
                "cacheLentMiB") == 192);
        h1.cache("cache-a", 100 * MIB, 30 * MIB);
        h1.cache("cache-b", 20 * MIB + 5, 0);
        Await.until("cache-h1 reports its caches", WAIT, () -> number(ctl.get("/api/v1/hosts/cache-h1").json(),
                "cacheMiB") == 120);
        Map<String, Object> host = ctl.get("/api/v1/hosts/cache-h1").json();
        assertEquals(192, number(host, "reserveMiB"));
        assertEquals(30, number(host, "cacheDirtyMiB"));
        Map<String, Object> other = ctl.get("/api/v1/hosts/cache-h2").json();
        assertEquals(192, number(other, "reserveMiB"));
        assertEquals(0, number(other, "cacheLentMiB"), "no VM runs on cache-h2 to lend to");
        assertEquals(0, number(other, "cacheMiB"));

        Map<String, Object> a = ctl.get("/api/v1/vms/cache-a").json();
        assertEquals(144, number(a, "cacheBudgetMiB"), "3/4 of 192 MiB");
        assertEquals(100, number(a, "cacheMiB"));
        assertEquals(30, number(a, "cacheDirtyMiB"));
        Map<String, Object> b = ctl.get("/api/v1/vms/cache-b").json();
        assertEquals(48, number(b, "cacheBudgetMiB"), "1/4 of 192 MiB");
        assertEquals(20, number(b, "cacheMiB"), "whole MiB, rounded down");
        List<Object> all = ctl.get("/api/v1/vms").jsonList();
        for (Object o : all) {
            @SuppressWarnings("unchecked")
            Map<String, Object> vm = (Map<String, Object>) o;
            if (vm.get("name").equals("cache-a")) assertEquals(144, number(vm, "cacheBudgetMiB"), "the list shows it too");
        }
    }

    @Test
    void cacheWeightIsChangedByPatchAndRefusedOutOfRange() {
        Reply zero = ctl.patch("/api/v1/vms/cache-b", "{\"cacheWeight\":0}");
        assertEquals(200, zero.status(), zero.body());
        assertEquals(0, zero.json().get("cacheWeight"));
        Await.until("cache-a takes the whole pool", WAIT, () -> number(ctl.get("/api/v1/vms/cache-a").json(),
                "cacheBudgetMiB") == 192);
        assertEquals(0, number(ctl.get("/api/v1/vms/cache-b").json(), "cacheBudgetMiB"));
        Reply reset = ctl.patch("/api/v1/vms/cache-b", "{\"cacheWeight\":null}");
        assertEquals(1, reset.json().get("cacheWeight"), "null takes the default");
        Await.until("cache-b shares again", WAIT, () -> number(ctl.get("/api/v1/vms/cache-b").json(),
                "cacheBudgetMiB") == 48);

        assertProblem(ctl.patch("/api/v1/vms/cache-b", "{\"cacheWeight\":1001}"), 400, "cacheWeight");
        assertProblem(ctl.patch("/api/v1/vms/cache-b", "{\"cacheWeight\":-1}"), 400, "cacheWeight");
        assertProblem(ctl.patch("/api/v1/vms/cache-b", "{\"cacheWeight\":\"lots\"}"), 400, "cacheWeight");
        assertProblem(ctl.patch("/api/v1/vms/cache-b", "{\"cacheBudgetMiB\":4096}"), 400, "cacheBudgetMiB", "read-only");
        assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("cache-bad"),
                "\"cacheWeight\":5000,\"start\":false")), 400, "cacheWeight");
        assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("cache-bad"),
                "\"cacheWeight\":1.5,\"start\":false")), 400, "cacheWeight");
        assertEquals(404, ctl.get("/api/v1/vms/cache-bad").status(), "a refused request changes nothing");
        assertEquals(1, ctl.get("/api/v1/vms/cache-b").json().get("cacheWeight"));
    }
}
