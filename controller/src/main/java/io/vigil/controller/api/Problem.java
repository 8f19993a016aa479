package io.vigil.controller.api;

import io.vertx.core.http.HttpServerResponse;
import io.vigil.protocol.Json;
import java.util.Locale;

/** An RFC 9457 problem: {@code type} is a stable URI naming the kind of error, {@code detail} says what to do. */
public record Problem(String type, String title, int status, String detail, String instance) {
    public static final String CONTENT_TYPE = "application/problem+json";
    private static final String TYPE_BASE = "https://vigil.io/problems/";

    public static Problem of(int status, String title, String detail, String instance) {
        String slug = title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
        return new Problem(TYPE_BASE + slug, title, status, detail, instance);
    }

    public void send(HttpServerResponse response) {
        if (response.ended() || response.headWritten()) return;
        response.setStatusCode(status).putHeader("Content-Type", CONTENT_TYPE).end(Json.write(this));
    }
}
