package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;
import static io.vigil.controller.cli.ControllerClient.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.util.Collections;
import java.util.List;

/** Agent enrollment: one-time {@code join-token}s for new agents, and the {@code agent-certificates} issued to them. */
final class EnrollmentCommands {
    private EnrollmentCommands() {}

    static final List<Column> JOIN_TOKEN_COLUMNS = List.of(
            Column.of("ID", "id"),
            Column.of("HOST", "host"),
            Column.of("CREATED", "createdAt"),
            Column.of("EXPIRES", "expiresAt"));
    /** The fingerprint (64 hex digits) and notBefore are in the JSON ({@code --output json}). */
    static final List<Column> CERTIFICATE_COLUMNS = List.of(
            Column.of("SERIAL", "serial"),
            Column.of("HOST", "host"),
            Column.of("ISSUED", "issuedAt"),
            Column.of("NOT-AFTER", "notAfter"),
            Column.of("REVOKED", "revokedAt"),
            Column.of("REVOKED-BY", "revokedBy"));

    static Family joinToken() {
        return new Family("join-token", "one-time tokens with which a new agent enrolls (VIGIL_AGENT_JOIN_TOKEN)", List.of(
                Command.of("create", "join-token create [--host HOST] [--ttl SECONDS]",
                        "issue a join token (for HOST only, when given) and print it; with --output json the whole answer",
                        EnrollmentCommands::create).options("--host", "--ttl"),
                Command.of("list", "join-token list", "the unused, unexpired join tokens (never their text)", (args, s) -> {
                    args.atMost(0);
                    s.out().list(s.api().get(path("join-tokens")), JOIN_TOKEN_COLUMNS);
                }),
                Command.of("delete", "join-token delete ID", "delete an unused join token: it enrolls nothing any more",
                        (args, s) -> {
                    String id = args.atMost(1).positional(0, "ID");
                    s.api().delete(path("join-tokens", id));
                    s.out().say("join token " + id + " deleted");
                })));
    }

    private static void create(Args args, Session s) throws CliException {
        args.atMost(0);
        ObjectNode body = s.json().createObjectNode();
        if (args.value("--host") != null) body.put("host", args.value("--host"));
        Long ttl = args.number("--ttl");
        if (ttl != null) body.put("ttlSeconds", ttl);
        JsonNode issued = s.api().post(path("join-tokens"), body);
        if (s.out().json) {
            s.out().json(issued);
            return;
        }
        s.out().out.println(issued.path("token").asText());
        s.note("join token " + issued.path("id").asText() + " for " + (issued.hasNonNull("host")
                ? "host " + issued.get("host").asText() : "any host") + ", expires "
                + Output.text("expiresAt", issued.get("expiresAt")) + "; it is shown only this once");
    }

    static Family agentCertificates() {
        return new Family("agent-certificates", "the client certificates agents enrolled with", List.of(
                Command.of("list", "agent-certificates [list] [--host HOST]", "every agent certificate (HOST's only,"
                        + " when given)", (args, s) -> {
                    args.atMost(0);
                    String host = args.value("--host");
                    s.out().list(s.api().get(query(path("agent-certificates"),
                            host == null ? Collections.emptyMap() : java.util.Map.of("host", host))), CERTIFICATE_COLUMNS);
                }).options("--host"),
                Command.of("revoke", "agent-certificates revoke SERIAL", "revoke a certificate: its agent is refused from"
                        + " then on", (args, s) -> {
                    String serial = args.atMost(1).positional(0, "SERIAL");
                    s.api().delete(path("agent-certificates", serial));
                    s.out().say("agent certificate " + serial + " revoked");
                })));
    }
}
