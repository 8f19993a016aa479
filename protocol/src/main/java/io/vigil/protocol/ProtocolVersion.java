package io.vigil.protocol;

/** The version of the agent connection protocol; a controller refuses an agent that speaks another major version. */
public final class ProtocolVersion {
    public static final int CURRENT = 1;
    /** The WebSocket path agents dial, relative to a controller's base URL. */
    public static final String AGENT_PATH = "/agent/v1";
    /** Where an agent trades a join token and a certificate signing request for its certificate (HTTPS, no client certificate). */
    public static final String ENROLL_PATH = "/agent/v1/enroll";

    private ProtocolVersion() {}
}
