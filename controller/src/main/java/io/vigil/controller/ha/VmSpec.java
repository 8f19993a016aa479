package io.vigil.controller.ha;

import io.vigil.protocol.CacheMode;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A VM as the operator defined it through the API: its libvirt domain definition (already validated), what is
 * requested of it, and its HA settings. Written by the REST layer, read by the core. Field names are those of the
 * REST API and of scenario files.
 *
 * <ul>
 *   <li>{@code haEnabled}, {@code priority}: restarted when its host fails, highest priority first
 *       ({@code disabled}: not restarted).</li>
 *   <li>{@code preferredHosts}: hosts it should run on, a higher priority preferred; hosts not listed are allowed
 *       after all listed ones unless {@code strict}.</li>
 *   <li>{@code startAfter}: VMs that must run before it starts, or {@code startAfterTimeoutSeconds} have passed.</li>
 *   <li>{@code maxRestarts}: start attempts on the same host after the first before relocating;
 *       {@code maxRelocations}: moves to other hosts before giving up in state error.</li>
 *   <li>{@code failback}: return to its most preferred host (or the host it was moved away from) when that is
 *       available again.</li>
 *   <li>{@code cacheMode}: how its disk writes are cached.</li>
 *   <li>{@code cacheWeight}: its share of the disk cache its host lends out of the failover reserve, relative to the
 *       other VMs running there (0..1000; 0: no cache memory). See {@code io.vigil.controller.cache.CacheLending}.</li>
 *   <li>{@code startRequestedAtMillis}: when the operator last asked for it to start (0: never). Not a setting: each
 *       start request changes it, so that the core hears the request even when {@code requestedState} already was
 *       started; that is how an operator's start takes a VM out of error ({@link RequestedStates}).</li>
 * </ul>
 */
