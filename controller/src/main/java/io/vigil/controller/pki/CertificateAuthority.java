package io.vigil.controller.pki;

import io.vigil.controller.store.SealedMap;
import io.vigil.controller.store.StateMaps;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.KeyPairs;
import io.vigil.protocol.tls.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's certificate authority: a self-signed EC P-256 CA that issues the controllers' TLS server certificates
 * for the agent port and the agents' client certificates. Every controller member holds the same one, and it
 * survives restarts: at start a member adopts the CA the Hazelcast cluster already holds (map {@value #MAP}; two
 * members starting together agree through {@code putIfAbsent}), else the one in its {@code stateDir/ca}, else a new
 * one; it then keeps its copy in {@code stateDir/ca} ({@code ca.key} 0600, {@code ca.crt}), so a controller cluster
 * restarted as a whole keeps trusting the agents it enrolled. In the map the CA is sealed with the cluster's key
 * ({@link SealedMap}): a member admitted without the cluster secret reads ciphertext, and cannot slip in a CA of its
 * own.
 */
public final class CertificateAuthority {
    private static final Logger log = LoggerFactory.getLogger(CertificateAuthority.class);
    public static final String MAP = io.vigil.controller.store.StateMaps.Name.CA.mapName();
    static final String KEY = "current";
    static final Duration CA_VALIDITY = Duration.ofDays(3653);
    static final Duration AGENT_VALIDITY = Duration.ofDays(365);
    static final Duration SERVER_VALIDITY = Duration.ofDays(365);
    /** Certificates are valid from a little before they are issued, so that a clock a minute behind accepts them. */
    private static final Duration BACKDATE = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PrivateKey key;
    private final X509Certificate certificate;
    private final String fingerprint;

    /** The CA as stored in the cluster map and in {@code stateDir/ca}: PEM of both halves. */
    record Stored(String certificate, String key) {}

    CertificateAuthority(PrivateKey key, X509Certificate certificate) {
        this.key = key;
        this.certificate = certificate;
        this.fingerprint = Fingerprints.sha256(certificate);
    }

    /**
     * The cluster's CA: the one in the cluster, else the one in {@code stateDir/ca}, else a new one. Writes the
     * adopted CA to {@code stateDir/ca}; a different CA found there is moved aside ({@code ca.crt.replaced-<time>}),
     * never silently lost.
     */
    public static CertificateAuthority adopt(StateMaps maps, Path stateDir) throws IOException {
        SealedMap<Stored> map = maps.localMap(StateMaps.Name.CA, Stored.class);
        Path dir = stateDir.resolve("ca");
        Path keyFile = dir.resolve("ca.key");
        Path certFile = dir.resolve("ca.crt");
        Stored inCluster = map.get(KEY).orElse(null);
        Stored onDisk = Files.exists(certFile) && Files.exists(keyFile) ? new Stored(Pem.read(certFile), Pem.read(keyFile)) : null;
        String source = "the controller cluster";
        if (inCluster == null) {
            Stored candidate = onDisk;
            source = certFile.toString();
            if (candidate == null) {
                CertificateAuthority fresh = create();
                candidate = fresh.stored();
                source = "a new CA";
            }
            inCluster = map.putIfAbsent(KEY, candidate);
            if (!inCluster.equals(candidate)) source = "the controller cluster";
        }
        Stored adopted = inCluster;
        CertificateAuthority ca = fromPem(adopted.certificate(), adopted.key());
        if (onDisk != null && !sameCertificate(onDisk.certificate(), adopted.certificate())) {
            String suffix = ".replaced-" + System.currentTimeMillis();
            log.warn("the controller cluster's CA ({}) differs from the one in {}; keeping the cluster's and moving "
                    + "the local one to {}{}: agents enrolled with it must enroll again", ca.fingerprint, dir, certFile.getFileName(), suffix);
            Files.move(certFile, certFile.resolveSibling(certFile.getFileName() + suffix), StandardCopyOption.ATOMIC_MOVE);
            Files.move(keyFile, keyFile.resolveSibling(keyFile.getFileName() + suffix), StandardCopyOption.ATOMIC_MOVE);
            onDisk = null;
        }
        if (onDisk == null) {
            Pem.writeSecret(keyFile, adopted.key());
            Pem.writePublic(certFile, adopted.certificate());
        }
        log.info("cluster CA {} (SHA-256 {}) from {}", ca.certificate.getSubjectX500Principal().getName(), ca.fingerprint, source);
        return ca;
    }

    private static boolean sameCertificate(String pemA, String pemB) {
        try {
            return Fingerprints.sha256(Pem.readCertificate(pemA)).equals(Fingerprints.sha256(Pem.readCertificate(pemB)));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static CertificateAuthority fromPem(String certificatePem, String keyPem) {
        return new CertificateAuthority(Pem.readPrivateKey(keyPem), Pem.readCertificate(certificatePem));
    }

    /** A new self-signed CA: EC P-256, CN "Vigil cluster CA <random>", ten years, a CA that signs certificates only. */
    public static CertificateAuthority create() {
        KeyPair keys = KeyPairs.generateP256();
        byte[] random = new byte[4];
        RANDOM.nextBytes(random);
        X500Name name = CertificateRequests.subject("Vigil cluster CA " + HexFormat.of().formatHex(random));
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, randomSerial(), Date.from(now.minus(BACKDATE)),
                    Date.from(now.plus(CA_VALIDITY)), name, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new CertificateAuthority(keys.getPrivate(), sign(b, keys.getPrivate()));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create the CA: " + e.getMessage(), e);
        }
    }

    Stored stored() {
        return new Stored(Pem.certificate(certificate), Pem.privateKey(key));
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public String certificatePem() {
        return Pem.certificate(certificate);
    }

    /** SHA-256 of the CA certificate, hex: what join tokens carry for the agent to pin. */
    public String fingerprint() {
        return fingerprint;
    }

    /** A controller's TLS server certificate for the agent port, with a key of its own; names are DNS names or IPs. */
    public IssuedServerCertificate issueServerCertificate(String commonName, List<String> names) {
        KeyPair keys = KeyPairs.generateP256();
        Set<String> unique = new LinkedHashSet<>(names);
        List<GeneralName> sans = new ArrayList<>();
        for (String n : unique) {
            if (n == null || n.isBlank() || n.equals("0.0.0.0") || n.equals("::")) continue;
            sans.add(isIpAddress(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
        }
        try {
            X509v3CertificateBuilder b = builder(CertificateRequests.subject(commonName), keys.getPublic(), SERVER_VALIDITY)
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            return new IssuedServerCertificate(keys.getPrivate(), sign(b, key));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue the server certificate: " + e.getMessage(), e);
        }
    }

    public record IssuedServerCertificate(PrivateKey key, X509Certificate certificate) {}

    /**
     * An agent's client certificate for {@code csr}: subject CN = {@code host}, client authentication only, one year,
     * a random 128-bit serial. The caller has checked the request (its signature, its host).
     */
    public X509Certificate issueAgentCertificate(PKCS10CertificationRequest csr, String host) {
        try {
            PublicKey publicKey = CertificateRequests.publicKey(csr);
            X509v3CertificateBuilder b = builder(CertificateRequests.subject(host), publicKey, AGENT_VALIDITY)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            return sign(b, key);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalArgumentException("cannot issue a certificate for this request: " + e.getMessage(), e);
        }
    }

    private X509v3CertificateBuilder builder(X500Name subject, PublicKey publicKey, Duration validity)
            throws GeneralSecurityException, CertIOException {
        Instant now = Instant.now();
        Instant notAfter = now.plus(validity);
        if (notAfter.isAfter(certificate.getNotAfter().toInstant())) notAfter = certificate.getNotAfter().toInstant();
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        return new JcaX509v3CertificateBuilder(certificate, randomSerial(), Date.from(now.minus(BACKDATE)), Date.from(notAfter),
                subject, publicKey)
                .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(KeyPairs.SIGNATURE_ALGORITHM).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /** 128 random bits (a positive number, never zero). */
    private static BigInteger randomSerial() {
        BigInteger serial;
        do {
            serial = new BigInteger(128, RANDOM);
        } while (serial.signum() == 0);
        return serial;
    }

    /** A certificate serial as the registry and the API name it: lowercase hex. */
    public static String serialOf(X509Certificate certificate) {
        return certificate.getSerialNumber().toString(16);
    }

    private static boolean isIpAddress(String name) {
        if (name.matches("[0-9.]+")) return true;
        if (!name.contains(":")) return false;
        try {
            return InetAddress.getByName(name) != null; // an IPv6 literal never triggers a lookup
        } catch (IOException e) {
            return false;
        }
    }
}
