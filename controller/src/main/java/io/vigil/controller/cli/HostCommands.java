package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.util.List;

/**
 * {@code hosts} and {@code maintenance}: the hosts the controller knows, and putting one into maintenance; and
 * {@code health}, the controller's own.
 */
final class HostCommands {
    private HostCommands() {}

    static final List<Column> COLUMNS = List.of(
            Column.of("NAME", "name"),
            Column.of("STATE", "state"),
            Column.of("GEN", "generation"),
            Column.of("CPUS", "cpus"),
            new Column("MEM-USED/TOTAL", h -> h.path("memoryUsedMiB").asText("-") + "/" + h.path("memoryTotalMiB").asText("-")),
            Column.of("RESERVE", "reserveMiB"),
            Column.of("FREE", "freeMiB"),
            new Column("CACHE-LENT", h -> h.path("cacheLentMiB").asText("-") + " (" + h.path("cacheDirtyMiB").asText("0") + " dirty)"),
            new Column("MAINT", h -> h.path("maintenance").asBoolean() ? "yes" : "no"),
            Column.of("VMS", "vms"));

    static Family hosts() {
        return new Family("hosts", "the hosts, with their state, capacity (MiB) and VMs", List.of(
                Command.of("list", "hosts [list]", "every host, sorted by name", (args, s) -> {
                    args.atMost(0);
                    s.out().list(s.api().get(path("hosts")), COLUMNS);
                }),
                Command.of("get", "hosts get NAME", "one host, every field", (args, s) -> {
                    String name = args.atMost(1).positional(0, "NAME");
                    s.out().object(s.api().get(path("hosts", name)));
                })));
    }

    static Family health() {
        return new Family("health", "whether the controller is up (no token needed)", List.of(
                Command.of("health", "health", "the controller's liveness: exit 0 when it is up, 3 when unreachable",
                        (args, s) -> {
                    args.atMost(0);
                    s.out().object(s.api().get(path("health")));
                })));
    }

    static Family maintenance() {
        return new Family("maintenance", "put a host into maintenance or take it out", List.of(
                Command.of("maintenance", "maintenance HOST on|off",
                        "on: the host's VMs move away and nothing is placed on it; off: it takes VMs again", (args, s) -> {
                    String host = args.atMost(2).positional(0, "HOST");
                    String onOff = args.positional(1, "on|off");
                    if (!onOff.equals("on") && !onOff.equals("off")) {
                        throw CliException.usage("maintenance: on or off, not '" + onOff + "'");
                    }
                    JsonNode accepted = s.api().post(path("hosts", host, "maintenance"),
                            s.json().createObjectNode().put("enabled", onOff.equals("on")));
                    if (s.out().json) s.out().json(accepted);
                    else s.out().say("host " + host + ": maintenance " + onOff + " requested (vigil hosts get " + host
                            + " shows it once carried out)");
                })));
    }
}
