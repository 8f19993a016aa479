/** The controller's commands carried out on this host's VMs under their disk leases, and the host's inventory. */
package io.vigil.agent.vm;
