package io.vigil.controller.simulate;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code scripts/vigil simulate SCENARIO.yaml}: runs the scenario and prints the outcome as one JSON document on
 * stdout. Exit status 0, or 2 with the reason on stderr (naming the line) when the scenario is bad or the
 * arguments are wrong.
 */
public final class SimulateMain {
    static final String USAGE = "usage: vigil simulate SCENARIO.yaml   (runs the HA core against simulated hosts; "
            + "prints the outcome as JSON)";

    private SimulateMain() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 2 && args[0].equals("simulate") && (args[1].equals("--help") || args[1].equals("-h"))) {
            out.println(USAGE);
            return 0;
        }
        if (args.length != 2 || !args[0].equals("simulate")) {
            err.println(USAGE);
            return 2;
        }
        Scenario scenario;
        try {
            scenario = ScenarioParser.parse(Path.of(args[1]));
        } catch (ScenarioException e) {
            err.println("vigil simulate: " + args[1] + ": " + e.getMessage());
            return 2;
        }
        byte[] json = Simulator.run(scenario).toJson().getBytes(StandardCharsets.UTF_8);
        out.write(json, 0, json.length);
        out.flush();
        return 0;
    }
}
