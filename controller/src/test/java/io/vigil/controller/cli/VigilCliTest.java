package io.vigil.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.auth.Role;
import io.vigil.controller.cli.CliRun.Result;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.TestController;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The client against a real controller over real HTTPS (trusting its cluster CA), with two fake hosts of 4096 MiB:
 * every command family whose endpoints exist, the table and JSON outputs, and the exit status of each kind of failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VigilCliTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private TestController ctl;
    private FakeAgent h1;
    private FakeAgent h2;
    private CliRun admin;
    private String url;
    private Path xml;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        h1 = ctl.connectedHost("cli-h1", 4096);
        h2 = ctl.connectedHost("cli-h2", 4096);
        url = ctl.baseUrl();
        admin = cli().env("VIGIL_TOKEN_FILE", ctl.controller.config().adminTokenPath().toString());
        xml = ctl.dir.resolve("vm.xml");
    }

    @AfterAll
    void stop() throws Exception {
        h1.close();
        h2.close();
        ctl.close();
    }

    /** A client of the test controller trusting its cluster CA (--ca-file), with no token. */
    private CliRun cli() {
        return new CliRun(url).env("VIGIL_CA_FILE", ctl.caFile().toString());
    }

    private static Result ok(Result r) {
        assertEquals(0, r.exit(), r.toString());
        return r;
    }

    private static Result fails(int exit, Result r, String... errFragments) {
        assertEquals(exit, r.exit(), r.toString());
        for (String f : errFragments) assertTrue(r.err().contains(f), "stderr should mention '" + f + "': " + r);
        return r;
    }

    private String domainFile(String name) throws Exception {
        Path file = ctl.dir.resolve(name + ".xml");
        Files.writeString(file, "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>96</memory><vcpu>2</vcpu>"
                + "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>");
        return file.toString();
    }

    @Test
    void hostsAreListedShownAndPutIntoMaintenance() {
        List<String> lines = ok(admin.run("hosts")).lines();
        assertTrue(lines.get(0).startsWith("NAME    STATE      GEN"), lines.toString());
        assertTrue(lines.get(1).startsWith("cli-h1  connected"), lines.toString());
        assertTrue(lines.get(2).startsWith("cli-h2  connected"), lines.toString());
        assertEquals(3, lines.size());

        JsonNode hosts = ok(admin.run("hosts", "list", "--output", "json")).json();
        assertEquals(2, hosts.size());
        assertEquals("cli-h1", hosts.get(0).get("name").asText());
        assertEquals(4096, hosts.get(0).get("memoryTotalMiB").asInt());
        assertTrue(ok(admin.run("hosts", "get", "cli-h2")).out().contains("memoryTotalMiB  4096"));
        fails(6, admin.run("hosts", "get", "nowhere"), "vigil: Not Found: ", "nowhere");

        Result on = ok(admin.run("--output=json", "maintenance", "cli-h2", "on"));
        assertEquals(CliRun.parse("{\"host\":\"cli-h2\",\"enabled\":true}"), on.json());
        Await.until("cli-h2 in maintenance", WAIT, () -> Boolean.TRUE.equals(ctl.get("/api/v1/hosts/cli-h2").json().get("maintenance")));
        assertTrue(ok(admin.run("maintenance", "cli-h2", "off")).out().contains("maintenance off requested"));
        Await.until("cli-h2 out of maintenance", WAIT, () -> Boolean.FALSE.equals(ctl.get("/api/v1/hosts/cli-h2").json().get("maintenance")));
        fails(2, admin.run("maintenance", "cli-h2", "maybe"), "on or off");
        fails(6, admin.run("maintenance", "nowhere", "on"), "nowhere");
    }

    @Test
    void theClusterOverviewAndTheFailoverHistoryAreTheApis() {
        List<String> lines = ok(admin.run("cluster")).lines();
        assertEquals("hosts: 2 (2 usable)", lines.get(0), lines.toString());
        Object tolerated = ctl.get("/api/v1/cluster").json().get("failuresTolerated");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("failures tolerated now: " + tolerated + " (")), lines.toString());
        JsonNode overview = ok(admin.run("cluster", "--output", "json")).json();
        assertEquals(2, overview.get("hosts").get("total").asInt());
        assertEquals(String.valueOf(tolerated), overview.get("failuresTolerated").asText());

        assertTrue(ok(admin.run("failovers", "--limit", "5")).lines().get(0).startsWith("ID"), "a header, no failover yet");
        assertEquals(CliRun.parse(ctl.get("/api/v1/failovers").body()), ok(admin.run("failovers", "-o", "json")).json());
        fails(2, admin.run("failovers", "--limit", "many"), "whole number");
        fails(4, cli().run("cluster"), "Unauthorized");
    }

    @Test
    void vmsAreCreatedChangedStartedStoppedAndDeleted() throws Exception {
        Result created = ok(admin.run("vms", "create", "--xml", domainFile("cli-web"), "--set", "priority=high",
                "--set", "cacheWeight=3"));
        assertEquals("vm cli-web created (requested stopped, state stopped)\n", created.out());
        JsonNode vm = ok(admin.run("vms", "get", "cli-web", "-o", "json")).json();
        assertEquals(CliRun.parse(ctl.get("/api/v1/vms/cli-web").body()), vm, "the API's JSON exactly");
        assertEquals("high", vm.get("priority").asText());
        assertEquals(3, vm.get("cacheWeight").asInt());

        Result set = ok(admin.run("vms", "set", "cli-web", "preferredHosts=[{\"host\":\"cli-h1\",\"priority\":10}]",
                "failback=true", "cacheWeight=null", "startAfterTimeoutSeconds=30"));
        assertTrue(set.out().contains("  preferredHosts            [{\"host\":\"cli-h1\",\"priority\":10}]"), set.toString());
        Map<String, Object> stored = ctl.get("/api/v1/vms/cli-web").json();
        assertEquals(List.of(Map.of("host", "cli-h1", "priority", 10)), stored.get("preferredHosts"));
        assertEquals(true, stored.get("failback"));
        assertEquals(1, stored.get("cacheWeight"), "null resets to the default");
        fails(8, admin.run("vms", "set", "cli-web", "priority=urgent"), "vigil: Request Does Not Match The API: ", "field priority");
        fails(8, admin.run("vms", "set", "cli-web", "memoryMiB=512"), "memoryMiB");

        ok(admin.run("vms", "start", "cli-web"));
        assertEquals("started", ctl.get("/api/v1/vms/cli-web").json().get("requestedState"));
        Await.until("cli-web running", WAIT, () -> "running".equals(ctl.get("/api/v1/vms/cli-web").json().get("state")));
        List<String> running = ok(admin.run("vms", "--state", "running")).lines();
        assertEquals(2, running.size(), running.toString());
        assertTrue(running.get(1).startsWith("cli-web  running  cli-h1  started    high"), running.toString());
        assertEquals(0, ok(admin.run("vms", "list", "--host", "cli-h2", "--output", "json")).json().size());

        fails(7, admin.run("vms", "migrate", "cli-web", "--host", "cli-h1"), "vigil: ");
        fails(2, admin.run("vms", "migrate", "cli-web"), "--host HOST is required");
        JsonNode stopped = ok(admin.run("vms", "stop", "cli-web", "--output", "json")).json();
        assertEquals("stopped", stopped.get("requestedState").asText());
        assertTrue(ok(admin.run("vms", "delete", "cli-web")).out().contains("vm cli-web: delete requested"));
        Await.until("cli-web gone", WAIT, () -> ctl.get("/api/v1/vms/cli-web").status() == 404);
        fails(6, admin.run("vms", "get", "cli-web"), "cli-web");
        fails(2, admin.run("vms", "create", "--xml", ctl.dir.resolve("missing.xml").toString()), "cannot read");
    }

    @Test
    void aVmInErrorIsStartedAgainAndAPausedOneIsShownPaused() throws Exception {
        h1.refuseStarts.add("cli-err");
        h2.refuseStarts.add("cli-err");
        ok(admin.run("vms", "create", "--xml", domainFile("cli-err"), "--start", "--set", "maxRestarts=0",
                "--set", "maxRelocations=0"));
        Await.until("cli-err in error", WAIT, () -> "error".equals(ctl.get("/api/v1/vms/cli-err").json().get("state")));
        h1.refuseStarts.clear();
        h2.refuseStarts.clear();
        assertEquals("vm cli-err: start requested (state starting)\n", ok(admin.run("vms", "start", "cli-err")).out());
        Await.until("cli-err running", WAIT, () -> "running".equals(ctl.get("/api/v1/vms/cli-err").json().get("state")));
        assertTrue(ok(admin.run("vms", "get", "cli-err", "-o", "json")).json().get("lastError").isNull());
        String host = (String) ctl.get("/api/v1/vms/cli-err").json().get("host");
        assertEquals("vm cli-err: already running on " + host + "\n", ok(admin.run("vms", "start", "cli-err")).out());

        FakeAgent runsIt = host.equals("cli-h1") ? h1 : h2;
        String problem = "paused on an I/O error and could not be resumed: disk socket refused";
        runsIt.report("cli-err", io.vigil.protocol.VmPowerState.PAUSED, "ioerror", problem);
        Await.until("cli-err paused", WAIT, () -> "paused".equals(ctl.get("/api/v1/vms/cli-err").json().get("state")));
        List<String> paused = ok(admin.run("vms", "--state", "paused")).lines();
        assertEquals(2, paused.size(), paused.toString());
        assertTrue(paused.get(1).startsWith("cli-err  paused  " + host + "  started"), paused.toString());
        assertTrue(paused.get(1).endsWith(problem), paused.toString());
        List<String> shown = ok(admin.run("vms", "get", "cli-err")).lines();
        assertTrue(shown.stream().anyMatch(l -> l.matches("state +paused")), shown.toString());
        assertTrue(shown.stream().anyMatch(l -> l.matches("stateReason +ioerror")), shown.toString());
        assertTrue(shown.stream().anyMatch(l -> l.matches("lastError +" + problem)), shown.toString());
        fails(7, admin.run("vms", "start", "cli-err"), "vigil: ", "is paused", "virsh resume cli-err");

        runsIt.report("cli-err", io.vigil.protocol.VmPowerState.RUNNING, null, null);
        Await.until("cli-err running again", WAIT, () -> "running".equals(ctl.get("/api/v1/vms/cli-err").json().get("state")));
        assertTrue(ok(admin.run("vms", "get", "cli-err")).lines().stream().anyMatch(l -> l.matches("lastError +-")));
        ok(admin.run("vms", "delete", "cli-err"));
        Await.until("cli-err gone", WAIT, () -> ctl.get("/api/v1/vms/cli-err").status() == 404);
    }

    @Test
    void admissionControlRefusalsShowTheMissingCapacity() throws Exception {
        ok(admin.run("policy", "set", "admissionControl=percentage", "reservePercent=99"));
        String file = domainFile("cli-big");
        Result refused = fails(7, admin.run("vms", "create", "--xml", file, "--start"),
                "vigil: Admission Control Refused: ", "cli-big", "missingMiB: ", "missingCpus: 2", "--override");
        assertEquals("", refused.out());
        Result json = fails(7, admin.run("vms", "create", "--xml", file, "--start", "--output", "json"));
        assertTrue(json.json().get("missingMiB").asLong() > 0, json.toString());
        assertEquals(409, json.json().get("status").asInt());
        assertEquals(404, ctl.get("/api/v1/vms/cli-big").status());

        ok(admin.run("vms", "create", "--xml", file, "--start", "--override"));
        assertEquals("started", ctl.get("/api/v1/vms/cli-big").json().get("requestedState"));
        ok(admin.run("vms", "stop", "cli-big"));
        fails(7, admin.run("vms", "start", "cli-big"), "missingMiB");
        ok(admin.run("vms", "start", "cli-big", "--override"));
        ok(admin.run("vms", "delete", "cli-big"));
        ok(admin.run("policy", "set", "admissionControl=null", "reservePercent=null"));
    }

    @Test
    void thePolicyIsShownChangedAndReplaced() throws Exception {
        String table = ok(admin.run("policy")).out();
        assertTrue(table.contains("heartbeatIntervalSeconds  1\n"), table);
        assertEquals(CliRun.parse(ctl.get("/api/v1/policy").body()), ok(admin.run("policy", "get", "--output", "json")).json());

        Result set = ok(admin.run("policy", "set", "rejoinGraceSeconds=30", "failoverHosts=[\"cli-h2\"]"));
        assertTrue(set.out().contains("rejoinGraceSeconds        30\n"), set.out());
        assertTrue(set.out().contains("failoverHosts             cli-h2\n"), set.out());
        assertEquals(30, ctl.get("/api/v1/policy").json().get("rejoinGraceSeconds"));

        fails(8, admin.run("policy", "set", "reservePercnt=30"), "reservePercnt");
        fails(8, admin.run("policy", "set", "heartbeatIntervalSeconds=5"), "vigil: Invalid Policy: failureTimeoutSeconds");
        Result json = fails(8, admin.run("policy", "set", "admissionControl=sometimes", "-o", "json"), "admissionControl");
        assertTrue(json.json().get("detail").asText().contains("admissionControl"), json.toString());

        Path file = ctl.dir.resolve("policy.json");
        Files.writeString(file, "{\"leaseTimeoutSeconds\": 6}");
        JsonNode replaced = ok(admin.run("policy", "replace", "--file", file.toString(), "--output", "json")).json();
        assertEquals(6, replaced.get("leaseTimeoutSeconds").asInt());
        assertEquals(0, replaced.get("rejoinGraceSeconds").asInt(), "a PUT's missing fields take their defaults");
        ok(admin.stdin("{}").run("policy", "replace", "--file", "-"));
        assertEquals(4, ctl.get("/api/v1/policy").json().get("leaseTimeoutSeconds"));
        Files.writeString(file, "{not json");
        fails(2, admin.run("policy", "replace", "--file", file.toString()), "not JSON");
    }

    @Test
    void rulesAreCreatedListedChangedAndDeleted() throws Exception {
        for (String vm : List.of("cli-a", "cli-b", "cli-c")) ok(admin.run("vms", "create", "--xml", domainFile(vm)));
        JsonNode rule = ok(admin.run("rules", "create", "cli-apart", "--type", "anti-affinity", "--vms", "cli-a,cli-b",
                "--output", "json")).json();
        assertEquals(CliRun.parse("{\"name\":\"cli-apart\",\"type\":\"anti-affinity\",\"vms\":[\"cli-a\",\"cli-b\"],\"strict\":false}"), rule);
        List<String> list = ok(admin.run("rules")).lines();
        assertEquals(List.of("NAME       TYPE           STRICT  VMS", "cli-apart  anti-affinity  no      cli-a,cli-b"), list);
        assertEquals(CliRun.parse(ctl.get("/api/v1/rules").body()), ok(admin.run("rules", "list", "-o", "json")).json());

        fails(7, admin.run("rules", "create", "cli-apart", "--type", "affinity", "--vms", "cli-a,cli-c"), "already exists");
        fails(8, admin.run("rules", "create", "cli-odd", "--type", "affinity", "--vms", "cli-a,cli-nope"), "cli-nope");
        fails(2, admin.run("rules", "create", "cli-odd", "--vms", "cli-a,cli-b"), "--type");

        String set = ok(admin.run("rules", "set", "cli-apart", "strict=true", "vms=[\"cli-a\",\"cli-c\"]")).out();
        assertTrue(set.contains("strict  true") && set.contains("vms     cli-a,cli-c"), set);
        assertTrue(ok(admin.run("rules", "get", "cli-apart")).out().contains("strict  true"));
        assertEquals("rule cli-apart deleted\n", ok(admin.run("rules", "delete", "cli-apart")).out());
        fails(6, admin.run("rules", "get", "cli-apart"), "cli-apart");
        fails(6, admin.run("rules", "delete", "cli-apart"), "cli-apart");
        for (String vm : List.of("cli-a", "cli-b", "cli-c")) ok(admin.run("vms", "delete", vm));
    }

    @Test
    void eventsAreListedWithFilters() throws Exception {
        ok(admin.run("vms", "create", "--xml", domainFile("cli-ev")));
        ok(admin.run("vms", "delete", "cli-ev"));
        // The deletion goes on after its 202 (undefine on the host, then the core forgets the VM, each an event), and
        // the listings below must agree with each other. Once the API shows the VM gone, its events are all recorded:
        // the core records vm-deleted before it forgets the VM, and nothing about a VM it no longer knows.
        Await.until("cli-ev forgotten", WAIT, () -> ctl.get("/api/v1/vms/cli-ev").status() == 404);
        JsonNode all = ok(admin.run("events", "--vm", "cli-ev", "-o", "json")).json();
        assertTrue(all.size() >= 2, all.toString());
        assertEquals("vm-created", all.get(0).get("type").asText(), all.toString());
        assertEquals("vm-deleted", all.get(all.size() - 1).get("type").asText(), "the deletion is the last: " + all);
        for (JsonNode e : all) assertEquals("cli-ev", e.get("vm").asText());
        JsonNode last = ok(admin.run("events", "--limit", "1", "-o", "json")).json();
        assertEquals(1, last.size());
        List<String> table = ok(admin.run("events", "--vm", "cli-ev")).lines();
        assertTrue(table.get(0).matches("TIME +TYPE +HOST +VM +MESSAGE"), table.toString());
        assertEquals(all.size() + 1, table.size());
        long sequence = all.get(0).get("sequence").asLong();
        JsonNode after = ok(admin.run("events", "--since", Long.toString(sequence), "--vm", "cli-ev", "-o", "json")).json();
        assertEquals(all.size() - 1, after.size());
        fails(2, admin.run("events", "--limit", "many"), "--limit");
        fails(8, admin.run("events", "--limit", "0"), "limit");
    }

    @Test
    void healthNeedsNoToken() {
        String health = ok(cli().run("health")).out();
        assertTrue(health.startsWith("status           ok\n"), health);
        assertEquals("ok", ok(cli().run("health", "-o", "json")).json().get("status").asText());
    }

    /** As an agent pins the cluster CA by the fingerprint its join token carries, a person pins it with vigil trust. */
    @Test
    void theClusterCaIsPinnedByItsFingerprint() throws Exception {
        Path config = Files.createTempDirectory(ctl.dir, "xdg-config-");
        String fingerprint = ctl.controller.certificates().authority().fingerprint();
        CliRun fresh = new CliRun(url).env("XDG_CONFIG_HOME", config.toString()).env("VIGIL_TOKEN", ctl.adminToken());
        fails(9, fresh.run("hosts"), "not trusted", fingerprint, "trust --ca-fingerprint " + fingerprint, "--ca-file");
        fails(9, fresh.run("trust"), fingerprint, "--ca-fingerprint");
        assertFalse(Files.exists(config.resolve("vigil/known-controllers")), "nothing pinned without a confirmation");

        Result pinned = ok(fresh.run("trust", "--ca-fingerprint", fingerprint));
        assertTrue(pinned.out().contains(fingerprint), pinned.toString());
        assertTrue(Files.readAllLines(config.resolve("vigil/known-controllers")).contains(url + " " + fingerprint));
        assertTrue(ok(fresh.run("hosts")).out().startsWith("NAME"), "trusted from then on, through the pin");
    }

    @Test
    void whoamiShowsTheTokensName() {
        assertTrue(ok(admin.run("whoami")).out().contains("role             admin"));
        CliRun viewer = cli().env("VIGIL_TOKEN", ctl.tokenFor("cli-viewer", Role.VIEWER));
        JsonNode me = ok(viewer.run("whoami", "--output", "json")).json();
        assertEquals("cli-viewer", me.get("name").asText());
        assertEquals("viewer", me.get("role").asText());
    }

    @Test
    void aMissingOrBadTokenIsExit4AndATooSmallRoleExit5() throws Exception {
        fails(4, cli().run("hosts"), "vigil: Unauthorized: ", "--token-file");
        String bad = "vgl_nothere_secretsecret";
        Result refused = fails(4, cli().env("VIGIL_TOKEN", bad).run("vms"), "unknown, expired or revoked");
        assertFalse(refused.err().contains("secretsecret"), "a token is never printed");
        Result json = fails(4, cli().run("hosts", "--output", "json"));
        assertEquals(401, json.json().get("status").asInt());

        Path tokenFile = ctl.dir.resolve("viewer-token");
        Files.writeString(tokenFile, ctl.tokenFor("cli-viewer", Role.VIEWER) + "\n");
        CliRun viewer = cli().env("VIGIL_TOKEN_FILE", "/nonexistent");
        ok(viewer.run("--token-file", tokenFile.toString(), "policy"));
        fails(5, viewer.run("--token-file", tokenFile.toString(), "policy", "set", "reservePercent=30"),
                "vigil: Forbidden: ", "admin");
        String operator = ctl.tokenFor("cli-operator", Role.OPERATOR);
        fails(5, cli().env("VIGIL_TOKEN", operator).run("rules", "delete", "x"), "Forbidden");
        fails(2, viewer.run("policy"), "cannot read the token file /nonexistent (VIGIL_TOKEN_FILE)");
        // --token beats the environment's token file
        ok(cli().env("VIGIL_TOKEN_FILE", "/nonexistent").run("whoami", "--token", ctl.adminToken()));
    }

    private static final String ISO = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ";

    @Test
    void tokensAreCreatedListedAndRevoked() {
        Result created = ok(admin.run("tokens", "create", "--name", "cli-ci", "--role", "operator", "--ttl", "3600"));
        String token = created.out().trim();
        assertTrue(token.matches("vgl_[a-z2-7]{12}_[A-Za-z0-9_-]{43}"), "the token alone on stdout: " + created);
        String id = token.substring(4, 16);
        assertTrue(created.err().matches("(?s).*token " + id + " for cli-ci \\(role operator, expires " + ISO
                + "\\); it is shown only this once.*"), created.err());

        CliRun ci = cli().env("VIGIL_TOKEN", token);
        JsonNode me = ok(ci.run("whoami", "-o", "json")).json();
        assertEquals("cli-ci", me.get("name").asText());
        assertEquals("operator", me.get("role").asText());
        assertEquals(id, me.get("tokenId").asText());
        assertEquals("api", me.get("kind").asText());
        assertTrue(ok(ci.run("whoami")).out().matches("(?s).*expiresAtMillis +" + ISO + "\n.*"), "an ISO time in the table");
        fails(5, ci.run("tokens"), "Forbidden", "admin");

        List<String> table = ok(admin.run("tokens", "list")).lines();
        assertTrue(table.get(0).matches("ID +NAME +ROLE +KIND +CREATED +CREATED-BY +EXPIRES"), table.toString());
        assertTrue(table.stream().anyMatch(l -> l.matches(id + " +cli-ci +operator +api +" + ISO + " +bootstrap-admin +" + ISO)),
                table.toString());
        JsonNode listed = ok(admin.run("tokens", "-o", "json")).json();
        JsonNode mine = null;
        for (JsonNode t : listed) if (t.get("id").asText().equals(id)) mine = t;
        assertTrue(mine != null && !mine.has("token"), "listed, never with its text: " + listed);

        assertEquals("token " + id + " revoked\n", ok(admin.run("tokens", "revoke", id)).out());
        fails(4, ci.run("whoami"), "vigil: Unauthorized: ", "unknown, expired or revoked");
        fails(6, admin.run("tokens", "revoke", id), id);
        assertTrue(ok(admin.run("tokens")).lines().stream().noneMatch(l -> l.startsWith(id)));
    }

    @Test
    void usersAreCreatedWithAPasswordOnStdinListedAndDeleted() {
        Result created = ok(admin.stdin("correct horse battery\n").run("users", "create", "cli-ana", "--role", "operator"));
        assertEquals("user cli-ana created (role operator)\n", created.out());
        fails(7, admin.stdin("another long password\n").run("users", "create", "cli-ana", "--role", "viewer"), "cli-ana");
        fails(8, admin.stdin("short\n").run("users", "create", "cli-bo", "--role", "viewer"), "password");

        List<String> table = ok(admin.run("users")).lines();
        assertEquals(List.of("NAME", "ROLE", "CREATED", "CREATED-BY", "UPDATED"), List.of(table.get(0).split(" +")), table.toString());
        assertTrue(table.stream().anyMatch(l -> l.matches("cli-ana +operator +" + ISO + " +bootstrap-admin +(" + ISO + "|-)")),
                table.toString());
        JsonNode users = ok(admin.run("users", "list", "-o", "json")).json();
        assertEquals(CliRun.parse(ctl.get("/api/v1/users").body()), users, "the API's JSON");
        for (JsonNode u : users) assertFalse(u.has("password") || u.has("hash"), u.toString());

        // The password read from stdin is the user's: a login through the API with it works.
        var login = ctl.as(null).post("/api/v1/login", "{\"user\":\"cli-ana\",\"password\":\"correct horse battery\"}");
        assertEquals(200, login.status(), login.body());
        assertEquals("session", login.json().get("kind"));
        assertEquals("operator", login.json().get("role"));
        CliRun ana = cli().env("VIGIL_TOKEN", (String) login.json().get("token"));
        JsonNode me = ok(ana.run("whoami", "-o", "json")).json();
        assertEquals("cli-ana", me.get("name").asText());
        assertEquals("session", me.get("kind").asText());

        assertEquals("user cli-ana deleted\n", ok(admin.run("users", "delete", "cli-ana")).out());
        fails(4, ana.run("whoami"), "unknown, expired or revoked"); // deleting a user ends their sessions
        assertEquals(401, ctl.as(null).post("/api/v1/login", "{\"user\":\"cli-ana\",\"password\":\"correct horse battery\"}")
                .status());
        fails(6, admin.run("users", "delete", "cli-ana"), "cli-ana");
        assertTrue(ok(admin.run("users")).lines().stream().noneMatch(l -> l.startsWith("cli-ana ")));
    }

    @Test
    void theAuditLogShowsTheRequestsJustMade() {
        long since = System.currentTimeMillis();
        ok(admin.run("policy", "set", "rejoinGraceSeconds=7"));
        fails(6, admin.run("rules", "delete", "cli-audit-nothing"));
        String viewer = ctl.tokenFor("cli-audit-viewer", Role.VIEWER);
        fails(5, cli().env("VIGIL_TOKEN", viewer).run("policy", "set", "rejoinGraceSeconds=8"));
        ok(admin.run("policy", "set", "rejoinGraceSeconds=null"));

        // Recorded once each response has ended.
        Await.until("four audit entries", WAIT, () -> ok(admin.run("audit", "--since", Long.toString(since), "-o", "json"))
                .json().size() >= 4);
        JsonNode entries = ok(admin.run("audit", "--since", Long.toString(since), "-o", "json")).json();
        JsonNode patch = entries.get(0);
        assertEquals("PATCH", patch.get("method").asText());
        assertEquals("/api/v1/policy", patch.get("path").asText());
        assertEquals(200, patch.get("status").asInt());
        assertEquals("bootstrap-admin", patch.get("principal").asText());
        assertEquals("rejoinGraceSeconds=7", patch.get("summary").asText());

        List<String> table = ok(admin.run("audit", "--since", Long.toString(since))).lines();
        assertTrue(table.get(0).matches("TIME +PRINCIPAL +ROLE +FROM +METHOD +PATH +STATUS +OUTCOME +SUMMARY"), table.toString());
        assertTrue(table.get(1).matches(ISO + " +bootstrap-admin +admin +127\\.0\\.0\\.1 +PATCH +/api/v1/policy +200 +ok"
                + " +rejoinGraceSeconds=7"), table.toString());
        assertTrue(table.get(2).matches(ISO + " +bootstrap-admin +admin +127\\.0\\.0\\.1 +DELETE +/api/v1/rules/cli-audit-nothing"
                + " +404 +Not Found: .*"), table.toString());
        assertTrue(table.get(3).matches(ISO + " +cli-audit-viewer +viewer +127\\.0\\.0\\.1 +PATCH +/api/v1/policy +403"
                + " +Forbidden: .* +rejoinGraceSeconds=8"), table.toString());

        JsonNode refused = ok(admin.run("audit", "--since", Long.toString(since), "--principal", "cli-audit-viewer", "-o", "json"))
                .json();
        assertEquals(1, refused.size(), refused.toString());
        assertEquals(403, refused.get(0).get("status").asInt());
        JsonNode notFound = ok(admin.run("audit", "--since", Long.toString(since), "--status", "404", "-o", "json")).json();
        assertEquals(1, notFound.size(), notFound.toString());
        // --since also takes an entry's sequence: the entries after it
        JsonNode after = ok(admin.run("audit", "--since", patch.get("sequence").asText(), "--limit", "1", "-o", "json")).json();
        assertTrue(after.size() == 1 && after.get(0).get("sequence").asLong() > patch.get("sequence").asLong(), after.toString());
        fails(5, cli().env("VIGIL_TOKEN", viewer).run("audit"), "admin");
    }

    @Test
    void joinTokensAreCreatedListedAndDeleted() {
        Result created = ok(admin.run("join-token", "create", "--host", "h9", "--ttl", "600"));
        String token = created.out().trim();
        assertTrue(token.matches("vj1\\.[0-9a-f]{8}\\.[0-9a-f]{32}\\.[0-9a-f]{64}"), created.toString());
        String id = token.split("\\.")[1];
        assertTrue(created.err().matches("(?s).*join token " + id + " for host h9, expires " + ISO + "; it is shown only"
                + " this once.*"), created.err());
        assertTrue(token.endsWith("." + ctl.controller.certificates().authority().fingerprint()), "the CA's fingerprint");

        List<Object> listed = ctl.get("/api/v1/join-tokens").jsonList();
        assertTrue(listed.stream().anyMatch(t -> id.equals(((Map<?, ?>) t).get("id")) && "h9".equals(((Map<?, ?>) t).get("host"))),
                listed.toString());
        assertFalse(ctl.get("/api/v1/join-tokens").body().contains(token.split("\\.")[2]), "never the secret");
        List<String> table = ok(admin.run("join-token", "list")).lines();
        assertTrue(table.get(0).matches("ID +HOST +CREATED +EXPIRES"), table.toString());
        assertTrue(table.stream().anyMatch(l -> l.matches(id + " +h9 +" + ISO + " +" + ISO)), table.toString());

        JsonNode any = ok(admin.run("join-token", "create", "-o", "json")).json();
        assertTrue(any.get("host").isNull(), any.toString());
        assertTrue(any.get("token").asText().startsWith("vj1." + any.get("id").asText() + "."));
        fails(8, admin.run("join-token", "create", "--ttl", "5"), "ttlSeconds");

        assertEquals("join token " + id + " deleted\n", ok(admin.run("join-token", "delete", id)).out());
        assertTrue(ctl.get("/api/v1/join-tokens").jsonList().stream().noneMatch(t -> id.equals(((Map<?, ?>) t).get("id"))));
        fails(6, admin.run("join-token", "delete", id), id);
        ok(admin.run("join-token", "delete", any.get("id").asText()));
    }

    @Test
    void agentCertificatesAreListedAndARevokedAgentIsCutOff() throws Exception {
        // A controller of its own: the revoked host goes suspect, which the other tests' hosts must not see.
        try (TestController own = new TestController()) {
            CliRun cli = new CliRun(own.baseUrl()).env("VIGIL_CA_FILE", own.caFile().toString())
                    .env("VIGIL_TOKEN", own.adminToken());
            FakeAgent h9 = own.connectedHost("cli-h9", 2048);
            FakeAgent h8 = own.connectedHost("cli-h8", 2048);
            try {
                String serial = h9.credentials().serial();
                List<String> table = ok(cli.run("agent-certificates", "--host", "cli-h9")).lines();
                assertEquals(2, table.size(), table.toString());
                assertTrue(table.get(0).matches("SERIAL +HOST +ISSUED +NOT-AFTER +REVOKED +REVOKED-BY"), table.toString());
                assertTrue(table.get(1).matches(serial + " +cli-h9 +" + ISO + " +" + ISO + " +- +-"), table.toString());
                JsonNode all = ok(cli.run("agent-certificates", "list", "-o", "json")).json();
                assertEquals(CliRun.parse(own.get("/api/v1/agent-certificates").body()), all);
                assertEquals(2, all.size(), all.toString());

                assertEquals("agent certificate " + serial + " revoked\n", ok(cli.run("agent-certificates", "revoke", serial)).out());
                Await.until("cli-h9's agent disconnected", WAIT, h9::isClosed);
                assertFalse(h8.isClosed(), "the other agent stays");
                JsonNode revoked = ok(cli.run("agent-certificates", "--host", "cli-h9", "-o", "json")).json().get(0);
                assertTrue(revoked.get("revoked").asBoolean());
                assertEquals("bootstrap-admin", revoked.get("revokedBy").asText());
                assertTrue(ok(cli.run("agent-certificates", "--host", "cli-h9")).lines().get(1)
                        .matches(serial + " +cli-h9 +" + ISO + " +" + ISO + " +" + ISO + " +bootstrap-admin"));
                ok(cli.run("agent-certificates", "revoke", serial)); // again: nothing changes
                fails(6, cli.run("agent-certificates", "revoke", "ffff0000"), "ffff0000");
                fails(8, cli.run("agent-certificates", "revoke", "not-hex"), "serial");
                JsonNode events = ok(cli.run("events", "--type", "agent-certificate-revoked", "-o", "json")).json();
                assertEquals(1, events.size(), events.toString());
                assertEquals("cli-h9", events.get(0).get("host").asText());
            } finally {
                h9.close();
                h8.close();
            }
        }
    }

    /** Each run changes the policy (a policy-changed event), to wake a follower blocked reading the stream. */
    private Runnable policyChanges() {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger(20);
        return () -> ok(admin.run("policy", "set", "rejoinGraceSeconds=" + n.incrementAndGet()));
    }

    @Test
    void eventsAreFollowedFromTheRealStreamUntilStopped() throws Exception {
        long since = System.currentTimeMillis();
        try (CliRun.Running follow = admin.start("events", "--follow", "--since", Long.toString(since), "--type", "policy-changed")) {
            // --since: the stream starts there even though nothing matched yet, so no change is missed
            ok(admin.run("policy", "set", "rejoinGraceSeconds=11"));
            Await.until("the policy change printed", WAIT, () -> follow.out().contains("policy-changed"));
            // The stream is connected now: a change made from here on arrives live; other events are left out.
            ok(admin.run("maintenance", "cli-h2", "off")); // a host event, not printed
            ok(admin.run("policy", "set", "rejoinGraceSeconds=null"));
            Await.until("the second policy change printed", WAIT, () -> follow.out().lines().count() == 2);
            List<String> lines = follow.out().lines().toList();
            for (String line : lines) assertTrue(line.matches(ISO + "  policy-changed  -  -  .+"), lines.toString());
            assertTrue(follow.isRunning(), "following goes on");
            String printed = follow.out();
            assertEquals(0, follow.stop(policyChanges()), follow.err());
            assertEquals(printed, follow.out(), "nothing printed once stopped");
            assertFalse(follow.err().contains("reconnecting"), follow.err());
        }

        // Without --since only new events, as JSON, one per line.
        try (CliRun.Running json = admin.start("events", "--follow", "--type", "policy-changed", "-o", "json")) {
            JsonNode first = null;
            for (int i = 0; i < 20 && first == null; i++) { // once the stream is open
                ok(admin.run("policy", "set", "rejoinGraceSeconds=" + (i % 2 == 0 ? 12 : 13)));
                try {
                    Await.until("a policy change printed", Duration.ofSeconds(1), () -> !json.out().isEmpty());
                    first = CliRun.parse(json.out().lines().findFirst().orElseThrow());
                } catch (AssertionError notYet) {
                    // the stream was not open yet
                }
            }
            assertTrue(first != null, "an event printed: " + json.err());
            assertEquals("policy-changed", first.get("type").asText());
            assertTrue(first.get("sequence").asLong() > 0, first.toString());
            assertEquals(0, json.stop(policyChanges()));
        } finally {
            ok(admin.run("policy", "set", "rejoinGraceSeconds=null"));
        }
    }

    @Test
    void anUnreachableControllerIsExit3() throws Exception {
        int closed = TestController.freePort();
        fails(3, admin.run("--controller", "https://127.0.0.1:" + closed, "hosts"), "controller unreachable", "--controller");
        fails(3, new CliRun("https://127.0.0.1:" + closed).run("--timeout", "1", "events", "--follow"), "unreachable");
    }

    @Test
    void usageErrorsAreExit2AndHelpExit0() {
        fails(2, admin.run(), "a command is missing");
        fails(2, admin.run("hostz"), "unknown command 'hostz'", "vigil --help");
        fails(2, admin.run("vms", "reboot", "x"), "unknown vms command 'reboot'", "see vigil vms --help");
        fails(2, admin.run("vms", "get"), "NAME is missing");
        fails(2, admin.run("vms", "get", "a", "b"), "unexpected argument 'b'");
        fails(2, admin.run("vms", "stop", "a", "--override"), "unknown option --override");
        fails(2, admin.run("vms", "set", "a", "priority"), "'priority' is not KEY=VALUE");
        fails(2, admin.run("hosts", "--output", "yaml"), "table or json");
        fails(2, admin.run("hosts", "--timeout", "soon"), "--timeout");
        fails(2, admin.run("--controller", "ftp://x", "hosts"), "http(s)://");
        fails(2, admin.run("tokens", "create", "--name", "ci", "--role", "root"), "viewer, operator or admin");

        String help = ok(admin.run("--help")).out();
        assertTrue(help.contains("  vms set NAME KEY=VALUE ... [--override]\n"), help);
        for (ExitCode e : ExitCode.values()) assertTrue(help.contains("  " + e.code + "  " + e.meaning), help);
        assertTrue(ok(admin.run("vms", "--help")).out().startsWith("vigil vms: "));
        assertTrue(ok(admin.run("vms", "set", "--help")).out().startsWith("usage: vigil vms set NAME"));
        assertTrue(ok(admin.run("-h", "maintenance")).out().startsWith("usage: vigil maintenance HOST on|off"));
    }
}
