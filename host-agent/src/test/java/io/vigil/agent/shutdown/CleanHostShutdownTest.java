package io.vigil.agent.shutdown;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The shutdown's order of steps, against a recording stand-in for the agent. */
class CleanHostShutdownTest {
    final List<String> steps = new CopyOnWriteArrayList<>();

    final CleanHostShutdown.Host host = new CleanHostShutdown.Host() {
        @Override
        public void announce(String reason) {
            steps.add("announce: " + reason);
        }

        @Override
        public void refuseStarts(String why) {
            steps.add("refuse starts: " + why);
        }

        @Override
        public List<String> stopRunningVms(long timeoutMillis) {
            steps.add("stop VMs within " + timeoutMillis + " ms");
            return List.of("vm2");
        }
    };

    @Test
    void waitsForTheControllerToClearTheHostBeforeStoppingAnything() throws Exception {
        CleanHostShutdown shutdown = new CleanHostShutdown();
        CompletableFuture<CleanHostShutdown.Outcome> outcome = CompletableFuture.supplyAsync(() -> {
            try {
                return shutdown.run(host, "kernel update", 60_000, 30_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertFalse(outcome.isDone(), "still waiting for the controller");
        assertEquals(List.of("refuse starts: host is shutting down (kernel update)", "announce: kernel update"), steps);
        long cleared = System.nanoTime();
        shutdown.cleared("moved vm1 to h2");
        CleanHostShutdown.Outcome o = outcome.get(5, TimeUnit.SECONDS);
        assertTrue((System.nanoTime() - cleared) / 1_000_000 < 1000, "goes on at once when cleared");
        assertEquals(new CleanHostShutdown.Outcome(true, "moved vm1 to h2", List.of("vm2")), o);
        assertEquals("stop VMs within 30000 ms", steps.get(2), "what the controller left is stopped last");
    }

    @Test
    void aControllerThatNeverClearsTheHostIsWaitedForNoLongerThanTheTimeout() throws Exception {
        long start = System.nanoTime();
        CleanHostShutdown.Outcome o = new CleanHostShutdown().run(host, "systemd is shutting the host down", 400, 1000);
        long took = (System.nanoTime() - start) / 1_000_000;
        assertTrue(took >= 400 && took < 3000, "took " + took + " ms");
        assertFalse(o.clearedByController());
        assertEquals("the controller did not clear the host within 400 ms", o.detail());
        assertEquals("stop VMs within 1000 ms", steps.get(steps.size() - 1));
    }
}
