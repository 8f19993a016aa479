/** The Vigil host agent: {@link io.vigil.agent.AgentMain} starts a {@link io.vigil.agent.HostAgent}. */
package io.vigil.agent;
