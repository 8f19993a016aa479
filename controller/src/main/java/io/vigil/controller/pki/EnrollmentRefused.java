package io.vigil.controller.pki;

/** An enrollment the controller refuses: {@code status} 400 (bad request), 401 (bad token) or 403 (wrong host). */
public final class EnrollmentRefused extends Exception {
    private final int status;
    private final String title;

    EnrollmentRefused(int status, String title, String detail) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
    }

    static EnrollmentRefused badRequest(String detail) {
        return new EnrollmentRefused(400, "Bad Enrollment Request", detail);
    }

    static EnrollmentRefused badToken(String detail) {
        return new EnrollmentRefused(401, "Join Token Refused", detail);
    }

    static EnrollmentRefused wrongHost(String detail) {
        return new EnrollmentRefused(403, "Join Token Is For Another Host", detail);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }
}
