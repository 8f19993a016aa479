package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;
import static io.vigil.controller.cli.ControllerClient.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code vms}: list, show, create from domain XML, change settings, start, stop, delete and move VMs. */
final class VmCommands {
    private VmCommands() {}

    static final List<Column> COLUMNS = List.of(
            Column.of("NAME", "name"),
            Column.of("STATE", "state"),
            Column.of("HOST", "host"),
            Column.of("REQUESTED", "requestedState"),
            Column.of("PRIORITY", "priority"),
            new Column("HA", vm -> vm.path("haEnabled").asBoolean() ? "yes" : "no"),
            Column.of("GEN", "generation"),
            Column.of("MEM", "memoryMiB"),
            Column.of("VCPUS", "vcpus"),
            new Column("CACHE/BUDGET", vm -> vm.path("cacheMiB").asText("0") + "/" + vm.path("cacheBudgetMiB").asText("0")),
            Column.of("LAST-ERROR", "lastError"));

    static Family vms() {
        return new Family("vms", "VMs: their state and HA settings", List.of(
                Command.of("list", "vms [list] [--state STATE] [--host HOST]", "every VM, sorted by name; only those in"
                        + " STATE or on HOST when given", VmCommands::list).options("--state", "--host"),
                Command.of("get", "vms get NAME", "one VM, every field", (args, s) ->
                        s.out().object(s.api().get(path("vms", args.atMost(1).positional(0, "NAME"))))),
                Command.of("create", "vms create --xml FILE [--start] [--set KEY=VALUE ...] [--override]",
                        "create a VM from a libvirt domain XML file ('-': stdin); stopped unless --start; --set gives HA"
                        + " settings (as vms set); --override passes admission control", VmCommands::create)
                        .options("--xml", "--set").flags("--start", "--override"),
                Command.of("set", "vms set NAME KEY=VALUE ... [--override]",
                        "change settings (a merge patch): VALUE is JSON when it parses (3, true, [\"a\"]), else a string;"
                        + " KEY=null resets to the default; e.g. preferredHosts='[{\"host\":\"h1\",\"priority\":10}]'",
                        VmCommands::set).flags("--override"),
                Command.of("start", "vms start NAME [--override]", "request the VM started (admission control applies)",
                        (args, s) -> action(args, s, "start", args.flag("--override"))).flags("--override"),
                Command.of("stop", "vms stop NAME", "request the VM stopped (guest shutdown, then power off)",
                        (args, s) -> action(args, s, "stop", false)),
                Command.of("delete", "vms delete NAME", "destroy and undefine the VM wherever it runs, then forget it",
                        (args, s) -> action(args, s, "delete", false)),
                Command.of("migrate", "vms migrate NAME --host HOST", "move a running VM, its guest carrying on (saved"
                        + " and restored)", (args, s) -> move(args, s, "migrate")).options("--host"),
                Command.of("relocate", "vms relocate NAME --host HOST", "move a running VM by shutting it down and"
                        + " booting it on HOST", (args, s) -> move(args, s, "relocate")).options("--host")));
    }

    private static void list(Args args, Session s) throws CliException {
        args.atMost(0);
        String state = args.value("--state");
        String host = args.value("--host");
        ArrayNode shown = s.json().createArrayNode();
        for (JsonNode vm : s.api().get(path("vms"))) {
            if (state != null && !state.equals(vm.path("state").asText())) continue;
            if (host != null && !host.equals(vm.path("host").asText())) continue;
            shown.add(vm);
        }
        s.out().list(shown, COLUMNS);
    }

    private static void create(Args args, Session s) throws CliException {
        args.atMost(0);
        String file = args.required("--xml", "FILE");
        String xml;
        try {
            xml = file.equals("-") ? new String(s.in().readAllBytes(), StandardCharsets.UTF_8) : Files.readString(Path.of(file));
        } catch (IOException e) {
            throw CliException.usage("vms create: cannot read " + file + ": " + e);
        }
        ObjectNode body = s.json().createObjectNode().put("domainXml", xml);
        ObjectNode settings = Settings.parse("vms create", args.values("--set"), s.json());
        if (!settings.has("start") && !settings.has("requestedState")) body.put("start", args.flag("--start"));
        body.setAll(settings);
        JsonNode vm = s.api().post(override(path("vms"), args.flag("--override")), body);
        if (s.out().json) s.out().json(vm);
        else s.out().say("vm " + vm.path("name").asText() + " created (requested " + vm.path("requestedState").asText()
                + ", state " + vm.path("state").asText() + ")");
    }

    private static void set(Args args, Session s) throws CliException {
        String name = args.positional(0, "NAME");
        List<String> pairs = args.positionalsFrom(1);
        if (pairs.isEmpty()) throw CliException.usage("vms set: KEY=VALUE is missing");
        ObjectNode patch = Settings.parse("vms set", pairs, s.json());
        JsonNode vm = s.api().patch(override(path("vms", name), args.flag("--override")), patch);
        if (s.out().json) {
            s.out().json(vm);
            return;
        }
        List<List<String>> changed = new ArrayList<>();
        patch.fieldNames().forEachRemaining(k -> changed.add(List.of(k, Output.text(k, vm.get(k)))));
        s.out().say("vm " + name + " now has:");
        s.out().table(null, changed.stream().map(r -> List.of("  " + r.get(0), r.get(1))).toList());
    }

    /**
     * start, stop (POST .../start|stop) and delete (DELETE): 202 with the VM. A start the controller cannot carry out
     * (being deleted, frozen, paused, admission control) is a 409 whose reason is printed, with a non-zero exit.
     */
    private static void action(Args args, Session s, String what, boolean override) throws CliException {
        String name = args.atMost(1).positional(0, "NAME");
        JsonNode vm = what.equals("delete") ? s.api().delete(path("vms", name))
                : s.api().post(override(path("vms", name, what), override), null);
        String state = vm.path("state").asText();
        if (s.out().json) s.out().json(vm);
        else if (what.equals("start") && state.equals("running"))
            s.out().say("vm " + name + ": already running on " + vm.path("host").asText());
        else s.out().say("vm " + name + ": " + what + " requested (state " + state + ")");
    }

    private static void move(Args args, Session s, String kind) throws CliException {
        String name = args.atMost(1).positional(0, "NAME");
        String host = args.required("--host", "HOST");
        JsonNode accepted = s.api().post(path("vms", name, kind), s.json().createObjectNode().put("host", host));
        if (s.out().json) s.out().json(accepted);
        else s.out().say("vm " + name + ": " + kind + " from " + Output.text("from", accepted.get("from")) + " to "
                + accepted.path("target").asText() + " accepted (state migrating until it runs there)");
    }

    private static String override(String path, boolean override) {
        return override ? query(path, Map.of("override", true)) : path;
    }
}
