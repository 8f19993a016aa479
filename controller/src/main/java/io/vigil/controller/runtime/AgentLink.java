package io.vigil.controller.runtime;

import io.vigil.protocol.ControllerMessage;

/** How the HA loop reaches agents: implemented by the agent gateway over the agents' WebSocket connections. */
public interface AgentLink {
    /** Sends {@code message} to {@code host}'s agent; false when that host has no connection to this controller. */
    boolean send(String host, ControllerMessage message);

    /** Sends {@code message} to every connected agent. */
    void broadcast(ControllerMessage message);
}
