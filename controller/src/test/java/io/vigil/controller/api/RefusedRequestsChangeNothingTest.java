package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Caller;
import io.vigil.controller.testing.TestController.Reply;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Well-formed changes of every kind, each of which would change something if an admin sent it, sent instead without a
 * token, with a garbage token and with a role too small: all refused (401, 403), and the policy, VMs, rules, hosts,
 * tokens and users read the same before and after.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusedRequestsChangeNothingTest {
    private TestController ctl;
    private String keptTokenId;

    /** A change and the least role that may make it. */
    record Change(String method, String path, String body, Role needs) {}

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"off\"}").status());
        for (String vm : List.of("kept-a", "kept-b"))
            assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(vm), "\"start\":false")).status());
        assertEquals(201, ctl.post("/api/v1/rules", "{\"name\":\"kept-apart\",\"type\":\"anti-affinity\",\"vms\":[\"kept-a\",\"kept-b\"]}").status());
        assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"kept-user\",\"role\":\"viewer\",\"password\":\"kept user password\"}").status());
        Reply token = ctl.post("/api/v1/tokens", "{\"name\":\"kept token\",\"role\":\"operator\"}");
        assertEquals(201, token.status());
        keptTokenId = (String) token.json().get("id");
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private Map<String, String> snapshot() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String path : List.of("/api/v1/policy", "/api/v1/vms", "/api/v1/rules", "/api/v1/hosts", "/api/v1/tokens", "/api/v1/users")) {
            Reply r = ctl.get(path);
            assertEquals(200, r.status(), path + ": " + r.body());
            out.put(path, r.body());
        }
        return out;
    }

    private List<Change> changes() {
        String rule = "{\"name\":\"intruder-rule\",\"type\":\"affinity\",\"vms\":[\"kept-a\",\"kept-b\"]}";
        return List.of(
                new Change("PUT", "/api/v1/policy", "{\"admissionControl\":\"percentage\",\"reservePercent\":50}", Role.ADMIN),
                new Change("PATCH", "/api/v1/policy", "{\"reservePercent\":40}", Role.ADMIN),
                new Change("POST", "/api/v1/vms", RestApiTest.createBody(RestApiTest.domain("intruder"), "\"start\":false"), Role.ADMIN),
                new Change("PATCH", "/api/v1/vms/kept-a", "{\"priority\":\"high\",\"cacheWeight\":7}", Role.ADMIN),
                new Change("DELETE", "/api/v1/vms/kept-a", null, Role.ADMIN),
                new Change("POST", "/api/v1/vms/kept-a/start", null, Role.OPERATOR),
                new Change("POST", "/api/v1/vms/kept-b/stop", null, Role.OPERATOR),
                new Change("POST", "/api/v1/vms/kept-a/migrate", "{\"host\":\"h2\"}", Role.OPERATOR),
                new Change("POST", "/api/v1/vms/kept-a/relocate", "{\"host\":\"h2\"}", Role.OPERATOR),
                new Change("POST", "/api/v1/hosts/h1/maintenance", "{\"enabled\":true}", Role.OPERATOR),
                new Change("POST", "/api/v1/rules", rule, Role.ADMIN),
                new Change("PUT", "/api/v1/rules/kept-apart", "{\"type\":\"affinity\",\"vms\":[\"kept-a\",\"kept-b\"]}", Role.ADMIN),
                new Change("PATCH", "/api/v1/rules/kept-apart", "{\"strict\":true}", Role.ADMIN),
                new Change("DELETE", "/api/v1/rules/kept-apart", null, Role.ADMIN),
                new Change("POST", "/api/v1/tokens", "{\"name\":\"intruder\",\"role\":\"admin\"}", Role.ADMIN),
                new Change("DELETE", "/api/v1/tokens/" + keptTokenId, null, Role.ADMIN),
                new Change("POST", "/api/v1/users", "{\"name\":\"intruder\",\"role\":\"admin\",\"password\":\"intruder password\"}", Role.ADMIN),
                new Change("PATCH", "/api/v1/users/kept-user", "{\"role\":\"admin\",\"password\":\"a new password here\"}", Role.ADMIN),
                new Change("DELETE", "/api/v1/users/kept-user", null, Role.ADMIN));
    }

    private static Reply send(Caller caller, Change c) {
        return switch (c.method()) {
            case "POST" -> c.body() == null ? caller.postEmpty(c.path()) : caller.post(c.path(), c.body());
            case "PUT" -> caller.put(c.path(), c.body());
            case "PATCH" -> caller.patch(c.path(), c.body());
            case "DELETE" -> caller.delete(c.path());
            default -> throw new IllegalArgumentException(c.method());
        };
    }

    @Test
    void refusedChangesChangeNothing() {
        Map<String, String> before = snapshot();
        Caller nobody = ctl.as(null);
        Caller garbage = ctl.as("vgl_aaaaaaaaaaaa_" + "B".repeat(43));
        Caller viewer = ctl.as(ctl.tokenFor("refused-viewer", Role.VIEWER));
        Caller operator = ctl.as(ctl.tokenFor("refused-operator", Role.OPERATOR));
        // The two tokens just issued are part of the state that must not change.
        before.put("/api/v1/tokens", ctl.get("/api/v1/tokens").body());
        int refusals = 0;
        for (Change c : changes()) {
            String what = c.method() + " " + c.path();
            assertEquals(401, send(nobody, c).status(), what + " without a token");
            assertEquals(401, send(garbage, c).status(), what + " with a garbage token");
            assertEquals(403, send(viewer, c).status(), what + " as a viewer");
            if (c.needs() == Role.ADMIN) assertEquals(403, send(operator, c).status(), what + " as an operator");
            refusals += c.needs() == Role.ADMIN ? 4 : 3;
        }
        assertEquals(before, snapshot(), "after " + refusals + " refused changes");
        assertEquals(List.of(), Jsons.list(ctl.get("/api/v1/events?type=admission-overridden").body()));
    }
}
