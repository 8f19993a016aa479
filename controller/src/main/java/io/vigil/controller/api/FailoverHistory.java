package io.vigil.controller.api;

import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.store.ClusterStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /api/v1/failovers}: each host failover rebuilt from the event log. The HA core tags every step of a
 * failover with {@code details.failover} (the failover id, {@code <host>-<n>}), {@code details.step} and
 * {@code details.elapsedMillis} since detection ({@code ha.Failover}); {@code failover-completed} carries the whole
 * timeline ({@code details.steps}) and the outcome. A failover is in progress until that event, or cancelled when its
 * host came back ({@code host-recovered}) before it was fenced. A step's time is its first occurrence, except
 * {@code started}: when the last VM started, as the core counts it.
 */
final class FailoverHistory {
    /** The steps in the order the dashboard draws them when two happen in the same millisecond. */
    static final List<String> STEP_ORDER = List.of("detected", "isolated", "declaredFailed", "leasesExpired", "placed",
            "pendingCapacity", "cacheReclaimed", "recovered", "startFailed", "gaveUp", "started", "completed");
    static final Map<String, String> LABELS = Map.ofEntries(Map.entry("detected", "detected"),
            Map.entry("isolated", "isolated"), Map.entry("declaredFailed", "declared failed"),
            Map.entry("leasesExpired", "leases expired"), Map.entry("placed", "placed"),
            Map.entry("pendingCapacity", "waiting for capacity"), Map.entry("cacheReclaimed", "reclaimed"),
            Map.entry("recovered", "recovered"), Map.entry("startFailed", "start failed"),
            Map.entry("gaveUp", "gave up"), Map.entry("started", "started"), Map.entry("completed", "completed"));

    private final ClusterStore store;

    FailoverHistory(ClusterStore store) {
        this.store = store;
    }

    /** {@code elapsedMillis}: since detection; {@code atMillis}: epoch time. */
    record Step(String step, String label, long elapsedMillis, long atMillis) {}

    /** A VM of the failover: {@code outcome} started, failed or waiting; {@code host} where it was restarted. */
    record FailoverVm(String name, String outcome, String host, Long startedAfterMillis) {}

    /**
     * {@code status}: completed, in-progress, isolated (the host kept its storage heartbeat; nothing moves unless it
     * is later declared failed) or cancelled (it came back before it was fenced). {@code elapsedMillis}: detection to
     * completion, or to the latest step so far.
     */
    record Failover(String id, String host, String status, boolean completed, long detectedAtMillis, String detectedAt,
            Long completedAtMillis, long elapsedMillis, int vmsRestarted, int vmsFailed, List<FailoverVm> vms,
            List<Step> steps, long lastSequence) {}

    /** The newest {@code limit} failovers, newest first. */
    List<Failover> list(int limit) {
        List<ClusterEvent> log = store.events(new ClusterStore.EventQuery(null, null, null, null, null, Integer.MAX_VALUE));
        List<Failover> all = build(log);
        List<Failover> out = new ArrayList<>(all);
        out.sort(Comparator.comparingLong(Failover::detectedAtMillis).reversed());
        return out.size() <= limit ? out : out.subList(0, limit);
    }

    /** Failovers in the order they were detected, from events in sequence order. */
    static List<Failover> build(List<ClusterEvent> events) {
        List<Builder> all = new ArrayList<>();
        Map<String, Builder> open = new HashMap<>();
        for (ClusterEvent e : events) {
            if ("host-recovered".equals(e.type())) {
                for (Builder b : List.copyOf(open.values())) {
                    if (b.host.equals(e.host()) && !b.steps.containsKey("leasesExpired")) {
                        b.cancelled = true;
                        b.lastSequence = e.sequence();
                        b.endMillis = e.timeMillis();
                        open.remove(b.id);
                    }
                }
                continue;
            }
            Map<String, Object> d = e.details();
            if (d == null || !(d.get("failover") instanceof String id) || !(d.get("step") instanceof String step))
                continue;
            long elapsed = d.get("elapsedMillis") instanceof Number n ? n.longValue() : 0;
            Builder b = open.get(id);
            // A failover id repeats after a controller restart (the core counts per host from 1 again).
            if (b == null || "detected".equals(step) && b.steps.containsKey("detected")) {
                b = new Builder(id, hostOf(id, e), e.timeMillis() - elapsed);
                all.add(b);
                open.put(id, b);
            }
            b.add(e, step, elapsed, d);
            if ("failover-completed".equals(e.type())) open.remove(id);
        }
        return all.stream().map(Builder::build).toList();
    }

