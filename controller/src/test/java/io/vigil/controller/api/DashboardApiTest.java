package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.auth.Role;
import io.vigil.controller.ha.FailoverReserve.HostLoad;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The dashboard's API over real HTTP: the cluster overview on a known cluster (two hosts of 4096 MiB, two HA VMs of
 * 96 MiB on dash-h1, which reserves 192 MiB like dash-h2), the failover history and the event stream around a real
 * failover (dash-h1's agent goes silent on network and storage; its VMs restart on dash-h2), and authentication.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardApiTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private TestController ctl;
    private FakeAgent h1;
    private FakeAgent h2;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        h1 = ctl.connectedHost("dash-h1", 4096);
        h2 = ctl.connectedHost("dash-h2", 4096);
        String onH1 = "\"preferredHosts\":[{\"host\":\"dash-h1\",\"priority\":1}]";
        for (String vm : List.of("dash-a", "dash-b")) {
            Reply r = ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(vm), onH1));
            assertEquals(201, r.status(), r.body());
        }
        for (String vm : List.of("dash-a", "dash-b"))
            Await.until(vm + " running on dash-h1", WAIT, () -> {
                Map<String, Object> v = ctl.get("/api/v1/vms/" + vm).json();
                return "running".equals(v.get("state")) && "dash-h1".equals(v.get("host"));
            });
        Await.until("reserves sized", WAIT, () -> number(hostMemory("dash-h1"), "reserveMiB") == 192);
    }

    @AfterAll
    void stop() throws Exception {
        if (!h1.isClosed()) h1.close();
        h2.close();
        ctl.close();
    }

    private static long number(Map<String, ?> m, String field) {
        return ((Number) m.get(field)).longValue();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> hostMemory(String host) {
        for (Object o : (List<Object>) ctl.get("/api/v1/cluster").json().get("hostMemory")) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (host.equals(m.get("name"))) return m;
        }
        throw new AssertionError("no host " + host + " in the overview");
    }

    @Test
    @SuppressWarnings("unchecked")
    void overviewCountsAndFailureTolerance() {
        Reply r = ctl.get("/api/v1/cluster");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> c = r.json();
        Map<String, Object> hosts = (Map<String, Object>) c.get("hosts");
        assertEquals(2, hosts.get("total"));
        assertEquals(2, hosts.get("usable"));
        assertEquals(Map.of("connected", 2), hosts.get("byState"));
        Map<String, Object> vms = (Map<String, Object>) c.get("vms");
        assertEquals(2, vms.get("total"));
        assertEquals(2, vms.get("running"));
        assertEquals(2, vms.get("protectedVms"));
        Map<String, Object> admission = (Map<String, Object>) c.get("admission");
        assertEquals("host-failures", admission.get("admissionControl"));
        assertEquals(1, admission.get("promisedHostFailures"));
        assertNull(admission.get("reservePercent"));
        // Room: dash-h1 4096 - 192, dash-h2 4096; losing either costs 4096 (HA + room) <= 8000: one failure.
        assertEquals(1, c.get("failuresTolerated"));
        assertEquals(true, c.get("leader"));

        Map<String, Object> h1Bar = hostMemory("dash-h1");
        assertEquals(4096L, number(h1Bar, "totalMiB"));
        assertEquals(192L, number(h1Bar, "vmsMiB"));
        assertEquals(192L, number(h1Bar, "reserveMiB"));
        assertEquals(192L, number(h1Bar, "haMiB"));
        assertEquals(4096L - 192 - 192, number(h1Bar, "freeMiB"));
        assertEquals(2L, number(h1Bar, "vms"));
        Map<String, Object> h2Bar = hostMemory("dash-h2");
        assertEquals(0L, number(h2Bar, "vmsMiB"));
        assertEquals(192L, number(h2Bar, "reserveMiB"));
        assertEquals(0L, number(h2Bar, "cacheLentMiB"), "no VM on dash-h2 to lend to");
        Map<String, Object> memory = (Map<String, Object>) c.get("memory");
        assertEquals(8192L, number(memory, "totalMiB"));
        assertEquals(384L, number(memory, "reserveMiB"));

        ctl.patch("/api/v1/policy", "{\"admissionControl\":\"percentage\",\"reservePercent\":30}");
        Map<String, Object> pct = (Map<String, Object>) ctl.get("/api/v1/cluster").json().get("admission");
        assertEquals("percentage", pct.get("admissionControl"));
        assertEquals(30, pct.get("reservePercent"));
        assertNull(pct.get("promisedHostFailures"));
        ctl.patch("/api/v1/policy", "{\"admissionControl\":null,\"reservePercent\":null}");
    }

    @Test
    void failuresToleratedIsExactOverEverySetOfHosts() {
        // Three hosts of 1000 MiB, each with 600 MiB of HA VMs: one failure leaves 800 free for 600; two leave 400 for 1200.
        List<HostLoad> busy = List.of(load("a", 1000, 600, 600, true), load("b", 1000, 600, 600, true),
                load("c", 1000, 600, 600, true));
        assertEquals(1, ClusterOverview.failuresTolerated(busy));
        // 200 MiB each: two failures leave 800 for 400; all but one host may fail.
        assertEquals(2, ClusterOverview.failuresTolerated(List.of(load("a", 1000, 200, 200, true),
                load("b", 1000, 200, 200, true), load("c", 1000, 200, 200, true))));
        // Memory used by VMs that are not HA needs no room elsewhere.
        assertEquals(2, ClusterOverview.failuresTolerated(List.of(load("a", 1000, 600, 0, true),
                load("b", 1000, 600, 0, true), load("c", 1000, 600, 0, true))));
        // The worst case is the set whose loss costs most (their HA VMs plus their own free memory).
        List<HostLoad> uneven = List.of(load("big", 4000, 0, 0, true), load("s1", 1000, 700, 700, true),
                load("s2", 1000, 700, 700, true));
        // Losing big: 600 free left, nothing to restart. Losing s1: 4300 free for 700. Losing big + s1: 300 for 700.
        assertEquals(1, ClusterOverview.failuresTolerated(uneven));
        // Unusable hosts are neither capacity nor candidates; one usable host tolerates nothing.
        assertEquals(0, ClusterOverview.failuresTolerated(List.of(load("a", 1000, 100, 100, true),
                load("b", 1000, 0, 0, false))));
        assertEquals(0, ClusterOverview.failuresTolerated(List.of()));
        // Two hosts too full to hold each other's HA VMs.
        assertEquals(0, ClusterOverview.failuresTolerated(List.of(load("a", 1000, 900, 900, true),
                load("b", 1000, 900, 900, true))));
    }

    private static HostLoad load(String name, long total, long used, long ha, boolean usable) {
        return new HostLoad(name, total, used, ha, 4, 0, usable);
    }

    @Test
    void newEndpointsNeedAToken() throws Exception {
        for (String path : List.of("/api/v1/cluster", "/api/v1/failovers", "/api/v1/events/stream")) {
            Reply none = ctl.as(null).get(path);
            assertEquals(401, none.status(), path);
            assertEquals("application/problem+json", none.contentType(), path);
            assertEquals(401, ctl.as("vgl_nope_nope").get(path).status(), path);
        }
        String viewer = ctl.tokenFor("watcher", Role.VIEWER);
        assertEquals(200, ctl.as(viewer).get("/api/v1/cluster").status());
        assertEquals(200, ctl.as(viewer).get("/api/v1/failovers").status());
        assertEquals(400, ctl.get("/api/v1/failovers?limit=0").status());
        try (SseClient s = new SseClient("/api/v1/events/stream", viewer, null)) {
            assertEquals(200, s.status);
            assertTrue(s.contentType.startsWith("text/event-stream"), s.contentType);
        }
    }

    @Test
    @Order(Integer.MAX_VALUE) // last (unordered tests come at MAX_VALUE / 2): dash-h1 fails
    @SuppressWarnings("unchecked")
    void failoverReachesTheStreamAndTheHistory() throws Exception {
        try (SseClient live = new SseClient("/api/v1/events/stream", ctl.adminToken(), null)) {
            h1.close(); // network and storage heartbeats stop: dash-h1 fails
            List<SseEvent> seen = new ArrayList<>();
            SseEvent completed = live.until(seen, e -> e.json().get("type").equals("failover-completed"), WAIT);
            assertNotNull(completed, "failover-completed streamed; saw " + seen.stream().map(e -> e.json().get("type")).toList());
            List<Object> types = seen.stream().map(e -> e.json().get("type")).toList();
            for (String t : List.of("host-suspect", "host-failed", "host-leases-expired", "vm-placed", "vm-started"))
                assertTrue(types.contains(t), t + " streamed: " + types);
            for (SseEvent e : seen) {
                assertEquals("cluster-event", e.name);
                assertEquals(e.id, String.valueOf(e.json().get("sequence")), "id is the sequence");
            }

            // Resuming after host-suspect: the events after it, in order, none twice, then live ones.
            SseEvent suspect = seen.stream().filter(e -> e.json().get("type").equals("host-suspect")).findFirst().orElseThrow();
            List<String> after = seen.subList(seen.indexOf(suspect) + 1, seen.size()).stream().map(e -> e.id).toList();
            try (SseClient resumed = new SseClient("/api/v1/events/stream", ctl.adminToken(), suspect.id)) {
                List<SseEvent> replay = new ArrayList<>();
                resumed.until(replay, e -> e.id.equals(completed.id), WAIT);
                List<String> ids = replay.stream().map(e -> e.id).toList();
                assertTrue(ids.containsAll(after), "every event after host-suspect replayed: " + ids + " vs " + after);
                assertFalse(ids.contains(suspect.id), "nothing at or before Last-Event-ID");
                assertEquals(ids.size(), ids.stream().distinct().count(), "none twice");
                ctl.patch("/api/v1/vms/dash-a", "{\"cacheWeight\":2}"); // makes no event; a policy change does
                ctl.patch("/api/v1/policy", "{\"rejoinGraceSeconds\":1}");
                SseEvent next = resumed.until(new ArrayList<>(), e -> e.json().get("type").equals("policy-changed"), WAIT);
                assertNotNull(next, "a live event after the replay");
                ctl.patch("/api/v1/policy", "{\"rejoinGraceSeconds\":null}");
            }
        }

        Reply r = ctl.get("/api/v1/failovers");
        assertEquals(200, r.status(), r.body());
        List<Object> failovers = r.jsonList();
        assertEquals(1, failovers.size(), r.body());
        Map<String, Object> f = (Map<String, Object>) failovers.get(0);
        assertEquals("dash-h1", f.get("host"));
        assertEquals("dash-h1-1", f.get("id"));
        assertEquals("completed", f.get("status"));
        assertEquals(true, f.get("completed"));
        assertEquals(2, f.get("vmsRestarted"));
        assertEquals(0, f.get("vmsFailed"));
        List<Map<String, Object>> steps = (List<Map<String, Object>>) f.get("steps");
        List<Object> names = steps.stream().map(s -> s.get("step")).toList();
        for (String step : List.of("detected", "declaredFailed", "leasesExpired", "placed", "started", "completed"))
            assertTrue(names.contains(step), step + " in " + names);
        assertEquals("detected", names.get(0));
        assertEquals("completed", names.get(names.size() - 1));
        assertEquals(0L, number(steps.get(0), "elapsedMillis"));
        long previous = -1;
        for (Map<String, Object> s : steps) {
            long elapsed = number(s, "elapsedMillis");
            assertTrue(elapsed >= previous, "steps in time order: " + steps);
            previous = elapsed;
            assertEquals(number(f, "detectedAtMillis") + elapsed, number(s, "atMillis"));
            assertNotNull(s.get("label"));
        }
        assertEquals("declared failed", steps.get(names.indexOf("declaredFailed")).get("label"));
        assertEquals(number(f, "elapsedMillis"), number(steps.get(steps.size() - 1), "elapsedMillis"));
        List<Map<String, Object>> vms = (List<Map<String, Object>>) f.get("vms");
        assertEquals(2, vms.size(), vms.toString());
        for (Map<String, Object> v : vms) {
            assertEquals("started", v.get("outcome"));
            assertEquals("dash-h2", v.get("host"));
        }
        // The overview follows: one usable host left, which tolerates no further failure.
        Map<String, Object> c = ctl.get("/api/v1/cluster").json();
        assertEquals(0, c.get("failuresTolerated"));
        assertEquals(1, ((Map<String, Object>) c.get("hosts")).get("usable"));
    }

    /** The stream of any member carries what any other member appends: the listener is on the cluster's map. */
    @Test
    void streamOnOneMemberCarriesEventsAppendedOnAnother() throws Exception {
        java.nio.file.Path shared = java.nio.file.Files.createTempDirectory("vigil-dash-shared-");
        int firstPort = TestController.freePort();
        try (TestController first = new TestController("dash-c1", shared, firstPort, List.of("127.0.0.1:" + firstPort));
                TestController second = new TestController("dash-c2", shared, TestController.freePort(),
                        List.of("127.0.0.1:" + firstPort))) {
            Await.until("a cluster of two", WAIT,
                    () -> second.controller.store().hazelcast().getCluster().getMembers().size() == 2);
            try (SseClient onSecond = new SseClient(second, "/api/v1/events/stream", second.adminToken(), null)) {
                assertEquals(200, onSecond.status);
                first.controller.store().appendEvent(new io.vigil.controller.ha.ClusterEvent(0, System.currentTimeMillis(),
                        "dash-test", null, null, "a test", "appended on dash-c1", Map.of()));
                SseEvent e = onSecond.until(new ArrayList<>(), x -> "dash-test".equals(x.json().get("type")), WAIT);
                assertNotNull(e, "dash-c2's stream carries dash-c1's event");
                assertEquals("appended on dash-c1", e.json().get("message"));
            }
        } finally {
            try (Stream<java.nio.file.Path> files = java.nio.file.Files.walk(shared)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ---- a small SSE client over java.net.http --------------------------------------------------------------------

    record SseEvent(String id, String name, String data) {
        Map<String, Object> json() {
            return Jsons.object(data);
        }
    }

    private final class SseClient implements AutoCloseable {
        final int status;
        final String contentType;
        private final BlockingQueue<SseEvent> events = new LinkedBlockingQueue<>();
        private final InputStream body;
        private final Thread reader;

        SseClient(String path, String token, String lastEventId) throws Exception {
            this(ctl, path, token, lastEventId);
        }

        SseClient(TestController to, String path, String token, String lastEventId) throws Exception {
            HttpClient http = HttpClient.newBuilder().sslContext(to.sslContext()).connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(to.baseUrl() + path))
                    .header("Accept", "text/event-stream");
            if (token != null) b.header("Authorization", "Bearer " + token);
            if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
            HttpResponse<InputStream> r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            status = r.statusCode();
            contentType = r.headers().firstValue("Content-Type").orElse("");
            body = r.body();
            reader = new Thread(this::read, "sse-test-reader");
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (Stream<String> lines = new java.io.BufferedReader(new java.io.InputStreamReader(body,
                    StandardCharsets.UTF_8)).lines()) {
                String id = null, name = null;
                StringBuilder data = new StringBuilder();
                for (String line : (Iterable<String>) lines::iterator) {
                    if (line.isEmpty()) {
                        if (data.length() > 0) events.add(new SseEvent(id, name, data.toString()));
                        id = null;
                        name = null;
                        data.setLength(0);
                    } else if (line.startsWith("id: ")) {
                        id = line.substring(4);
                    } else if (line.startsWith("event: ")) {
                        name = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        data.append(line.substring(6));
                    }
                }
            } catch (Exception e) {
                // closed
            }
        }

        /** Collects events into {@code seen} until one matches (returned), or null after {@code timeout}. */
        SseEvent until(List<SseEvent> seen, java.util.function.Predicate<SseEvent> match, Duration timeout)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                SseEvent e = events.poll(100, TimeUnit.MILLISECONDS);
                if (e == null) continue;
                seen.add(e);
                if (match.test(e)) return e;
            }
            return null;
        }

        @Override
        public void close() throws Exception {
            body.close();
        }
    }
}
