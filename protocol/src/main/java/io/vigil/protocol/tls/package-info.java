/**
 * The PKI both ends of the agent link share: PEM of keys (PKCS#8), certificates and CSRs, EC P-256 key pairs, the
 * agent's certificate signing request, SHA-256 certificate fingerprints, the join token's text form, the enrollment
 * exchange ({@code POST /agent/v1/enroll}), and the trust in a server pinned by its CA's fingerprint
 * ({@link io.vigil.protocol.tls.PinnedCaTrustManager}: enrolling agents, and the command line client of the REST API).
 * BouncyCastle does the ASN.1 and PEM; the JDK's own providers do the cryptography.
 */
package io.vigil.protocol.tls;
