package io.vigil.controller.api;

import io.vertx.core.http.HttpServerResponse;
import io.vigil.protocol.Json;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An RFC 9457 problem: {@code type} is a stable URI naming the kind of error, {@code detail} says what to do.
 * {@code extensions} are further members of the problem object (e.g. {@code missingMiB} of an admission refusal).
 */
public record Problem(String type, String title, int status, String detail, String instance,
        Map<String, Object> extensions) {
    public static final String CONTENT_TYPE = "application/problem+json";
    private static final String TYPE_BASE = "https://vigil.io/problems/";

    public Problem {
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    public static Problem of(int status, String title, String detail, String instance) {
        return of(status, title, detail, instance, Map.of());
    }

    public static Problem of(int status, String title, String detail, String instance, Map<String, Object> extensions) {
        String slug = title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
        return new Problem(TYPE_BASE + slug, title, status, detail, instance, extensions);
    }

    /** The problem as its JSON object: the standard members, then the extensions in name order. */
    public Map<String, Object> body() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", type);
        out.put("title", title);
        out.put("status", status);
        out.put("detail", detail);
        out.put("instance", instance);
        new java.util.TreeMap<>(extensions).forEach(out::putIfAbsent);
        return out;
    }

    public void send(HttpServerResponse response) {
        if (response.ended() || response.headWritten()) return;
        response.setStatusCode(status).putHeader("Content-Type", CONTENT_TYPE).end(Json.write(body()));
    }
}
