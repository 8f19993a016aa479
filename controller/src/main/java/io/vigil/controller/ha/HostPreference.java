package io.vigil.controller.ha;

/** One of a VM's preferred hosts: a host listed with a higher {@code priority} is preferred over a lower one. */
public record HostPreference(String host, int priority) {
    public HostPreference {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("preferredHosts: host is required");
    }
}
