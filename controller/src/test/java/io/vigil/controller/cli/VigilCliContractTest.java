package io.vigil.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.cli.CliRun.Result;
import io.vigil.controller.cli.StubController.Request;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's side of the contracts of endpoints other branches add (tokens, users, audit, join tokens, agent
 * certificates, the event stream), against a stub server that checks each request the client sends (method, path,
 * body, bearer token) and serves the contract's answer; plus how the client reads unexpected answers.
 */
class VigilCliContractTest {
    private static final String TOKEN = "vgl_admin1_s3cr3t";
    private StubController stub;
    private CliRun cli;

    @BeforeEach
    void start() throws Exception {
        stub = new StubController();
        cli = new CliRun(stub.url()).env("VIGIL_TOKEN", TOKEN).env("VIGIL_CA_FILE", stub.caFile().toString());
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    private static Result ok(Result r) {
        assertEquals(0, r.exit(), r.toString());
        return r;
    }

    private Request request(String method, String uri) throws InterruptedException {
        Request r = stub.next();
        assertEquals(method + " " + uri, r.method() + " " + r.uri());
        assertEquals("Bearer " + TOKEN, r.authorization());
        return r;
    }

    private static void assertJson(String expected, String actual) {
        assertEquals(CliRun.parse(expected), CliRun.parse(actual), actual);
    }

    private static final String ISSUED = "{\"token\":\"vgl_t9_abcdef\",\"id\":\"t9\",\"name\":\"ci\",\"role\":\"operator\","
            + "\"kind\":\"api\",\"createdAtMillis\":1767225600000,\"createdBy\":\"admin\",\"expiresAtMillis\":1767229200000}";

    @Test
    void tokensAreCreatedOnceListedAndRevoked() throws Exception {
        stub.on("POST /api/v1/tokens", 201, ISSUED);
        Result created = ok(cli.run("tokens", "create", "--name", "ci", "--role", "operator", "--ttl", "3600"));
        Request post = request("POST", "/api/v1/tokens");
        assertEquals("application/json", post.contentType());
        assertJson("{\"name\":\"ci\",\"role\":\"operator\",\"ttlSeconds\":3600}", post.body());
        assertEquals("vgl_t9_abcdef\n", created.out(), "the token alone on stdout");
        assertTrue(created.err().contains("token t9 for ci (role operator, expires 2026-01-01T01:00:00Z)"), created.err());

        ok(cli.run("tokens", "create", "--name", "ro", "--role", "viewer"));
        assertJson("{\"name\":\"ro\",\"role\":\"viewer\"}", request("POST", "/api/v1/tokens").body());
        assertJson(ISSUED, ok(cli.run("tokens", "create", "--name", "ci", "--role", "operator", "-o", "json")).out());
        stub.next();

        stub.on("GET /api/v1/tokens", 200, "[" + ISSUED.replace("\"token\":\"vgl_t9_abcdef\",", "") + "]");
        List<String> list = ok(cli.run("tokens")).lines();
        request("GET", "/api/v1/tokens");
        assertEquals(List.of("ID  NAME  ROLE      KIND  CREATED               CREATED-BY  EXPIRES",
                "t9  ci    operator  api   2026-01-01T00:00:00Z  admin       2026-01-01T01:00:00Z"), list);

        stub.on("DELETE /api/v1/tokens/t9", exchange -> StubController.send(exchange, 204, null, null));
        assertEquals("token t9 revoked\n", ok(cli.run("tokens", "revoke", "t9")).out());
        request("DELETE", "/api/v1/tokens/t9");
        assertEquals("", ok(cli.run("tokens", "revoke", "t9", "--output", "json")).out());
        stub.next();
        assertEquals(6, cli.run("tokens", "revoke", "t10").exit());
    }

    @Test
    void usersAreCreatedWithAPasswordFromStdinNeverFromArgv() throws Exception {
        stub.on("POST /api/v1/users", 201, "{\"name\":\"ana\",\"role\":\"operator\"}");
        Result created = ok(cli.stdin("correct horse\n").run("users", "create", "ana", "--role", "operator"));
        assertJson("{\"name\":\"ana\",\"role\":\"operator\",\"password\":\"correct horse\"}", request("POST", "/api/v1/users").body());
        assertEquals("user ana created (role operator)\n", created.out());
        assertEquals(2, cli.stdin("").run("users", "create", "bo", "--role", "viewer").exit(), "no password, no request");
        assertEquals(2, cli.run("users", "create", "bo", "--role", "viewer", "--password", "x").exit());

        stub.on("GET /api/v1/users", 200, "[{\"name\":\"ana\",\"role\":\"operator\",\"createdAtMillis\":1767225600000,"
                + "\"createdBy\":\"bootstrap-admin\",\"updatedAtMillis\":1767229200000}]");
        assertEquals(List.of("NAME  ROLE      CREATED               CREATED-BY       UPDATED",
                "ana   operator  2026-01-01T00:00:00Z  bootstrap-admin  2026-01-01T01:00:00Z"), ok(cli.run("users")).lines());
        request("GET", "/api/v1/users");

        stub.on("DELETE /api/v1/users/ana", exchange -> StubController.send(exchange, 204, null, null));
        assertEquals("user ana deleted\n", ok(cli.run("users", "delete", "ana")).out());
        request("DELETE", "/api/v1/users/ana");
        assertTrue(stub.noMoreRequests());
    }

    @Test
    void theAuditLogIsQueried() throws Exception {
        String records = "[{\"sequence\":7000000000000000001,\"time\":\"2026-01-01T00:00:00.123Z\",\"timeMillis\":1767225600123,"
                + "\"principal\":\"admin\",\"tokenId\":\"aaaaaaaaaaaa\",\"kind\":\"api\",\"role\":\"admin\","
                + "\"remoteAddress\":\"10.0.0.5\",\"method\":\"PATCH\",\"path\":\"/api/v1/policy\",\"operationId\":\"patchPolicy\","
                + "\"target\":null,\"status\":200,\"outcome\":\"ok\",\"summary\":\"reservePercent=30\"}]";
        stub.on("GET /api/v1/audit", 200, records);
        List<String> lines = ok(cli.run("audit", "--since", "1767225600000", "--principal", "admin", "--status", "200",
                "--limit", "5")).lines();
        request("GET", "/api/v1/audit?since=1767225600000&principal=admin&status=200&limit=5");
        assertEquals(List.of("TIME                  PRINCIPAL  ROLE   FROM      METHOD  PATH            STATUS  OUTCOME  SUMMARY",
                "2026-01-01T00:00:00Z  admin      admin  10.0.0.5  PATCH   /api/v1/policy  200     ok       reservePercent=30"), lines);
        assertJson(records, ok(cli.run("audit", "-o", "json")).out());
        request("GET", "/api/v1/audit");
    }

    @Test
    void aJoinTokenIsPrintedForTheAgent() throws Exception {
        stub.on("POST /api/v1/join-tokens", 201,
                "{\"token\":\"vjt_j1_xyz\",\"id\":\"j1\",\"host\":\"h1\",\"expiresAt\":\"2026-01-01T00:10:00Z\"}");
        Result r = ok(cli.run("join-token", "create", "--host", "h1", "--ttl", "600"));
        assertJson("{\"host\":\"h1\",\"ttlSeconds\":600}", request("POST", "/api/v1/join-tokens").body());
        assertEquals("vjt_j1_xyz\n", r.out());
        assertTrue(r.err().contains("join token j1 for host h1, expires 2026-01-01T00:10:00Z"), r.err());
        ok(cli.run("join-token", "create"));
        assertJson("{}", request("POST", "/api/v1/join-tokens").body());
        assertEquals("h1", ok(cli.run("join-token", "create", "-o", "json")).json().get("host").asText());
    }

    @Test
    void agentCertificatesAreListedAndRevoked() throws Exception {
        stub.on("GET /api/v1/agent-certificates", 200, "[{\"serial\":\"0a1b\",\"host\":\"h1\",\"issuedAt\":\"2026-01-01T00:00:00.250Z\","
                + "\"notAfter\":\"2027-01-01T00:00:00Z\",\"revoked\":true,\"revokedAt\":\"2026-02-01T00:00:00.001Z\",\"revokedBy\":\"admin\"}]");
        stub.on("GET /api/v1/agent-certificates", 200, "[{\"serial\":\"0a1b\"},{\"serial\":\"0c2d\"}]");
        List<String> h1 = ok(cli.run("agent-certificates", "--host", "h1")).lines();
        request("GET", "/api/v1/agent-certificates?host=h1");
        assertEquals(List.of("SERIAL  HOST  ISSUED                NOT-AFTER             REVOKED               REVOKED-BY",
                "0a1b    h1    2026-01-01T00:00:00Z  2027-01-01T00:00:00Z  2026-02-01T00:00:00Z  admin"), h1);
        assertEquals(2, ok(cli.run("agent-certificates", "list", "-o", "json")).json().size());
        request("GET", "/api/v1/agent-certificates");

        stub.on("DELETE /api/v1/agent-certificates/0a1b", exchange -> StubController.send(exchange, 204, null, null));
        assertEquals("agent certificate 0a1b revoked\n", ok(cli.run("agent-certificates", "revoke", "0a1b")).out());
        request("DELETE", "/api/v1/agent-certificates/0a1b");
    }

    private static String event(long sequence, String type, String host) {
        return "{\"sequence\":" + sequence + ",\"time\":\"2026-01-01T00:00:0" + (sequence % 10) + "Z\",\"timeMillis\":"
                + (1767225600000L + sequence % 10 * 1000) + ",\"type\":\"" + type + "\",\"host\":\"" + host
                + "\",\"vm\":null,\"cause\":null,\"message\":\"" + type + " " + host + "\",\"details\":{}}";
    }

    /** An SSE answer: each string is written (and flushed) as it is, then the stream ends. */
    private static StubController.Answer stream(String... chunks) {
        return exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (String chunk : chunks) {
                    out.write(chunk.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        };
    }

    private static String sse(long id, String data) {
        return "id: " + id + "\nevent: cluster-event\ndata: " + data + "\n\n";
    }

    @Test
    void followingEventsPrintsEachAndResumesFromTheLastIdWhenTheStreamDrops() throws Exception {
        stub.on("GET /api/v1/events/stream", stream(": keep-alive\n\n", "retry: 20\n\n", sse(101, event(101, "host-suspect", "h1")),
                        "id: 102\nevent: something-else\ndata: {}\n\n", sse(103, event(103, "host-failed", "h1"))))
                .on("GET /api/v1/events/stream", stream(sse(104, event(104, "vm-started", "h2"))))
                .on("GET /api/v1/events/stream", exchange -> StubController.send(exchange, 204, null, null));
        Result r = ok(cli.run("events", "--follow"));
        Request first = request("GET", "/api/v1/events/stream");
        assertEquals("text/event-stream", first.accept());
        assertNull(first.lastEventId());
        assertEquals("103", request("GET", "/api/v1/events/stream").lastEventId());
        assertEquals("104", request("GET", "/api/v1/events/stream").lastEventId());
        assertEquals(List.of("2026-01-01T00:00:01Z  host-suspect  h1  -  host-suspect h1",
                "2026-01-01T00:00:03Z  host-failed  h1  -  host-failed h1",
                "2026-01-01T00:00:04Z  vm-started  h2  -  vm-started h2"), r.lines());
        assertTrue(r.err().contains("event stream closed; reconnecting after event 103"), r.err());
    }

    @Test
    void followingEventsAsJsonPrintsOneObjectPerLineFilteredAfterTheBacklog() throws Exception {
        stub.on("GET /api/v1/events", 200, "[" + event(100, "host-connected", "h1") + "]")
                .on("GET /api/v1/events/stream", stream(sse(101, event(101, "host-suspect", "h2")), sse(102, event(102, "host-failed", "h1"))))
                .on("GET /api/v1/events/stream", exchange -> StubController.send(exchange, 204, null, null));
        Result r = ok(cli.run("events", "--follow", "--since", "5", "--host", "h1", "--output", "json"));
        request("GET", "/api/v1/events?since=5&host=h1");
        assertEquals("100", request("GET", "/api/v1/events/stream").lastEventId());
        request("GET", "/api/v1/events/stream");
        assertEquals(2, r.lines().size(), r.toString());
        assertEquals(CliRun.parse(event(100, "host-connected", "h1")), CliRun.parse(r.lines().get(0)));
        assertEquals(CliRun.parse(event(102, "host-failed", "h1")), CliRun.parse(r.lines().get(1)));
    }

    @Test
    void aRefusedStreamIsReportedLikeAnyRequest() throws Exception {
        stub.on("GET /api/v1/events/stream", 403, "{\"type\":\"x\",\"title\":\"Forbidden\",\"status\":403,\"detail\":\"no\"}");
        Result r = cli.run("events", "--follow");
        assertEquals(5, r.exit(), r.toString());
        assertEquals("vigil: Forbidden: no\n", r.err());
    }

    @Test
    void unexpectedAnswersAreExit1AndTooLargeOnesExit8() throws Exception {
        stub.on("GET /api/v1/hosts", 500, "{\"type\":\"x\",\"title\":\"Internal Server Error\",\"status\":500,\"detail\":\"boom\"}");
        Result r = cli.run("hosts");
        assertEquals(1, r.exit(), r.toString());
        assertEquals("vigil: Internal Server Error: boom\n", r.err());
        stub.on("GET /api/v1/policy", exchange -> StubController.send(exchange, 200, "text/html", "<html>hello</html>"));
        Result html = cli.run("policy");
        assertEquals(1, html.exit(), html.toString());
        assertTrue(html.err().startsWith("vigil: unreadable response from " + stub.url() + "/api/v1/policy: not JSON"), html.err());
        stub.on("PATCH /api/v1/policy", exchange -> StubController.send(exchange, 413, "text/plain", "Request Entity Too Large"));
        Result large = cli.run("policy", "set", "a=1");
        assertEquals(8, large.exit(), large.toString());
        assertEquals("vigil: Content Too Large: HTTP 413 Request Entity Too Large\n", large.err());
        request("GET", "/api/v1/hosts");
        request("GET", "/api/v1/policy");
        Request patch = request("PATCH", "/api/v1/policy");
        assertEquals("application/merge-patch+json", patch.contentType());
        assertJson("{\"a\":1}", patch.body());
        assertFalse(large.err().contains(TOKEN));
    }
}
