package io.vigil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small client of the controller's REST API for tests and benchmarks. */
public final class RestClient {
    /** A response: status and parsed JSON body (null when empty or not JSON). */
    public record Reply(int status, JsonNode body, String contentType) {}

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String base;
    private final Duration requestTimeout;
    private volatile String bearerToken;

    public RestClient(String base) {
        this(base, Duration.ofSeconds(20));
    }

    /** {@code requestTimeout}: how long a request may take before it counts as unreachable (a frozen controller). */
    public RestClient(String base, Duration requestTimeout) {
        this.base = base;
        this.requestTimeout = requestTimeout;
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
            HttpResponse<String> r = http.send(request.timeout(requestTimeout).build(), HttpResponse.BodyHandlers.ofString());
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
}
