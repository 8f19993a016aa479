package io.vigil.controller.audit;

/**
 * One mutating request as the audit log keeps it: when it arrived ({@code timeMillis}), who made it ({@code principal}
 * the token's name, a user's name for a session; null when no valid token came with it), the token's id, kind and role,
 * the caller's address, what was asked ({@code method}, {@code path}, {@code operationId} as in openapi.yaml, null for a
 * path the API does not have; {@code target} the VM, host, rule, user or token it named; {@code summary} the fields
 * sent, passwords, tokens and domain XML left out), and how it ended ({@code status}; {@code outcome} {@code ok} for a
 * 2xx, otherwise the problem's title and detail). {@code sequence} orders the log (a flake id, as for events).
 */
public record AuditEntry(long sequence, long timeMillis, String principal, String tokenId, String kind, String role,
        String remoteAddress, String method, String path, String operationId, String target, int status, String outcome,
        String summary) {

    public static final String OK = "ok";

    AuditEntry withSequence(long sequence) {
        return new AuditEntry(sequence, timeMillis, principal, tokenId, kind, role, remoteAddress, method, path,
                operationId, target, status, outcome, summary);
    }
}
