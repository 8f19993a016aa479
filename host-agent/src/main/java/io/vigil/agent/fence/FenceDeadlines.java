package io.vigil.agent.fence;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of the fence watchdog: writes {@code fence-deadline.json} after each successful renewal, after an
 * VM started (so it is guarded before the next renewal) and after a change of lease timeout. Each write reads the
 * deadline and the VMs afresh, under one lock, so the last write always carries the newest deadline.
 */
public final class FenceDeadlines {
    private static final Logger log = LoggerFactory.getLogger(FenceDeadlines.class);

    private final Path stateDir;
    private final String host;
    private final String bootId;
    private final LongSupplier deadlineNanos;
    private final Supplier<? extends Collection<String>> guardedVms;
    private final Function<String, OptionalLong> qemuPid;
    private boolean failureLogged;

    /**
     * @param deadlineNanos the host lease's current fence deadline (System.nanoTime domain)
     * @param guardedVms    the VMs this host runs under disk leases (HA or not)
     * @param qemuPid       the pid of a VM's QEMU process, empty when it does not run
     */
    public FenceDeadlines(Path stateDir, String host, String bootId, LongSupplier deadlineNanos,
                          Supplier<? extends Collection<String>> guardedVms, Function<String, OptionalLong> qemuPid) {
        this.stateDir = stateDir;
        this.host = host;
        this.bootId = bootId;
        this.deadlineNanos = deadlineNanos;
        this.guardedVms = guardedVms;
        this.qemuPid = qemuPid;
    }

    /** Writes the current deadline and running VMs; returns what was written (null when the write failed). */
    public synchronized FenceDeadline publish() {
        List<FenceDeadline.GuardedVm> vms = new ArrayList<>();
        for (String vm : guardedVms.get()) {
            OptionalLong pid = qemuPid.apply(vm);
            if (pid.isPresent()) vms.add(new FenceDeadline.GuardedVm(vm, pid.getAsLong()));
        }
        FenceDeadline d = new FenceDeadline(host, bootId, deadlineNanos.getAsLong(), vms, ProcessHandle.current().pid());
        try {
            FenceDeadlineFile.write(stateDir, d);
            if (failureLogged) log.info("fence deadline file is written again");
            failureLogged = false;
            return d;
        } catch (IOException e) {
            // The watchdog keeps the older deadline, which can only make it fire earlier: safe.
            if (!failureLogged) log.error("cannot write {}: {}", FenceDeadlineFile.in(stateDir), e.toString());
            failureLogged = true;
            return null;
        }
    }
}
