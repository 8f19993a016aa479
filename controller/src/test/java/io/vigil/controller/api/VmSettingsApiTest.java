package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A VM's HA settings over real HTTP: given at creation, changed by PATCH (JSON Merge Patch) one field at a time, and
 * every kind of bad value refused with a 400 naming the field. Admission control is off here (it has its own test).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmSettingsApiTest {
    private static final List<String> SETTINGS = List.of("haEnabled", "priority", "requestedState", "preferredHosts",
            "strict", "startAfter", "startAfterTimeoutSeconds", "maxRestarts", "maxRelocations", "failback", "cacheMode",
            "cacheWeight");
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"off\"}").status());
        for (String vm : List.of("set-a", "set-b", "set-other"))
            assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(vm), "\"start\":false")).status());
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private Map<String, Object> settings(String vm) {
        Map<String, Object> all = ctl.get("/api/v1/vms/" + vm).json();
        Map<String, Object> out = new LinkedHashMap<>();
        for (String f : SETTINGS) out.put(f, all.get(f));
        return out;
    }

    private static Map<String, Object> with(Map<String, Object> base, Object... fieldsAndValues) {
        Map<String, Object> out = new LinkedHashMap<>(base);
        for (int i = 0; i < fieldsAndValues.length; i += 2) out.put((String) fieldsAndValues[i], fieldsAndValues[i + 1]);
        return out;
    }

    @Test
    void settingsGivenAtCreationAreStoredAndTheRestTakeDefaults() {
        Reply r = ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("set-made"), "\"requestedState\":\"stopped\","
                + "\"priority\":\"low\",\"preferredHosts\":[{\"host\":\"h2\",\"priority\":10},{\"host\":\"h1\",\"priority\":5}],"
                + "\"strict\":true,\"startAfter\":[\"set-a\"],\"cacheMode\":\"write-back-recoverable\",\"failback\":true"));
        assertEquals(201, r.status(), r.body());
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("haEnabled", true);
        expected.put("priority", "low");
        expected.put("requestedState", "stopped");
        expected.put("preferredHosts", List.of(Map.of("host", "h2", "priority", 10), Map.of("host", "h1", "priority", 5)));
        expected.put("strict", true);
        expected.put("startAfter", List.of("set-a"));
        expected.put("startAfterTimeoutSeconds", 120);
        expected.put("maxRestarts", 1);
        expected.put("maxRelocations", 1);
        expected.put("failback", true);
        expected.put("cacheMode", "write-back-recoverable");
        expected.put("cacheWeight", 1);
        assertEquals(expected, settings("set-made"));

        assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("set-bad"),
                "\"start\":true,\"requestedState\":\"stopped\"")), 400, "start", "requestedState");
        assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("set-bad"),
                "\"strict\":true,\"start\":false")), 400, "strict needs preferredHosts");
        assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("set-bad"),
                "\"startAfter\":[\"nobody\"],\"start\":false")), 400, "startAfter", "nobody");
        assertProblem(ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("set-bad"),
                "\"requestedState\":\"deleted\"")), 400, "requestedState");
        assertEquals(404, ctl.get("/api/v1/vms/set-bad").status());
    }

    @Test
    void patchChangesEachFieldAloneAndNullResetsIt() {
        Object[][] changes = {
            {"haEnabled", "false", false},
            {"priority", "\"disabled\"", "disabled"},
            {"priority", "\"highest\"", "highest"},
            {"requestedState", "\"disabled\"", "disabled"},
            {"requestedState", "\"ignored\"", "ignored"},
            {"requestedState", "\"stopped\"", "stopped"},
            {"preferredHosts", "[{\"host\":\"h1\",\"priority\":1},{\"host\":\"h3\",\"priority\":-2}]",
                List.of(Map.of("host", "h1", "priority", 1), Map.of("host", "h3", "priority", -2))},
            {"strict", "true", true},
            {"startAfter", "[\"set-other\"]", List.of("set-other")},
            {"startAfterTimeoutSeconds", "30", 30},
            {"maxRestarts", "3", 3},
            {"maxRelocations", "0", 0},
            {"failback", "true", true},
            {"cacheMode", "\"write-through\"", "write-through"},
            {"cacheWeight", "0", 0},
            {"cacheWeight", "1000", 1000},
        };
        for (Object[] c : changes) {
            Map<String, Object> before = settings("set-a");
            Reply r = ctl.patch("/api/v1/vms/set-a", "{\"" + c[0] + "\":" + c[1] + "}");
            assertEquals(200, r.status(), c[0] + ": " + r.body());
            Map<String, Object> expected = with(before, (String) c[0], c[2]);
            assertEquals(expected, settings("set-a"), "PATCH " + c[0] + " changes that field only");
            assertEquals(96, r.json().get("memoryMiB"));
        }
        Reply reset = ctl.patch("/api/v1/vms/set-a", "{\"strict\":null,\"preferredHosts\":null,\"cacheMode\":null,"
                + "\"maxRestarts\":null,\"startAfter\":null,\"haEnabled\":null,\"priority\":null,\"cacheWeight\":null}",
                "application/json");
        assertEquals(200, reset.status(), reset.body());
        Map<String, Object> after = settings("set-a");
        assertEquals(false, after.get("strict"));
        assertEquals(List.of(), after.get("preferredHosts"));
        assertEquals("write-back", after.get("cacheMode"));
        assertEquals(1, after.get("cacheWeight"));
        assertEquals(1, after.get("maxRestarts"));
        assertEquals(List.of(), after.get("startAfter"));
        assertEquals(true, after.get("haEnabled"));
        assertEquals("medium", after.get("priority"));
        assertEquals(30, after.get("startAfterTimeoutSeconds"), "fields not sent keep their value");
        assertEquals("stopped", after.get("requestedState"));
    }

    @Test
    void everyKindOfBadValueIsRefusedNamingTheFieldAndChangesNothing() {
        assertEquals(200, ctl.patch("/api/v1/vms/set-b", "{\"preferredHosts\":[{\"host\":\"h1\",\"priority\":1}]}").status());
        Map<String, Object> before = ctl.get("/api/v1/vms/set-b").json();
        String[][] refused = {
            // wrong types
            {"{\"haEnabled\":\"yes\"}", "haEnabled"},
            {"{\"maxRestarts\":1.5}", "maxRestarts"},
            {"{\"startAfter\":\"set-a\"}", "startAfter"},
            {"{\"preferredHosts\":[{\"host\":\"h1\"}]}", "field preferredHosts[0]: Instance does not have required property \"priority\""},
            {"{\"preferredHosts\":[{\"host\":\"h1\",\"priority\":\"high\"}]}", "field preferredHosts[0].priority: Instance type string"},
            {"{\"preferredHosts\":[{\"host\":\"h1\",\"priority\":1,\"weight\":2}]}", "field preferredHosts[0].weight: not a known field"},
            {"{\"startAfter\":[\"set-a\",7]}", "field startAfter[1]"},
            // values outside the enums and ranges
            {"{\"priority\":\"urgent\"}", "priority"},
            {"{\"requestedState\":\"running\"}", "requestedState"},
            {"{\"requestedState\":\"deleted\"}", "requestedState"},
            {"{\"cacheMode\":\"none\"}", "cacheMode"},
            {"{\"maxRestarts\":101}", "maxRestarts"},
            {"{\"maxRelocations\":-1}", "maxRelocations"},
            {"{\"startAfterTimeoutSeconds\":86401}", "startAfterTimeoutSeconds"},
            {"{\"cacheWeight\":1001}", "cacheWeight"},
            {"{\"cacheWeight\":-1}", "cacheWeight"},
            {"{\"cacheWeight\":2.5}", "cacheWeight"},
            // unknown and read-only fields
            {"{\"prio\":\"high\"}", "prio"},
            {"{\"memoryMiB\":4096}", "memoryMiB"},
            {"{\"name\":\"renamed\"}", "name"},
            {"{\"domainXml\":\"<domain/>\"}", "domainXml"},
            {"{\"host\":\"h1\"}", "host"},
            {"{\"state\":\"running\"}", "state"},
            {"{\"cacheMiB\":10}", "cacheMiB"},
            // inconsistent settings, unknown VMs
            {"{\"preferredHosts\":null,\"strict\":true}", "strict"},
            {"{\"preferredHosts\":[{\"host\":\"h1\",\"priority\":1},{\"host\":\"h1\",\"priority\":2}]}", "preferredHosts"},
            {"{\"startAfter\":[\"set-b\"]}", "startAfter"},
            {"{\"startAfter\":[\"set-a\",\"ghost\"]}", "ghost"},
            {"{\"startAfter\":[\"set-a\",\"set-a\"]}", "startAfter"},
        };
        for (String[] c : refused) {
            Map<String, Object> p = assertProblem(ctl.patch("/api/v1/vms/set-b", c[0]), 400, c[1]);
            assertFalse(((String) p.get("detail")).contains("did not match schema"), "no generic wrapper: " + p.get("detail"));
        }
        Map<String, Object> malformed = assertProblem(ctl.patch("/api/v1/vms/set-b", "{\"priority\":\"high\""), 400,
                "not valid JSON");
        assertEquals("Malformed JSON", malformed.get("title"));
        assertProblem(ctl.patch("/api/v1/vms/set-b", "\"high\""), 400);
        assertEquals(before, ctl.get("/api/v1/vms/set-b").json());

        assertProblem(ctl.patch("/api/v1/vms/no-such-vm", "{\"priority\":\"high\"}"), 404, "no-such-vm");
    }

    @Test
    void requestedStateStartedByPatchStartsTheVmAsTheStartEndpointDoes() {
        Reply r = ctl.patch("/api/v1/vms/set-other", "{\"requestedState\":\"started\"}");
        assertEquals(200, r.status(), r.body());
        assertEquals("started", r.json().get("requestedState"));
        assertEquals(202, ctl.postEmpty("/api/v1/vms/set-other/stop").status());
        assertEquals("stopped", ctl.get("/api/v1/vms/set-other").json().get("requestedState"));
        assertEquals(202, ctl.postEmpty("/api/v1/vms/set-other/start").status());
        assertEquals("started", ctl.get("/api/v1/vms/set-other").json().get("requestedState"));
        assertEquals(200, ctl.patch("/api/v1/vms/set-other", "{\"requestedState\":\"stopped\"}").status());
    }
}
