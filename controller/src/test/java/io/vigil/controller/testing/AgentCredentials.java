package io.vigil.controller.testing;

import io.vigil.controller.pki.CertificateAuthority;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.KeyPairs;
import io.vigil.protocol.tls.Pem;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * What an enrolled agent holds: its private key, its client certificate and the CA certificate it trusts. From
 * {@link TestController#agentCredentials} (issued by the test controller's CA and recorded in its registry, as an
 * enrollment would) or {@link #fromStrangeCa} (a CA the controller never heard of).
 */
public record AgentCredentials(PrivateKey key, X509Certificate certificate, X509Certificate ca) {

    public String keyPem() {
        return Pem.privateKey(key);
    }

    public String certificatePem() {
        return Pem.certificate(certificate);
    }

    public String caPem() {
        return Pem.certificate(ca);
    }

    /** The certificate's serial as the registry and the REST API name it. */
    public String serial() {
        return CertificateAuthority.serialOf(certificate);
    }

    /** A certificate for {@code host} from a brand-new CA of its own: a well-formed certificate nobody should accept. */
    public static AgentCredentials fromStrangeCa(String host) {
        CertificateAuthority stranger = CertificateAuthority.create();
        KeyPair keys = KeyPairs.generateP256();
        X509Certificate cert = stranger.issueAgentCertificate(CertificateRequests.forHost(host, keys), host);
        return new AgentCredentials(keys.getPrivate(), cert, stranger.certificate());
    }
}
