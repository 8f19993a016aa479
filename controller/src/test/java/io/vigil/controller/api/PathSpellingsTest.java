package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.RawHttp;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every protected operation of the OpenAPI document the controller serves, sent without a token, with a token that is
 * no token, and with every role too weak for it, under every spelling of its path the router might accept: a trailing
 * slash, repeated slashes, dot segments (plain and percent-encoded), percent-encoded letters, another case, a matrix
 * parameter, an encoded slash, the absolute form of the request target. Each attempt must be refused (401 without a
 * valid token whatever the path; 403, or 404 for a spelling no operation takes, with a valid but weak one), none may
 * reach a handler (the cluster's state is compared before and after), and each mutating attempt must be in the audit
 * log. The path parameters name things that exist, and the bodies are valid, so a request that slipped through would
 * change something.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PathSpellingsTest {
    private TestController ctl;
    private FakeAgent agent;
    private String admin;
    private final Map<String, String> weakCallers = new LinkedHashMap<>();
    private final List<Op> protectedOperations = new ArrayList<>();
    private final Map<String, String> existing = new LinkedHashMap<>();

    record Op(String method, String path, String id, Role role) {}

    /** Valid bodies, so that a request reaching its handler would act. */
    private static final Map<String, String> BODIES = Map.ofEntries(
            Map.entry("setHostMaintenance", "{\"enabled\":true}"),
            Map.entry("createVm", RestApiTest.createBody(RestApiTest.domain("spelled-vm"), "\"start\":false")),
            Map.entry("patchVm", "{\"priority\":\"high\"}"),
            Map.entry("migrateVm", "{\"host\":\"ps-h1\"}"),
            Map.entry("relocateVm", "{\"host\":\"ps-h1\"}"),
            Map.entry("putPolicy", "{\"admissionControl\":\"off\"}"),
            Map.entry("patchPolicy", "{\"reservePercent\":42}"),
            Map.entry("createRule", "{\"name\":\"ps-new-rule\",\"type\":\"affinity\",\"vms\":[\"ps-a\",\"ps-b\"]}"),
            Map.entry("replaceRule", "{\"name\":\"ps-rule\",\"type\":\"anti-affinity\",\"vms\":[\"ps-a\",\"ps-b\"]}"),
            Map.entry("patchRule", "{\"type\":\"anti-affinity\"}"),
            Map.entry("createToken", "{\"name\":\"ps-minted\",\"role\":\"admin\"}"),
            Map.entry("createUser", "{\"name\":\"ps-mallory\",\"role\":\"admin\",\"password\":\"a long enough password\"}"),
            Map.entry("patchUser", "{\"role\":\"admin\"}"),
            Map.entry("createJoinToken", "{\"host\":\"ps-h9\"}"));

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        admin = ctl.adminToken();
        agent = ctl.connectedHost("ps-h1", 8192);
        for (String vm : List.of("ps-a", "ps-b"))
            assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(vm), "\"start\":false")).status());
        assertEquals(201, ctl.post("/api/v1/rules", "{\"name\":\"ps-rule\",\"type\":\"affinity\",\"vms\":[\"ps-a\",\"ps-b\"]}").status());
        assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"ps-victim\",\"role\":\"viewer\",\"password\":\"a long enough password\"}").status());
        var join = ctl.post("/api/v1/join-tokens", "{\"host\":\"ps-h2\"}");
        assertEquals(201, join.status(), join.body());
        weakCallers.put("viewer", ctl.tokenFor("ps-viewer", Role.VIEWER));
        weakCallers.put("operator", ctl.tokenFor("ps-operator", Role.OPERATOR));
        String victimToken = ctl.tokenFor("ps-victim-token", Role.VIEWER);

        existing.put("name", "ps-a");
        existing.put("id", victimToken.substring(4, 16));
        existing.put("serial", ctl.controller.certificates().list(null).get(0).serial());
        existing.put("join-id", String.valueOf(join.json().get("id")));

        JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(ctl.as(null).get("/api/v1/openapi.yaml").body());
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> methods = path.getValue().fields(); methods.hasNext(); ) {
                Map.Entry<String, JsonNode> m = methods.next();
                if (!m.getValue().has("operationId")) continue;
                String role = m.getValue().path("x-vigil-role").asText();
                if (role.equals("public")) continue;
                protectedOperations.add(new Op(m.getKey().toUpperCase(), path.getKey(), m.getValue().get("operationId").asText(),
                        Role.fromWire(role)));
            }
        }
        assertTrue(protectedOperations.size() >= 40, "protected operations: " + protectedOperations.size());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) agent.close();
        if (ctl != null) ctl.close();
    }

    /** The path of {@code op} naming things that exist. */
    private String concrete(Op op) {
        String p = op.path();
        if (p.startsWith("/api/v1/join-tokens/")) return p.replace("{id}", existing.get("join-id"));
        if (p.startsWith("/api/v1/rules/")) return p.replace("{name}", "ps-rule");
        if (p.startsWith("/api/v1/users/")) return p.replace("{name}", "ps-victim");
        if (p.startsWith("/api/v1/hosts/")) return p.replace("{name}", "ps-h1");
        return p.replace("{name}", existing.get("name")).replace("{id}", existing.get("id"))
                .replace("{serial}", existing.get("serial"));
    }

    /** Every spelling of {@code path} that some router, proxy or decoder might take for it. */
    private List<String> spellings(String path) {
        Set<String> out = new LinkedHashSet<>();
        String tail = path.substring("/api/v1/".length());
        int slash = tail.indexOf('/');
        String first = slash < 0 ? tail : tail.substring(0, slash);
        String rest = slash < 0 ? "" : tail.substring(slash);
        out.add(path);
        out.add(path + "/");
        out.add("/" + path);
        out.add(path.replace("/api/v1/", "/api//v1/"));
        out.add(path.replace("/api/v1/", "/api/v1//"));
        out.add(path.replace("/api/v1/", "/api/v1/./"));
        out.add(path.replace("/api/v1/", "/api/v1/x/../"));
        out.add(path.replace("/api/v1/", "/api/v1/%2e/"));
        out.add(path.replace("/api/v1/", "/api/v1/x/%2e%2e/"));
        out.add(path.replace("/api/v1/", "/api/v1/x/%2E%2E%2F"));
        out.add("/%61pi/v1/" + tail);
        out.add("/api/v1/%" + Integer.toHexString(first.charAt(0)) + first.substring(1) + rest);
        out.add("/api/v1/" + first.substring(0, 1).toUpperCase() + first.substring(1) + rest);
        out.add(path.toUpperCase());
        out.add(path + ";x=1");
        out.add(path + "%2F");
        out.add(path + "/.");
        out.add(path + "?");
        out.add(path.replace("/", "\\"));
        out.add("http://127.0.0.1:" + ctl.port() + path);
        return new ArrayList<>(out);
    }

    private record Attempt(String caller, Op op, String target, int status) {}

    @Test
    void noSpellingOfAProtectedOperationGetsPastItsDoor() throws Exception {
        Map<String, String> before = state();
        long auditMark = lastAuditSequence();
        List<String> wrong = new ArrayList<>();
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        int sent = 0;
        for (Op op : protectedOperations) {
            List<Attempt> mutating = new ArrayList<>();
            Map<String, String> callers = new LinkedHashMap<>();
            callers.put("none", null);
            callers.put("garbage", "vgl_aaaaaaaaaaaa_" + "A".repeat(43));
            weakCallers.forEach((role, token) -> {
                if (!Role.fromWire(role).includes(op.role())) callers.put(role, token);
            });
            for (String target : spellings(concrete(op))) {
                for (Map.Entry<String, String> caller : callers.entrySet()) {
                    String body = BODIES.getOrDefault(op.id(), Set.of("POST", "PUT", "PATCH").contains(op.method()) ? "{}" : null);
                    List<String> headers = new ArrayList<>();
                    if (caller.getValue() != null) headers.add("Authorization: Bearer " + caller.getValue());
                    if (body != null) headers.add("Content-Type: " + (op.method().equals("PATCH") ? "application/merge-patch+json" : "application/json"));
                    RawHttp.Answer a = RawHttp.send(ctl, op.method(), target, body, headers.toArray(String[]::new));
                    sent++;
                    statuses.merge(a.status(), 1, Integer::sum);
                    boolean anonymous = caller.getValue() == null || caller.getKey().equals("garbage");
                    Set<Integer> refusals = anonymous ? Set.of(401) : Set.of(403, 404);
                    if (!refusals.contains(a.status()) && !(a.status() == 400 && !target.startsWith("/api/v1/")))
                        wrong.add(op.method() + " " + target + " as " + caller.getKey() + " -> " + a.status() + " " + a.text());
                    else if (!a.contentType().startsWith("application/problem+json"))
                        wrong.add(op.method() + " " + target + " as " + caller.getKey() + " -> " + a.status() + " without a problem document");
                    if (!op.method().equals("GET")) mutating.add(new Attempt(caller.getKey(), op, target, a.status()));
                }
            }
            auditMark = checkAudited(mutating, auditMark, wrong);
        }
        System.out.printf("path spellings: %d requests over %d protected operations; statuses %s%n", sent,
                protectedOperations.size(), statuses);
        assertEquals(List.of(), wrong, "requests not refused as they must be");
        assertEquals(before, state(), "the cluster's state after the refused requests");
    }

    /** Every attempt in {@code mutating} has its own audit entry, after {@code mark}; returns the new mark. */
    private long checkAudited(List<Attempt> mutating, long mark, List<String> wrong) {
        if (mutating.isEmpty()) return mark;
        var reply = ctl.get("/api/v1/audit?since=" + mark + "&limit=1000");
        assertEquals(200, reply.status(), reply.body());
        List<Object> entries = reply.jsonList();
        Map<String, Integer> seen = new java.util.HashMap<>();
        long last = mark;
        for (Object o : entries) {
            @SuppressWarnings("unchecked") Map<String, Object> e = (Map<String, Object>) o;
            if (String.valueOf(e.get("path")).startsWith("/api/v1/audit")) continue;
            seen.merge(e.get("method") + " " + e.get("status"), 1, Integer::sum);
            last = Math.max(last, ((Number) e.get("sequence")).longValue());
        }
        Map<String, Integer> expected = new java.util.HashMap<>();
        for (Attempt a : mutating) expected.merge(a.op().method() + " " + a.status(), 1, Integer::sum);
        if (!expected.equals(seen))
            wrong.add(mutating.get(0).op().id() + ": audited " + seen + ", sent " + expected);
        return last;
    }

    private long lastAuditSequence() {
        List<Object> entries = ctl.get("/api/v1/audit?limit=1").jsonList();
        if (entries.isEmpty()) return RestApi.SEQUENCE_THRESHOLD;
        @SuppressWarnings("unchecked") Map<String, Object> e = (Map<String, Object>) entries.get(0);
        return ((Number) e.get("sequence")).longValue();
    }

    /** What an admin sees of everything a protected operation could change. */
    private Map<String, String> state() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        for (String path : List.of("/api/v1/hosts", "/api/v1/vms", "/api/v1/policy", "/api/v1/rules", "/api/v1/users",
                "/api/v1/tokens", "/api/v1/join-tokens", "/api/v1/agent-certificates")) {
            var r = ctl.as(admin).get(path);
            assertEquals(200, r.status(), path + ": " + r.body());
            JsonNode value = Json.mapper().readTree(r.body());
            if (path.equals("/api/v1/hosts")) { // what an operation can change of a host; its health is the fake agent's
                List<String> hosts = new ArrayList<>();
                for (JsonNode h : value) hosts.add(h.path("name").asText() + " maintenance=" + h.path("maintenance").asBoolean());
                out.put(path, hosts.toString());
                continue;
            }
            out.put(path, value.toString().replaceAll("\"(lastSeenAtMillis|lastHeartbeatAtMillis|lastUsedAtMillis)\":\\d+", "")
                    .replaceAll("\"lastHeartbeat\":\"[^\"]*\"", ""));
        }
        return out;
    }
}
