package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The only controller is SIGKILLed in the middle of a stream of REST writes and started again on the same
 * configuration: every change it acknowledged with a 2xx is back (VMs, rules, users, tokens, the revocation of the
 * bootstrap token, the policy, and the audit entries of those requests), every VM still runs in the QEMU process it ran
 * in before, and the HA core works again on the restored state (a host killed afterwards fails over, honouring the
 * restored anti-affinity rule).
 */
class ControllerRestartE2ETest extends ClusterTestBase {
    private static final String PASSWORD = "correct horse battery staple";

    /** A write the controller acknowledged: what it created, the request, and what else a check needs (a token). */
    private record Ack(String kind, String name, String method, String path, String target, String token) {}

    @Override
    int vmCount() {
        return 3;
    }

    @Override
    long vmMemoryMiB(int i) {
        return 64;
    }

    @Test
    void everyAcknowledgedChangeSurvivesAControllerKillAndTheVmsKeepTheirProcesses() throws Exception {
        List<Ack> acks = new ArrayList<>();
        String bootstrapToken = Files.readString(cluster.adminTokenFile()).strip();
        String bootstrapId = bootstrapToken.split("_")[1];

        // An admin API token of our own; the bootstrap admin token is then revoked.
        RestClient.Reply t = cluster.rest().post("/tokens", Map.of("name", "e2e-admin", "role", "admin"));
        assertEquals(201, t.status(), () -> "create admin token: " + t.body());
        String adminToken = t.body().path("token").asText();
        acks.add(new Ack("token", "e2e-admin", "POST", "/api/v1/tokens", t.body().path("id").asText(), adminToken));
        controllers.bearerToken(adminToken);

        RestClient.Reply u = cluster.rest().post("/users", Map.of("name", "alice", "role", "operator", "password", PASSWORD));
        assertEquals(201, u.status(), () -> "create user: " + u.body());
        acks.add(new Ack("user", "alice", "POST", "/api/v1/users", "alice", null));

        // A strict anti-affinity rule between a VM of the host killed at the end and another VM (on another host if
        // there is one). Rules move no running VM; the restored rule must keep the two apart after the failover.
        Map<String, String> where = placement();
        String victim = busiestHost();
        String moved = vmsOn(victim).get(0);
        String kept = where.keySet().stream().filter(vm -> !vm.equals(moved)).sorted(
                Comparator.comparing((String vm) -> where.get(vm).equals(victim)).thenComparing(vm -> vm))
                .findFirst().orElseThrow();
        RestClient.Reply rule = cluster.rest().post("/rules", Map.of("name", "apart", "type", "anti-affinity",
                "vms", List.of(moved, kept), "strict", true));
        assertEquals(201, rule.status(), () -> "create rule: " + rule.body());
        acks.add(new Ack("rule", "apart", "POST", "/api/v1/rules", "apart", null));

        RestClient.Reply p = cluster.rest().patch("/policy", Map.of("reservePercent", 30, "shutdownPolicy", "failover"));
        assertEquals(200, p.status(), () -> "patch policy: " + p.body());
        acks.add(new Ack("policy", "policy", "PATCH", "/api/v1/policy", null, null));

        RestClient.Reply revoke = cluster.rest().delete("/tokens/" + bootstrapId);
        assertEquals(204, revoke.status(), () -> "revoke the bootstrap token: " + revoke.body());
        acks.add(new Ack("revocation", bootstrapId, "DELETE", "/api/v1/tokens/" + bootstrapId, bootstrapId, null));
        assertEquals(401, withToken(bootstrapToken).get("/whoami").status(), "the revoked bootstrap token is refused");

        Map<String, Long> pidsBefore = qemuPids();
        Map<String, String> hostsBefore = placement();

        // A stream of writes, one after another, with the controller SIGKILLed in the middle of it.
        List<Ack> streamed = new CopyOnWriteArrayList<>();
        AtomicReference<String> stoppedBy = new AtomicReference<>();
        Thread writer = new Thread(() -> writeUntilUnreachable(streamed, stoppedBy), "rest-writer");
        writer.start();
        LocalCluster.awaitTrue("a dozen acknowledged writes", Duration.ofSeconds(60), () -> streamed.size() >= 12 || !writer.isAlive());
        Thread.sleep(137); // not on a request boundary
        controllers.kill("c1");
        writer.join(30_000);
        assertFalse(writer.isAlive(), "the writer stopped once the controller was gone");
        assertTrue(streamed.size() >= 12, "writes were acknowledged before the kill: " + streamed + " " + stoppedBy.get());
        acks.addAll(streamed);
        System.out.printf("%d writes acknowledged before the kill; the writer stopped on: %s%n", streamed.size(), stoppedBy.get());

        long restartedAt = System.currentTimeMillis();
        controllers.start("c1");
        assertEquals(401, withToken(bootstrapToken).get("/whoami").status(), "the revoked bootstrap token stays revoked");
        assertEquals(200, cluster.rest().get("/whoami").status(), "the admin token made before the kill works");

        // Everything acknowledged is there.
        Set<String> vms = names(cluster.rest().get("/vms").body());
        Set<String> rules = names(cluster.rest().get("/rules").body());
        for (Ack a : acks) {
            switch (a.kind) {
                case "vm" -> {
                    assertTrue(vms.contains(a.name), "acknowledged VM " + a.name + " is back: " + vms);
                    assertEquals("stopped", cluster.vm(a.name).path("requestedState").asText(), a.name);
                }
                case "rule" -> assertTrue(rules.contains(a.name), "acknowledged rule " + a.name + " is back: " + rules);
                case "token" -> assertEquals(200, withToken(a.token).get("/whoami").status(), "token " + a.name + " works");
                default -> { }
            }
        }
        JsonNode apart = cluster.rest().get("/rules/apart").body();
        assertEquals("anti-affinity", apart.path("type").asText(), apart.toString());
        assertTrue(apart.path("strict").asBoolean(), apart.toString());
        assertEquals("operator", cluster.rest().get("/users/alice").body().path("role").asText());
        RestClient.Reply login = controllers.rest("c1").withoutToken().post("/login", Map.of("user", "alice", "password", PASSWORD));
        assertEquals(200, login.status(), () -> "alice logs in with her password: " + login.body());
        JsonNode policy = cluster.rest().get("/policy").body();
        assertEquals(30, policy.path("reservePercent").asInt(), policy.toString());
        assertEquals("failover", policy.path("shutdownPolicy").asText(), policy.toString());

        // The audit log has an entry for every acknowledged write.
        List<JsonNode> audit = new ArrayList<>();
        cluster.rest().get("/audit?limit=1000").body().forEach(audit::add);
        for (Ack a : acks) {
            boolean found = audit.stream().anyMatch(e -> e.path("method").asText().equals(a.method)
                    && e.path("path").asText().equals(a.path) && e.path("status").asInt() / 100 == 2
                    && (a.target == null || a.target.equals(e.path("target").asText())));
            assertTrue(found, "an audit entry for the acknowledged " + a + " in " + audit.size() + " entries");
        }

        // The VMs: the same hosts and the same QEMU processes, and nothing placed by the restarted controller.
        cluster.awaitConnectedHosts(hosts().size(), Duration.ofSeconds(30));
        awaitHostsReport(hostsBefore, Duration.ofSeconds(30));
        assertEquals("c1", controllers.awaitLeader(Duration.ofSeconds(15)));
        Thread.sleep(LEASE_TIMEOUT_MILLIS); // a restored host is judged after a failure timeout of silence
        assertEquals(pidsBefore, qemuPids(), "every VM runs in the QEMU process it ran in before the kill");
        assertTrue(cluster.events("type=vm-placed&since=" + restartedAt).isEmpty(), "nothing was placed after the restart: "
                + cluster.events("type=vm-placed&since=" + restartedAt));

        // HA works on the restored state: the host of one VM of the rule fails over, away from the other VM.
        List<String> itsVms = vmsOn(victim);
        assertTrue(itsVms.contains(moved), moved + " still runs on " + victim);
        cluster.killHost(victim);
        awaitRunningElsewhere(itsVms, victim, Duration.ofSeconds(60));
        Map<String, String> after = placement(); // ground truth: kept may not have moved, and then REST may not show it
        assertTrue(after.containsKey(kept), kept + " runs: " + after);
        assertNotEquals(after.get(kept), after.get(moved), moved + " keeps the restored strict anti-affinity rule with " + kept);
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
    }

