package io.vigil.agent.tls;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.agent.config.AgentConfig;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.EnrollRequest;
import io.vigil.protocol.tls.EnrollResponse;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.JoinToken;
import io.vigil.protocol.tls.KeyPairs;
import io.vigil.protocol.tls.Pem;
import io.vigil.protocol.tls.PinnedCaTrustManager;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the agent its certificate. At start, when a controller URL is wss:// and {@code tlsDir} holds no certificate,
 * the agent makes a key pair and a CSR (CN = its host), and posts them with its join token to
 * {@code https://<controller>/agent/v1/enroll}, trusting the controller only if its chain holds the CA whose
 * fingerprint the token carries; the CA certificate it gets back must have that fingerprint too. The key never
 * leaves the host.
 *
 * <p>A refusal (bad, used or expired token, another host's token, a CA that does not match) is final: an
 * {@link EnrollmentException} saying what to do, which stops the agent. An unreachable controller is tried again
 * (every URL in turn), as the controller link would.
 */
public final class Enrollment {
    private static final Logger log = LoggerFactory.getLogger(Enrollment.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private Enrollment() {}

    /**
     * Makes sure the agent has credentials if it needs them: nothing to do for ws:// controllers or when
     * {@code tlsDir} is complete; otherwise enrolls, trying unreachable controllers again every few seconds for at most
     * {@code giveUpAfter} (null: for ever).
     */
    public static void ensureEnrolled(AgentConfig config, Duration giveUpAfter) throws EnrollmentException, InterruptedException {
        TlsFiles files = new TlsFiles(config.tlsDir());
        if (!config.usesTls()) return;
        if (files.present()) {
            if (config.joinToken() != null) log.info("already enrolled ({}): the joinToken is not used", files.dir());
            return;
        }
        if (config.joinToken() == null) {
            throw new EnrollmentException("this agent has no certificate in " + files.dir() + " and no joinToken to enroll "
                    + "with: create a join token on the controller (POST /api/v1/join-tokens {\"host\": \"" + config.host()
                    + "\"}) and start the agent with joinToken: <token> in its configuration (or " + AgentConfig.envName("joinToken") + ")");
        }
        JoinToken token = JoinToken.parse(config.joinToken());
        List<URI> targets = new ArrayList<>();
        for (String url : config.controllers()) {
            if (url.startsWith("wss:")) targets.add(enrollUri(URI.create(url)));
        }
        long deadline = giveUpAfter == null ? Long.MAX_VALUE : System.nanoTime() + giveUpAfter.toNanos();
        long backoff = 500;
        for (int attempt = 0; ; attempt++) {
            URI target = targets.get(attempt % targets.size());
            try {
                enroll(target, token, config.host(), files);
                return;
            } catch (IOException unreachable) {
                if (System.nanoTime() > deadline)
                    throw new EnrollmentException("cannot reach a controller to enroll (last: " + target + ": " + unreachable + ")");
                log.warn("cannot reach controller {} to enroll: {}; trying again in {} ms", target, unreachable.toString(), backoff);
                Thread.sleep(backoff);
                backoff = Math.min(5000, backoff * 2);
            }
        }
    }

    /** {@code wss://host:port/...} becomes {@code https://host:port/agent/v1/enroll}. */
    static URI enrollUri(URI agentUrl) {
        return URI.create("https://" + agentUrl.getRawAuthority() + ProtocolVersion.ENROLL_PATH);
    }

    /**
     * One enrollment at {@code target}; on success the credentials are in {@code files}. IOException: the controller
     * could not be reached (worth another try).
     */
    public static void enroll(URI target, JoinToken token, String host, TlsFiles files) throws EnrollmentException, IOException,
            InterruptedException {
        KeyPair keys = KeyPairs.generateP256();
        String csr = Pem.certificateRequest(CertificateRequests.forHost(host, keys));
        PinnedCaTrustManager pin = new PinnedCaTrustManager(token.caFingerprint());
        HttpClient client;
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {pin}, null);
            client = HttpClient.newBuilder().sslContext(tls).connectTimeout(TIMEOUT).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
        HttpResponse<String> response;
        try {
            response = client.send(HttpRequest.newBuilder(target).timeout(TIMEOUT).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.write(new EnrollRequest(token.text(), csr)))).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (SSLHandshakeException e) {
            if (pin.sawMismatch()) {
                throw new EnrollmentException("controller " + target + " is not the one the join token was made for: its CA "
                        + "does not have the fingerprint " + token.caFingerprint() + " (a wrong controller URL, or someone in "
                        + "between); nothing was sent", e);
            }
            throw new EnrollmentException("TLS with controller " + target + " failed: " + e.getMessage() + " (does the URL's "
                    + "host name match the controller's certificate?)", e);
        }
        if (response.statusCode() != 200) {
            throw new EnrollmentException("controller " + target + " refused to enroll host " + host + " (HTTP "
                    + response.statusCode() + "): " + detail(response.body()) + "; create a new join token (POST "
                    + "/api/v1/join-tokens) and start the agent with it");
        }
        EnrollResponse answer;
        X509Certificate certificate;
        X509Certificate ca;
        try {
            answer = Json.read(response.body(), EnrollResponse.class);
            certificate = Pem.readCertificate(answer.certificate());
            ca = Pem.readCertificate(answer.ca());
            if (!Fingerprints.sha256(ca).equals(token.caFingerprint()))
                throw new IllegalArgumentException("the CA certificate it sent does not have the token's fingerprint");
            certificate.verify(ca.getPublicKey());
            if (!certificate.getPublicKey().equals(keys.getPublic()))
                throw new IllegalArgumentException("the certificate is not for this agent's key");
            if (!host.equals(CertificateRequests.commonName(certificate)))
                throw new IllegalArgumentException("the certificate is for " + CertificateRequests.commonName(certificate) + ", not " + host);
        } catch (IllegalArgumentException | NullPointerException | GeneralSecurityException e) {
            throw new EnrollmentException("controller " + target + " answered the enrollment with unusable credentials: "
                    + e.getMessage(), e);
        }
        files.write(keys.getPrivate(), answer.certificate(), answer.ca());
        log.info("enrolled host {} with controller {}: certificate {} (valid until {}) in {}", host, target,
                certificate.getSerialNumber().toString(16), certificate.getNotAfter().toInstant(), files.dir());
    }

    /** The problem's detail, or the body as it is. */
    private static String detail(String body) {
        try {
            JsonNode problem = Json.mapper().readTree(body);
            if (problem != null && problem.hasNonNull("detail")) return problem.get("detail").asText();
        } catch (IOException notJson) {
            // fall through
        }
        return body == null || body.isBlank() ? "no reason given" : body.strip();
    }
}
