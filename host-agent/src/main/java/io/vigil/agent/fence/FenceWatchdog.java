package io.vigil.agent.fence;

import io.vigil.agent.libvirt.ProcFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fence watchdog's decision, one {@link #poll} at a time: once the deadline in {@code fence-deadline.json} has
 * passed (in this boot), SIGKILL each listed QEMU that still runs its guest, once per deadline. A newer deadline
 * re-arms it. Not thread-safe: one loop calls it.
 */
public final class FenceWatchdog {
    private static final Logger log = LoggerFactory.getLogger(FenceWatchdog.class);

    private final Path stateDir;
    private final String bootId;
    private final LongSupplier nanoClock;
    /** The deadline last seen, and the pids already handled for it (killed, or found not to run their guest). */
    private long deadline;
    private final Set<Long> handled = new HashSet<>();
    /** The last "nothing to guard" reason logged, so that it is logged once, not every 100 ms. */
    private String idleReason = ""; // not null: the first deadline read is logged

    public FenceWatchdog(Path stateDir, String bootId, LongSupplier nanoClock) {
        this.stateDir = stateDir;
        this.bootId = bootId;
        this.nanoClock = nanoClock;
    }

    /** Reads the deadline file and fences if it passed; returns the pids killed by this call. */
    public List<Long> poll() {
        Optional<FenceDeadline> read;
        try {
            read = FenceDeadlineFile.read(stateDir);
        } catch (IOException | RuntimeException e) {
            idle("cannot read " + FenceDeadlineFile.in(stateDir) + " (" + e.getMessage() + "): nothing to guard");
            return List.of();
        }
        if (read.isEmpty()) {
            idle("no " + FenceDeadlineFile.in(stateDir) + ": nothing to guard");
            return List.of();
        }
        FenceDeadline d = read.get();
        if (!bootId.equals(d.bootId())) {
            idle(FenceDeadlineFile.in(stateDir) + " was written in another boot (" + d.bootId() + "): nothing to guard");
            return List.of();
        }
        if (idleReason != null) {
            log.info("FENCE WATCHDOG: a deadline from host {} (agent pid {}): guarding its VMs", d.host(), d.agentPid());
            idleReason = null;
        }
        if (d.deadlineNanos() != deadline) {
            if (!handled.isEmpty()) log.info("FENCE WATCHDOG: a newer deadline from host {}: armed again", d.host());
            deadline = d.deadlineNanos();
            handled.clear();
        }
        long late = nanoClock.getAsLong() - d.deadlineNanos();
        if (late <= 0) return List.of();
        List<Long> killed = new ArrayList<>();
        for (FenceDeadline.GuardedVm vm : d.vms()) {
            if (!handled.add(vm.pid())) continue;
            if (!ProcFiles.runsGuest(vm.pid(), vm.name())) {
                log.info("FENCE WATCHDOG: deadline passed, but pid {} no longer runs {}: nothing to kill", vm.pid(), vm.name());
                continue;
            }
            boolean sent = ProcessHandle.of(vm.pid()).map(ProcessHandle::destroyForcibly).orElse(false);
            if (sent) {
                killed.add(vm.pid());
                log.error("FENCE WATCHDOG: killed QEMU of {} (pid {}): agent's lease renewal missed its deadline by {} ms "
                        + "(host {}, agent pid {} {})", vm.name(), vm.pid(), late / 1_000_000, d.host(), d.agentPid(),
                        ProcessHandle.of(d.agentPid()).map(p -> p.isAlive() ? "alive" : "gone").orElse("gone"));
            } else {
                log.error("FENCE WATCHDOG: could not SIGKILL QEMU of {} (pid {})", vm.name(), vm.pid());
            }
        }
        return killed;
    }

    private void idle(String reason) {
        if (reason.equals(idleReason)) return;
        idleReason = reason;
        log.warn("FENCE WATCHDOG: {}", reason);
    }
}