public record VmSpec(String name, String domainXml, long memoryMiB, int vcpus, boolean haEnabled, Priority priority,
        RequestedState requestedState, long createdAtMillis, List<HostPreference> preferredHosts, boolean strict,
        List<String> startAfter, int startAfterTimeoutSeconds, int maxRestarts, int maxRelocations, boolean failback,
        CacheMode cacheMode, int cacheWeight, long startRequestedAtMillis) {

    public static final int DEFAULT_START_AFTER_TIMEOUT_SECONDS = 120;
    public static final int DEFAULT_CACHE_WEIGHT = 1;
    public static final int MAX_CACHE_WEIGHT = 1000;
    public static final int DEFAULT_MAX_RESTARTS = 1;
    public static final int DEFAULT_MAX_RELOCATIONS = 1;

    /** Throws {@link IllegalArgumentException} naming the field when a setting is out of range or inconsistent. */
    public VmSpec {
        if (priority == null) throw new IllegalArgumentException("priority is required");
        if (requestedState == null) throw new IllegalArgumentException("requestedState is required");
        preferredHosts = preferredHosts == null ? List.of() : List.copyOf(preferredHosts);
        Set<String> seen = new HashSet<>();
        for (HostPreference p : preferredHosts)
            if (!seen.add(p.host())) throw new IllegalArgumentException("preferredHosts lists host '" + p.host() + "' twice");
        if (strict && preferredHosts.isEmpty())
            throw new IllegalArgumentException("strict needs preferredHosts: a strict VM runs only on its preferred hosts");
        startAfter = startAfter == null ? List.of() : List.copyOf(startAfter);
        if (startAfter.contains(name)) throw new IllegalArgumentException("startAfter cannot name the VM itself");
        if (new HashSet<>(startAfter).size() != startAfter.size())
            throw new IllegalArgumentException("startAfter names a VM twice");
        if (startAfterTimeoutSeconds < 0 || startAfterTimeoutSeconds > 86_400)
            throw new IllegalArgumentException("startAfterTimeoutSeconds must be between 0 and 86400");
        if (maxRestarts < 0 || maxRestarts > 100) throw new IllegalArgumentException("maxRestarts must be between 0 and 100");
        if (maxRelocations < 0 || maxRelocations > 100)
            throw new IllegalArgumentException("maxRelocations must be between 0 and 100");
        if (cacheMode == null) cacheMode = CacheMode.WRITE_BACK;
        if (cacheWeight < 0 || cacheWeight > MAX_CACHE_WEIGHT)
            throw new IllegalArgumentException("cacheWeight must be between 0 and " + MAX_CACHE_WEIGHT
                    + " (0: no cache memory)");
    }

    /** A VM never explicitly started. */
    public VmSpec(String name, String domainXml, long memoryMiB, int vcpus, boolean haEnabled, Priority priority,
            RequestedState requestedState, long createdAtMillis, List<HostPreference> preferredHosts, boolean strict,
            List<String> startAfter, int startAfterTimeoutSeconds, int maxRestarts, int maxRelocations, boolean failback,
            CacheMode cacheMode, int cacheWeight) {
        this(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis, preferredHosts,
                strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback, cacheMode,
                cacheWeight, 0);
    }

    /** A VM with the default cache weight. */
    public VmSpec(String name, String domainXml, long memoryMiB, int vcpus, boolean haEnabled, Priority priority,
            RequestedState requestedState, long createdAtMillis, List<HostPreference> preferredHosts, boolean strict,
            List<String> startAfter, int startAfterTimeoutSeconds, int maxRestarts, int maxRelocations, boolean failback,
            CacheMode cacheMode) {
        this(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis, preferredHosts,
                strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback, cacheMode,
                DEFAULT_CACHE_WEIGHT);
    }

    /** A VM with default HA settings. */
    public VmSpec(String name, String domainXml, long memoryMiB, int vcpus, boolean haEnabled, Priority priority,
            RequestedState requestedState, long createdAtMillis) {
        this(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis, List.of(), false,
                List.of(), DEFAULT_START_AFTER_TIMEOUT_SECONDS, DEFAULT_MAX_RESTARTS, DEFAULT_MAX_RELOCATIONS, false,
                CacheMode.WRITE_BACK);
    }

    public VmSpec withRequested(RequestedState state) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, state, createdAtMillis,
                preferredHosts, strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback,
                cacheMode, cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withPriority(Priority p) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, p, requestedState, createdAtMillis,
                preferredHosts, strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback,
                cacheMode, cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withPreferredHosts(List<HostPreference> hosts, boolean strictly) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis,
                hosts, strictly, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback, cacheMode,
                cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withStartAfter(List<String> vms, int timeoutSeconds) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis,
                preferredHosts, strict, vms, timeoutSeconds, maxRestarts, maxRelocations, failback, cacheMode,
                cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withRetries(int restarts, int relocations) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis,
                preferredHosts, strict, startAfter, startAfterTimeoutSeconds, restarts, relocations, failback, cacheMode,
                cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withFailback(boolean on) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis,
                preferredHosts, strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, on, cacheMode,
                cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withCacheMode(CacheMode mode) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis,
                preferredHosts, strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback,
                mode, cacheWeight, startRequestedAtMillis);
    }

    public VmSpec withCacheWeight(int weight) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, requestedState, createdAtMillis,
                preferredHosts, strict, startAfter, startAfterTimeoutSeconds, maxRestarts, maxRelocations, failback,
                cacheMode, weight, startRequestedAtMillis);
    }

    /** This spec with a new start request from the operator, made at {@code millis} (always a change). */
    public VmSpec withStartRequested(long millis) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, RequestedState.STARTED,
                createdAtMillis, preferredHosts, strict, startAfter, startAfterTimeoutSeconds, maxRestarts,
                maxRelocations, failback, cacheMode, cacheWeight, Math.max(millis, startRequestedAtMillis + 1));
    }

    /** The settings placement depends on: when they change, VMs waiting to be placed are looked at again. */
    public List<Object> ruleFields() {
        return List.of(preferredHosts, strict, startAfter, priority, haEnabled, maxRestarts, maxRelocations, failback);
    }

    /** Whether the core restarts it when its host fails or it stops unexpectedly. */
    public boolean restartable() {
        return haEnabled && priority != Priority.DISABLED && requestedState == RequestedState.STARTED;
    }

    /** The priority a host is preferred with: its listed priority, or {@code Integer.MIN_VALUE} if not listed. */
    public int preference(String host) {
        for (HostPreference p : preferredHosts) if (p.host().equals(host)) return p.priority();
        return Integer.MIN_VALUE;
    }

    /** Whether it may run on {@code host} at all (strict preferred hosts). */
    public boolean allowedOn(String host) {
        return !strict || preference(host) != Integer.MIN_VALUE;
    }
}
