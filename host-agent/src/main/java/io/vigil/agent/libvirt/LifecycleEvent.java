package io.vigil.agent.libvirt;

/** A libvirt domain lifecycle event: {@code event} is libvirt's type ("started", "stopped", ...), lower case. */
public record LifecycleEvent(String vm, String event, String detail) {

    /** Whether the domain's QEMU process is gone after this event. */
    public boolean domainStopped() {
        return event.equals("stopped") || event.equals("crashed");
    }
}
