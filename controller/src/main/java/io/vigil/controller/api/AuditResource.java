package io.vigil.controller.api;

import io.vigil.controller.audit.AuditEntry;
import io.vigil.controller.audit.AuditLog;
import java.time.Instant;
import java.util.List;

/** {@code GET /api/v1/audit}: the audit log for admins, oldest first, filtered like the event log. */
final class AuditResource {
    /** An audit entry as the API shows it: the stored one, with its time also as ISO 8601. */
    record AuditView(long sequence, String time, long timeMillis, String principal, String tokenId, String kind,
            String role, String remoteAddress, String method, String path, String operationId, String target, int status,
            String outcome, String summary) {
        static AuditView of(AuditEntry e) {
            return new AuditView(e.sequence(), Instant.ofEpochMilli(e.timeMillis()).toString(), e.timeMillis(), e.principal(),
                    e.tokenId(), e.kind(), e.role(), e.remoteAddress(), e.method(), e.path(), e.operationId(), e.target(),
                    e.status(), e.outcome(), e.summary());
        }
    }

    private final AuditLog audit;

    AuditResource(AuditLog audit) {
        this.audit = audit;
    }

    /**
     * {@code since} below 10^15 is epoch milliseconds (entries at or after), above an entry's sequence (entries after);
     * the newest {@code limit} matches.
     */
    List<AuditView> list(Long since, String principal, Integer status, int limit) {
        boolean isSequence = since != null && since >= RestApi.SEQUENCE_THRESHOLD;
        return audit.entries(new AuditLog.Query(isSequence ? since : null, since != null && !isSequence ? since : null,
                principal, status, limit)).stream().map(AuditView::of).toList();
    }
}
