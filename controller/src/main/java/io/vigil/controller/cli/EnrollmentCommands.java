package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.cli.Command.Family;
import java.util.List;

/** Agent enrollment: one-time {@code join-token}s for new agents, and the {@code agent-certificates} issued to them. */
final class EnrollmentCommands {
    private EnrollmentCommands() {}

    static Family joinToken() {
        return new Family("join-token", "one-time tokens with which a new agent enrolls (VIGIL_AGENT_JOIN_TOKEN)", List.of(
                Command.of("create", "join-token create [--host HOST] [--ttl SECONDS]",
                        "issue a join token (for HOST only, when given) and print it; with --output json the whole answer",
                        EnrollmentCommands::create).options("--host", "--ttl")));
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
                    ArrayNode shown = s.json().createArrayNode();
                    for (JsonNode c : s.api().get(path("agent-certificates"))) {
                        if (host == null || host.equals(c.path("host").asText())) shown.add(c);
                    }
                    s.out().list(shown);
                }).options("--host"),
                Command.of("revoke", "agent-certificates revoke SERIAL", "revoke a certificate: its agent is refused from"
                        + " then on", (args, s) -> {
                    String serial = args.atMost(1).positional(0, "SERIAL");
                    s.api().delete(path("agent-certificates", serial));
                    s.out().say("agent certificate " + serial + " revoked");
                })));
    }
}
