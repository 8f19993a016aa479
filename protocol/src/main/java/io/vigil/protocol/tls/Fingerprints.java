package io.vigil.protocol.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/** SHA-256 over a certificate's DER encoding, as 64 lowercase hex digits (what {@code openssl x509 -fingerprint -sha256} shows, without colons). */
public final class Fingerprints {
    private Fingerprints() {}

    public static String sha256(X509Certificate certificate) {
        try {
            return sha256Hex(certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode the certificate: " + e.getMessage(), e);
        }
    }

    public static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code text} has the shape of a fingerprint (64 hex digits, any case). */
    public static boolean isFingerprint(String text) {
        return text != null && text.matches("[0-9a-fA-F]{64}");
    }
}
