package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.TestController;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Every operation of the OpenAPI document the controller serves, against every kind of caller: none, a garbage token, a
 * revoked token, and a viewer, an operator and an admin token. The expectations come from the operation's own
 * x-vigil-role, so an operation added later is covered without touching this test. A caller allowed in gets whatever
 * the operation answers for a made-up name or an empty body (404, 400, ...), never 401 or 403.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthorizationMatrixTest {
    /** Operations whose least role the issue names; any other GET must be viewer or admin, any other change operator or admin. */
    private static final Set<String> PUBLIC = Set.of("health", "openapi", "login");
    private static final Set<String> OPERATOR = Set.of("startVm", "stopVm", "migrateVm", "relocateVm", "setHostMaintenance");
    private static final Set<String> ADMIN = Set.of("createVm", "patchVm", "deleteVm", "putPolicy", "patchPolicy",
            "createRule", "replaceRule", "patchRule", "deleteRule", "createToken", "listTokens", "getToken", "revokeToken",
            "createUser", "listUsers", "getUser", "patchUser", "deleteUser", "listAudit", "createJoinToken", "listJoinTokens",
            "deleteJoinToken", "listAgentCertificates", "revokeAgentCertificate");
    private static final Set<String> VIEWER = Set.of("whoami", "listHosts", "getHost", "listVms", "getVm", "getPolicy",
            "listRules", "getRule", "listEvents", "logout", "streamEvents", "getCluster", "listFailovers");

    private TestController ctl;
    private HttpClient http;
    private final Map<String, String> callers = new LinkedHashMap<>();
    private List<Op> operations;

    /**
     * One operation of the document: its method, path template, id, x-vigil-role (null when it has none) and the
     * operation's own node.
     */
    record Op(String method, String path, String id, String role, JsonNode node) {
        /** The path with every parameter filled by a name nothing has. */
        String concretePath() {
            return path.replace("{id}", "aaaaaaaaaaaa").replaceAll("\\{[^}]+}", "matrix-nothing");
        }

        boolean hasBody() {
            return Set.of("POST", "PUT", "PATCH").contains(method);
        }
    }

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        http = HttpClient.newBuilder().sslContext(ctl.sslContext()).connectTimeout(Duration.ofSeconds(2)).build();
        callers.put("viewer", ctl.tokenFor("matrix-viewer", Role.VIEWER));
        callers.put("operator", ctl.tokenFor("matrix-operator", Role.OPERATOR));
        callers.put("admin", ctl.tokenFor("matrix-admin", Role.ADMIN));
        String revoked = ctl.tokenFor("matrix-revoked", Role.ADMIN);
        assertTrue(ctl.controller.tokens().revoke(revoked.substring(4, 16)));
        callers.put("revoked", revoked);
        callers.put("garbage", "vgl_aaaaaaaaaaaa_" + "A".repeat(43));
        callers.put("malformed", "not-a-token");

        var served = ctl.as(null).get("/api/v1/openapi.yaml");
        assertEquals(200, served.status(), "the document is public");
        JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(served.body());
        operations = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> methods = path.getValue().fields(); methods.hasNext(); ) {
                Map.Entry<String, JsonNode> m = methods.next();
                if (!m.getValue().has("operationId")) continue; // path-level parameters
                operations.add(new Op(m.getKey().toUpperCase(), path.getKey(), m.getValue().get("operationId").asText(),
                        m.getValue().hasNonNull("x-vigil-role") ? m.getValue().get("x-vigil-role").asText() : null,
                        m.getValue()));
            }
        }
        assertTrue(operations.size() >= 30, "the document's operations: " + operations);
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    @Test
    void everyOperationNamesItsRoleAndTheRolesAreTheIssues() {
        for (Op op : operations) {
            assertNotNull(op.role(), op.id() + " has no x-vigil-role");
            String expected = PUBLIC.contains(op.id()) ? "public" : OPERATOR.contains(op.id()) ? "operator"
                    : ADMIN.contains(op.id()) ? "admin" : VIEWER.contains(op.id()) ? "viewer" : null;
            if (expected != null) {
                assertEquals(expected, op.role(), op.id());
            } else if (op.method().equals("GET")) {
                assertTrue(Set.of("viewer", "admin").contains(op.role()), op.id() + ": a read is viewer or admin, not " + op.role());
            } else {
                assertTrue(Set.of("operator", "admin").contains(op.role()), op.id() + ": a change is operator or admin, not " + op.role());
            }
        }
        for (String id : Stream.of(PUBLIC, OPERATOR, ADMIN, VIEWER).flatMap(Set::stream).toList())
            assertTrue(operations.stream().anyMatch(o -> o.id().equals(id)), "the document has " + id);
    }

    /**
     * The document tells clients what the authentication answers: every operation that needs a token documents 401,
     * and every operation a smaller role may be refused documents 403 (a viewer operation cannot be: every token has
     * at least the viewer role). Public operations need no token ({@code security: []}), the others keep the
     * document's bearer requirement.
     */
    @Test
    void everyOperationNeedingATokenDocuments401AndEveryRoleAboveViewer403() {
        List<String> missing = new ArrayList<>();
        for (Op op : operations) {
            JsonNode responses = op.node().path("responses");
            boolean isPublic = "public".equals(op.role());
            JsonNode security = op.node().get("security");
            if (isPublic) {
                assertTrue(security != null && security.isArray() && security.isEmpty(), op.id() + " is public: security: []");
                assertFalse(responses.has("403"), op.id() + " is public and cannot be forbidden");
                continue;
            }
            assertTrue(security == null, op.id() + " needs a token and must not override the document's security");
            if (!responses.has("401")) missing.add(op.id() + " 401");
            if (!"viewer".equals(op.role()) && !responses.has("403")) missing.add(op.id() + " 403");
            for (String code : List.of("401", "403")) {
                if (responses.has(code)) {
                    assertEquals("#/components/responses/" + (code.equals("401") ? "Unauthorized" : "Forbidden"),
                            responses.get(code).path("$ref").asText(), op.id() + " " + code);
                }
            }
        }
        assertEquals(List.of(), missing, "operations whose authentication answers are not documented");
    }

    @TestFactory
    Stream<DynamicTest> eachCallerAgainstEachOperation() {
        return operations.stream().map(op -> DynamicTest.dynamicTest(op.method() + " " + op.path() + " (" + op.id() + ", "
                + op.role() + ")", () -> checkOperation(op)));
    }

    private void checkOperation(Op op) throws Exception {
        boolean isPublic = "public".equals(op.role());
        int anonymous = status(op, null);
        if (isPublic) {
            assertFalse(anonymous == 401 || anonymous == 403, op.id() + " is public but got " + anonymous);
        } else {
            assertEquals(401, anonymous, op.id() + " without a token");
            for (String bad : List.of("garbage", "malformed", "revoked"))
                assertEquals(401, status(op, callers.get(bad)), op.id() + " with a " + bad + " token");
        }
        for (Role role : Role.values()) {
            int status = status(op, callers.get(role.wireName()));
            boolean allowed = isPublic || role.includes(Role.fromWire(op.role()));
            if (allowed) assertFalse(status == 401 || status == 403, op.id() + " as " + role.wireName() + " got " + status);
            else assertEquals(403, status, op.id() + " as " + role.wireName());
        }
    }

    /**
     * The status of {@code op} with {@code token}; an empty JSON object as the body of a POST, PUT or PATCH. Only the
     * status line is read, so a streaming answer (server-sent events) does not hold the test.
     */
    private int status(Op op, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(ctl.baseUrl() + op.concretePath()))
                .timeout(Duration.ofSeconds(20));
        if (op.hasBody()) b.header("Content-Type", "application/json").method(op.method(), HttpRequest.BodyPublishers.ofString("{}"));
        else b.method(op.method(), HttpRequest.BodyPublishers.noBody());
        if (token != null) b.header("Authorization", "Bearer " + token);
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        r.body().close();
        if (r.statusCode() == 401) {
            assertEquals("Bearer realm=\"vigil\"", r.headers().firstValue("WWW-Authenticate").orElse(null), op.id());
            assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(null), op.id());
        }
        return r.statusCode();
    }
}
