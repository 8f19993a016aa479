/**
 * A clean host shutdown, told apart from an agent restart ({@link io.vigil.agent.shutdown.ShutdownDetector}) and
 * carried out with the controller ({@link io.vigil.agent.shutdown.CleanHostShutdown}): on a restart the VMs run on
 * and the next agent re-attaches; on a host shutdown the controller first moves or stops them.
 */
package io.vigil.agent.shutdown;
