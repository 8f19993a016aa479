package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.pki.AgentCertificate;
import io.vigil.controller.pki.AgentCertificates;
import io.vigil.controller.pki.AgentEvents;
import io.vigil.controller.pki.JoinTokenRecord;
import io.vigil.controller.pki.JoinTokens;
import java.time.Instant;
import java.util.List;

/**
 * {@code /api/v1/join-tokens} and {@code /api/v1/agent-certificates}: the operator's side of agent enrollment. A join
 * token's text is shown once, in the answer to its creation; lists never show secrets. Revoking a certificate cuts
 * its agent's connection on whichever controller member holds it (the registry's listener, see
 * {@link AgentCertificates#onRevoked}).
 */
public final class AgentCertificateResource {
    private final AgentCertificates certificates;
    private final JoinTokens tokens;
    private final AgentEvents events;

    public AgentCertificateResource(AgentCertificates certificates, JoinTokens tokens, AgentEvents events) {
        this.certificates = certificates;
        this.tokens = tokens;
        this.events = events;
    }

    /** The one answer that carries a token's text. */
    record CreatedJoinToken(String token, String id, String host, String expiresAt) {}

    record JoinTokenView(String id, String host, String createdAt, String expiresAt) {}

    record AgentCertificateView(String serial, String host, String fingerprint, String notBefore, String notAfter,
            String issuedAt, boolean revoked, String revokedAt, String revokedBy) {}

    CreatedJoinToken createJoinToken(JsonNode body) {
        String host = body.hasNonNull("host") ? body.get("host").asText() : null;
        Long ttl = body.hasNonNull("ttlSeconds") ? body.get("ttlSeconds").asLong() : null;
        JoinTokens.Created created;
        try {
            created = tokens.create(host, ttl);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("Invalid Join Token", e.getMessage());
        }
        return new CreatedJoinToken(created.token().text(), created.record().id(), host, time(created.record().expiresAt()));
    }

    List<JoinTokenView> listJoinTokens() {
        return tokens.list().stream().map(AgentCertificateResource::view).toList();
    }

    void deleteJoinToken(String id) {
        if (!tokens.delete(id)) throw ApiException.notFound("no join token " + id + " (used, expired or never created)");
    }

    List<AgentCertificateView> listCertificates(String host) {
        return certificates.list(host).stream().map(AgentCertificateResource::view).toList();
    }

    /** Revokes it (a revoked one stays as it was); the event is recorded by the request that revoked it. */
    void revoke(String serial, String by) {
        AgentCertificates.Revocation r = certificates.revoke(serial, by).orElseThrow(() -> ApiException.notFound(
                "no agent certificate " + serial + " (GET /api/v1/agent-certificates lists them)"));
        if (r.revokedNow()) events.revoked(r.certificate());
    }

    private static JoinTokenView view(JoinTokenRecord t) {
        return new JoinTokenView(t.id(), t.host(), time(t.createdAt()), time(t.expiresAt()));
    }

    private static AgentCertificateView view(AgentCertificate c) {
        return new AgentCertificateView(c.serial(), c.host(), c.fingerprint(), time(c.notBefore()), time(c.notAfter()),
                time(c.issuedAt()), c.revoked(), c.revokedAt() == null ? null : time(c.revokedAt()), c.revokedBy());
    }

    private static String time(long millis) {
        return Instant.ofEpochMilli(millis).toString();
    }
}
