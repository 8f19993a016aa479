package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import java.util.List;

/** What the core asks the shell to do. */
public sealed interface HaCommand {

    /** Send {@code command} to {@code host}'s agent; its result comes back as {@link HaInput.CommandCompleted}. */
    record SendToAgent(String host, AgentCommand command) implements HaCommand {}

    /** Tell a rejoining host which VMs it lost and must never run. */
    record TellLostVms(String host, List<String> vms) implements HaCommand {}

    /** Tell every connected agent the new policy. */
    record BroadcastPolicy(ClusterPolicy policy) implements HaCommand {}

    record RecordEvent(ClusterEvent event) implements HaCommand {}

    /**
     * The VM is gone (destroyed and undefined after a delete): remove its spec and status from the store. Emitted
     * after the VM's last event, so that once the API no longer shows the VM, the event log has all of its events.
     */
    record ForgetVm(String vm) implements HaCommand {}

    /** Tell a host that is shutting down that its VMs are dealt with: it may go down. */
    record ClearShutdown(String host, String detail) implements HaCommand {}
}
