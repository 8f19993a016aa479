package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.util.Arrays;
import java.util.List;

/** {@code rules}: placement rules (affinity, anti-affinity) over VMs. */
final class RuleCommands {
    private RuleCommands() {}

    static final List<Column> COLUMNS = List.of(
            Column.of("NAME", "name"),
            Column.of("TYPE", "type"),
            new Column("STRICT", r -> r.path("strict").asBoolean() ? "yes" : "no"),
            Column.of("VMS", "vms"));

    static Family rules() {
        return new Family("rules", "placement rules: affinity (one host) or anti-affinity (never two on one host)", List.of(
                Command.of("list", "rules [list]", "every rule, sorted by name", (args, s) -> {
                    args.atMost(0);
                    s.out().list(s.api().get(path("rules")), COLUMNS);
                }),
                Command.of("get", "rules get NAME", "one rule", (args, s) ->
                        s.out().object(s.api().get(path("rules", args.atMost(1).positional(0, "NAME"))))),
                Command.of("create", "rules create NAME --type affinity|anti-affinity --vms VM,VM... [--strict]",
                        "create a rule over at least two existing VMs; --strict: never broken (otherwise a preference)",
                        RuleCommands::create).options("--type", "--vms").flags("--strict"),
                Command.of("set", "rules set NAME KEY=VALUE ...", "change some fields (a merge patch, VALUE as in vms set:"
                        + " vms='[\"a\",\"b\"]', strict=true)", (args, s) -> {
                    String name = args.positional(0, "NAME");
                    List<String> pairs = args.positionalsFrom(1);
                    if (pairs.isEmpty()) throw CliException.usage("rules set: KEY=VALUE is missing");
                    s.out().object(s.api().patch(path("rules", name), Settings.parse("rules set", pairs, s.json())));
                }),
                Command.of("delete", "rules delete NAME", "delete a rule", (args, s) -> {
                    String name = args.atMost(1).positional(0, "NAME");
                    s.api().delete(path("rules", name));
                    s.out().say("rule " + name + " deleted");
                })));
    }

    private static void create(Args args, Session s) throws CliException {
        String name = args.atMost(1).positional(0, "NAME");
        ObjectNode rule = s.json().createObjectNode().put("name", name).put("type", args.required("--type", "affinity|anti-affinity"));
        ArrayNode vms = rule.putArray("vms");
        Arrays.stream(args.required("--vms", "VM,VM...").split(",")).map(String::strip).filter(v -> !v.isEmpty()).forEach(vms::add);
        rule.put("strict", args.flag("--strict"));
        s.out().object(s.api().post(path("rules"), rule));
    }
}
