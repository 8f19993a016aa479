package io.vigil.agent.tls;

import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.KeyPairs;
import io.vigil.protocol.tls.Pem;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Date;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** A CA for the agent's tests, standing in for the controller's: a server certificate for 127.0.0.1 and agent certificates. */
final class TestCa {
    final KeyPair keys = KeyPairs.generateP256();
    final X509Certificate certificate;
    final KeyPair serverKeys = KeyPairs.generateP256();
    final X509Certificate serverCertificate;

    TestCa() throws Exception {
        var name = CertificateRequests.subject("Test CA " + System.nanoTime());
        certificate = sign(new JcaX509v3CertificateBuilder(name, serial(), new Date(System.currentTimeMillis() - 60_000),
                new Date(System.currentTimeMillis() + 86_400_000), name, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign)));
        serverCertificate = sign(builder("controller", serverKeys.getPublic())
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")})));
    }

    String fingerprint() {
        return Fingerprints.sha256(certificate);
    }

    String pem() {
        return Pem.certificate(certificate);
    }

    /** The server's certificate followed by the CA's, as the controller sends them. */
    String serverChainPem() {
        return Pem.certificate(serverCertificate) + pem();
    }

    String serverKeyPem() {
        return Pem.privateKey(serverKeys.getPrivate());
    }

    X509Certificate signAgent(PKCS10CertificationRequest csr) throws Exception {
        return sign(builder(CertificateRequests.commonName(csr.getSubject()), CertificateRequests.publicKey(csr))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth)));
    }

    private X509v3CertificateBuilder builder(String cn, PublicKey key) {
        return new JcaX509v3CertificateBuilder(certificate, serial(), new Date(System.currentTimeMillis() - 60_000),
                new Date(System.currentTimeMillis() + 86_400_000), CertificateRequests.subject(cn), key);
    }

    private X509Certificate sign(X509v3CertificateBuilder b) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    private static BigInteger serial() {
        return new BigInteger(64, new SecureRandom()).add(BigInteger.ONE);
    }
}
