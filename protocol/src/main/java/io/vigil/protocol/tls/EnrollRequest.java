package io.vigil.protocol.tls;

/** {@code POST /agent/v1/enroll}: the join token's text and the agent's certificate signing request (PEM). */
public record EnrollRequest(String token, String csr) {
    @Override
    public String toString() {
        return "EnrollRequest[csr " + (csr == null ? 0 : csr.length()) + " chars]";
    }
}
