package io.vigil.controller.cli;

/** The exit statuses of the client, as scripts see them (listed in {@code vigil --help}). */
public enum ExitCode {
    OK(0, "success"),
    FAILURE(1, "unexpected failure: a 5xx answer, an unreadable response"),
    USAGE(2, "usage error: unknown command or option, a missing or bad argument"),
    UNREACHABLE(3, "controller unreachable: connection refused, timed out"),
    UNAUTHENTICATED(4, "not authenticated (401): no token, or one unknown, expired or revoked"),
    FORBIDDEN(5, "forbidden (403): the token's role is too small"),
    NOT_FOUND(6, "not found (404): no such host, VM, rule, token, user or certificate"),
    CONFLICT(7, "conflict (409): admission control, a duplicate name, a move the cluster cannot do now"),
    INVALID(8, "invalid request (400, 413, 422): the detail names the field"),
    UNTRUSTED(9, "untrusted controller: unknown CA, not the pinned CA, wrong host name; nothing sent (vigil trust)");

    public final int code;
    public final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The exit status for an HTTP error status. */
    static ExitCode ofHttpStatus(int status) {
        return switch (status) {
            case 400, 413, 422 -> INVALID;
            case 401 -> UNAUTHENTICATED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            default -> FAILURE;
        };
    }
}
