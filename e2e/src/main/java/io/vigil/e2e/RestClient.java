package io.vigil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A small client of the controller's REST API for tests and benchmarks. Over https:// it trusts only the CA in its CA
 * file (a controller's {@code STATEDIR/ca/ca.crt}), read at the first request: a controller writes it when it first
 * starts, which may be after this client was made.
 */
public final class RestClient {
    /** A response: status and parsed JSON body (null when empty or not JSON). */
    public record Reply(int status, JsonNode body, String contentType) {}

    private final String base;
    private final Duration requestTimeout;
    private final Path caFile;
    private volatile HttpClient http;
    private volatile String bearerToken;

    /** A client of a plain-HTTP controller, or of one whose certificate the JVM's own CAs vouch for. */
    public RestClient(String base) {
        this(base, Duration.ofSeconds(20), null);
    }

    /**
     * {@code requestTimeout}: how long a request may take before it counts as unreachable (a frozen controller);
     * {@code caFile}: the CA (PEM) the controller's certificate must chain to (null: the JVM's own CAs).
     */
    public RestClient(String base, Duration requestTimeout, Path caFile) {
        this.base = base;
        this.requestTimeout = requestTimeout;
        this.caFile = caFile;
    }

    /** A client of the same controller with the same trust and timeout, and no token. */
    public RestClient withoutToken() {
        return new RestClient(base, requestTimeout, caFile);
    }

    public String base() {
        return base;
    }

    /** From now on every request carries {@code Authorization: Bearer <token>} (null: none). */
    public void bearerToken(String token) {
        this.bearerToken = token;
    }

    public Reply get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public Reply post(String path, Object body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : Json.write(body))));
    }

    public Reply put(String path, Object body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : Json.write(body))));
    }

    /** A JSON merge patch (RFC 7396). */
    public Reply patch(String path, Object body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/merge-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : Json.write(body))));
    }

    public Reply delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    private Reply send(HttpRequest.Builder request) {
        String token = bearerToken;
        if (token != null) request.header("Authorization", "Bearer " + token);
        try {
            HttpResponse<String> r = http().send(request.timeout(requestTimeout).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = null;
            if (!r.body().isBlank()) {
                try {
                    body = Json.mapper().readTree(r.body());
                } catch (IOException notJson) {
                    body = null;
                }
            }
            return new Reply(r.statusCode(), body, r.headers().firstValue("Content-Type").orElse(""));
        } catch (IOException e) {
            throw new IllegalStateException("controller unreachable at " + base + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private HttpClient http() {
        HttpClient client = http;
        if (client != null) return client;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
        if (caFile != null) {
            if (!Files.exists(caFile)) {
                throw new IllegalStateException("controller unreachable at " + base + ": its CA " + caFile + " is not written yet");
            }
            builder.sslContext(trusting(caFile));
        }
        return http = builder.build();
    }

    private static SSLContext trusting(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) anchors.setCertificateEntry("ca" + i++, c);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            return tls;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust the CA in " + caFile + ": " + e.getMessage(), e);
        }
    }
}
