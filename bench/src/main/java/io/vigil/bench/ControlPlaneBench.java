package io.vigil.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.bench.ControllerCluster.Member;
import io.vigil.bench.ControllerCluster.Poller;
import io.vigil.controller.Controller;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.store.StateDirectory;
import io.vigil.controller.store.StateMap;
import io.vigil.controller.store.StateMaps;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * bench/control-plane: the controller's own high availability and the cost of its durable state, measured with three
 * real controller processes on loopback (one Hazelcast cluster, one shared storage directory, no agents):
 * <ol>
 *   <li>leader takeover after SIGKILL of the leader: from the kill to another controller answering /health as the
 *       leader (polled every 50 ms); the killed one is started again between runs;</li>
 *   <li>the same after SIGSTOP of the leader; then SIGCONT, and the resumed one must not answer as the leader;</li>
 *   <li>cold start of all three at once to HA-ready (all answer /health, exactly one as the leader): after all were
 *       SIGKILLed (the leader's lease must expire first) and after a clean stop (the leader releases it); beside it the
 *       bare JVM start of three processes at once ({@code scripts/controller --help});</li>
 *   <li>REST writes ({@code POST /api/v1/rules}, each a new durable record plus its audit entry): latency p50/p99 and
 *       throughput from one sequential client and from concurrent clients; beside them, in this process on one
 *       Hazelcast member, {@code StateMap.put} of a DURABLE map against a MEMORY map (the cost of persistence).</li>
 * </ol>
 * Targets: takeover <= 10 s, cold start <= 30 s, REST write p99 <= 50 ms. Prints a table, then one line of JSON.
 *   java -Dvigil.home=... -cp ... io.vigil.bench.ControlPlaneBench [--dir DIR] [--runs 5] [--cold-runs 1]
 *       [--writes 500] [--clients 8] [--warmup 100] [--keep]
 */
public final class ControlPlaneBench {
    private static final long TAKEOVER_TARGET_MS = 10_000;
    private static final long COLD_START_TARGET_MS = 30_000;
    private static final double REST_P99_TARGET_MS = 50;
    private static final String VM_XML = "<domain type='kvm'><name>%s</name><memory unit='MiB'>96</memory><vcpu>1</vcpu>"
            + "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";

    private final Path home;
    private final Path root;
    private final ControllerCluster cluster;
    private final int runs;
    private final int coldRuns;
    private final int writes;
    private final int clients;
    private final int warmup;
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final List<String> summary = new ArrayList<>();
    private boolean allMet = true;

    private ControlPlaneBench(Path home, Path root, ControllerCluster cluster, int runs, int coldRuns, int writes,
                              int clients, int warmup) {
        this.home = home;
        this.root = root;
        this.cluster = cluster;
        this.runs = runs;
        this.coldRuns = coldRuns;
        this.writes = writes;
        this.clients = clients;
        this.warmup = warmup;
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(System.getProperty("java.io.tmpdir"));
        int runs = 5, coldRuns = 1, writes = 500, clients = 8, warmup = 100;
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--keep")) {
                keep = true;
                continue;
            }
            if (i + 1 >= args.length) usage("missing value after " + a);
            String v = args[++i];
            switch (a) {
                case "--dir" -> base = Path.of(v);
                case "--runs" -> runs = Integer.parseInt(v);
                case "--cold-runs" -> coldRuns = Integer.parseInt(v);
                case "--writes" -> writes = Integer.parseInt(v);
                case "--clients" -> clients = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                default -> usage("unknown argument " + a);
            }
        }
        String homeProperty = System.getProperty("vigil.home");
        if (homeProperty == null) usage("-Dvigil.home=<the Vigil checkout> is required (bench/control-plane sets it)");
        Path home = Path.of(homeProperty);
        String pids = System.getProperty("vigil.bench.pidfile");
        Path root = Files.createTempDirectory(Files.createDirectories(base), "vigil-control-plane-bench-");
        ControllerCluster cluster = new ControllerCluster(home, root, 3, pids == null ? null : Path.of(pids));
        Thread hook = new Thread(cluster::close, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean failed = false;
        try {
            new ControlPlaneBench(home, root, cluster, runs, coldRuns, writes, clients, warmup).run();
        } catch (Throwable t) {
            failed = true;
            System.out.println();
            System.out.println("FAILED: " + t);
            t.printStackTrace(System.out);
            for (Member m : cluster.members()) {
                System.out.println("---- last lines of " + m + " (" + m.log + ")");
                System.out.println(cluster.tail(m, 40));
            }
        } finally {
            cluster.close();
            Runtime.getRuntime().removeShutdownHook(hook);
            if (keep || failed) {
                System.out.println("(kept " + root + ")");
            } else {
                deleteTree(root);
            }
        }
        if (failed) System.exit(1);
    }

    private static void usage(String why) {
        System.err.println(why + "\nusage: ControlPlaneBench [--dir DIR] [--runs 5] [--cold-runs 1] [--writes 500] "
                + "[--clients 8] [--warmup 100] [--keep]");
        System.exit(2);
    }

    private void run() throws Exception {
        System.out.printf("3 controllers on loopback, shared storage %s, leader lease timeout %d ms%n",
                cluster.shared(), Controller.LEADER_LEASE_TIMEOUT_MILLIS);
        json.put("benchmark", "control-plane");
        json.put("controllers", 3);
        json.put("leaseTimeoutMs", Controller.LEADER_LEASE_TIMEOUT_MILLIS);
        json.put("cpus", Runtime.getRuntime().availableProcessors());
        json.put("loadAverageAtStart", loadAverage());
        System.out.printf("%d CPUs, load average at start %s (other work on this machine inflates every figure)%n",
                Runtime.getRuntime().availableProcessors(), loadAverage());

        System.out.println("\n== first start of three controllers at once (empty storage)");
        long f0 = System.nanoTime();
        cluster.startAll();
        ColdStart first = coldStart(f0);
        json.put("firstStart", first.json());

        System.out.println("\n== REST writes: POST /api/v1/rules (a new durable rule each, plus its audit entry)");
        restWrites();

        System.out.println("\n== leader takeover after SIGKILL of the leader (" + runs + " runs; the killed one restarted between runs)");
        takeovers("KILL");
        System.out.println("\n== leader takeover after SIGSTOP of the leader (" + runs + " runs; then SIGCONT)");
        takeovers("STOP");

        System.out.println("\n== bare JVM start: three `scripts/controller --help` at once");
        jvmBaseline();
        System.out.println("\n== cold start of three controllers at once after all were SIGKILLed (" + coldRuns + " run(s))");
        coldStarts("afterKill", true);
        System.out.println("\n== cold start of three controllers at once after a clean stop (SIGTERM) (" + coldRuns + " run(s))");
        coldStarts("afterCleanStop", false);
        stopAll(false);

        System.out.println("\n== in process, one Hazelcast member: StateMap.put, DURABLE map (rules) vs MEMORY map");
        stateMaps();

        json.put("loadAverageAtEnd", loadAverage());
        System.out.println("\n== summary (load average at start " + json.get("loadAverageAtStart") + ", at end "
                + json.get("loadAverageAtEnd") + ", " + json.get("cpus") + " CPUs)");
        summary.forEach(System.out::println);
        json.put("allTargetsMet", allMet);
        System.out.println(new ObjectMapper().writeValueAsString(json));
    }

    // ---- leader takeover ---------------------------------------------------------------------------------------------

    private Member soleLeader() throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        List<Member> leaders = List.of();
        while (System.nanoTime() < deadline) {
            leaders = cluster.leaders();
            if (leaders.size() == 1) return leaders.get(0);
            Thread.sleep(100);
        }
        throw new IllegalStateException("expected exactly one leader, found " + leaders);
    }

    private void takeovers(String signal) throws Exception {
        boolean stop = signal.equals("STOP");
        long[] takeover = new long[runs];
        long[] restart = new long[runs];
        int staleLeaderAnswers = 0;
        int formedAfter = 0;
        System.out.printf("%-4s %-7s %-11s %13s %7s %s%n", "run", "victim", "new leader", "takeover ms", "epoch",
                stop ? "resumed victim (SIGCONT)" : "restart of the victim");
        for (int r = 0; r < runs; r++) {
            Member victim = soleLeader();
            List<Member> others = cluster.members().stream().filter(m -> m != victim).toList();
            long epochBefore = cluster.leaderEpoch();
            Poller poller = cluster.poller(others);
            long t0 = System.nanoTime();
            cluster.signal(victim, signal);
            long seen = poller.until(p -> p.firstLeader() > 0, t0 + 60_000_000_000L);
            if (seen < 0) throw new IllegalStateException("no controller took over within 60 s of SIG" + signal + " of " + victim);
            takeover[r] = (poller.firstLeader() - t0) / 1_000_000;
            Member next = poller.firstLeaderNanos.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
            long epochAfter = cluster.leaderEpoch();
            String after;
            if (stop) {
                cluster.signal(victim, "CONT");
                long resumed = System.nanoTime();
                Poller check = cluster.poller(List.of(victim));
                // Watch the resumed controller for 2 s from its first answer.
                long ok = check.until(p -> p.firstAnswerNanos.containsKey(victim)
                        && System.nanoTime() - p.firstAnswerNanos.get(victim) > 2_000_000_000L, resumed + 30_000_000_000L);
                if (ok < 0) throw new IllegalStateException(victim + " did not answer /health within 30 s of SIGCONT");
                boolean stale = check.firstLeaderNanos.containsKey(victim);
                if (stale) staleLeaderAnswers++;
                List<Member> leaders = cluster.leaders();
                boolean formed = cluster.awaitClusterFormed(30_000);
                if (formed) formedAfter++;
                after = String.format(Locale.ROOT, "answered after %d ms, %s; leaders now %s%s",
                        (check.firstAnswerNanos.get(victim) - resumed) / 1_000_000,
                        stale ? "ANSWERED AS LEADER" : "not leader", leaders, formed ? "" : " (Hazelcast not re-formed in 30 s)");
            } else {
                cluster.awaitExit(victim, 10_000);
                long t1 = System.nanoTime();
                cluster.start(victim);
                Poller up = cluster.poller(List.of(victim));
                if (up.until(p -> p.allAnswered(), t1 + 90_000_000_000L) < 0)
                    throw new IllegalStateException(victim + " did not come back within 90 s");
                restart[r] = (up.firstAnswerNanos.get(victim) - t1) / 1_000_000;
                boolean victimLeads = up.latest.get(victim).leader();
                boolean formed = cluster.awaitClusterFormed(30_000);
                if (formed) formedAfter++;
                after = String.format(Locale.ROOT, "REST up after %d ms%s, Hazelcast cluster of 3 %s", restart[r],
                        victimLeads ? " AS LEADER (two leaders?)" : " as follower",
                        formed ? "re-formed after " + (System.nanoTime() - t1) / 1_000_000 + " ms" : "NOT re-formed in 30 s");
                if (victimLeads) staleLeaderAnswers++;
            }
            System.out.printf("%-4d %-7s %-11s %13d %7s %s%n", r + 1, victim, next, takeover[r], epochBefore + "->" + epochAfter, after);
        }
        long median = median(takeover), max = Arrays.stream(takeover).max().orElse(0);
        boolean met = max <= TAKEOVER_TARGET_MS && staleLeaderAnswers == 0;
        allMet &= met;
        String label = stop ? "takeover after SIGSTOP" : "takeover after SIGKILL";
        summary.add(String.format(Locale.ROOT, "%-34s median %6d ms, max %6d ms (%.2fx the lease timeout)%s   target <= %d ms: %s",
                label, median, max, (double) median / Controller.LEADER_LEASE_TIMEOUT_MILLIS,
                stop ? ", resumed victim answered as leader in " + staleLeaderAnswers + "/" + runs + " runs" : "",
                TAKEOVER_TARGET_MS, met ? "met" : "MISSED"));
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("runsMs", takeover);
        j.put("medianMs", median);
        j.put("maxMs", max);
        j.put("medianOverLeaseTimeout", round((double) median / Controller.LEADER_LEASE_TIMEOUT_MILLIS, 3));
        if (stop) {
            j.put("resumedAnsweredAsLeaderRuns", staleLeaderAnswers);
        } else {
            j.put("restartedAsLeaderRuns", staleLeaderAnswers);
            j.put("restartRestUpMs", restart);
            j.put("restartRestUpMedianMs", median(restart));
        }
        j.put("hazelcastReformedRuns", formedAfter);
        j.put("targetMs", TAKEOVER_TARGET_MS);
        j.put("met", met);
        json.put(stop ? "takeoverSigstop" : "takeoverSigkill", j);
    }

    // ---- cold start ------------------------------------------------------------------------------------------------

    /** What one start of all three at once took, from the moment they were started (-1: not seen). */
    private record ColdStart(long[] firstLogMs, long[] hazelcastStartedMs, long[] restUpMs, long firstLeaderMs, long readyMs,
                             long hazelcastFormedMs, String leader) {
        Map<String, Object> json() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("firstLogLineMs", firstLogMs);
            j.put("hazelcastStartedMs", hazelcastStartedMs);
            j.put("restUpMs", restUpMs);
            j.put("firstLeaderMs", firstLeaderMs);
            j.put("haReadyMs", readyMs);
            j.put("hazelcastFormedMs", hazelcastFormedMs);
            j.put("haReadyAfterLastRestUpMs", readyMs - Arrays.stream(restUpMs).max().orElse(0));
            j.put("leader", leader);
            return j;
        }
    }

    private static long since(long t0, long nanos) {
        return nanos == 0 ? -1 : (nanos - t0) / 1_000_000;
    }

    /** Waits for the three just started (at {@code t0}) to be HA-ready: all answer, exactly one as the leader. */
    private ColdStart coldStart(long t0) throws InterruptedException {
        List<Member> all = cluster.members();
        Poller p = cluster.poller(all);
        long ready = p.until(x -> x.allAnswered() && x.leaderCount() == 1, t0 + 120_000_000_000L);
        if (ready < 0) throw new IllegalStateException("the controllers were not HA-ready within 120 s (answers: " + p.latest + ")");
        long[] log = all.stream().mapToLong(m -> since(t0, m.firstOutputNanos)).toArray();
        long[] hz = all.stream().mapToLong(m -> since(t0, m.hazelcastStartedNanos)).toArray();
        long[] up = all.stream().mapToLong(m -> since(t0, p.firstAnswerNanos.get(m))).toArray();
        Member leader = all.stream().filter(m -> p.latest.get(m).leader()).findFirst().orElseThrow();
        boolean formed = cluster.awaitClusterFormed(60_000);
        long formedMs = formed ? (System.nanoTime() - t0) / 1_000_000 : -1;
        ColdStart c = new ColdStart(log, hz, up, since(t0, p.firstLeader()), (ready - t0) / 1_000_000, formedMs, leader.name);
        System.out.printf("  per controller (ms from start): first log line %s, Hazelcast member started %s, REST up %s%n",
                Arrays.toString(log), Arrays.toString(hz), Arrays.toString(up));
        System.out.printf("  first leader answer %d ms; HA-ready (all answer, exactly one leader: %s) %d ms, %d ms after the last "
                + "REST up; Hazelcast cluster of 3 formed %s%n", c.firstLeaderMs, leader, c.readyMs,
                c.readyMs - Arrays.stream(up).max().orElse(0), formed ? formedMs + " ms" : "NOT within 60 s");
        return c;
    }

    private void stopAll(boolean kill) throws Exception {
        for (Member m : cluster.members()) if (m.running()) cluster.signal(m, kill ? "KILL" : "TERM");
        for (Member m : cluster.members()) cluster.awaitExit(m, 30_000);
    }

    private void coldStarts(String key, boolean kill) throws Exception {
        long[] ready = new long[coldRuns];
        long[] restUp = new long[coldRuns];
        long[] firstLog = new long[coldRuns];
        long[] hzStarted = new long[coldRuns];
        long[] afterUp = new long[coldRuns];
        long[] stopMs = new long[coldRuns];
        List<Object> details = new ArrayList<>();
        for (int r = 0; r < coldRuns; r++) {
            soleLeader();
            long s0 = System.nanoTime();
            stopAll(kill);
            stopMs[r] = (System.nanoTime() - s0) / 1_000_000;
            long epoch = cluster.leaderEpoch();
            System.out.printf("run %d: all three %s in %d ms (leader epoch on storage %d); starting all three%n", r + 1,
                    kill ? "SIGKILLed and reaped" : "stopped cleanly (SIGTERM, exited)", stopMs[r], epoch);
            long t0 = System.nanoTime();
            cluster.startAll();
            ColdStart c = coldStart(t0);
            ready[r] = c.readyMs;
            restUp[r] = Arrays.stream(c.restUpMs).max().orElse(0);
            firstLog[r] = Arrays.stream(c.firstLogMs).max().orElse(0);
            hzStarted[r] = Arrays.stream(c.hazelcastStartedMs).max().orElse(0);
            afterUp[r] = c.readyMs - restUp[r];
            Map<String, Object> d = c.json();
            d.put("epochBefore", epoch);
            d.put("epochAfter", cluster.leaderEpoch());
            details.add(d);
        }
        long median = median(ready), max = Arrays.stream(ready).max().orElse(0);
        boolean met = max <= COLD_START_TARGET_MS;
        allMet &= met;
        Long jvm = (Long) json.get("jvmStartThreeAtOnceMs");
        summary.add(String.format(Locale.ROOT, "%-34s median %6d ms, max %6d ms (of which: bare JVM start %s ms; all "
                        + "first log lines %d ms, Hazelcast members started %d ms, REST up %d ms, then a leader %d ms later)   target <= %d ms: %s",
                "cold start to HA-ready, " + (kill ? "after kill" : "clean stop"), median, max, jvm, median(firstLog),
                median(hzStarted), median(restUp), median(afterUp), COLD_START_TARGET_MS, met ? "met" : "MISSED"));
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("haReadyMs", ready);
        j.put("haReadyMedianMs", median);
        j.put("haReadyMaxMs", max);
        j.put("allFirstLogLineMedianMs", median(firstLog));
        j.put("allHazelcastStartedMedianMs", median(hzStarted));
        j.put("allRestUpMedianMs", median(restUp));
        j.put("haReadyAfterLastRestUpMedianMs", median(afterUp));
        j.put("stopMs", stopMs);
        j.put("runs", details);
        j.put("targetMs", COLD_START_TARGET_MS);
        j.put("met", met);
        json.put("coldStart" + Character.toUpperCase(key.charAt(0)) + key.substring(1), j);
        if (!kill) {
            @SuppressWarnings("unchecked")
            Map<String, Object> killed = (Map<String, Object>) json.get("coldStartAfterKill");
            if (killed != null) {
                double ratio = (double) ((Long) killed.get("haReadyMedianMs")) / Math.max(1, median);
                json.put("coldStartKillOverCleanRatio", round(ratio, 3));
            }
            if (jvm != null) json.put("coldStartCleanOverJvmStartRatio", round((double) median / Math.max(1, jvm), 3));
        }
    }

    private void jvmBaseline() throws Exception {
        int n = 2;
        long[] ms = new long[n];
        for (int r = 0; r < n; r++) {
            long t0 = System.nanoTime();
            List<Process> ps = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ps.add(new ProcessBuilder("bash", home.resolve("scripts/controller").toString(), "--help")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            for (Process p : ps) {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("scripts/controller --help did not end within 60 s");
                }
                if (p.exitValue() != 0) throw new IllegalStateException("scripts/controller --help exited " + p.exitValue());
            }
            ms[r] = (System.nanoTime() - t0) / 1_000_000;
        }
        System.out.printf("three JVMs (same flags and classpath, ControllerMain --help) started and ended in %s ms%n",
                Arrays.toString(ms));
        json.put("jvmStartThreeAtOnceMs", median(ms));
    }

    // ---- REST writes -----------------------------------------------------------------------------------------------

    private static String rule(String name) {
        return "{\"name\":\"" + name + "\",\"type\":\"anti-affinity\",\"vms\":[\"bench-a\",\"bench-b\"]}";
    }

    private void restWrites() throws Exception {
        Member target = soleLeader();
        HttpClient client = cluster.http();
        for (String vm : List.of("bench-a", "bench-b")) {
            String body = "{\"domainXml\":" + new ObjectMapper().writeValueAsString(String.format(VM_XML, vm)) + ",\"start\":false}";
            HttpResponse<String> r = cluster.post(client, target, "/api/v1/vms", body);
            if (r.statusCode() != 201) throw new IllegalStateException("POST /api/v1/vms " + vm + ": " + r.statusCode() + " " + r.body());
        }
        for (int i = 0; i < warmup; i++) expect201(cluster.post(client, target, "/api/v1/rules", rule("w-" + i)));
        System.out.printf("target %s (the leader), %d warm-up writes done%n", target, warmup);

        // The same path without a write: an authenticated GET served by the same blocking handler, from the cache.
        int reads = Math.max(50, writes / 2);
        double[] read = new double[reads];
        for (int i = 0; i < 20; i++) cluster.get(client, target, "/api/v1/policy");
        long r0 = System.nanoTime();
        for (int i = 0; i < reads; i++) {
            long t = System.nanoTime();
            HttpResponse<String> r = cluster.get(client, target, "/api/v1/policy");
            if (r.statusCode() != 200) throw new IllegalStateException("GET /api/v1/policy: " + r.statusCode() + " " + r.body());
            read[i] = (System.nanoTime() - t) / 1e6;
        }
        Latency reading = Latency.of(read, reads / ((System.nanoTime() - r0) / 1e9));

        double[] seq = new double[writes];
        long s0 = System.nanoTime();
        for (int i = 0; i < writes; i++) {
            long t = System.nanoTime();
            expect201(cluster.post(client, target, "/api/v1/rules", rule("s-" + i)));
            seq[i] = (System.nanoTime() - t) / 1e6;
        }
        double seqSeconds = (System.nanoTime() - s0) / 1e9;

        double[] conc = new double[writes];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicReference<Throwable> error = new AtomicReference<>();
        List<Future<?>> futures = new ArrayList<>();
        long c0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client0 = c;
            futures.add(pool.submit(() -> {
                HttpClient own = cluster.newHttpClient(Duration.ofSeconds(10));
                for (int i = client0; i < writes; i += clients) {
                    long t = System.nanoTime();
                    try {
                        expect201(cluster.post(own, target, "/api/v1/rules", rule("p-" + i)));
                    } catch (Throwable e) {
                        error.compareAndSet(null, e);
                        return;
                    }
                    conc[i] = (System.nanoTime() - t) / 1e6;
                }
            }));
        }
        for (Future<?> f : futures) f.get(5, TimeUnit.MINUTES);
        double concSeconds = (System.nanoTime() - c0) / 1e9;
        pool.shutdown();
        if (error.get() != null) throw new IllegalStateException("a concurrent write failed", error.get());

        Latency sequential = Latency.of(seq, writes / seqSeconds);
        Latency concurrent = Latency.of(conc, writes / concSeconds);
        System.out.printf("%-26s %9s %9s %9s %9s %12s%n", "", "p50 ms", "p99 ms", "max ms", "mean ms", "writes/s");
        reading.print("GET /policy, 1 client");
        sequential.print("1 client, sequential");
        concurrent.print(clients + " concurrent clients");
        boolean met = sequential.p99 <= REST_P99_TARGET_MS && concurrent.p99 <= REST_P99_TARGET_MS;
        allMet &= met;
        summary.add(String.format(Locale.ROOT, "%-34s p50 %.1f ms, p99 %.1f ms, %.0f/s; %d clients: p50 %.1f ms, p99 %.1f ms, "
                        + "%.0f/s (a GET: p50 %.1f ms)   target p99 <= %.0f ms: %s", "REST write (POST /rules), 1 client", sequential.p50,
                sequential.p99, sequential.perSecond, clients, concurrent.p50, concurrent.p99, concurrent.perSecond,
                reading.p50, REST_P99_TARGET_MS, met ? "met" : "MISSED"));
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("writes", writes);
        j.put("warmup", warmup);
        j.put("readGetPolicy", reading.json());
        j.put("sequential", sequential.json());
        int tenth = Math.max(1, writes / 10);
        double firstTenth = Latency.of(Arrays.copyOfRange(seq, 0, tenth), 1).p50;
        double lastTenth = Latency.of(Arrays.copyOfRange(seq, writes - tenth, writes), 1).p50;
        j.put("sequentialFirstTenthP50Ms", round(firstTenth, 3));
        j.put("sequentialLastTenthP50Ms", round(lastTenth, 3));
        j.put("writeOverReadP50", round(sequential.p50 / reading.p50, 2));
        System.out.printf(Locale.ROOT, "sequential write p50 of the first %d writes %.1f ms, of the last %d %.1f ms (%d rules stored "
                + "before the first, %d before the last)%n", tenth, firstTenth, tenth, lastTenth, warmup, warmup + writes - tenth);
        j.put("concurrentClients", clients);
        j.put("concurrent", concurrent.json());
        j.put("concurrentOverSequentialThroughput", round(concurrent.perSecond / sequential.perSecond, 3));
        j.put("targetP99Ms", REST_P99_TARGET_MS);
        j.put("met", met);
        json.put("restWrite", j);
    }

    private static void expect201(HttpResponse<String> r) {
        if (r.statusCode() != 201) throw new IllegalStateException("POST " + r.uri() + ": " + r.statusCode() + " " + r.body());
    }

    // ---- StateMap in process -----------------------------------------------------------------------------------------

    private void stateMaps() throws Exception {
        com.hazelcast.config.Config c = new com.hazelcast.config.Config();
        c.setClusterName("vigil-bench-" + java.util.UUID.randomUUID());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.local.localAddress", "127.0.0.1");
        c.getNetworkConfig().setPort(5701).setPortAutoIncrement(true).setPortCount(1000);
        var join = c.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(false);
        com.hazelcast.core.HazelcastInstance hz = com.hazelcast.core.Hazelcast.newHazelcastInstance(c);
        try {
            StateDirectory disk = StateDirectory.open(Files.createDirectories(root.resolve("in-process/control-plane")),
                    "bench", System::currentTimeMillis);
            StateMaps maps = new StateMaps(hz, disk, io.vigil.controller.store.ClusterSecret.random().sealingKey());
            StateMap<Rule> durable = maps.map(StateMaps.Name.RULES, Rule.class);
            StateMap<Rule> memory = maps.map(StateMaps.Name.LOGIN_FAILURES, Rule.class); // any MEMORY name; the type is ours
            if (durable.name().durability() != StateMaps.Durability.DURABLE || memory.name().durability() != StateMaps.Durability.MEMORY)
                throw new IllegalStateException("the map names' durability changed: pick other names");
            for (int i = 0; i < Math.max(warmup, 100); i++) {
                durable.put("w-" + i, value("w-" + i));
                memory.put("w-" + i, value("w-" + i));
            }
            // Interleaved, so that both see the same JIT state and the same background.
            double[] d = new double[writes], m = new double[writes];
            long dn = 0, mn = 0;
            for (int i = 0; i < writes; i++) {
                long t = System.nanoTime();
                durable.put("s-" + i, value("s-" + i));
                long t2 = System.nanoTime();
                memory.put("s-" + i, value("s-" + i));
                long t3 = System.nanoTime();
                d[i] = (t2 - t) / 1e6;
                m[i] = (t3 - t2) / 1e6;
                dn += t2 - t;
                mn += t3 - t2;
            }
            Latency ds = Latency.of(d, writes / (dn / 1e9));
            Latency ms = Latency.of(m, writes / (mn / 1e9));
            Latency floor = fsyncFloor(Math.min(writes, 300));
            double dConc = concurrentPuts(durable, "p-");
            double mConc = concurrentPuts(memory, "p-");
            System.out.printf("%-26s %9s %9s %9s %9s %12s %16s%n", "", "p50 ms", "p99 ms", "max ms", "mean ms", "puts/s",
                    clients + " threads puts/s");
            ds.print("DURABLE (rules)", dConc);
            ms.print("MEMORY (login-failures)", mConc);
            floor.print("floor: file+dir fsync");
            double p50Ratio = ds.p50 / ms.p50, p99Ratio = ds.p99 / ms.p99;
            summary.add(String.format(Locale.ROOT, "%-34s DURABLE p50 %.3f ms, p99 %.3f ms; MEMORY p50 %.3f ms, p99 %.3f ms; "
                    + "durable/memory p50 %.1fx, p99 %.1fx (file+dir fsync p50 %.3f ms)", "StateMap.put in process", ds.p50, ds.p99,
                    ms.p50, ms.p99, p50Ratio, p99Ratio, floor.p50));
            Map<String, Object> j = new LinkedHashMap<>();
            Map<String, Object> dj = ds.json();
            dj.put("concurrentPerSecond", round(dConc, 1));
            Map<String, Object> mj = ms.json();
            mj.put("concurrentPerSecond", round(mConc, 1));
            j.put("durable", dj);
            j.put("memory", mj);
            j.put("concurrentThreads", clients);
            j.put("fsyncFloor", floor.json());
            j.put("durableOverMemoryP50", round(p50Ratio, 2));
            j.put("durableOverFsyncFloorP50", round(ds.p50 / floor.p50, 2));
            j.put("durableOverMemoryP99", round(p99Ratio, 2));
            j.put("memoryOverDurableThroughput", round(ms.perSecond / ds.perSecond, 2));
            json.put("stateMapPut", j);
            @SuppressWarnings("unchecked")
            Map<String, Object> rest = (Map<String, Object>) json.get("restWrite");
            if (rest != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> seq = (Map<String, Object>) rest.get("sequential");
                json.put("restSequentialP50OverDurablePutP50", round((Double) seq.get("p50Ms") / ds.p50, 2));
                json.put("restSequentialP99OverDurablePutP99", round((Double) seq.get("p99Ms") / ds.p99, 2));
            }
        } finally {
            hz.shutdown();
        }
    }

    /** The 1, 5 and 15 minute load averages. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /**
     * The floor under a durable write on this file system: a new small file written and fsynced, then its directory
     * fsynced (a new key's record costs three fsyncs: the key's new directory, the record, the link).
     */
    private Latency fsyncFloor(int n) throws IOException {
        Path dir = Files.createDirectories(root.resolve("fsync-floor"));
        byte[] bytes = new byte[600];
        java.util.Arrays.fill(bytes, (byte) 'x');
        double[] ms = new double[n];
        long total = 0;
        for (int i = 0; i < n + 20; i++) {
            long t = System.nanoTime();
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve("f-" + i),
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
                ch.force(true);
            }
            long took = System.nanoTime() - t;
            if (i >= 20) { // the first 20 warm up
                ms[i - 20] = took / 1e6;
                total += took;
            }
        }
        return Latency.of(ms, n / (total / 1e9));
    }

    private static Rule value(String name) {
        return new Rule(name, Rule.Type.ANTI_AFFINITY, List.of("bench-a", "bench-b"), false);
    }

    /** Puts from {@code clients} threads, each its own keys; returns puts per second. */
    private double concurrentPuts(StateMap<Rule> map, String prefix) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> futures = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int first = c;
            futures.add(pool.submit(() -> {
                for (int i = first; i < writes; i += clients) map.put(prefix + i, value(prefix + i));
            }));
        }
        for (Future<?> f : futures) f.get(5, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        return writes / seconds;
    }

    // ---- figures -----------------------------------------------------------------------------------------------------

    private record Latency(double p50, double p99, double max, double mean, double perSecond) {
        static Latency of(double[] ms, double perSecond) {
            double[] s = ms.clone();
            Arrays.sort(s);
            return new Latency(percentile(s, 50), percentile(s, 99), s[s.length - 1], Arrays.stream(s).average().orElse(0),
                    perSecond);
        }

        void print(String label) {
            System.out.printf(Locale.ROOT, "%-26s %9.3f %9.3f %9.3f %9.3f %12.1f%n", label, p50, p99, max, mean, perSecond);
        }

        void print(String label, double concurrent) {
            System.out.printf(Locale.ROOT, "%-26s %9.3f %9.3f %9.3f %9.3f %12.1f %16.1f%n", label, p50, p99, max, mean,
                    perSecond, concurrent);
        }

        Map<String, Object> json() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("p50Ms", round(p50, 3));
            j.put("p99Ms", round(p99, 3));
            j.put("maxMs", round(max, 3));
            j.put("meanMs", round(mean, 3));
            j.put("perSecond", round(perSecond, 1));
            return j;
        }
    }

    /** Nearest rank on sorted values. */
    private static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** The median (of an even count: the mean of the middle two). */
    private static long median(long[] values) {
        if (values.length == 0) return 0;
        long[] s = values.clone();
        Arrays.sort(s);
        int mid = s.length / 2;
        return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
