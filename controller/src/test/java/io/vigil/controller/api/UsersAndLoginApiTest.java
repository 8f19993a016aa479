package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.auth.PasswordHash;
import io.vigil.controller.auth.User;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Users and the dashboard's login over real HTTP: users made by an admin log in to sessions acting with their role; a
 * wrong password and an unknown user look the same; logout, a password change and deletion end the sessions, a role
 * change holds for them at once; repeated failures lock a name out; no answer ever shows a password, hash or salt.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsersAndLoginApiTest {
    private static final Set<String> USER_FIELDS = Set.of("name", "role", "createdAtMillis", "createdBy", "updatedAtMillis");
    private TestController ctl;
    /** Every answer about users and sessions, checked for secrets at the end of each test. */
    private final List<Reply> seen = new ArrayList<>();
    private final List<String> passwords = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        for (Reply r : seen) {
            for (String secret : List.of("salt", "hash", "iterations", "PBKDF2", "secretSha256"))
                assertFalse(r.body().contains(secret), "an answer shows '" + secret + "': " + r.body());
            for (String p : passwords) assertFalse(r.body().contains(p), "an answer shows a password: " + r.body());
        }
        ctl.close();
    }

    private Reply seen(Reply r) {
        seen.add(r);
        return r;
    }

    private Map<String, Object> createUser(String name, String role, String password) {
        passwords.add(password);
        Reply r = seen(ctl.post("/api/v1/users", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\",\"password\":\"" + password + "\"}"));
        assertEquals(201, r.status(), r.body());
        assertEquals("/api/v1/users/" + name, r.location());
        return r.json();
    }

    private Reply login(String user, String password) {
        return seen(ctl.as(null).post("/api/v1/login", "{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}"));
    }

    private String session(String user, String password) {
        Reply r = login(user, password);
        assertEquals(200, r.status(), r.body());
        return (String) r.json().get("token");
    }

    @Test
    void aUserLogsInToASessionWithTheirRole() {
        long before = System.currentTimeMillis();
        Map<String, Object> alice = createUser("alice", "operator", "alice's long password");
        assertEquals(USER_FIELDS, alice.keySet());
        assertEquals(List.of("alice", "operator", "bootstrap-admin"), List.of(alice.get("name"), alice.get("role"), alice.get("createdBy")));
        assertEquals(alice, seen(ctl.get("/api/v1/users/alice")).json());
        assertTrue(seen(ctl.get("/api/v1/users")).jsonList().contains(alice));

        Reply r = login("alice", "alice's long password");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> session = r.json();
        assertEquals(Set.of("token", "name", "role", "kind", "expiresAtMillis"), session.keySet());
        assertEquals(List.of("alice", "operator", "session"), List.of(session.get("name"), session.get("role"), session.get("kind")));
        long expires = ((Number) session.get("expiresAtMillis")).longValue();
        assertTrue(expires >= before + 12 * 3600_000L && expires <= System.currentTimeMillis() + 12 * 3600_000L, "12 hours");
        String token = (String) session.get("token");
        Map<String, Object> whoami = ctl.as(token).get("/api/v1/whoami").json();
        assertEquals(List.of("alice", "operator", "session", token.substring(4, 16), expires),
                List.of(whoami.get("name"), whoami.get("role"), whoami.get("kind"), whoami.get("tokenId"),
                        ((Number) whoami.get("expiresAtMillis")).longValue()));

        assertEquals(404, ctl.as(token).postEmpty("/api/v1/vms/no-such-vm/start").status(), "an operator starts VMs");
        assertEquals(403, ctl.as(token).patch("/api/v1/policy", "{\"reservePercent\":10}").status());
        assertEquals(403, ctl.as(token).get("/api/v1/users").status());
        assertEquals(403, ctl.as(token).post("/api/v1/users", "{\"name\":\"mallory\",\"role\":\"admin\",\"password\":\"mallory's password\"}").status());

        // The stored password: PBKDF2-HMAC-SHA256, 16 random bytes of salt, at least 210,000 iterations.
        PasswordHash stored = ctl.controller.users().get("alice").orElseThrow().password();
        assertEquals("PBKDF2WithHmacSHA256", stored.algorithm());
        assertTrue(stored.iterations() >= 210_000);
        assertEquals(16, Base64.getDecoder().decode(stored.salt()).length);
        assertFalse(stored.hash().contains("alice's long password"));
    }

    @Test
    void aWrongPasswordAndAnUnknownUserGetTheSameAnswer() {
        createUser("bob", "viewer", "bob's long password");
        Map<String, Object> wrong = assertProblem(login("bob", "not bob's password"), 401);
        Map<String, Object> unknown = assertProblem(login("nobody-here", "whatever password"), 401);
        wrong.remove("instance");
        unknown.remove("instance");
        assertEquals(wrong, unknown);
        assertEquals("unknown user or wrong password", wrong.get("detail"));
        assertProblem(login("bob", ""), 400, "password");
        assertProblem(seen(ctl.as(null).post("/api/v1/login", "{\"user\":\"bob\",\"password\":\"x\",\"remember\":true}")), 400, "field remember");
        assertEquals(200, login("bob", "bob's long password").status());
    }

    @Test
    void logoutEndsTheSessionOnly() {
        createUser("carol", "viewer", "carol's long password");
        String first = session("carol", "carol's long password");
        String second = session("carol", "carol's long password");
        assertEquals(204, ctl.as(first).postEmpty("/api/v1/logout").status());
        assertProblem(ctl.as(first).get("/api/v1/whoami"), 401);
        assertEquals(200, ctl.as(second).get("/api/v1/whoami").status(), "another session of the same user goes on");
        assertProblem(ctl.postEmpty("/api/v1/logout"), 409, "API token", "DELETE /api/v1/tokens/");
        assertEquals(200, ctl.get("/api/v1/whoami").status(), "an API token is not logged out");
    }

    @Test
    void aPasswordChangeAndDeletionEndTheUsersSessionsAndARoleChangeHoldsForThemAtOnce() {
        createUser("dave", "viewer", "dave's long password");
        String a = session("dave", "dave's long password");
        String b = session("dave", "dave's long password");
        createUser("erin", "viewer", "erin's long password");
        String erins = session("erin", "erin's long password");

        passwords.add("dave's new password");
        Reply changed = seen(ctl.patch("/api/v1/users/dave", "{\"password\":\"dave's new password\"}"));
        assertEquals(200, changed.status(), changed.body());
        assertEquals(USER_FIELDS, changed.json().keySet());
        assertEquals(401, ctl.as(a).get("/api/v1/whoami").status());
        assertEquals(401, ctl.as(b).get("/api/v1/whoami").status());
        assertEquals(200, ctl.as(erins).get("/api/v1/whoami").status(), "other users' sessions go on");
        assertProblem(login("dave", "dave's long password"), 401);
        String c = session("dave", "dave's new password");

        assertEquals(200, seen(ctl.patch("/api/v1/users/dave", "{\"role\":\"viewer\"}")).status(), "the same role");
        assertEquals(200, ctl.as(c).get("/api/v1/whoami").status(), "no change, the session goes on");
        assertEquals("admin", seen(ctl.patch("/api/v1/users/dave", "{\"role\":\"admin\"}")).json().get("role"));
        assertEquals("admin", ctl.as(c).get("/api/v1/whoami").json().get("role"), "the open session has the new role at once");
        assertEquals(200, ctl.as(c).get("/api/v1/users").status(), "the new role holds");
        String d = session("dave", "dave's new password");
        assertEquals("admin", ctl.as(d).get("/api/v1/whoami").json().get("role"));
        String cId = (String) ctl.as(c).get("/api/v1/whoami").json().get("tokenId");
        assertEquals("admin", ctl.get("/api/v1/tokens/" + cId).json().get("role"), "the token list shows what it grants now");

        assertEquals("operator", seen(ctl.patch("/api/v1/users/dave", "{\"role\":\"operator\"}")).json().get("role"));
        for (String session : List.of(c, d)) {
            assertEquals("operator", ctl.as(session).get("/api/v1/whoami").json().get("role"));
            assertProblem(ctl.as(session).get("/api/v1/users"), 403, "dave has role operator");
            assertEquals(404, ctl.as(session).postEmpty("/api/v1/vms/no-such-vm/start").status(), "an operator still starts VMs");
        }
        assertEquals("operator", ctl.get("/api/v1/tokens/" + cId).json().get("role"));

        assertEquals(204, ctl.delete("/api/v1/users/dave").status());
        assertEquals(401, ctl.as(c).get("/api/v1/whoami").status());
        assertEquals(401, ctl.as(d).get("/api/v1/whoami").status());
        assertProblem(login("dave", "dave's new password"), 401);
        assertProblem(seen(ctl.get("/api/v1/users/dave")), 404, "no user");
        assertProblem(ctl.delete("/api/v1/users/dave"), 404, "no user");
    }

    /**
     * A session acts for its user as the user is now, whether or not its revocation happened: a user deleted in the
     * store alone (as if the controller died between the deletion and the revocation) takes the sessions along, and a
     * new user of the same name does not inherit them.
     */
    @Test
    void aSessionEndsWithItsUserEvenUnrevokedAndDoesNotPassToANewUserOfTheName() {
        createUser("ivan", "operator", "ivan's long password");
        String old = session("ivan", "ivan's long password");
        assertTrue(ctl.controller.users().delete("ivan"), "deleted in the store, its sessions not revoked");
        assertProblem(ctl.as(old).get("/api/v1/whoami"), 401);
        createUser("ivan", "admin", "the new ivan's password");
        assertProblem(ctl.as(old).get("/api/v1/whoami"), 401, "unknown, expired or revoked");
        assertProblem(ctl.as(old).get("/api/v1/users"), 401);
        String oldId = old.substring(4, 16);
        assertProblem(ctl.get("/api/v1/tokens/" + oldId), 404);
        assertFalse(ctl.get("/api/v1/tokens?kind=session").body().contains(oldId), "not listed: it grants nothing");
        String fresh = session("ivan", "the new ivan's password");
        assertEquals("admin", ctl.as(fresh).get("/api/v1/whoami").json().get("role"));
    }

    @Test
    void badUserRequestsAreRefusedNamingTheFieldAndChangeNothing() {
        createUser("frank", "viewer", "frank's long password");
        String before = seen(ctl.get("/api/v1/users")).body();
        assertProblem(seen(ctl.post("/api/v1/users", "{\"name\":\"short\",\"role\":\"viewer\",\"password\":\"elevenchars\"}")), 400, "password");
        assertProblem(seen(ctl.post("/api/v1/users", "{\"name\":\"bad name\",\"role\":\"viewer\",\"password\":\"a long password\"}")), 400, "name");
        assertProblem(seen(ctl.post("/api/v1/users", "{\"name\":\"x\",\"role\":\"root\",\"password\":\"a long password\"}")), 400, "role");
        assertProblem(seen(ctl.post("/api/v1/users", "{\"name\":\"x\",\"role\":\"viewer\",\"password\":\"a long password\",\"email\":\"x@y\"}")), 400, "field email");
        assertProblem(seen(ctl.post("/api/v1/users", "{\"name\":\"frank\",\"role\":\"admin\",\"password\":\"another password\"}")), 409, "already exists");
        assertProblem(seen(ctl.patch("/api/v1/users/frank", "{}")), 400);
        assertProblem(seen(ctl.patch("/api/v1/users/frank", "{\"password\":\"short\"}")), 400, "password");
        assertProblem(seen(ctl.patch("/api/v1/users/frank", "{\"name\":\"francis\"}")), 400, "field name");
        assertProblem(seen(ctl.patch("/api/v1/users/nobody-here", "{\"role\":\"admin\"}")), 404, "no user");
        assertEquals(before, seen(ctl.get("/api/v1/users")).body());
        assertEquals(200, login("frank", "frank's long password").status(), "the password is unchanged");
    }

    @Test
    void repeatedFailuresLockTheNameOutEvenWithTheRightPassword() {
        createUser("grace", "viewer", "grace's long password");
        for (int i = 0; i < 5; i++) assertProblem(login("grace", "guess number " + i), 401);
        Reply locked = login("grace", "grace's long password");
        Map<String, Object> p = assertProblem(locked, 429, "too many failed logins");
        long retryAfter = ((Number) p.get("retryAfterSeconds")).longValue();
        assertTrue(retryAfter > 0 && retryAfter <= 60, "retryAfterSeconds " + retryAfter);
        // Another user from the same address is not locked out by grace's five failures.
        createUser("heidi", "viewer", "heidi's long password");
        assertEquals(200, login("heidi", "heidi's long password").status());
    }
}
