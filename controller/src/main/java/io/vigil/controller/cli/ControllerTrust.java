package io.vigil.controller.cli;

import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.PinnedCaTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Whom the client believes to be the controller over HTTPS, the first that applies: the CA certificates of
 * {@code --ca-file} (VIGIL_CA_FILE); the CA whose SHA-256 {@code --ca-fingerprint} (VIGIL_CA_FINGERPRINT) gives; the CA
 * pinned for this controller with {@code vigil trust} ({@link KnownControllers}); else the system's trusted CAs (a
 * certificate from a public or company CA, {@code tlsCertificateFile}). A pinned CA must be in the chain the
 * controller sends (a controller sends its cluster CA after its own certificate). The host name is always checked.
 * A refusal names the CA the controller presented, with its fingerprint, and says how to trust it; it never trusts
 * anything on its own.
 */
final class ControllerTrust {
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** Where to check a cluster CA's fingerprint, for people. */
    static final String CHECK = "the controller logs its CA's fingerprint at start; on a controller: openssl x509 -noout "
            + "-fingerprint -sha256 -in STATEDIR/ca/ca.crt";

    private final String source;
    private final boolean caFile;
    private final PinnedCaTrustManager pin;
    private final X509ExtendedTrustManager verifier;
    private final String givenFingerprint;
    private final KnownControllers known;
    private volatile X509Certificate[] presented;
    private volatile CertificateException failure;

    private ControllerTrust(String source, boolean caFile, PinnedCaTrustManager pin, X509ExtendedTrustManager verifier,
            String givenFingerprint, KnownControllers known) {
        this.source = source;
        this.caFile = caFile;
        this.pin = pin;
        this.verifier = verifier;
        this.givenFingerprint = givenFingerprint;
        this.known = known;
    }

    /** The trust the options and the environment give for the controller at {@code base}. */
    static ControllerTrust resolve(URI base, Map<String, String> options, Map<String, String> env) throws CliException {
        KnownControllers known = KnownControllers.of(env);
        String file = first(options.get("--ca-file"), env.get("VIGIL_CA_FILE"));
        String fileSource = options.get("--ca-file") != null ? "--ca-file" : "VIGIL_CA_FILE";
        String fingerprint = first(options.get("--ca-fingerprint"), env.get("VIGIL_CA_FINGERPRINT"));
        String fingerprintSource = options.get("--ca-fingerprint") != null ? "--ca-fingerprint" : "VIGIL_CA_FINGERPRINT";
        String normal = fingerprint == null ? null : normalize(fingerprint);
        if (fingerprint != null && !Fingerprints.isFingerprint(normal)) {
            throw CliException.usage(fingerprintSource + " is the SHA-256 of the CA certificate, 64 hex digits (colons"
                    + " allowed), not '" + fingerprint + "'");
        }
        if (file != null) {
            return new ControllerTrust(fileSource + " " + file, true, null, anchoredAt(caCertificates(file, fileSource)),
                    normal, known);
        }
        if (normal != null) {
            PinnedCaTrustManager pin = new PinnedCaTrustManager(normal);
            return new ControllerTrust(fingerprintSource, false, pin, pin, normal, known);
        }
        String saved = "https".equals(base.getScheme()) ? known.fingerprint(base) : null;
        if (saved != null && Fingerprints.isFingerprint(normalize(saved))) {
            return pinned(normalize(saved), "the pin in " + known.file(), known);
        }
        return new ControllerTrust("the system's trusted CAs", false, null, anchoredAt(null), null, known);
    }

    /** Trust in the CA with SHA-256 {@code fingerprint} alone ({@code source} names where the pin came from). */
    static ControllerTrust pinned(String fingerprint, String source, KnownControllers known) {
        PinnedCaTrustManager pin = new PinnedCaTrustManager(fingerprint);
        return new ControllerTrust(source, false, pin, pin, null, known);
    }

    /** The fingerprint given with --ca-fingerprint or VIGIL_CA_FINGERPRINT (lower case, no colons), or null. */
    String givenFingerprint() {
        return givenFingerprint;
    }

    boolean caFile() {
        return caFile;
    }

    KnownControllers known() {
        return known;
    }

    /** TLS 1.3 or 1.2, verifying the controller as described above and remembering what it presented. */
    SSLContext sslContext() {
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {new Recording()}, null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }

    static SSLParameters parameters() {
        SSLParameters p = new SSLParameters();
        p.setProtocols(PROTOCOLS);
        return p;
    }

