package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;
import static io.vigil.controller.cli.ControllerClient.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cluster} and {@code failovers}: the overview the dashboard opens with (what is protected, how many host
 * failures the cluster survives now), and each failover with the time of its steps.
 */
final class ClusterCommands {
    private ClusterCommands() {}

    static final List<Column> FAILOVER_COLUMNS = List.of(
            Column.of("ID", "id"),
            Column.of("HOST", "host"),
            Column.of("STATUS", "status"),
            Column.of("DETECTED", "detectedAt"),
            new Column("TOOK-MS", f -> f.path("elapsedMillis").asText("-")),
            new Column("VMS", f -> f.path("vmsRestarted").asText("0") + " restarted, " + f.path("vmsFailed").asText("0") + " failed"),
            new Column("STEPS (ms since detection)", ClusterCommands::steps));

    static Family cluster() {
        return new Family("cluster", "the cluster at a glance: hosts, protected VMs, failures tolerated now", List.of(
                Command.of("cluster", "cluster", "hosts and VMs by state, protected VMs, the memory split and how many "
                        + "host failures the cluster survives now beside what the policy promises", (args, s) -> {
                    args.atMost(0);
                    JsonNode overview = s.api().get(path("cluster"));
                    if (s.out().json) {
                        s.out().json(overview);
                        return;
                    }
                    JsonNode hosts = overview.path("hosts");
                    JsonNode vms = overview.path("vms");
                    JsonNode admission = overview.path("admission");
                    s.out().say("hosts: " + hosts.path("total").asText() + " (" + hosts.path("usable").asText() + " usable)");
                    s.out().say("VMs: " + vms.path("total").asText() + " (" + vms.path("running").asText() + " running, "
                            + vms.path("protectedVms").asText() + " protected)");
                    s.out().say("failures tolerated now: " + overview.path("failuresTolerated").asText() + " ("
                            + overview.path("failuresToleratedDetail").asText() + ")");
                    s.out().say("admission control: " + admission.path("admissionControl").asText()
                            + ", promises " + admission.path("promisedHostFailures").asText("-") + " host failure(s)");
                })));
    }

    static Family failovers() {
        return new Family("failovers", "failovers, newest first, with the time each step took", List.of(
                Command.of("list", "failovers [list] [--limit N]", "the newest failovers (default 20)", (args, s) -> {
                    Long limit = args.atMost(0).number("--limit");
                    s.out().list(s.api().get(query(path("failovers"), java.util.Collections.singletonMap("limit", limit))),
                            FAILOVER_COLUMNS);
                }).options("--limit")));
    }

    private static String steps(JsonNode failover) {
        List<String> out = new ArrayList<>();
        for (JsonNode step : failover.path("steps")) out.add(step.path("step").asText() + " " + step.path("elapsedMillis").asText());
        return String.join(", ", out);
    }
}
