package io.vigil.controller.pki;

/**
 * One agent certificate the CA issued, as the registry ({@value AgentCertificates#MAP}) and the REST API show it.
 * {@code serial} is lowercase hex, {@code fingerprint} the SHA-256 of the certificate, times are epoch milliseconds;
 * {@code revokedAt} and {@code revokedBy} are null until it is revoked.
 */
public record AgentCertificate(String serial, String host, String fingerprint, long notBefore, long notAfter, long issuedAt,
        Long revokedAt, String revokedBy) {

    public boolean revoked() {
        return revokedAt != null;
    }

    AgentCertificate revoke(long at, String by) {
        return new AgentCertificate(serial, host, fingerprint, notBefore, notAfter, issuedAt, at, by);
    }
}
