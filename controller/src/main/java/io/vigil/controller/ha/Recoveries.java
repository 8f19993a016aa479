package io.vigil.controller.ha;

import io.vigil.protocol.CacheMode;
import io.vigil.protocol.VmReport;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import io.vigil.protocol.memory.RegionGrant;
import java.time.Instant;
import java.util.Map;

/**
 * Recovering a failed host's dirty cache blocks: which StartVm carries a {@link RecoverySource} (a failover VM not in
 * write-through mode whose failed host reported a memory keeper), the grant it carries (signed with that keeper's key,
 * for the VM's arenas only, to the target host, short-lived), and the event its result becomes.
 */
final class Recoveries {
    /** How long the target gives the failed host's keeper to answer before it starts the VM from its images alone. */
    static final long KEEPER_DEADLINE_MILLIS = 1500;
    /** A grant outlives the start command's own time limit, and no more. */
    static final long GRANT_TTL_MILLIS = CommandLedger.START_TIMEOUT_MILLIS + 60_000;

    private Recoveries() {}

    /** The recovery a start of {@code v} on {@code target} needs, or null. */
    static RecoverySource source(Round r, VmRecord v, VmSpec spec, String target) {
        if (spec.cacheMode() == CacheMode.WRITE_THROUGH || v.failoverId() == null) return null;
        FailoverRecord f = r.failovers.get(v.failoverId());
        if (f == null || f.host().equals(target)) return null; // back on its own host: its agent re-attaches the arenas
        HostRecord failed = r.host(f.host());
        if (failed == null || failed.inventory() == null) return null;
        MemoryKeeperEndpoint keeper = failed.inventory().memoryKeeper();
        if (keeper == null || keeper.grantKey() == null) return null;
        long lastWriteBack = 0, dirty = 0;
        for (VmReport report : failed.inventory().vms()) {
            if (!report.name().equals(v.name())) continue;
            lastWriteBack = report.cacheWriteBackMillis();
            dirty = report.cacheDirtyBytes();
        }
        String grant = RegionGrant.issue(keeper.grantKey(), v.name(), f.host(), target,
                r.now.epochMillis() + GRANT_TTL_MILLIS).token();
        // The target gets a grant for this VM's arenas only, and the keeper's address without its key.
        return new RecoverySource(f.host(), keeper.withoutGrantKey(), grant, v.generation(), KEEPER_DEADLINE_MILLIS,
                lastWriteBack, dirty);
    }

    /** The event for what a start recovered (a step of the VM's failover). */
    static void reported(Round r, String host, VmRecord v, RecoveryReport rep, Map<String, Object> failoverStep,
            String commandId) {
        Map<String, Object> details = Round.merge(failoverStep, Round.details("from", rep.fromHost(), "transport",
                rep.transport(), "outcome", rep.outcome(), "arenas", rep.arenas(), "blocks", rep.blocks(), "bytes",
                rep.bytes(), "torn", rep.torn(), "corrupt", rep.corrupt(), "stale", rep.stale(), "millis", rep.millis(),
                "commandId", commandId));
        if (rep.reached()) {
            r.event("cache-recovered", host, v.name(), rep.fromHost() + " failed with writes of " + v.name()
                            + " only in its cache",
                    host + " recovered " + rep.blocks() + " dirty blocks (" + mib(rep.bytes()) + ") of " + v.name()
                            + " from the memory of " + rep.fromHost() + " over " + rep.transport() + " in " + rep.millis()
                            + " ms, before starting it" + (rep.torn() + rep.corrupt() > 0 ? "; " + rep.torn()
                            + " torn and " + rep.corrupt() + " corrupt blocks were not applied" : "")
                            + (rep.stale() > 0 ? "; " + rep.stale() + " stale arenas ignored" : ""),
                    details);
            return;
        }
        String window = rep.lastWriteBackMillis() > 0
                ? "writes acknowledged after " + Instant.ofEpochMilli(rep.lastWriteBackMillis()) + " (its last completed "
                        + "write-back) may be lost"
                : "writes not yet written back may be lost (no completed write-back was reported)";
        r.event("cache-unrecovered", host, v.name(), rep.detail(),
                host + " started " + v.name() + " from its disk images alone: the dirty cache blocks on "
                        + rep.fromHost() + " could not be read (" + rep.detail() + "); unflushed window: " + window,
                Round.merge(details, Round.details("lastWriteBackMillis", rep.lastWriteBackMillis(), "unflushedSince",
                        rep.lastWriteBackMillis() > 0 ? Instant.ofEpochMilli(rep.lastWriteBackMillis()).toString() : null)));
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
