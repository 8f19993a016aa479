package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;
import static io.vigil.controller.cli.ControllerClient.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Who may use the API: {@code whoami}, API {@code tokens}, {@code users} and the {@code audit} log. */
final class AccessCommands {
    private AccessCommands() {}

    private static final Set<String> ROLES = Set.of("viewer", "operator", "admin");
    static final List<Column> TOKEN_COLUMNS = List.of(
            Column.of("ID", "id"),
            Column.of("NAME", "name"),
            Column.of("ROLE", "role"),
            Column.of("KIND", "kind"),
            Column.of("CREATED", "createdAtMillis"),
            Column.of("CREATED-BY", "createdBy"),
            Column.of("EXPIRES", "expiresAtMillis"));

    static final List<Column> USER_COLUMNS = List.of(
            Column.of("NAME", "name"),
            Column.of("ROLE", "role"),
            Column.of("CREATED", "createdAtMillis"),
            Column.of("CREATED-BY", "createdBy"),
            Column.of("UPDATED", "updatedAtMillis"));
    /** The audit log's columns; the JSON ({@code --output json}) has every field (sequence, token id, kind, ...). */
    static final List<Column> AUDIT_COLUMNS = List.of(
            Column.of("TIME", "timeMillis"),
            Column.of("PRINCIPAL", "principal"),
            Column.of("ROLE", "role"),
            Column.of("FROM", "remoteAddress"),
            Column.of("METHOD", "method"),
            Column.of("PATH", "path"),
            Column.of("STATUS", "status"),
            Column.of("OUTCOME", "outcome"),
            Column.of("SUMMARY", "summary"));

    static Family whoami() {
        return new Family("whoami", "the caller, as the token says", List.of(
                Command.of("whoami", "whoami", "the name the token was issued to, its role, id, kind and expiry", (args, s) -> {
                    args.atMost(0);
                    s.out().object(s.api().get(path("whoami")));
                })));
    }

    static Family tokens() {
        return new Family("tokens", "API tokens", List.of(
                Command.of("list", "tokens [list]", "every API token (never their secrets)", (args, s) -> {
                    args.atMost(0);
                    s.out().list(s.api().get(path("tokens")), TOKEN_COLUMNS);
                }),
                Command.of("create", "tokens create --name NAME --role viewer|operator|admin [--ttl SECONDS]",
                        "issue a token and print it, once (with --output json the whole answer); it never expires"
                        + " without --ttl", AccessCommands::createToken).options("--name", "--role", "--ttl"),
                Command.of("revoke", "tokens revoke ID", "revoke a token at once", (args, s) -> {
                    String id = args.atMost(1).positional(0, "ID");
                    s.api().delete(path("tokens", id));
                    s.out().say("token " + id + " revoked");
                })));
    }

    private static void createToken(Args args, Session s) throws CliException {
        args.atMost(0);
        ObjectNode body = s.json().createObjectNode().put("name", args.required("--name", "NAME")).put("role", role(args));
        Long ttl = args.number("--ttl");
        if (ttl != null) body.put("ttlSeconds", ttl);
        JsonNode issued = s.api().post(path("tokens"), body);
        if (s.out().json) {
            s.out().json(issued);
            return;
        }
        s.out().out.println(issued.path("token").asText());
        s.note("token " + issued.path("id").asText() + " for " + issued.path("name").asText() + " (role "
                + issued.path("role").asText() + ", expires " + Output.text("expiresAtMillis", issued.get("expiresAtMillis"))
                + "); it is shown only this once");
    }

    static Family users() {
        return new Family("users", "dashboard users (they log in with a password)", List.of(
                Command.of("list", "users [list]", "every user", (args, s) -> {
                    args.atMost(0);
                    s.out().list(s.api().get(path("users")), USER_COLUMNS);
                }),
                Command.of("create", "users create NAME --role viewer|operator|admin",
                        "create a user; the password is asked for at the terminal, or read from the first line of stdin",
                        (args, s) -> {
                    String name = args.atMost(1).positional(0, "NAME");
                    String role = role(args);
                    String password = s.password("password for " + name);
                    JsonNode user = s.api().post(path("users"),
                            s.json().createObjectNode().put("name", name).put("role", role).put("password", password));
                    if (s.out().json) s.out().json(user);
                    else s.out().say("user " + name + " created (role " + role + ")");
                }).options("--role"),
                Command.of("delete", "users delete NAME", "delete a user", (args, s) -> {
                    String name = args.atMost(1).positional(0, "NAME");
                    s.api().delete(path("users", name));
                    s.out().say("user " + name + " deleted");
                })));
    }

    static Family audit() {
        return new Family("audit", "the audit log: who changed what", List.of(
                Command.of("audit", "audit [--since N] [--principal NAME] [--status CODE] [--limit N]",
                        "the newest LIMIT (100) audit records of changing requests (refused ones included), oldest first;"
                        + " --since an epoch time in ms or an entry's sequence (see --output json)", (args, s) -> {
                    args.atMost(0);
                    Map<String, Object> parameters = new LinkedHashMap<>();
                    parameters.put("since", args.number("--since"));
                    parameters.put("principal", args.value("--principal"));
                    parameters.put("status", args.number("--status"));
                    parameters.put("limit", args.number("--limit"));
                    s.out().list(s.api().get(query(path("audit"), parameters)), AUDIT_COLUMNS);
                }).options("--since", "--principal", "--status", "--limit")));
    }

    private static String role(Args args) throws CliException {
        String role = args.required("--role", "viewer|operator|admin");
        if (!ROLES.contains(role)) throw CliException.usage("--role is viewer, operator or admin, not '" + role + "'");
        return role;
    }
}
