/** The agent's configuration record, loaded from YAML with {@code VIGIL_AGENT_*} environment overrides. */
package io.vigil.agent.config;
