package io.vigil.controller.pki;

import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.EnrollRequest;
import io.vigil.protocol.tls.EnrollResponse;
import io.vigil.protocol.tls.JoinToken;
import io.vigil.protocol.tls.Pem;
import java.util.Map;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent trades a join token and a certificate signing request for its certificate. Everything is checked before
 * anything changes: the token (known, secret matching, unexpired, made for this cluster's CA), the request (PEM, a
 * signature made with its own key, a CN that is a valid host name) and the token's host binding. Only then is the
 * token consumed (atomically: of two enrollments with one token, one wins and the other is refused) and the
 * certificate issued and recorded. A refused enrollment leaves the token as it was, so a host that sent a bad request
 * may try again with the same token.
 */
public final class Enrollment {
    private static final Logger log = LoggerFactory.getLogger(Enrollment.class);

    private final JoinTokens tokens;
    private final AgentCertificates certificates;
    private final AgentEvents events;

    public Enrollment(JoinTokens tokens, AgentCertificates certificates, AgentEvents events) {
        this.tokens = tokens;
        this.certificates = certificates;
        this.events = events;
    }

    /** Blocks (Hazelcast); {@code from} names the caller in the log and the events (its address). */
    public EnrollResponse enroll(EnrollRequest request, String from) throws EnrollmentRefused {
        try {
            return attempt(request, from);
        } catch (EnrollmentRefused e) {
            log.warn("refused an enrollment from {}: {}", from, e.getMessage());
            events.refused(null, from, "enrollment refused: " + e.getMessage());
            throw e;
        }
    }

    private EnrollResponse attempt(EnrollRequest request, String from) throws EnrollmentRefused {
        if (request == null || request.token() == null || request.token().isBlank())
            throw EnrollmentRefused.badRequest("token is required: the join token the controller printed (vj1....)");
        if (request.csr() == null || request.csr().isBlank())
            throw EnrollmentRefused.badRequest("csr is required: a PEM certificate signing request with CN=<host>");
        JoinToken token;
        try {
            token = JoinToken.parse(request.token());
        } catch (IllegalArgumentException e) {
            throw EnrollmentRefused.badToken("malformed join token: " + e.getMessage());
        }
        JoinTokenRecord record;
        try {
            record = tokens.check(token);
        } catch (JoinTokens.Refused e) {
            throw EnrollmentRefused.badToken(e.getMessage());
        }
        PKCS10CertificationRequest csr;
        try {
            csr = Pem.readCertificateRequest(request.csr());
        } catch (IllegalArgumentException e) {
            throw EnrollmentRefused.badRequest("csr is not a PEM certificate signing request: " + e.getMessage());
        }
        if (!CertificateRequests.isSignatureValid(csr))
            throw EnrollmentRefused.badRequest("csr's signature does not verify with the public key it carries");
        String host = CertificateRequests.commonName(csr.getSubject());
        if (!Hosts.isValid(host))
            throw EnrollmentRefused.badRequest("csr's subject must be CN=<host>, where " + Hosts.RULE + " (found '"
                    + csr.getSubject() + "')");
        if (record.host() != null && !record.host().equals(host))
            throw EnrollmentRefused.wrongHost("join token " + record.id() + " is for host " + record.host() + ", not " + host);
        if (!tokens.consume(record))
            throw EnrollmentRefused.badToken("join token " + record.id() + " was used by another enrollment just now");
        AgentCertificates.Issued issued = certificates.issue(csr, host);
        log.info("enrolled host {} from {} with join token {}: certificate {}", host, from, record.id(), issued.record().serial());
        events.enrolled(issued.record(), Map.of("joinToken", record.id(), "from", from));
        return new EnrollResponse(issued.certificatePem(), certificates.authority().certificatePem());
    }
}
