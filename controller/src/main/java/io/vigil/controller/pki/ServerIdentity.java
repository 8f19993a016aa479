package io.vigil.controller.pki;

import io.vigil.protocol.tls.Pem;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The key and certificate chain a controller's TLS server presents, leaf first. The agent port always presents a
 * certificate the cluster CA issued for the controller's names, sent with the CA (agents, and clients that pin the CA
 * by its fingerprint, find it in the chain). The REST port (API and dashboard) presents the same one, or the
 * operator's certificate and key ({@code tlsCertificateFile}, {@code tlsKeyFile}) when the configuration names them.
 * Both speak TLS 1.3 or 1.2 only ({@link #PROTOCOLS}).
 */
public record ServerIdentity(PrivateKey key, List<X509Certificate> chain, String source) {
    public static final Set<String> PROTOCOLS = Set.of("TLSv1.3", "TLSv1.2");

    public ServerIdentity {
        if (chain.isEmpty()) throw new IllegalArgumentException("a certificate chain holds at least one certificate");
        chain = List.copyOf(chain);
    }

    /** A certificate from {@code ca} for {@code names} (DNS names or IP addresses), chained with the CA. */
    public static ServerIdentity issuedBy(CertificateAuthority ca, String controllerName, List<String> names) {
        var issued = ca.issueServerCertificate("Vigil controller " + controllerName, names);
        return new ServerIdentity(issued.key(), List.of(issued.certificate(), ca.certificate()),
                "issued by the cluster CA (SHA-256 " + ca.fingerprint() + ")");
    }

    /**
     * The operator's certificate chain (PEM, leaf first) and private key (PEM, PKCS#8 or a traditional EC/RSA key).
     * An {@link IllegalArgumentException} names the field and the file: unreadable, not PEM, or a key that does not
     * belong to the certificate.
     */
    public static ServerIdentity fromFiles(Path certificateFile, Path keyFile) {
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = Pem.readCertificates(Pem.read(certificateFile));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tlsCertificateFile " + certificateFile + " is not a readable PEM certificate "
                    + "chain (leaf first): " + e.getMessage(), e);
        }
        try {
            key = Pem.readPrivateKey(Pem.read(keyFile));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tlsKeyFile " + keyFile + " is not a readable PEM private key: " + e.getMessage(), e);
        }
        if (!belongTogether(key, chain.get(0))) {
            throw new IllegalArgumentException("tlsKeyFile " + keyFile + " is not the key of the first certificate in "
                    + "tlsCertificateFile " + certificateFile + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        return new ServerIdentity(key, chain, "from tlsCertificateFile " + certificateFile);
    }

    /**
     * The names a controller's certificate carries: its listening address and the host agents are told to dial, its
     * host name, the loopback names, and, when it listens on every address (0.0.0.0 or ::), each address of its
     * network interfaces that are up.
     */
    public static List<String> controllerNames(String httpHost, String advertisedAgentHost) {
        Set<String> names = new LinkedHashSet<>();
        names.add(httpHost);
        if (advertisedAgentHost != null) names.add(advertisedAgentHost);
        try {
            names.add(InetAddress.getLocalHost().getHostName());
        } catch (UnknownHostException e) {
            // no host name: the other names remain
        }
        names.addAll(List.of("localhost", "127.0.0.1", "::1"));
        if ("0.0.0.0".equals(httpHost) || "::".equals(httpHost)) {
            try {
                for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    if (!nic.isUp()) continue;
                    for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                        String text = a.getHostAddress();
                        int zone = text.indexOf('%');
                        names.add(zone < 0 ? text : text.substring(0, zone));
                    }
                }
            } catch (SocketException e) {
                // no interface list: the other names remain
            }
        }
        return new ArrayList<>(names);
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    public String keyPem() {
        return Pem.privateKey(key);
    }

    /** The chain as concatenated PEM, leaf first. */
    public String chainPem() {
        StringBuilder pem = new StringBuilder();
        for (X509Certificate c : chain) pem.append(Pem.certificate(c));
        return pem.toString();
    }

    /** Whether {@code key} signs what {@code certificate}'s public key verifies (EC, RSA, EdDSA; others are let pass). */
    private static boolean belongTogether(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null;
        };
        if (algorithm == null) return true;
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
