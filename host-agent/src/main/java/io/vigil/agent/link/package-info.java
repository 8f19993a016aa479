/**
 * The agent's one long-lived WebSocket to a controller ({@code /agent/v1}): Hello, Welcome, heartbeats with the
 * full inventory, commands and their results, reconnection across the known controllers.
 */
package io.vigil.agent.link;