    /** The error for a TLS failure with the controller at {@code base}: what it presented, and how to trust it. */
    CliException refused(URI base, SSLException e) {
        X509Certificate[] chain = presented;
        if (chain == null || chain.length == 0) {
            return new CliException(ExitCode.UNTRUSTED, "no TLS with the controller at " + base + ": " + e.getMessage(),
                    List.of("a controller with plainHttp: true serves http://, not https://; otherwise see its log"), null);
        }
        X509Certificate top = chain[chain.length - 1];
        String fingerprint = Fingerprints.sha256(top);
        String ca = top.getSubjectX500Principal().getName();
        if (pin != null && pin.sawMismatch()) {
            return new CliException(ExitCode.UNTRUSTED, "the controller's CA is not the pinned one: " + base + " presents CA '"
                    + ca + "' (SHA-256 " + fingerprint + "), but " + source + " pins " + pin.fingerprint() + ": a wrong "
                    + "controller URL, a new cluster CA, or someone in between; nothing was sent",
                    List.of("if the cluster's CA was replaced on purpose (" + CHECK + "), pin the new one: vigil --controller "
                            + base + " trust --ca-fingerprint NEW-FINGERPRINT"), null);
        }
        CertificateException why = failure;
        if (why != null && why.getCause() instanceof CertPathBuilderException) {
            return new CliException(ExitCode.UNTRUSTED, "the controller's certificate is not trusted: " + base + " presents a "
                    + "certificate from CA '" + ca + "' (SHA-256 " + fingerprint + "), which " + source + " do"
                    + (caFile ? "es" : "") + " not vouch for; nothing was sent", List.of(
                    "if that is your cluster's CA (" + CHECK + "), pin it: vigil --controller " + base + " trust "
                            + "--ca-fingerprint " + fingerprint,
                    "or trust the CA's certificate file: --ca-file FILE or VIGIL_CA_FILE (STATEDIR/ca/ca.crt on a controller)"),
                    null);
        }
        return new CliException(ExitCode.UNTRUSTED, "the controller's certificate is refused: " + base + " presents '"
                + chain[0].getSubjectX500Principal().getName() + "': " + (why != null ? why.getMessage() : e.getMessage()),
                List.of("the certificate is for " + names(chain[0]) + ": use a controller URL with one of these names, or give"
                        + " the controller a certificate for this one (tlsCertificateFile)"), null);
    }

    /**
     * The certificate chain the controller at {@code base} presents, read in a handshake that trusts nothing (no
     * request is sent): what {@code vigil trust} shows before anything is pinned.
     */
    static List<X509Certificate> presentedChain(URI base, Duration timeout) throws CliException {
        AtomicReference<X509Certificate[]> seen = new AtomicReference<>();
        X509TrustManager lookOnly = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("a client trusts no clients");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                seen.set(chain);
                throw new CertificateException("only looking at the certificate");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        int port = base.getPort() >= 0 ? base.getPort() : 443;
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {lookOnly}, null);
            try (Socket plain = new Socket()) {
                plain.connect(new InetSocketAddress(base.getHost(), port), millis);
                plain.setSoTimeout(millis);
                try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, base.getHost(), port, false)) {
                    SSLParameters p = parameters();
                    if (!isIpLiteral(base.getHost())) p.setServerNames(List.of(new SNIHostName(base.getHost())));
                    socket.setSSLParameters(p);
                    socket.startHandshake();
                } catch (SSLException refusedOnPurpose) {
                    // the look-only trust manager ends every handshake
                }
            }
        } catch (ConnectException | SocketTimeoutException e) {
            throw new CliException(ExitCode.UNREACHABLE, "controller unreachable at " + base + ": " + e.getMessage(),
                    List.of("set the controller's URL with --controller URL or VIGIL_CONTROLLER"), null);
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "no TLS answer from " + base + ": " + e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
        X509Certificate[] chain = seen.get();
        if (chain == null || chain.length == 0) {
            throw new CliException(ExitCode.UNTRUSTED, "the controller at " + base + " presented no certificate",
                    List.of("a controller with plainHttp: true serves http://, not https://"), null);
        }
        return List.of(chain);
    }

    static String normalize(String fingerprint) {
        return fingerprint.strip().replace(":", "").toLowerCase(Locale.ROOT);
    }

    /** The DNS names and IP addresses a certificate is for. */
    static String names(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) for (List<?> san : sans) names.add(String.valueOf(san.get(1)));
        } catch (CertificateException e) {
            // unreadable names: none listed
        }
        return names.isEmpty() ? "no names" : String.join(", ", names);
    }

    private static boolean isIpLiteral(String host) {
        return host.matches("[0-9.]+") || host.contains(":") || host.startsWith("[");
    }

    /** The certificates of a PEM file (the JDK reads PEM itself: no BouncyCastle at start-up). */
    private static List<X509Certificate> caCertificates(String file, String source) throws CliException {
        List<X509Certificate> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
        } catch (IOException e) {
            throw CliException.usage("cannot read the CA file " + file + " (" + source + "): " + e.getClass().getSimpleName());
        } catch (CertificateException e) {
            throw CliException.usage("the CA file " + file + " (" + source + ") is not PEM certificates: " + e.getMessage());
        }
        if (out.isEmpty()) throw CliException.usage("the CA file " + file + " (" + source + ") holds no certificate");
        return out;
    }

    /** PKIX with {@code anchors} as the only trust anchors; null: the JDK's trusted CAs. */
    private static X509ExtendedTrustManager anchoredAt(List<X509Certificate> anchors) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            if (anchors == null) {
                tmf.init((KeyStore) null);
            } else {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                for (int i = 0; i < anchors.size(); i++) store.setCertificateEntry("ca-" + i, anchors.get(i));
                tmf.init(store);
            }
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) return x;
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up certificate checks: " + e.getMessage(), e);
        }
        throw new IllegalStateException("no X.509 trust manager in this JVM");
    }

    private static String first(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return v;
        return null;
    }

    /** The verifier, remembering the chain it was shown and why it refused it (for {@link #refused}). */
    private final class Recording extends X509ExtendedTrustManager {
        private void check(X509Certificate[] chain, Checked check) throws CertificateException {
            presented = chain;
            try {
                check.run();
            } catch (CertificateException e) {
                failure = e;
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain, () -> verifier.checkServerTrusted(chain, authType, engine));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain, () -> verifier.checkServerTrusted(chain, authType, socket));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, () -> verifier.checkServerTrusted(chain, authType));
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("the client trusts no clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("the client trusts no clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the client trusts no clients");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    @FunctionalInterface
    private interface Checked {
        void run() throws CertificateException;
    }
}
