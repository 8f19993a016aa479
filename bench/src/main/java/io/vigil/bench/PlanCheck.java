package io.vigil.bench;

import io.vigil.controller.ha.HaCommand;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.Step;
import io.vigil.controller.ha.VmSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a scenario in the benchmark's JVM, plans its failover once and checks the plan before anything is timed: all
 * 200 HA VMs of the failed host get a StartVm on another host (a bench that plans nothing is worthless), and how the
 * plan honours the rules and preferred hosts. Prints that and, when {@value #REPORT_DIR} is set, writes it to
 * {@code <dir>/<benchmark>.properties} for {@link PlanBench}.
 */
final class PlanCheck {
    static final String REPORT_DIR = "vigil.bench.reportDir";

    private PlanCheck() {}

    static PlanScenario prepare(boolean withRules) {
        PlanScenario s = PlanScenario.build(withRules);
        long started = System.nanoTime();
        Step step = s.plan();
        long firstMillis = (System.nanoTime() - started) / 1_000_000;
        Map<String, String> starts = s.check(step);

        Map<String, String> after = new HashMap<>(s.hostOf);
        after.putAll(starts);
        int strictBroken = 0;
        int softBroken = 0;
        int touching = 0;
        Set<String> failed = new HashSet<>(s.failedHostVms);
        for (Rule r : s.rules) {
            if (r.vms().stream().noneMatch(failed::contains)) continue;
            touching++;
            Set<String> hosts = new HashSet<>();
            for (String vm : r.vms()) hosts.add(after.get(vm));
            boolean broken = r.type() == Rule.Type.AFFINITY ? hosts.size() > 1 : hosts.size() < r.vms().size();
            if (broken && r.strict()) strictBroken++;
            else if (broken) softBroken++;
        }
        int preferred = 0;
        int onPreferred = 0;
        int onFirstChoice = 0;
        for (VmSpec spec : s.specs) {
            if (!failed.contains(spec.name()) || spec.preferredHosts().isEmpty()) continue;
            preferred++;
            String host = starts.get(spec.name());
            if (spec.preference(host) != Integer.MIN_VALUE) onPreferred++;
            if (spec.preferredHosts().get(0).host().equals(host)) onFirstChoice++;
        }
        Map<String, Integer> events = new TreeMap<>();
        for (HaCommand c : step.commands())
            if (c instanceof HaCommand.RecordEvent e) events.merge(e.event().type(), 1, Integer::sum);

        String name = withRules ? "plan" : "planNoRules";
        Properties p = new Properties();
        p.setProperty("startVms", String.valueOf(starts.size()));
        p.setProperty("targetHosts", String.valueOf(new HashSet<>(starts.values()).size()));
        p.setProperty("commands", String.valueOf(step.commands().size()));
        p.setProperty("rulesTouchingFailedHost", String.valueOf(touching));
        p.setProperty("strictRulesBroken", String.valueOf(strictBroken));
        p.setProperty("softRulesBroken", String.valueOf(softBroken));
        p.setProperty("vmsWithPreferredHosts", String.valueOf(preferred));
        p.setProperty("placedOnPreferredHost", String.valueOf(onPreferred));
        p.setProperty("placedOnFirstChoice", String.valueOf(onFirstChoice));
        p.setProperty("setupMillis", String.valueOf(s.setupMillis));
        p.setProperty("setupSteps", String.valueOf(s.setupSteps));
        p.setProperty("heartbeatStepMillis", String.format("%.2f", s.heartbeatStepMillis));
        p.setProperty("firstPlanMillis", String.valueOf(firstMillis));
        System.out.printf("%s: setup %d steps in %.1f s (one agent heartbeat step: %.1f ms); first plan %d ms: %d StartVm"
                + " on %d hosts, %d commands, events %s; rules touching the failed host %d (strict broken %d, soft"
                + " broken %d); preferred hosts %d/%d (first choice %d)%n", name, s.setupSteps, s.setupMillis / 1000.0,
                s.heartbeatStepMillis, firstMillis, starts.size(), new HashSet<>(starts.values()).size(),
                step.commands().size(), events, touching, strictBroken, softBroken, onPreferred, preferred,
                onFirstChoice);
        String dir = System.getProperty(REPORT_DIR);
        if (dir != null) {
            try (Writer w = Files.newBufferedWriter(Path.of(dir, name + ".properties"))) {
                p.store(w, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return s;
    }
}
