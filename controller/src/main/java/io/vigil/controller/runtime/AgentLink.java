package io.vigil.controller.runtime;

import io.vigil.protocol.ControllerMessage;

/**
 * How the HA loop reaches agents: the agent gateway over this member's WebSocket connections, or the relay that also
 * hands messages to the member holding the host's connection.
 */
public interface AgentLink {
    /**
     * Sends {@code message} to {@code host}'s agent, or hands it on to the member that may hold its connection;
     * false when no controller can be holding that host's connection.
     */
    boolean send(String host, ControllerMessage message);

    /** Sends {@code message} to every connected agent. */
    void broadcast(ControllerMessage message);
}
