package io.vigil.controller.agents;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.AgentMessage;

/**
 * What a member's agent gateway saw on one agent connection: a message, or the connection closing. Reports reach the
 * leader's HA loop directly when this member leads, else as JSON over a Hazelcast topic ({@link AgentRelay}).
 *
 * <p>{@code connection} names the connection cluster-wide (the member's Hazelcast UUID and a per-member counter),
 * so that the leader can tell a stale close (the host has meanwhile said Hello on another connection, possibly on
 * another member) from a current one.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
    @JsonSubTypes.Type(value = AgentReport.Received.class, name = "received"),
    @JsonSubTypes.Type(value = AgentReport.Closed.class, name = "closed"),
})
public sealed interface AgentReport {
    String connection();

    String host();

    /** The core's input for this report. */
    HaInput toInput();

    /** A well-formed message on a connection whose Hello was accepted (the Hello included). */
    record Received(String connection, AgentMessage message) implements AgentReport {
        @Override
        public String host() {
            return message.host();
        }

        @Override
        public HaInput toInput() {
            if (message instanceof AgentMessage.Hello h) {
                return new HaInput.AgentConnected(h.host(), h.hostGeneration(), h.inventory(), h.storageOk());
            } else if (message instanceof AgentMessage.Heartbeat h) {
                return new HaInput.AgentHeartbeat(h.host(), h.hostGeneration(), h.inventory(), h.storageOk());
            } else if (message instanceof AgentMessage.VmLifecycle l) {
                return new HaInput.VmLifecycleObserved(l.host(), l.vm(), l.event(), l.detail(), l.state());
            } else if (message instanceof AgentMessage.CommandResult r) {
                return new HaInput.CommandCompleted(r.host(), r.commandId(), r.vm(), r.ok(), r.error(), r.leaseGeneration(),
                        r.detail(), r.recovery());
            } else if (message instanceof AgentMessage.HostShutdown s) {
                return new HaInput.HostShuttingDown(s.host(), s.reason());
            }
            throw new IllegalArgumentException("unexpected " + message.getClass().getSimpleName());
        }
    }

    /** The host's current connection on this member closed (a connection replaced on the same member reports nothing). */
    record Closed(String connection, String host) implements AgentReport {
        @Override
        public HaInput toInput() {
            return new HaInput.AgentDisconnected(host);
        }
    }
}