    /**
     * The agents' isolation response is for a host cut off from a live control plane, not for a dead one: with
     * {@code poweroff}, the death of the only controller must power off no VM.
     */
    @Test
    void aDeadControlPlaneIsNotHostIsolation() throws Exception {
        RestClient.Reply p = cluster.rest().patch("/policy", Map.of("isolationResponse", "poweroff"));
        assertEquals(200, p.status(), () -> "patch policy: " + p.body());
        for (String host : hosts()) {
            LocalCluster.awaitTrue(host + " applying the poweroff isolation response", Duration.ofSeconds(15),
                    () -> cluster.logLines("agent-" + host).stream().anyMatch(l -> l.contains("isolation response poweroff")));
        }
        Map<String, Long> pids = qemuPids();
        controllers.kill("c1");
        // Past the failure timeout (3 s) plus the leader lease timeout (5 s): by then an agent has decided.
        Thread.sleep(9000);
        assertEquals(List.of(), isolationsApplied(), "no host applied its isolation response: the control plane is dead");
        assertEquals(pids, qemuPids(), "no VM was powered off");
        controllers.start("c1");
        awaitHostsReport(placement(), Duration.ofSeconds(30));
        assertEquals(pids, qemuPids(), "no VM was powered off");
    }

    /** After a restart of the whole control plane, the REST API shows the VMs running where they run. */
    @Test
    void theVmsShowRunningAfterTheControlPlaneRestarts() throws Exception {
        Map<String, String> where = placement();
        controllers.kill("c1");
        controllers.start("c1");
        controllers.awaitLeader(Duration.ofSeconds(20));
        awaitHostsReport(where, Duration.ofSeconds(30));
        awaitRunningOn(where, Duration.ofSeconds(15));
    }

