package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vigil.controller.auth.ApiToken;
import io.vigil.controller.auth.Role;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.EventStreamClient;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An open event stream lives no longer than its grant, on a real controller over real HTTP: revoking its token,
 * deleting its session's user, or its token's expiry ends it within a second (measured from the answer that ended
 * the grant, or from the expiry), also when the grant ends through another member of the cluster; a demoted user's
 * session loses the old role at once but keeps its stream (viewer is enough to stream); and one token holds at most
 * {@link EventStream#MAX_PER_TOKEN} streams at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventStreamGrantsTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    /** The promise: a stream ends within a second of the end of its grant. */
    private static final long WITHIN_MILLIS = 1000;
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    // ---- revocation, deletion, demotion, expiry ------------------------------------------------------------------

    @Test
    void revokingATokenEndsItsOpenStreamWithinASecond() throws Exception {
        Map<String, Object> issued = issue(ctl, "stream-revoked", "viewer");
        String token = (String) issued.get("token");
        try (EventStreamClient stream = EventStreamClient.open(ctl, token)) {
            assertLive(ctl, stream);
            long acknowledged = acknowledgedNanos(() -> ctl.delete("/api/v1/tokens/" + issued.get("id")), 204);
            assertEndedWithinASecondOf(acknowledged, stream);
            assertTrue(stream.text().contains(": the stream ends: its token was revoked"), stream.text());
        }
        assertRefusedWith401(ctl, token);
    }

    @Test
    void deletingAUserEndsTheirSessionsStreamsWithinASecond() throws Exception {
        createUser(ctl, "sse-deleted", "viewer");
        String session = login(ctl, "sse-deleted");
        try (EventStreamClient stream = EventStreamClient.open(ctl, session)) {
            assertLive(ctl, stream);
            long acknowledged = acknowledgedNanos(() -> ctl.delete("/api/v1/users/sse-deleted"), 204);
            assertEndedWithinASecondOf(acknowledged, stream);
        }
        assertRefusedWith401(ctl, session);
    }

    /**
     * A demoted user's sessions act with the new role at once; the stream stays open, since it needs only viewer, the
     * least role (a change of the role streaming needs would be caught by {@link #theRoleAStreamNeedsIsTheDocumentsOne}).
     */
    @Test
    void aDemotedUsersSessionLosesTheOldRoleAtOnceAndKeepsItsStream() throws Exception {
        createUser(ctl, "sse-demoted", "operator");
        String session = login(ctl, "sse-demoted");
        assertEquals(404, ctl.as(session).postEmpty("/api/v1/vms/no-such-vm/start").status(), "an operator may start VMs");
        try (EventStreamClient stream = EventStreamClient.open(ctl, session)) {
            assertLive(ctl, stream);
            assertEquals(200, ctl.patch("/api/v1/users/sse-demoted", "{\"role\":\"viewer\"}").status());

            assertProblem(ctl.as(session).postEmpty("/api/v1/vms/no-such-vm/start"), 403, "sse-demoted has role viewer");
            assertEquals("viewer", ctl.as(session).get("/api/v1/whoami").json().get("role"));
            // Several grant checks go by; the stream is still open and still carries new events.
            Thread.sleep(4 * EventStream.GRANT_CHECK_MILLIS);
            assertLive(ctl, stream);
            assertFalse(stream.ended(), stream.text());
        }
    }

    @Test
    void anExpiringTokensStreamEndsAtItsExpiry() throws Exception {
        long now = System.currentTimeMillis();
        var issued = ctl.controller.tokens().issue("stream-expiring", Role.VIEWER, ApiToken.API, 4000L, "test", now);
        long expiresAt = issued.record().expiresAtMillis();
        try (EventStreamClient stream = EventStreamClient.open(ctl, issued.token())) {
            assertLive(ctl, stream);
            Await.until("the expiring token's stream ended", WAIT, stream::ended);
            long late = stream.endedAtMillis() - expiresAt;
            assertTrue(late >= 0, "ended " + -late + " ms before the token expired");
            assertTrue(late <= WITHIN_MILLIS, "ended " + late + " ms after the token expired (at most " + WITHIN_MILLIS + ")");
        }
        assertRefusedWith401(ctl, issued.token());
    }

    // ---- the bound on streams per token --------------------------------------------------------------------------

    @Test
    void aTokenHoldsAtMostTheBoundOfStreamsAndAClosedOneFreesItsPlace() throws Exception {
        String token = (String) issue(ctl, "stream-bounded", "viewer").get("token");
        List<EventStreamClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < EventStream.MAX_PER_TOKEN; i++) {
                EventStreamClient s = EventStreamClient.open(ctl, token);
                open.add(s);
                assertEquals(200, s.status(), "stream " + (i + 1) + ": " + s.text());
            }
            try (EventStreamClient refused = EventStreamClient.open(ctl, token)) {
                assertEquals(429, refused.status(), refused.text());
                assertTrue(refused.contentType().startsWith("application/problem+json"), refused.contentType());
                JsonNode problem = new ObjectMapper().readTree(refused.text());
                assertEquals("Too Many Event Streams", problem.get("title").asText());
                assertTrue(problem.get("detail").asText().contains("already has " + EventStream.MAX_PER_TOKEN
                        + " event streams open"), problem.toString());
                assertTrue(problem.get("detail").asText().contains("close one"), problem.toString());
            }
            try (EventStreamClient another = EventStreamClient.open(ctl, ctl.adminToken())) {
                assertEquals(200, another.status(), "the bound is per token");
            }
            for (EventStreamClient s : open) assertLive(ctl, s);

            open.remove(0).close();
            EventStreamClient[] again = new EventStreamClient[1];
            Await.until("a place freed by the closed stream", WAIT, () -> {
                EventStreamClient s = EventStreamClient.open(ctl, token);
                if (s.status() == 200) {
                    again[0] = s;
                    return true;
                }
                assertEquals(429, s.status(), s.text());
                return false;
            });
            open.add(again[0]);
            try (EventStreamClient refused = EventStreamClient.open(ctl, token)) {
                assertEquals(429, refused.status(), "the freed place is taken again: " + refused.text());
            }
        } finally {
            for (EventStreamClient s : open) s.close();
        }
    }

    @Test
    void theRoleAStreamNeedsIsTheDocumentsOne() throws Exception {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(RestApi.OPENAPI_RESOURCE)) {
            JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(in);
            String role = doc.at("/paths/~1api~1v1~1events~1stream/get/x-vigil-role").asText();
            assertEquals(EventStream.REQUIRED_ROLE.wireName(), role);
            String description = doc.at("/paths/~1api~1v1~1events~1stream/get/description").asText();
            assertTrue(description.contains("at most " + EventStream.MAX_PER_TOKEN), "the document states the bound: " + description);
        }
    }

    // ---- across members ------------------------------------------------------------------------------------------

    /** A stream open on one member ends when its grant ends through another: the grants are the cluster's maps. */
    @Test
    void aGrantEndedThroughAnotherMemberEndsTheStreamWithinASecond() throws Exception {
        Path shared = Files.createTempDirectory("vigil-stream-grants-");
        int firstPort = TestController.freePort();
        try (TestController first = new TestController("grants-c1", shared, firstPort, List.of("127.0.0.1:" + firstPort));
                TestController second = new TestController("grants-c2", shared, TestController.freePort(),
                        List.of("127.0.0.1:" + firstPort))) {
            Await.until("a cluster of two", WAIT,
                    () -> second.controller.store().hazelcast().getCluster().getMembers().size() == 2);

            Map<String, Object> issued = issue(first, "stream-on-c1", "viewer");
            String token = (String) issued.get("token");
            createUser(first, "sse-on-c1", "viewer");
            String session = login(first, "sse-on-c1");
            try (EventStreamClient byToken = EventStreamClient.open(first, token);
                    EventStreamClient bySession = EventStreamClient.open(first, session)) {
                assertLive(first, byToken);
                assertLive(first, bySession);

                long revoked = acknowledgedNanos(() -> second.delete("/api/v1/tokens/" + issued.get("id")), 204);
                assertEndedWithinASecondOf(revoked, byToken);
                assertFalse(bySession.ended(), "another token's stream goes on");

                long deleted = acknowledgedNanos(() -> second.delete("/api/v1/users/sse-on-c1"), 204);
                assertEndedWithinASecondOf(deleted, bySession);
            }
            assertRefusedWith401(first, token);
            assertRefusedWith401(first, session);
        } finally {
            try (Stream<Path> files = Files.walk(shared)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static Map<String, Object> issue(TestController to, String name, String role) {
        Reply r = to.post("/api/v1/tokens", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}");
        assertEquals(201, r.status(), r.body());
        return r.json();
    }

    private static void createUser(TestController to, String name, String role) {
        Reply r = to.post("/api/v1/users", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\",\"password\":\"" + name
                + "'s long password\"}");
        assertEquals(201, r.status(), r.body());
    }

    private static String login(TestController to, String name) {
        Reply r = to.as(null).post("/api/v1/login", "{\"user\":\"" + name + "\",\"password\":\"" + name + "'s long password\"}");
        assertEquals(200, r.status(), r.body());
        return (String) r.json().get("token");
    }

    /** The stream is open and carries an event appended now (on {@code to}'s store). */
    private static void assertLive(TestController to, EventStreamClient stream) {
        assertEquals(200, stream.status(), stream.text());
        String marker = "grant-test " + UUID.randomUUID();
        to.controller.store().appendEvent(new ClusterEvent(0, System.currentTimeMillis(), "grant-test", null, null,
                "a test", marker, Map.of()));
        Await.until("the stream carries " + marker, WAIT, () -> stream.text().contains(marker) || stream.ended());
        assertFalse(stream.ended(), "the stream ended: " + stream.text());
    }

    /** Runs {@code request}, checks its status, and returns {@link System#nanoTime} once its answer was read. */
    private static long acknowledgedNanos(java.util.function.Supplier<Reply> request, int status) {
        Reply r = request.get();
        long at = System.nanoTime();
        assertEquals(status, r.status(), r.body());
        return at;
    }

    private static void assertEndedWithinASecondOf(long acknowledgedNanos, EventStreamClient stream) {
        Await.until("the stream ended", WAIT, stream::ended);
        long after = TimeUnit.NANOSECONDS.toMillis(stream.endedAtNanos() - acknowledgedNanos);
        assertTrue(after <= WITHIN_MILLIS, "the stream ended " + after + " ms after the answer that ended its grant (at most "
                + WITHIN_MILLIS + ")");
    }

    private static void assertRefusedWith401(TestController to, String token) throws Exception {
        try (EventStreamClient again = EventStreamClient.open(to, token)) {
            assertEquals(401, again.status(), again.text());
        }
    }
}
