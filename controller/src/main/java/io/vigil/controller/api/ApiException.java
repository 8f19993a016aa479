package io.vigil.controller.api;

import java.util.Map;

/**
 * A request the API refuses, carried to the failure handler as an RFC 9457 problem; {@code extensions} become further
 * members of the problem object.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String title;
    private final Map<String, Object> extensions;

    public ApiException(int status, String title, String detail) {
        this(status, title, detail, Map.of());
    }

    public ApiException(int status, String title, String detail, Map<String, Object> extensions) {
        super(detail);
        this.status = status;
        this.title = title;
        this.extensions = Map.copyOf(extensions);
    }

    public static ApiException notFound(String what) {
        return new ApiException(404, "Not Found", what);
    }

    public static ApiException badRequest(String title, String detail) {
        return new ApiException(400, title, detail);
    }

    public static ApiException conflict(String detail) {
        return new ApiException(409, "Conflict", detail);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public Map<String, Object> extensions() {
        return extensions;
    }
}
