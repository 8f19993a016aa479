package io.vigil.agent.libvirt;

/** A libvirt operation failed; the message is libvirt's own, for a person to read. */
public class HypervisorException extends Exception {
    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }
}
