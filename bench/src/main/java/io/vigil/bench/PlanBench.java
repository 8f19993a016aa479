package io.vigil.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;

/**
 * bench/plan: runs {@link PlanBenchmark} (with rules and the no-rules baseline, one fork each), prints the figures
 * and ends with one line of JSON holding them, including the ratio to the target of 50 ms per plan.
 *
 * <p>Usage: PlanBench [--quick] [--prof NAME[:OPTIONS]]... (--prof hands a profiler to JMH, e.g. {@code stack} or
 * {@code "stack:lines=3;top=20"}).
 */
public final class PlanBench {
    static final double TARGET_MILLIS = 50;

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        List<String> profilers = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--prof" -> {
                    if (i + 1 >= args.length) throw new IllegalArgumentException("--prof needs a profiler name");
                    profilers.add(args[++i]);
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--quick, --prof NAME)");
            }
        }
        Path reports = Files.createTempDirectory("vigil-bench-plan");
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(PlanBenchmark.class.getName() + "\\.(plan|planNoRules)$")
                .forks(1)
                .jvmArgs("-Xms1g", "-Xmx1g", "-D" + PlanCheck.REPORT_DIR + "=" + reports)
                .shouldFailOnError(true);
        if (quick) {
            options.warmupIterations(1).warmupTime(TimeValue.seconds(2))
                    .measurementIterations(2).measurementTime(TimeValue.seconds(3));
        }
        for (String p : profilers) {
            int colon = p.indexOf(':');
            if (colon < 0) options.addProfiler(p);
            else options.addProfiler(p.substring(0, colon), p.substring(colon + 1));
        }
        Collection<RunResult> results = new Runner(options.build()).run();

        Map<String, Statistics> stats = new HashMap<>();
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            stats.put(label.substring(label.lastIndexOf('.') + 1), r.getPrimaryResult().getStatistics());
        }
        Statistics rules = stats.get("plan");
        Statistics none = stats.get("planNoRules");
        if (rules == null || none == null) throw new IllegalStateException("JMH returned no result for " + stats.keySet());
        Properties withRules = report(reports, "plan");
        Properties noRules = report(reports, "planNoRules");
        try (Stream<Path> files = Files.list(reports)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        }
        Files.delete(reports);

        double plan = rules.getMean();
        double base = none.getMean();
        System.out.println();
        System.out.printf("Failover plan of one host with %d HA VMs, %d hosts, %d VMs (JMH sample time, ms per plan)%n",
                PlanScenario.FAILED_HOST_VMS, PlanScenario.HOSTS, PlanScenario.VMS);
        System.out.printf("%-24s %8s %8s %8s %8s %8s %8s%n", "", "mean", "±99.9%", "p50", "p90", "max", "samples");
        row("with " + PlanScenario.RULES + " rules", rules);
        row("no rules (baseline)", none);
        System.out.printf("rules cost: x%.2f; target %.0f ms: x%.2f of target (%s)%n", plan / base, TARGET_MILLIS,
                plan / TARGET_MILLIS, plan < TARGET_MILLIS ? "met" : "NOT met");
        System.out.printf("plan checked: %s StartVm on %s hosts; strict rules broken %s, soft %s of %s touching the failed"
                + " host; %s/%s VMs with preferred hosts on one of them%n", withRules.getProperty("startVms"),
                withRules.getProperty("targetHosts"), withRules.getProperty("strictRulesBroken"),
                withRules.getProperty("softRulesBroken"), withRules.getProperty("rulesTouchingFailedHost"),
                withRules.getProperty("placedOnPreferredHost"), withRules.getProperty("vmsWithPreferredHosts"));
        System.out.printf("not measured: setup %s steps, one agent heartbeat step %s ms at this size%n",
                withRules.getProperty("setupSteps"), withRules.getProperty("heartbeatStepMillis"));

        ObjectNode json = Json.mapper().createObjectNode();
        json.put("bench", "plan");
        json.put("hosts", PlanScenario.HOSTS);
        json.put("vms", PlanScenario.VMS);
        json.put("rules", PlanScenario.RULES);
        json.put("failedHostVms", PlanScenario.FAILED_HOST_VMS);
        json.put("startVms", Integer.parseInt(withRules.getProperty("startVms")));
        json.put("startVmsNoRules", Integer.parseInt(noRules.getProperty("startVms")));
        json.put("mode", quick ? "sample-quick" : "sample");
        json.put("planMillis", round(plan));
        json.put("planMillisP50", round(rules.getPercentile(50)));
        json.put("planMillisP90", round(rules.getPercentile(90)));
        json.put("planMillisNoRules", round(base));
        json.put("planMillisNoRulesP50", round(none.getPercentile(50)));
        json.put("rulesCostRatio", round(plan / base));
        json.put("targetMillis", (long) TARGET_MILLIS);
        json.put("ratioToTarget", round(plan / TARGET_MILLIS));
        json.put("samples", rules.getN());
        json.put("samplesNoRules", none.getN());
        json.put("strictRulesBroken", Integer.parseInt(withRules.getProperty("strictRulesBroken")));
        json.put("softRulesBroken", Integer.parseInt(withRules.getProperty("softRulesBroken")));
        json.put("heartbeatStepMillis", Double.parseDouble(withRules.getProperty("heartbeatStepMillis")));
        System.out.println(Json.write(json));
    }

    private static void row(String label, Statistics s) {
        System.out.printf("%-24s %8.1f %8.1f %8.1f %8.1f %8.1f %8d%n", label, s.getMean(), s.getMeanErrorAt(0.999),
                s.getPercentile(50), s.getPercentile(90), s.getMax(), s.getN());
    }

    private static Properties report(Path dir, String name) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(dir.resolve(name + ".properties"))) {
            p.load(r);
        }
        return p;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
