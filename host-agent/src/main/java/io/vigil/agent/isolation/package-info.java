/** What a host does with its VMs when it has lost the controller but not shared storage: the isolation response. */
package io.vigil.agent.isolation;
