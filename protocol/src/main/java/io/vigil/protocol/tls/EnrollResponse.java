package io.vigil.protocol.tls;

/** The answer to an enrollment: the agent's certificate and the controller CA's certificate, both PEM. */
public record EnrollResponse(String certificate, String ca) {}
