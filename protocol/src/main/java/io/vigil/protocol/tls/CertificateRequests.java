package io.vigil.protocol.tls;

import java.security.KeyPair;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** The agent's PKCS#10 certificate signing request: subject {@code CN=<host>}, signed by the agent's own key. */
public final class CertificateRequests {
    private CertificateRequests() {}

    public static PKCS10CertificationRequest forHost(String host, KeyPair keys) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(subject(host), keys.getPublic())
                    .build(new JcaContentSignerBuilder(KeyPairs.SIGNATURE_ALGORITHM).build(keys.getPrivate()));
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign a certificate request: " + e.getMessage(), e);
        }
    }

    public static X500Name subject(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
    }

    /** Whether the request is signed by the key it carries (proof that the requester holds the private key). */
    public static boolean isSignatureValid(PKCS10CertificationRequest csr) {
        try {
            return csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(publicKey(csr)));
        } catch (OperatorCreationException | PKCSException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The public key a request carries. EC and RSA only; the JDK's providers know them by name, not by OID, which is
     * why this does not go through BouncyCastle's converters.
     */
    public static java.security.PublicKey publicKey(PKCS10CertificationRequest csr) {
        var info = csr.getSubjectPublicKeyInfo();
        var algorithm = info.getAlgorithm().getAlgorithm();
        String name = algorithm.equals(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey) ? "EC"
                : algorithm.equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption) ? "RSA" : null;
        if (name == null) throw new IllegalArgumentException("unsupported public key algorithm " + algorithm + " (use EC P-256)");
        try {
            return java.security.KeyFactory.getInstance(name).generatePublic(new java.security.spec.X509EncodedKeySpec(info.getEncoded()));
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("unusable public key: " + e.getMessage(), e);
        }
    }

    /** The single common name of a certificate's subject (an agent certificate's host), or null. */
    public static String commonName(java.security.cert.X509Certificate certificate) {
        return commonName(X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()));
    }

    /** The single common name of {@code name}, or null when it has none or several. */
    public static String commonName(X500Name name) {
        RDN[] cns = name.getRDNs(BCStyle.CN);
        if (cns.length != 1 || cns[0].isMultiValued()) return null;
        return IETFUtils.valueToString(cns[0].getFirst().getValue());
    }
}
