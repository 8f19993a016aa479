package io.vigil.controller.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.ProtocolVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A real controller and a fake agent over a real WebSocket: the agent is sent its cache budgets after Welcome, again
 * whenever they change, and again after it reconnects although they did not change. Admission control keeps 50% of
 * each host free (percentage), so the one 4096 MiB host lends 2048 MiB to the VM running there.
 */
class CacheBudgetsFlowTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static ControllerMessage.CacheBudgets budgets(FakeAgent agent, Map<String, Long> expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        ControllerMessage.CacheBudgets last = null;
        while (System.nanoTime() < deadline) {
            last = agent.next(ControllerMessage.CacheBudgets.class, 1);
            if (last != null && last.budgetsMiB().equals(expected)) return last;
        }
        throw new AssertionError("no CacheBudgets " + expected + "; last " + (last == null ? null : last.budgetsMiB()));
    }

    @Test
    void budgetsFollowWelcomeEveryChangeAndEveryReconnection() throws Exception {
        try (TestController ctl = new TestController()) {
            assertEquals(200, ctl.patch("/api/v1/policy", "{\"admissionControl\":\"percentage\",\"reservePercent\":50}")
                    .status());
            try (FakeAgent agent = new FakeAgent("bud-h1", ctl.sharedStorage(), 4096)) {
                agent.join(ctl.port(), ProtocolVersion.CURRENT);
                assertInstanceOf(ControllerMessage.Welcome.class, agent.next(10), "Welcome comes first");
                assertEquals(Map.of(), budgets(agent, Map.of()).budgetsMiB(), "no VM runs: nothing to lend");

                String xml = "<domain type='kvm'><name>bud-a</name><memory unit='MiB'>96</memory><vcpu>1</vcpu>"
                        + "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
                assertEquals(201, ctl.post("/api/v1/vms", "{\"domainXml\":" + Jsons.string(xml) + "}").status());
                budgets(agent, Map.of("bud-a", 2048L));
                Await.until("bud-a running", WAIT,
                        () -> "running".equals(ctl.get("/api/v1/vms/bud-a").json().get("state")));

                // Reconnect: the budgets have not changed, and still come again after the new Welcome.
                agent.received.clear();
                agent.reconnect(ctl.port());
                List<ControllerMessage> seen = new ArrayList<>();
                ControllerMessage m;
                do {
                    m = agent.next(10);
                    assertNotNull(m, "nothing after reconnecting; saw " + seen);
                    seen.add(m);
                } while (!(m instanceof ControllerMessage.CacheBudgets));
                assertTrue(seen.stream().anyMatch(ControllerMessage.Welcome.class::isInstance), seen.toString());
                assertEquals(Map.of("bud-a", 2048L), ((ControllerMessage.CacheBudgets) m).budgetsMiB());

                // A change of weight changes the budgets: sent at once.
                assertEquals(200, ctl.patch("/api/v1/vms/bud-a", "{\"cacheWeight\":0}").status());
                budgets(agent, Map.of());
            }
        }
    }
}