    /** The failed host: named by host events; VM events name the target, so the id ({@code <host>-<n>}) says it. */
    private static String hostOf(String id, ClusterEvent e) {
        if (e.type().startsWith("host-") && e.host() != null) return e.host();
        int dash = id.lastIndexOf('-');
        return dash > 0 ? id.substring(0, dash) : id;
    }

    private static final class Builder {
        final String id;
        final String host;
        final long detectedAtMillis;
        final Map<String, Long> steps = new LinkedHashMap<>();
        final Map<String, FailoverVm> vms = new LinkedHashMap<>();
        final Set<String> fencedVms = new LinkedHashSet<>();
        boolean completed;
        boolean cancelled;
        Long completedAtMillis;
        Integer restarted;
        Integer failed;
        long endMillis;
        long lastSequence;

        Builder(String id, String host, long detectedAtMillis) {
            this.id = id;
            this.host = host;
            this.detectedAtMillis = detectedAtMillis;
        }

        void add(ClusterEvent e, String step, long elapsed, Map<String, Object> d) {
            lastSequence = Math.max(lastSequence, e.sequence());
            endMillis = Math.max(endMillis, e.timeMillis());
            if ("started".equals(step)) steps.merge(step, elapsed, Math::max);
            else steps.putIfAbsent(step, elapsed);
            if (d.get("vms") instanceof List<?> names && ("leasesExpired".equals(step) || "declaredFailed".equals(step)))
                for (Object n : names) if (n instanceof String s) fencedVms.add(s);
            String vm = e.vm();
            if (vm != null && e.type().equals("vm-started")) vms.put(vm, new FailoverVm(vm, "started", e.host(), elapsed));
            else if (vm != null && e.type().equals("vm-error")) vms.put(vm, new FailoverVm(vm, "failed", e.host(), null));
            if ("failover-completed".equals(e.type())) {
                completed = true;
                completedAtMillis = e.timeMillis();
                if (d.get("steps") instanceof Map<?, ?> timeline) {
                    timeline.forEach((k, v) -> {
                        if (k instanceof String s && v instanceof Number n) steps.put(s, n.longValue());
                    });
                }
                steps.put("completed", elapsed);
                if (d.get("started") instanceof Number n) restarted = n.intValue();
                if (d.get("failed") instanceof Number n) failed = n.intValue();
            }
        }

        Failover build() {
            List<Step> out = new ArrayList<>();
            steps.forEach((s, ms) -> out.add(new Step(s, LABELS.getOrDefault(s, s), ms, detectedAtMillis + ms)));
            out.sort(Comparator.comparingLong(Step::elapsedMillis).thenComparingInt(FailoverHistory::order));
            List<FailoverVm> vmList = new ArrayList<>();
            for (String vm : fencedVms) vmList.add(vms.getOrDefault(vm, new FailoverVm(vm, completed ? "failed" : "waiting", null, null)));
            for (FailoverVm v : vms.values()) if (!fencedVms.contains(v.name())) vmList.add(v);
            int ok = restarted != null ? restarted : (int) vmList.stream().filter(v -> v.outcome().equals("started")).count();
            int bad = failed != null ? failed : (int) vmList.stream().filter(v -> v.outcome().equals("failed")).count();
            String status = completed ? "completed" : cancelled ? "cancelled"
                    : steps.containsKey("isolated") && !steps.containsKey("declaredFailed") ? "isolated" : "in-progress";
            long elapsed = completed ? steps.getOrDefault("completed", 0L)
                    : out.stream().mapToLong(Step::elapsedMillis).max().orElse(0);
            return new Failover(id, host, status, completed, detectedAtMillis,
                    Instant.ofEpochMilli(detectedAtMillis).toString(), completedAtMillis, elapsed, ok, bad,
                    List.copyOf(vmList), List.copyOf(out), lastSequence);
        }
    }

    private static int order(Step s) {
        int i = STEP_ORDER.indexOf(s.step());
        return i < 0 ? STEP_ORDER.size() : i;
    }
}
