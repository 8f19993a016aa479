package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.audit.AuditEntry;
import io.vigil.controller.audit.AuditLog;
import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The audit log over real HTTP: every mutating request, allowed or refused (400, 401, 403, 404, 409), with who, what,
 * when and how it ended; no GET; readable by admins only; never a password, neither there nor in the controller's log.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditLogApiTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private TestController ctl;
    private String viewer;
    private String operator;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        viewer = ctl.tokenFor("audit-viewer", Role.VIEWER);
        operator = ctl.tokenFor("audit-operator", Role.OPERATOR);
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> audit(String query) {
        Reply r = ctl.get("/api/v1/audit" + query);
        assertEquals(200, r.status(), r.body());
        return r.jsonList().stream().map(o -> (Map<String, Object>) o).toList();
    }

    /** The entry matching {@code which}, once it is stored (entries are written when the response has ended). */
    private Map<String, Object> awaitEntry(String what, Predicate<Map<String, Object>> which) {
        Await.until("an audit entry for " + what, WAIT, () -> audit("?limit=1000").stream().anyMatch(which));
        return audit("?limit=1000").stream().filter(which).reduce((a, b) -> b).orElseThrow();
    }

    private static Predicate<Map<String, Object>> op(String operationId, int status) {
        return e -> operationId.equals(e.get("operationId")) && Integer.valueOf(status).equals(e.get("status"));
    }

    @Test
    void allowedAndRefusedChangesAreRecordedWithWhoWhatAndHowTheyEnded() {
        long before = System.currentTimeMillis();
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"reservePercent\":30}").status());
        Map<String, Object> ok = awaitEntry("patchPolicy 200", op("patchPolicy", 200));
        assertEquals("bootstrap-admin", ok.get("principal"));
        assertEquals("admin", ok.get("role"));
        assertEquals("api", ok.get("kind"));
        assertEquals(ctl.adminToken().substring(4, 16), ok.get("tokenId"));
        assertEquals("127.0.0.1", ok.get("remoteAddress"));
        assertEquals("PATCH", ok.get("method"));
        assertEquals("/api/v1/policy", ok.get("path"));
        assertEquals("ok", ok.get("outcome"));
        assertEquals("reservePercent=30", ok.get("summary"));
        long at = ((Number) ok.get("timeMillis")).longValue();
        assertTrue(at >= before && at <= System.currentTimeMillis());
        assertTrue(((String) ok.get("time")).startsWith(java.time.Instant.ofEpochMilli(at).toString().substring(0, 16)));

        assertProblem(ctl.as(null).postEmpty("/api/v1/vms/web-1/start"), 401);
        Map<String, Object> anonymous = awaitEntry("startVm 401", op("startVm", 401));
        assertNull(anonymous.get("principal"));
        assertNull(anonymous.get("tokenId"));
        assertEquals("web-1", anonymous.get("target"));
        assertTrue(((String) anonymous.get("outcome")).startsWith("Unauthorized: this request needs an API token"), anonymous.toString());

        assertProblem(ctl.as(viewer).patch("/api/v1/policy", "{\"reservePercent\":90}"), 403);
        Map<String, Object> forbidden = awaitEntry("patchPolicy 403", op("patchPolicy", 403));
        assertEquals(List.of("audit-viewer", "viewer"), List.of(forbidden.get("principal"), forbidden.get("role")));
        assertTrue(((String) forbidden.get("outcome")).startsWith("Forbidden: audit-viewer has role viewer; patchPolicy needs admin"),
                forbidden.toString());
        assertEquals("reservePercent=90", forbidden.get("summary"));

        assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"audited\",\"role\":\"viewer\",\"password\":\"audited user password\"}").status());
        assertProblem(ctl.post("/api/v1/users", "{\"name\":\"audited\",\"role\":\"admin\",\"password\":\"audited user password\"}"), 409);
        Map<String, Object> created = awaitEntry("createUser 201", op("createUser", 201));
        assertEquals("audited", created.get("target"));
        assertEquals("name=audited, role=viewer, password=(not recorded)", created.get("summary"));
        Map<String, Object> conflict = awaitEntry("createUser 409", op("createUser", 409));
        assertTrue(((String) conflict.get("outcome")).startsWith("Conflict: a user named 'audited' already exists"), conflict.toString());

        assertProblem(ctl.post("/api/v1/tokens", "{\"name\":\"x\",\"role\":\"root\"}"), 400);
        assertTrue(((String) awaitEntry("createToken 400", op("createToken", 400)).get("outcome")).contains("role"));
        assertProblem(ctl.delete("/api/v1/rules/no-such-rule"), 404);
        assertEquals("no-such-rule", awaitEntry("deleteRule 404", op("deleteRule", 404)).get("target"));
        assertProblem(ctl.as(operator).delete("/api/v1/no/such/path"), 404);
        Map<String, Object> nowhere = awaitEntry("a path the API lacks",
                e -> "/api/v1/no/such/path".equals(e.get("path")));
        assertNull(nowhere.get("operationId"));
        assertEquals(404, nowhere.get("status"));
    }

    @Test
    void readsAreNotRecordedAndTheLogIsForAdminsOnly() {
        assertEquals(200, ctl.get("/api/v1/vms").status());
        assertEquals(200, ctl.get("/api/v1/policy").status());
        assertProblem(ctl.as(viewer).get("/api/v1/audit"), 403, "needs admin");
        assertProblem(ctl.as(operator).get("/api/v1/audit"), 403, "needs admin");
        assertProblem(ctl.as(null).get("/api/v1/audit"), 401);
        // A marker written after the reads: once it is in the log, so would they be.
        assertEquals(200, ctl.patch("/api/v1/policy", "{\"rejoinGraceSeconds\":7}").status());
        awaitEntry("the marker", e -> "rejoinGraceSeconds=7".equals(e.get("summary")));
        assertTrue(audit("?limit=1000").stream().noneMatch(e -> "GET".equals(e.get("method"))), "no GET is recorded");
    }

    @Test
    void entriesAreFilteredByPrincipalStatusAndSince() {
        assertEquals(403, ctl.as(operator).put("/api/v1/policy", "{}").status());
        assertEquals(403, ctl.as(operator).put("/api/v1/policy", "{\"reservePercent\":5}").status());
        awaitEntry("the second refusal", e -> "reservePercent=5".equals(e.get("summary")));
        List<Map<String, Object>> mine = audit("?principal=audit-operator&status=403");
        assertTrue(mine.size() >= 2 && mine.stream().allMatch(e -> "audit-operator".equals(e.get("principal")) && Integer.valueOf(403).equals(e.get("status"))), mine.toString());
        List<Map<String, Object>> last = audit("?principal=audit-operator&limit=1");
        assertEquals(1, last.size());
        assertEquals("reservePercent=5", last.get(0).get("summary"), "the newest, oldest first");
        long sequence = ((Number) mine.get(mine.size() - 2).get("sequence")).longValue();
        List<Map<String, Object>> after = audit("?principal=audit-operator&since=" + sequence);
        assertEquals(List.of(last.get(0)), after);
        assertProblem(ctl.get("/api/v1/audit?status=teapot"), 400, "status");
        assertProblem(ctl.get("/api/v1/audit?limit=0"), 400, "limit");
    }

    @Test
    void aLoginIsRecordedButItsPasswordNeverIsNorLogged() throws Exception {
        String right = "Correct-Horse-Battery-Staple";
        String wrong = "Wrong-Horse-Battery-Staple";
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new TeeStream(stderr, captured), true, StandardCharsets.UTF_8));
        try {
            assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"ivan\",\"role\":\"operator\",\"password\":\"" + right + "\"}").status());
            assertProblem(ctl.as(null).post("/api/v1/login", "{\"user\":\"ivan\",\"password\":\"" + wrong + "\"}"), 401);
            assertProblem(ctl.as(null).post("/api/v1/login", "{\"user\":\"" + wrong + "\",\"password\":\"" + right + "\"}"), 401);
            Reply ok = ctl.as(null).post("/api/v1/login", "{\"user\":\"ivan\",\"password\":\"" + right + "\"}");
            assertEquals(200, ok.status());
            assertEquals(200, ctl.patch("/api/v1/users/ivan", "{\"password\":\"" + wrong + "\"}").status());
            Map<String, Object> success = awaitEntry("ivan's login", op("login", 200));
            assertEquals(List.of("ivan", "operator", "session", "ivan"), List.of(success.get("principal"), success.get("role"),
                    success.get("kind"), success.get("target")));
            assertEquals("user=ivan, password=(not recorded)", success.get("summary"));
            assertEquals(((String) ok.json().get("token")).substring(4, 16), success.get("tokenId"));
            Map<String, Object> failure = awaitEntry("ivan's failed login",
                    e -> "login".equals(e.get("operationId")) && "ivan".equals(e.get("target")) && Integer.valueOf(401).equals(e.get("status")));
            assertNull(failure.get("principal"));
            assertEquals("Login Failed: unknown user or wrong password", failure.get("outcome"));
            Map<String, Object> mistyped = awaitEntry("the login with a password for a name",
                    e -> "login".equals(e.get("operationId")) && e.get("target") == null && Integer.valueOf(401).equals(e.get("status")));
            assertEquals("user=(not a user), password=(not recorded)", mistyped.get("summary"));
            assertEquals("user=ivan, password=(not recorded)", failure.get("summary"));
            assertEquals("password=(not recorded)", awaitEntry("the password change", op("patchUser", 200)).get("summary"));
        } finally {
            System.setErr(stderr);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("user ivan logged in"), "the controller's log was captured: " + log);
        String auditText = ctl.get("/api/v1/audit?limit=1000").body();
        for (String secret : List.of(right, wrong)) {
            assertFalse(auditText.contains(secret), "the audit log holds a password");
            assertFalse(log.contains(secret), "the controller's log holds a password");
        }
    }

    @Test
    void theLogKeepsOnlyTheNewestEntries() throws Exception {
        try (TestController own = new TestController()) {
            AuditLog small = new AuditLog(own.controller.store().hazelcast(), 5);
            for (int i = 0; i < 12; i++) small.append(new AuditEntry(0, i, "p", null, null, null, null, "POST", "/api/v1/x", null, null, 200, "ok", "n=" + i));
            small.trim();
            List<AuditEntry> left = small.entries(new AuditLog.Query(null, null, "p", null, 100));
            assertEquals(List.of("n=7", "n=8", "n=9", "n=10", "n=11"), left.stream().map(AuditEntry::summary).toList());
        }
    }

    /** Writes to two streams. */
    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            synchronized (b) {
                b.write(c);
            }
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            synchronized (b) {
                b.write(buf, off, len);
            }
        }
    }
}
