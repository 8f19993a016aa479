package io.vigil.protocol.tls;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * PEM text of private keys (always PKCS#8, {@code PRIVATE KEY}, which Vert.x and OpenSSL both read), X.509
 * certificates and PKCS#10 certificate signing requests. Reading refuses anything else with an
 * {@link IllegalArgumentException} that says what was found; files holding a private key are written 0600.
 */
public final class Pem {
    private Pem() {}

    public static String privateKey(PrivateKey key) {
        try {
            return write(new JcaPKCS8Generator(key, null));
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new IllegalArgumentException("cannot encode the private key: " + e.getMessage(), e);
        }
    }

    public static String certificate(X509Certificate certificate) {
        return write(certificate);
    }

    public static String certificateRequest(PKCS10CertificationRequest csr) {
        return write(csr);
    }

    private static String write(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** The first PEM object of {@code pem}, which must be a private key (PKCS#8, or a traditional EC/RSA key). */
    public static PrivateKey readPrivateKey(String pem) {
        Object o = readObjects(pem).get(0);
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
            if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
        } catch (PEMException e) {
            throw new IllegalArgumentException("not a usable private key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("expected a PEM private key, found " + describe(o));
    }

    /** The first PEM object of {@code pem}, which must be a certificate. */
    public static X509Certificate readCertificate(String pem) {
        return readCertificates(pem).get(0);
    }

    /** Every PEM object of {@code pem}, each of which must be a certificate (a chain, leaf first). */
    public static List<X509Certificate> readCertificates(String pem) {
        List<X509Certificate> out = new ArrayList<>();
        for (Object o : readObjects(pem)) {
            if (!(o instanceof X509CertificateHolder holder))
                throw new IllegalArgumentException("expected a PEM certificate, found " + describe(o));
            try {
                out.add(new JcaX509CertificateConverter().getCertificate(holder));
            } catch (CertificateException e) {
                throw new IllegalArgumentException("not a usable certificate: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** The first PEM object of {@code pem}, which must be a PKCS#10 certificate signing request. */
    public static PKCS10CertificationRequest readCertificateRequest(String pem) {
        Object o = readObjects(pem).get(0);
        if (o instanceof PKCS10CertificationRequest csr) return csr;
        throw new IllegalArgumentException("expected a PEM certificate request (BEGIN CERTIFICATE REQUEST), found " + describe(o));
    }

    private static List<Object> readObjects(String pem) {
        if (pem == null || pem.isBlank()) throw new IllegalArgumentException("no PEM text");
        List<Object> out = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) out.add(o);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not valid PEM: " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no PEM object found (expected -----BEGIN ...-----)");
        return out;
    }

    private static String describe(Object o) {
        return o == null ? "nothing" : o.getClass().getSimpleName();
    }

    // ---- files ----------------------------------------------------------------------------------------------------

    public static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    /** Writes {@code text} to {@code file} atomically (a temporary file renamed over it), readable by its owner only. */
    public static void writeSecret(Path file, String text) throws IOException {
        write(file, text, true);
    }

    /** Writes {@code text} to {@code file} atomically. */
    public static void writePublic(Path file, String text) throws IOException {
        write(file, text, false);
    }

    private static void write(Path file, String text, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp"); // created 0600
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            if (!secret) setPermissions(tmp, "rw-r--r--");
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void setPermissions(Path file, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException notPosix) {
            // not a POSIX file system: its defaults apply
        }
    }
}
