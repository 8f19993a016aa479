package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.auth.ApiToken;
import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** API tokens over real HTTP: issued once, listed without secrets, revoked at once (on every member), expiring. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokensApiTest {
    private static final String TOKEN = "vgl_[a-z2-7]{12}_[A-Za-z0-9_-]{43}";
    private static final Set<String> VIEW_FIELDS = Set.of("id", "name", "role", "kind", "createdAtMillis", "createdBy", "expiresAtMillis");
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private Map<String, Object> issue(String body) {
        Reply r = ctl.post("/api/v1/tokens", body);
        assertEquals(201, r.status(), r.body());
        return r.json();
    }

    @Test
    void anIssuedTokenWorksWithItsRoleAndItsTextIsShownOnlyOnce() {
        long before = System.currentTimeMillis();
        Reply r = ctl.post("/api/v1/tokens", "{\"name\":\"ci deploy\",\"role\":\"operator\"}");
        assertEquals(201, r.status(), r.body());
        Map<String, Object> issued = r.json();
        String token = (String) issued.get("token");
        String id = (String) issued.get("id");
        assertTrue(token.matches(TOKEN), token);
        assertEquals("vgl_" + id + "_", token.substring(0, 17));
        assertEquals("/api/v1/tokens/" + id, r.location());
        assertEquals(Set.of("token", "id", "name", "role", "kind", "createdAtMillis", "createdBy", "expiresAtMillis"), issued.keySet());
        assertEquals(List.of("ci deploy", "operator", "api", "bootstrap-admin"),
                List.of(issued.get("name"), issued.get("role"), issued.get("kind"), issued.get("createdBy")));
        assertNull(issued.get("expiresAtMillis"));
        assertTrue(((Number) issued.get("createdAtMillis")).longValue() >= before);

        Map<String, Object> whoami = ctl.as(token).get("/api/v1/whoami").json();
        assertEquals(Map.of("name", "ci deploy", "role", "operator", "tokenId", id, "kind", "api"),
                Map.of("name", whoami.get("name"), "role", whoami.get("role"), "tokenId", whoami.get("tokenId"), "kind", whoami.get("kind")));
        assertEquals(404, ctl.as(token).postEmpty("/api/v1/vms/no-such-vm/start").status(), "an operator may start VMs");
        assertEquals(403, ctl.as(token).patch("/api/v1/policy", "{\"reservePercent\":10}").status(), "but not change the policy");
        assertEquals(403, ctl.as(token).get("/api/v1/tokens").status(), "nor see tokens");

        Reply list = ctl.get("/api/v1/tokens");
        assertEquals(200, list.status());
        String secret = token.substring(17);
        assertFalse(list.body().contains(secret), "the list shows no secret");
        assertFalse(list.body().contains("secretSha256") || list.body().contains("\"token\""), list.body());
        Map<String, Object> listed = list.jsonList().stream().map(o -> (Map<String, Object>) o)
                .filter(t -> id.equals(t.get("id"))).findFirst().orElseThrow();
        assertEquals(VIEW_FIELDS, listed.keySet());
        Reply one = ctl.get("/api/v1/tokens/" + id);
        assertEquals(listed, one.json());
        assertFalse(one.body().contains(secret));
    }

    @Test
    void aRevokedTokenIsRefusedAtOnce() {
        Map<String, Object> issued = issue("{\"name\":\"short-lived\",\"role\":\"viewer\"}");
        String token = (String) issued.get("token");
        assertEquals(200, ctl.as(token).get("/api/v1/vms").status());
        assertEquals(204, ctl.delete("/api/v1/tokens/" + issued.get("id")).status());
        assertProblem(ctl.as(token).get("/api/v1/vms"), 401, "unknown, expired or revoked");
        assertProblem(ctl.get("/api/v1/tokens/" + issued.get("id")), 404, "no token");
        assertProblem(ctl.delete("/api/v1/tokens/" + issued.get("id")), 404, "no token");
        assertProblem(ctl.delete("/api/v1/tokens/NOT-AN-ID"), 400, "id");
    }

    @Test
    void aTokensLifetimeIsEnforced() {
        Map<String, Object> issued = issue("{\"name\":\"a minute\",\"role\":\"viewer\",\"ttlSeconds\":60}");
        assertEquals(60_000L, ((Number) issued.get("expiresAtMillis")).longValue() - ((Number) issued.get("createdAtMillis")).longValue());
        assertEquals(issued.get("expiresAtMillis"), ctl.as((String) issued.get("token")).get("/api/v1/whoami").json().get("expiresAtMillis"));
        issue("{\"name\":\"ten years\",\"role\":\"viewer\",\"ttlSeconds\":315360000}");

        // One issued two seconds ago for one second: expired.
        var expired = ctl.controller.tokens().issue("expired", Role.ADMIN, ApiToken.API, 1000L, "test", System.currentTimeMillis() - 2000);
        assertProblem(ctl.as(expired.token()).get("/api/v1/whoami"), 401, "expired");
        assertTrue(ctl.get("/api/v1/tokens").jsonList().stream().noneMatch(t -> expired.record().id().equals(((Map<?, ?>) t).get("id"))),
                "an expired token is not listed");
        assertProblem(ctl.get("/api/v1/tokens/" + expired.record().id()), 404);
    }

    @Test
    void badTokenRequestsAreRefusedNamingTheFieldAndIssueNothing() {
        int before = ctl.get("/api/v1/tokens").jsonList().size();
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"x\",\"role\":\"viewer\",\"ttlSeconds\":59}"), 400, "ttlSeconds");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"x\",\"role\":\"viewer\",\"ttlSeconds\":315360001}"), 400, "ttlSeconds");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"x\",\"role\":\"root\"}"), 400, "role");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"\",\"role\":\"viewer\"}"), 400, "name");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"" + "n".repeat(65) + "\",\"role\":\"viewer\"}"), 400, "name");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"tab\\there\",\"role\":\"viewer\"}"), 400, "name");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\" padded\",\"role\":\"viewer\"}"), 400, "name");
        assertProblem(ctl.post("/api/v1/tokens", "{\"role\":\"viewer\"}"), 400, "name");
        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"x\",\"role\":\"viewer\",\"scope\":\"all\"}"), 400, "field scope");
        assertProblem(ctl.get("/api/v1/tokens?kind=robot"), 400, "kind");
        assertEquals(before, ctl.get("/api/v1/tokens").jsonList().size());
    }

    @Test
    void tokensAreListedByKind() throws Exception {
        issue("{\"name\":\"kind-check\",\"role\":\"viewer\"}");
        assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"kind-user\",\"role\":\"viewer\",\"password\":\"kind user password\"}").status());
        assertEquals(200, ctl.as(null).post("/api/v1/login", "{\"user\":\"kind-user\",\"password\":\"kind user password\"}").status());
        List<Object> sessions = ctl.get("/api/v1/tokens?kind=session").jsonList();
        List<Object> api = ctl.get("/api/v1/tokens?kind=api").jsonList();
        assertTrue(sessions.stream().allMatch(t -> "session".equals(((Map<?, ?>) t).get("kind"))) && !sessions.isEmpty(), sessions.toString());
        assertTrue(sessions.stream().anyMatch(t -> "kind-user".equals(((Map<?, ?>) t).get("name"))), sessions.toString());
        assertTrue(api.stream().allMatch(t -> "api".equals(((Map<?, ?>) t).get("kind"))), api.toString());
        assertTrue(api.stream().anyMatch(t -> "kind-check".equals(((Map<?, ?>) t).get("name"))), api.toString());
    }

    @Test
    void theLastAdminApiTokenCannotBeRevokedAndARevokedBootstrapTokenStaysRevoked() throws Exception {
        try (TestController own = new TestController()) {
            String bootstrapId = own.adminToken().substring(4, 16);
            assertProblem(own.delete("/api/v1/tokens/" + bootstrapId), 409, "last admin API token");
            assertEquals(200, own.get("/api/v1/whoami").status(), "still works");

            String second = (String) own.post("/api/v1/tokens", "{\"name\":\"second admin\",\"role\":\"admin\"}").json().get("token");
            assertEquals(204, own.as(second).delete("/api/v1/tokens/" + bootstrapId).status());
            assertEquals(401, own.get("/api/v1/whoami").status(), "the bootstrap token no longer works");
            assertProblem(own.as(second).delete("/api/v1/tokens/" + second.substring(4, 16)), 409, "last admin API token");

            // A member (re)starting with the same file does not bring it back.
            assertTrue(own.controller.tokens().registerBootstrap(own.controller.config().adminTokenPath(), System.currentTimeMillis()).isEmpty());
            assertEquals(401, own.get("/api/v1/whoami").status());
        }
    }

    @Test
    void aRevokedTokenIsRefusedByAnotherControllerMemberAtOnce() throws Exception {
        int firstPort = TestController.freePort();
        try (TestController first = new TestController("tok-1", null, firstPort, List.of("127.0.0.1:" + firstPort));
             TestController second = new TestController("tok-2", first.sharedStorage(), TestController.freePort(), List.of("127.0.0.1:" + firstPort))) {
            Await.until("a cluster of two", Duration.ofSeconds(15),
                    () -> second.controller.store().hazelcast().getCluster().getMembers().size() == 2);
            Reply issued = first.post("/api/v1/tokens", "{\"name\":\"everywhere\",\"role\":\"viewer\"}");
            assertEquals(201, issued.status(), issued.body());
            String token = (String) issued.json().get("token");
            assertEquals(200, second.as(token).get("/api/v1/vms").status(), "issued on one member, valid on the other");
            assertEquals(204, first.delete("/api/v1/tokens/" + issued.json().get("id")).status());
            assertEquals(401, second.as(token).get("/api/v1/vms").status(), "revoked on one member, refused on the other at once");
            assertEquals(401, first.as(token).get("/api/v1/vms").status());
        }
    }
}
