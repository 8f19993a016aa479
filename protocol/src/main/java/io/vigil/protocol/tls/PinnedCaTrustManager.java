package io.vigil.protocol.tls;

import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a server only if the chain it sends contains a certificate whose SHA-256 is the pinned fingerprint (a
 * controller sends its CA after its own certificate) and the chain verifies against that certificate as the only
 * trust anchor, host name included. An enrolling agent trusts nothing else (the fingerprint from the join token stands
 * in for a CA it does not have yet), and neither does the command line client with a pinned controller CA.
 */
public final class PinnedCaTrustManager extends X509ExtendedTrustManager {
    private final String fingerprint;
    private volatile boolean mismatch;

    /** {@code fingerprint}: 64 hex digits, any case, colons allowed ({@code openssl x509 -fingerprint -sha256}). */
    public PinnedCaTrustManager(String fingerprint) {
        String normal = fingerprint == null ? null : fingerprint.replace(":", "").toLowerCase(Locale.ROOT);
        if (!Fingerprints.isFingerprint(normal))
            throw new IllegalArgumentException("a SHA-256 fingerprint is 64 hex digits, not '" + fingerprint + "'");
        this.fingerprint = normal;
    }

    public String fingerprint() {
        return fingerprint;
    }

    /** Whether a server was refused because no certificate of its chain had the pinned fingerprint. */
    public boolean sawMismatch() {
        return mismatch;
    }

    private X509ExtendedTrustManager anchoredAt(X509Certificate[] chain) throws CertificateException {
        X509Certificate pinned = null;
        for (X509Certificate c : chain) {
            if (Fingerprints.sha256(c).equals(fingerprint)) pinned = c;
        }
        if (pinned == null) {
            mismatch = true;
            throw new CertificateException("no certificate the server sent has the pinned SHA-256 fingerprint " + fingerprint);
        }
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            anchors.setCertificateEntry("ca", pinned);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) return x;
            }
        } catch (Exception e) {
            throw new CertificateException("cannot verify against the pinned CA: " + e.getMessage(), e);
        }
        throw new CertificateException("no X.509 trust manager available");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        anchoredAt(chain).checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        anchoredAt(chain).checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        anchoredAt(chain).checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a pinned CA trusts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a pinned CA trusts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a pinned CA trusts no clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
