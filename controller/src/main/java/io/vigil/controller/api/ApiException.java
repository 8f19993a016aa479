package io.vigil.controller.api;

/** A request the API refuses, carried to the failure handler as an RFC 9457 problem. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String title;

    public ApiException(int status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
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
}
