/**
 * What a host does with its VMs when it alone has lost the controllers, not shared storage, while the control plane is
 * alive (its leader lease renewed): the isolation response. A control-plane outage is not isolation.
 */
package io.vigil.agent.isolation;
