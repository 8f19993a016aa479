/**
 * The wire contract between controller and agents: the messages on the agent connection ({@link
 * io.vigil.protocol.AgentMessage}, {@link io.vigil.protocol.ControllerMessage}), the commands an agent carries out
 * ({@link io.vigil.protocol.AgentCommand}), their JSON mapping ({@link io.vigil.protocol.Json}) and the protocol
 * version. The records that live on shared storage (host heartbeats, VM leases) are in {@code io.vigil.protocol.storage}
 * because the controller reads what agents write there.
 */
package io.vigil.protocol;
