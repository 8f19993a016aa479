package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code /api/v1/policy} over real HTTP: GET, PUT (missing fields take defaults), PATCH (JSON Merge Patch), refusals. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyApiTest {
    private static final Map<String, Object> DEFAULTS = defaults();
    private TestController ctl;

    private static Map<String, Object> defaults() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("heartbeatIntervalSeconds", 1);
        d.put("failureTimeoutSeconds", 3);
        d.put("leaseTimeoutSeconds", 4);
        d.put("isolationResponse", "none");
        d.put("hostFailuresToTolerate", 1);
        d.put("admissionControl", "host-failures");
        d.put("reservePercent", 25);
        d.put("failoverHosts", List.of());
        d.put("rejoinGraceSeconds", 0);
        d.put("shutdownPolicy", "migrate");
        return d;
    }

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    @BeforeEach
    void reset() {
        assertEquals(200, ctl.put("/api/v1/policy", "{}").status());
    }

    private Map<String, Object> policy() {
        return ctl.get("/api/v1/policy").json();
    }

    private static Map<String, Object> with(Map<String, Object> base, Object... fieldsAndValues) {
        Map<String, Object> out = new LinkedHashMap<>(base);
        for (int i = 0; i < fieldsAndValues.length; i += 2) out.put((String) fieldsAndValues[i], fieldsAndValues[i + 1]);
        return out;
    }

    @Test
    void everyFieldIsReadableAndAnEmptyPutGivesTheDefaults() {
        assertEquals(DEFAULTS, policy());
    }

    @Test
    void putReplacesEveryFieldAndLeavesNoneBehind() {
        String all = "{\"heartbeatIntervalSeconds\":2,\"failureTimeoutSeconds\":6,\"leaseTimeoutSeconds\":8,"
                + "\"isolationResponse\":\"poweroff\",\"hostFailuresToTolerate\":2,\"admissionControl\":\"dedicated\","
                + "\"reservePercent\":10,\"failoverHosts\":[\"spare1\",\"spare2\"],\"rejoinGraceSeconds\":30,"
                + "\"shutdownPolicy\":\"freeze\"}";
        Reply r = ctl.put("/api/v1/policy", all);
        assertEquals(200, r.status(), r.body());
        Map<String, Object> expected = with(DEFAULTS, "heartbeatIntervalSeconds", 2, "failureTimeoutSeconds", 6,
                "leaseTimeoutSeconds", 8, "isolationResponse", "poweroff", "hostFailuresToTolerate", 2,
                "admissionControl", "dedicated", "reservePercent", 10, "failoverHosts", List.of("spare1", "spare2"),
                "rejoinGraceSeconds", 30, "shutdownPolicy", "freeze");
        assertEquals(expected, r.json());
        assertEquals(expected, policy());

        // A PUT is the whole policy: what it leaves out goes back to its default, not to its current value.
        assertEquals(200, ctl.put("/api/v1/policy", "{\"shutdownPolicy\":\"failover\"}").status());
        assertEquals(with(DEFAULTS, "shutdownPolicy", "failover"), policy());
    }

    @Test
    void patchChangesOnlyTheFieldsSentAndNullResetsToTheDefault() {
        assertEquals(200, ctl.put("/api/v1/policy", "{\"isolationResponse\":\"shutdown\",\"reservePercent\":40,"
                + "\"admissionControl\":\"percentage\"}").status());
        Reply r = ctl.patch("/api/v1/policy", "{\"rejoinGraceSeconds\":15,\"leaseTimeoutSeconds\":6}");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> expected = with(DEFAULTS, "isolationResponse", "shutdown", "reservePercent", 40,
                "admissionControl", "percentage", "rejoinGraceSeconds", 15, "leaseTimeoutSeconds", 6);
        assertEquals(expected, r.json());
        assertEquals(expected, policy());

        // null: back to the default; application/json is accepted as well as application/merge-patch+json.
        Reply reset = ctl.patch("/api/v1/policy", "{\"reservePercent\":null,\"admissionControl\":null}", "application/json");
        assertEquals(200, reset.status(), reset.body());
        assertEquals(with(expected, "reservePercent", 25, "admissionControl", "host-failures"), policy());

        // Lists are replaced as a whole.
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"dedicated\",\"failoverHosts\":[\"a\",\"b\"]}").status());
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"failoverHosts\":[\"c\"]}").status());
        assertEquals(List.of("c"), policy().get("failoverHosts"));
        assertEquals(200, ctl.patch("/api/v1/policy", "{}").status(), "an empty patch changes nothing");
        assertEquals(List.of("c"), policy().get("failoverHosts"));
    }

    @Test
    void refusalsNameTheFieldAndChangeNothing() {
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"reservePercent\":30}").status());
        Map<String, Object> before = policy();

        assertProblem(ctl.patch("/api/v1/policy", "{\"reservePercnt\":30}"), 400, "reservePercnt", "not a known field");
        assertProblem(ctl.put("/api/v1/policy", "{\"hostFailures\":2}"), 400, "hostFailures", "not a known field");
        assertProblem(ctl.patch("/api/v1/policy", "{\"admissionControl\":\"sometimes\"}"), 400, "admissionControl");
        assertProblem(ctl.put("/api/v1/policy", "{\"shutdownPolicy\":\"reboot\"}"), 400, "shutdownPolicy");
        assertProblem(ctl.patch("/api/v1/policy", "{\"isolationResponse\":\"reboot\"}"), 400, "isolationResponse");
        assertProblem(ctl.patch("/api/v1/policy", "{\"reservePercent\":\"many\"}"), 400, "reservePercent");
        assertProblem(ctl.patch("/api/v1/policy", "{\"reservePercent\":101}"), 400, "reservePercent");
        assertProblem(ctl.patch("/api/v1/policy", "{\"failoverHosts\":\"h1\"}"), 400, "failoverHosts");
        assertProblem(ctl.put("/api/v1/policy", "{\"failoverHosts\":null}"), 400, "failoverHosts");
        // Inconsistent timing: the record's own check, naming the field.
        assertProblem(ctl.patch("/api/v1/policy", "{\"heartbeatIntervalSeconds\":2}"), 400,
                "failureTimeoutSeconds must be at least twice heartbeatIntervalSeconds");
        assertProblem(ctl.put("/api/v1/policy", "{\"heartbeatIntervalSeconds\":2,\"failureTimeoutSeconds\":4,"
                + "\"leaseTimeoutSeconds\":5}"), 400, "leaseTimeoutSeconds");
        // Dedicated failover hosts need at least one host.
        Map<String, Object> p = assertProblem(ctl.patch("/api/v1/policy", "{\"admissionControl\":\"dedicated\"}"), 400,
                "failoverHosts");
        assertEquals("Invalid Policy", p.get("title"));
        assertProblem(ctl.put("/api/v1/policy", "{\"admissionControl\":\"dedicated\",\"failoverHosts\":[]}"), 400,
                "failoverHosts");
        assertProblem(ctl.patch("/api/v1/policy", "{\"failoverHosts\":[\"h1\",\"h1\"]}"), 400, "failoverHosts");
        // Malformed JSON and a body that is no object.
        Map<String, Object> malformed = assertProblem(ctl.patch("/api/v1/policy", "{\"reservePercent\":"), 400, "not valid JSON");
        assertEquals("Malformed JSON", malformed.get("title"));
        assertProblem(ctl.put("/api/v1/policy", "{\"reservePercent\" 10}"), 400, "not valid JSON");
        assertProblem(ctl.patch("/api/v1/policy", "[1]"), 400);

        assertEquals(before, policy());
    }

    @Test
    void dedicatedWithFailoverHostsIsAccepted() {
        Reply r = ctl.patch("/api/v1/policy", "{\"admissionControl\":\"dedicated\",\"failoverHosts\":[\"spare\"],"
                + "\"hostFailuresToTolerate\":0}");
        assertEquals(200, r.status(), r.body());
        assertEquals(with(DEFAULTS, "admissionControl", "dedicated", "failoverHosts", List.of("spare"),
                "hostFailuresToTolerate", 0), policy());
    }
}
