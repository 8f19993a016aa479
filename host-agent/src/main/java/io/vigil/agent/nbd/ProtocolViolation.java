package io.vigil.agent.nbd;

/** The client broke the protocol in a way that ends its connection; the message says how, for the log. */
final class ProtocolViolation extends Exception {
    ProtocolViolation(String reason) {
        super(reason, null, false, false);
    }
}