    private List<String> isolationsApplied() {
        List<String> found = new ArrayList<>();
        for (String host : hosts()) {
            cluster.logLines("agent-" + host).stream().filter(l -> l.contains("ISOLATED:")).forEach(l -> found.add(host + ": " + l));
        }
        return found;
    }

    /** POST after POST (a VM, a rule, a token, in turn) until the controller does not answer; records every 2xx. */
    private void writeUntilUnreachable(List<Ack> acks, AtomicReference<String> stoppedBy) {
        RestClient rest = controllers.rest("c1");
        try {
            for (int i = 1; ; i++) {
                String vm = "w" + i;
                RestClient.Reply r = rest.post("/vms", Map.of("domainXml", LocalCluster.domainXml(vm, 64), "start", false));
                if (r.status() != 201) throw new AssertionError("create " + vm + ": " + r.status() + " " + r.body());
                acks.add(new Ack("vm", vm, "POST", "/api/v1/vms", vm, null));
                if (i > 1) {
                    String name = "with-w" + i;
                    r = rest.post("/rules", Map.of("name", name, "type", "affinity", "vms", List.of(vm, "w" + (i - 1))));
                    if (r.status() != 201) throw new AssertionError("create rule " + name + ": " + r.status() + " " + r.body());
                    acks.add(new Ack("rule", name, "POST", "/api/v1/rules", name, null));
                }
                String tokenName = "viewer-" + i;
                r = rest.post("/tokens", Map.of("name", tokenName, "role", "viewer"));
                if (r.status() != 201) throw new AssertionError("create token " + tokenName + ": " + r.status() + " " + r.body());
                acks.add(new Ack("token", tokenName, "POST", "/api/v1/tokens", r.body().path("id").asText(),
                        r.body().path("token").asText()));
            }
        } catch (IllegalStateException unreachable) {
            stoppedBy.set(unreachable.getMessage());
        } catch (AssertionError e) {
            stoppedBy.set("refused: " + e.getMessage());
        }
    }

    private RestClient withToken(String token) {
        RestClient r = controllers.rest("c1").withoutToken();
        r.bearerToken(token);
        return r;
    }

    private static Set<String> names(JsonNode list) {
        Set<String> names = new HashSet<>();
        if (list != null) list.forEach(n -> names.add(n.path("name").asText()));
        return names;
    }
}
