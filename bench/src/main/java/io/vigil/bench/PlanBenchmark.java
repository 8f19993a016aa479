package io.vigil.bench;

import io.vigil.controller.ha.Step;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The failover plan of one host carrying 200 HA VMs in a cluster of 1,000 hosts and 20,000 VMs: the one
 * {@code HaCore.step} in which the failed host's lease expires, which fences it and places its VMs (200 StartVm).
 * {@link #plan} with 500 placement rules and preferred hosts; {@link #planNoRules}, the baseline, on the same cluster
 * without them. Every invocation steps the same immutable pre-fence state; building it (about 2,000 steps) is the
 * trial's setup and is not measured. {@link PlanBench} runs both and prints the figures.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 4)
@Measurement(iterations = 5, time = 4)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class PlanBenchmark {

    @State(Scope.Benchmark)
    public static class WithRules {
        PlanScenario scenario;

        @Setup(Level.Trial)
        public void setUp() {
            scenario = PlanCheck.prepare(true);
        }
    }

    @State(Scope.Benchmark)
    public static class NoRules {
        PlanScenario scenario;

        @Setup(Level.Trial)
        public void setUp() {
            scenario = PlanCheck.prepare(false);
        }
    }

    @Benchmark
    public Step plan(WithRules s) {
        return s.scenario.plan();
    }

    @Benchmark
    public Step planNoRules(NoRules s) {
        return s.scenario.plan();
    }
}
