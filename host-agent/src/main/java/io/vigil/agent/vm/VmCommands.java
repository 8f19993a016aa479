package io.vigil.agent.vm;

import io.vigil.agent.disk.DiskService;
import io.vigil.agent.disk.DiskXml;
import io.vigil.agent.lease.HostLease;
import io.vigil.agent.recovery.DirtyBlockRecovery;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import java.util.ArrayList;
import java.util.List;
import io.vigil.agent.lease.LocalStateStore;
import io.vigil.agent.lease.VmLeases;
import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.DomainXml;
import io.vigil.agent.libvirt.Hypervisor;
import io.vigil.agent.libvirt.HypervisorException;
import io.vigil.agent.libvirt.SavedDomain;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage.CommandResult;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the controller's commands on this host's VMs, each under the VM's disk lease. Idempotent by command
 * id: a command seen before returns the result of its first execution (or waits for it), never acts twice.
 * Commands for different VMs run in parallel; those for one VM run one at a time.
 */
public final class VmCommands {
    private static final Logger log = LoggerFactory.getLogger(VmCommands.class);
    private static final Pattern VM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,127}");
    private static final int RESULTS_KEPT = 4096;

    private final String host;
    private final Hypervisor hypervisor;
    private final VmLeases leases;
    private final HostLease hostLease;
    private final LocalStateStore state;
    private final Executor workers;
    private final Runnable vmStarted;
    private final SavedStates savedStates;
    private final DiskService disks;
    private final DirtyBlockRecovery recovery;
    /** Set once the host is shutting down: no VM may start here any more. */
    private volatile String startsRefused;
    private final Map<String, Object> vmLocks = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<CommandResult>> results = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<CommandResult>> eldest) {
            return size() > RESULTS_KEPT;
        }
    };

    public VmCommands(String host, Hypervisor hypervisor, SharedStorage storage, VmLeases leases, HostLease hostLease,
                      LocalStateStore state, Executor workers) {
        this(host, hypervisor, storage, leases, hostLease, state, workers, () -> {});
    }

    public VmCommands(String host, Hypervisor hypervisor, SharedStorage storage, VmLeases leases, HostLease hostLease,
                      LocalStateStore state, Executor workers, Runnable vmStarted) {
        this(host, hypervisor, storage, leases, hostLease, state, workers, vmStarted, DiskService.DIRECT);
    }

    /**
     * {@code vmStarted}: called once a VM's QEMU runs, before the start is reported (the fence watchdog learns it).
     * {@code disks}: how VM disks are served (through the agent's NBD server and cache, or opened by QEMU).
     */
    public VmCommands(String host, Hypervisor hypervisor, SharedStorage storage, VmLeases leases, HostLease hostLease,
                      LocalStateStore state, Executor workers, Runnable vmStarted, DiskService disks) {
        this(host, hypervisor, storage, leases, hostLease, state, workers, vmStarted, disks, null);
    }

    /**
     * {@code recovery} (null: none): reads a failed host's dirty cache blocks for a StartVm that names one; without
     * it such a start goes ahead from the images alone and says so.
     */
    public VmCommands(String host, Hypervisor hypervisor, SharedStorage storage, VmLeases leases, HostLease hostLease,
                      LocalStateStore state, Executor workers, Runnable vmStarted, DiskService disks,
                      DirtyBlockRecovery recovery) {
        this.vmStarted = vmStarted;
        this.disks = disks;
        this.recovery = recovery;
        this.savedStates = new SavedStates(storage);
        this.host = host;
        this.hypervisor = hypervisor;
        this.leases = leases;
        this.hostLease = hostLease;
        this.state = state;
        this.workers = workers;
    }

    /** Executes {@code command} once per id; the future completes with its result (never exceptionally). */
    public CompletableFuture<CommandResult> execute(AgentCommand command) {
        CompletableFuture<CommandResult> result;
        synchronized (results) {
            CompletableFuture<CommandResult> seen = results.get(command.id());
            if (seen != null) {
                log.info("command {} seen before: returning its result", command.id());
                return seen;
            }
            result = new CompletableFuture<>();
            results.put(command.id(), result);
        }
        workers.execute(() -> result.complete(run(command)));
        return result;
    }

    CommandResult run(AgentCommand command) {
        String vm = command.vm();
        if (vm == null || !VM_NAME.matcher(vm).matches())
            return fail(command, "invalid VM name '" + vm + "': letters, digits, '.', '_', '+' or '-'");
        log.info("command {}: {}", command.id(), describe(command));
        try {
            synchronized (lockFor(vm)) {
                CommandResult r;
                // One branch per permitted kind (Java 17 has no pattern switch); a kind this agent does not know
                // fails rather than falling into another's handler.
                if (command instanceof AgentCommand.StartVm s) r = start(s);
                else if (command instanceof AgentCommand.StopVm s) r = stop(s, s.timeoutSeconds() * 1000L);
                else if (command instanceof AgentCommand.DestroyVm d) r = destroy(d);
                else if (command instanceof AgentCommand.UndefineVm u) r = undefine(u);
                else if (command instanceof AgentCommand.SaveVm v) r = save(v);
                else r = fail(command, "this agent cannot carry out " + command.getClass().getSimpleName() + " commands");
                log.info("command {} {}: {}", command.id(), r.ok() ? "done" : "failed",
                        r.ok() ? vm + (r.detail() != null ? " (" + r.detail() + ")" : "") : r.error());
                return r;
            }
        } catch (HypervisorException | IOException e) {
            log.warn("command {} failed: {}", command.id(), e.getMessage());
            return fail(command, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail(command, "agent shutting down");
        } catch (RuntimeException e) {
            log.error("command {} failed", command.id(), e);
            return fail(command, e.toString());
        }
    }

    private CommandResult start(AgentCommand.StartVm cmd) throws HypervisorException, IOException, InterruptedException {
        String vm = cmd.vm();
        if (startsRefused != null) return fail(cmd, startsRefused);
        Optional<String> named = DomainXml.name(cmd.domainXml() == null ? "" : cmd.domainXml());
        if (named.isPresent() && !named.get().equals(vm))
            return fail(cmd, "the domain XML is named '" + named.get() + "' but the command is for VM '" + vm + "'");
        Path restoreFile = null;
        if (cmd.restoreFrom() != null) {
            try {
                restoreFile = savedStates.resolve(cmd.restoreFrom());
            } catch (IllegalArgumentException e) {
                return fail(cmd, e.getMessage());
            }
        }
        if (!hostLease.isLive())
            return fail(cmd, "shared storage unreachable: host " + host + " cannot renew its lease (self-fenced)");
        Optional<DomainStatus> existing = hypervisor.domain(vm);
        boolean existed = existing.isPresent();
        boolean running = existing.map(d -> d.state().isActive()).orElse(false);
        String xml = cmd.domainXml();
        Restore restore = restoreFile == null || running ? null : planRestore(vm, restoreFile, DomainXml.uuid(xml));
        if (restore != null && restore.saved() != null && DomainXml.uuid(xml).isEmpty())
            xml = DomainXml.withUuid(xml, restore.saved().uuid()); // libvirt restores only into the saved UUID
        DiskXml.Rewritten served = disks.prepare(vm, xml); // the disks this host's agent serves, through its cache
        xml = served.xml();
        if (existing.isPresent()) {
            Optional<String> uuid = DomainXml.uuid(xml);
            if (uuid.isEmpty()) {
                xml = DomainXml.withUuid(xml, existing.get().uuid()); // same domain, redefined
            } else if (!uuid.get().equalsIgnoreCase(existing.get().uuid()) && !existing.get().state().isActive()) {
                hypervisor.undefine(vm); // a stale definition of another domain under this name
            }
        }
        try {
            hypervisor.define(xml);
        } catch (HypervisorException e) {
            return fail(cmd, e.getMessage()); // libvirt's reason, e.g. a schema error
        }
        if (named.isEmpty() && hypervisor.domain(vm).isEmpty()) {
            return fail(cmd, "the domain XML does not define a domain named '" + vm + "'");
        }
        long hostGeneration = hostLease.generation();
        // The lease comes first, restore or not: a saved state is restored only once this host may write the disk.
        VmLeases.Acquisition acquisition = leases.acquire(vm, cmd.generation());
        if (acquisition instanceof VmLeases.Acquisition.Refused refused) {
            if (!existed) undefineQuietly(vm); // leave no trace of a VM this host may not run
            return fail(cmd, refused.reason());
        }
        long generation = ((VmLeases.Acquisition.Acquired) acquisition).generation();
        state.setHa(vm, cmd.haEnabled());
        state.setLeased(vm, true);
        // The failed host's dirty blocks go to the images under this host's lease, before anything opens them here.
        RecoveryReport recovered = cmd.recoverFrom() != null && !running ? recoverDirtyBlocks(cmd) : null;
        String reclaimed = null;
        try {
            if (cmd.reclaimMiB() > 0 && !running) {
                java.time.Duration took = disks.reclaim(cmd.reclaimMiB());
                reclaimed = "reclaimed " + cmd.reclaimMiB() + " MiB of cache in " + took.toMillis() + " ms";
            }
            disks.serve(vm, served, cmd.cacheMode(), generation); // only now: this host may write the disks
        } catch (IOException e) {
            if (!running) {
                disks.discard(vm);
                leases.release(vm);
            }
            return fail(cmd, vm + ": cannot serve its disks: " + e.getMessage());
        }
        String detail = null;
        try {
            if (restore != null && restore.coldStartReason() == null) {
                detail = restoreOrColdStart(vm, restoreFile, restore.saved());
            } else {
                hypervisor.start(vm);
                if (restore != null) detail = "cold start: " + restore.coldStartReason();
            }
        } catch (HypervisorException e) {
            try {
                disks.release(vm);
            } catch (IOException writeBack) { // the image lacks writes only this cache holds: keep the lease
                return fail(cmd, e.getMessage() + "; its disk cache could not be written back, so this host keeps its "
                        + "lease: " + writeBack.getMessage());
            }
            leases.release(vm);
            return fail(cmd, e.getMessage());
        }
        if (reclaimed != null) detail = detail == null ? reclaimed : reclaimed + "; " + detail;
        if (recovered != null) detail = detail == null ? describe(recovered) : describe(recovered) + "; " + detail;
        if (restoreFile != null && (restore == null || restore.saved() != null)) {
            // This VM's guest now runs from here on (restored, booted afresh or already running): that saved state
            // is stale, and restoring it later would roll the guest back behind its own disk.
            deleteSavedState(restoreFile);
            if (restore == null) detail = "already running here; saved state " + cmd.restoreFrom() + " not used";
        }
        vmStarted.run();
        // The host lease may have lapsed while QEMU started: never leave a VM running on a lease no longer held.
        if (!hostLease.isLive() || hostLease.generation() != hostGeneration || leases.held(vm).isEmpty()) {
            hypervisor.destroy(vm);
            return fail(cmd, "host lease lapsed while starting " + vm + "; destroyed it");
        }
        return new CommandResult(host, cmd.id(), vm, true, null, generation, detail, recovered);
    }

    /** Reads the dirty blocks the VM's failed host still holds and writes them to the images (write-through: none). */
    private RecoveryReport recoverDirtyBlocks(AgentCommand.StartVm cmd) {
        RecoverySource from = cmd.recoverFrom();
        if (cmd.cacheMode() == CacheMode.WRITE_THROUGH) return null; // every acknowledged write is on the image
        if (recovery == null)
            return new RecoveryReport(from.host(), "none", RecoveryReport.UNREACHABLE, 0, 0, 0, 0, 0, 0, 0,
                    from.lastWriteBackMillis(), "this agent has no remote memory transport");
        List<DirtyBlockRecovery.Disk> images = new ArrayList<>();
        for (DiskXml.ServedDisk d : DiskXml.cacheable(cmd.vm(), cmd.domainXml()))
            images.add(new DirtyBlockRecovery.Disk(d.target(), d.image()));
        return recovery.recover(cmd.vm(), images, from);
    }

    private static String describe(RecoveryReport r) {
        if (r.reached())
            return "recovered " + r.blocks() + " dirty blocks (" + r.bytes() + " bytes) from " + r.fromHost() + " over "
                    + r.transport() + " in " + r.millis() + " ms" + (r.torn() + r.corrupt() > 0 ? " (" + r.torn()
                    + " torn, " + r.corrupt() + " corrupt not applied)" : "");
        return "dirty blocks on " + r.fromHost() + " not recovered (" + r.outcome() + ": " + r.detail() + ")";
    }

    /**
     * How a start with a saved state goes: {@code saved} is the domain the file holds, when it could be read;
     * {@code coldStartReason} is why it cannot be restored (null: restore it).
     */
    private record Restore(SavedDomain saved, String coldStartReason) {}

    private Restore planRestore(String vm, Path file, Optional<String> xmlUuid) {
        String rel = savedStates.relative(file);
        if (!Files.isRegularFile(file)) return new Restore(null, "saved state " + rel + " not found");
        SavedDomain saved;
        try {
            saved = hypervisor.savedDomain(file);
        } catch (HypervisorException e) {
            return new Restore(null, e.getMessage());
        }
        if (!saved.name().equals(vm))
            return new Restore(null, "saved state " + rel + " holds VM '" + saved.name() + "', not '" + vm + "'");
        if (xmlUuid.isPresent() && !xmlUuid.get().equalsIgnoreCase(saved.uuid()))
            return new Restore(saved, "saved state " + rel + " is of domain UUID " + saved.uuid()
                    + " but the domain XML has UUID " + xmlUuid.get());
        return new Restore(saved, null);
    }

    /** Restores {@code vm} from {@code file}, or cold-starts it when the restore fails; says which. */
    private String restoreOrColdStart(String vm, Path file, SavedDomain saved) throws HypervisorException {
        String rel = savedStates.relative(file);
        try {
            String savedXml = saved.xml() == null ? null : disks.retarget(vm, saved.xml());
            if (savedXml == null || savedXml.equals(saved.xml())) hypervisor.restore(file);
            else hypervisor.restore(file, savedXml); // its disks now come from this host's agent
            return "restored from saved state " + rel;
        } catch (HypervisorException e) {
            log.warn("{}: restore from {} failed ({}); cold-starting it instead", vm, rel, e.getMessage());
            if (isActive(vm)) hypervisor.destroy(vm); // nothing of a failed restore may run on
            hypervisor.start(vm);
            return "cold start: restore from " + rel + " failed: " + e.getMessage();
        }
    }

    private void deleteSavedState(Path file) {
        try {
            if (Files.deleteIfExists(file)) log.info("deleted saved state {}", savedStates.relative(file));
        } catch (IOException e) {
            log.warn("cannot delete saved state {}: {}", file, e.toString());
        }
    }

    /**
     * The first half of a planned move: save the VM's memory state to shared storage (which stops it here), then
     * give its lease up and forget it, so that the self-fence and the fence watchdog leave it alone. The lease is
     * released only once QEMU is gone: the host that restores it may write the disk from then on.
     */
    private CommandResult save(AgentCommand.SaveVm cmd) throws HypervisorException, IOException {
        String vm = cmd.vm();
        Path file;
        try {
            file = savedStates.resolve(cmd.saveTo());
        } catch (IllegalArgumentException e) {
            return fail(cmd, e.getMessage());
        }
        String rel = savedStates.relative(file);
        if (!isActive(vm)) {
            if (Files.isRegularFile(file)) { // saved before; the agent may have restarted since
                disks.release(vm);
                releaseAndForget(vm);
                return ok(cmd, vm + " was already saved to " + rel);
            }
            return fail(cmd, vm + " is not running on host " + host + ": nothing to save");
        }
        if (!hostLease.isLive())
            return fail(cmd, "shared storage unreachable: host " + host + " cannot renew its lease (self-fenced)");
        Path part = savedStates.partFor(file);
        try {
            hypervisor.save(vm, part);
        } catch (HypervisorException e) {
            Files.deleteIfExists(part);
            return fail(cmd, e.getMessage()); // libvirt resumed the VM: it runs on here
        }
        // QEMU is gone from here on, whatever else fails: its disk is no longer written from this host.
        try {
            savedStates.complete(part, file);
        } catch (IOException e) {
            releaseQuietly(vm);
            return fail(cmd, vm + " is stopped, but its saved state could not be completed as " + rel + ": " + e);
        }
        try {
            disks.release(vm); // the host restoring it reads the image: every dirty block goes back first
            releaseAndForget(vm);
        } catch (IOException e) {
            return fail(cmd, vm + " was saved to " + rel + " and is stopped, but its disk cache could not be written "
                    + "back or its lease released (retry the save): " + e);
        }
        return ok(cmd, String.format(java.util.Locale.ROOT, "saved to %s (%.1f MiB)", rel, file.toFile().length() / 1048576.0));
    }

    private void releaseQuietly(String vm) {
        try {
            disks.release(vm);
            releaseAndForget(vm);
        } catch (IOException e) {
            log.warn("cannot release the lease of {}: {}", vm, e.toString());
        }
    }

    private void releaseAndForget(String vm) throws IOException {
        leases.release(vm);
        state.setHa(vm, false);
        state.setLeased(vm, false);
    }

    private CommandResult stop(AgentCommand cmd, long timeoutMillis) throws HypervisorException, IOException, InterruptedException {
        stopLocked(cmd.vm(), timeoutMillis);
        return ok(cmd);
    }

    private void stopLocked(String vm, long timeoutMillis) throws HypervisorException, IOException, InterruptedException {
        if (isActive(vm)) {
            hypervisor.shutdown(vm);
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (isActive(vm) && System.nanoTime() < deadline) Thread.sleep(200);
            if (isActive(vm)) {
                log.info("{} did not shut down within {} ms: destroying it", vm, timeoutMillis);
                hypervisor.destroy(vm);
            }
        }
        disks.release(vm);
        leases.release(vm);
    }

    private CommandResult destroy(AgentCommand cmd) throws HypervisorException, IOException {
        hypervisor.destroy(cmd.vm());
        disks.release(cmd.vm());
        leases.release(cmd.vm());
        return ok(cmd);
    }

    private CommandResult undefine(AgentCommand cmd) throws HypervisorException, IOException {
        hypervisor.destroy(cmd.vm());
        disks.release(cmd.vm());
        leases.release(cmd.vm());
        hypervisor.undefine(cmd.vm());
        state.setHa(cmd.vm(), false);
        state.setLeased(cmd.vm(), false);
        return ok(cmd);
    }

    /** A domain stopped by itself (guest shutdown, crash): its disk is no longer written, so give its lease up. */
    public void domainStopped(String vm) {
        synchronized (lockFor(vm)) {
            try {
                if (leases.held(vm).isPresent() && !isActive(vm) && hostLease.isLive()) {
                    disks.release(vm);
                    leases.release(vm);
                }
            } catch (HypervisorException | IOException e) {
                log.warn("cannot release the lease of stopped {}: {}", vm, e.getMessage());
            }
        }
    }

    /** The controller restarted these elsewhere while this host was declared failed: they must not run here. */
    public void lost(Collection<String> vms) {
        for (String vm : vms) {
            synchronized (lockFor(vm)) {
                try {
                    if (isActive(vm)) log.warn("{} was restarted elsewhere while this host was out: destroying it", vm);
                    hypervisor.destroy(vm);
                } catch (HypervisorException e) {
                    log.error("cannot destroy lost VM {}: {}", vm, e.getMessage());
                }
                disks.discard(vm); // its disks are written from another host now: this cache is stale
                leases.forget(vm);
                state.setHa(vm, false);
                state.setLeased(vm, false);
            }
        }
    }

    /**
     * Destroys every running VM started here under a lease, HA or not, at once and without taking the per-VM locks
     * (a command stuck in libvirt must not delay a self-fence): once the host lease lapses, none of their disk leases
     * protects them. Returns the VMs destroyed.
     */
    public java.util.List<String> destroyLeasedVmsNow() {
        // In parallel: the fence deadline budget is for all of them, not for each.
        java.util.List<String> destroyed = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Thread> killers = new java.util.ArrayList<>();
        for (String vm : state.leasedVms()) {
            Thread t = new Thread(() -> {
                try {
                    if (isActive(vm)) {
                        hypervisor.kill(vm);
                        destroyed.add(vm);
                    }
                    disks.abandon(vm); // left for recovery by the host taking it over; never written back from here
                } catch (HypervisorException e) {
                    log.error("SELF-FENCE: cannot destroy {}: {}", vm, e.getMessage());
                }
            }, "vigil-fence-" + vm);
            t.setDaemon(true);
            t.start();
            killers.add(t);
        }
        for (Thread t : killers) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return java.util.List.copyOf(destroyed);
    }

    /** From now on every StartVm fails with {@code why}: the host is going down. */
    public void refuseStarts(String why) {
        startsRefused = why;
    }

    /**
     * Stops every VM running here under a lease, HA or not, side by side: ACPI shutdown, destroyed if still running
     * after {@code timeoutMillis}; releases their leases. A command under way on a VM finishes first. Returns the VMs
     * that were running.
     */
    public java.util.List<String> stopLeasedVms(long timeoutMillis) {
        java.util.List<String> stopped = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Thread> stoppers = new java.util.ArrayList<>();
        for (String vm : state.leasedVms()) {
            Thread t = new Thread(() -> {
                synchronized (lockFor(vm)) {
                    try {
                        boolean running = isActive(vm);
                        stopLocked(vm, timeoutMillis);
                        if (running) stopped.add(vm);
                    } catch (HypervisorException | IOException e) {
                        log.error("cannot stop {}: {}", vm, e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "vigil-stop-" + vm);
            t.setDaemon(true);
            t.start();
            stoppers.add(t);
        }
        long deadline = System.nanoTime() + (timeoutMillis + 30_000) * 1_000_000L; // destroy itself takes seconds
        for (Thread t : stoppers) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return java.util.List.copyOf(stopped);
    }

    /** The isolation response: stop (gracefully within {@code timeoutMillis}, or at once if 0) the running HA VMs. */
    public void stopHaVms(long timeoutMillis) {
        for (String vm : state.haVms()) {
            synchronized (lockFor(vm)) {
                try {
                    if (timeoutMillis > 0) {
                        stopLocked(vm, timeoutMillis);
                    } else {
                        hypervisor.destroy(vm);
                        disks.release(vm);
                        leases.release(vm);
                    }
                } catch (HypervisorException | IOException e) {
                    log.error("isolation response: cannot stop {}: {}", vm, e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private boolean isActive(String vm) throws HypervisorException {
        return hypervisor.domain(vm).map(DomainStatus::state).map(s -> s.isActive()).orElse(false);
    }

    private void undefineQuietly(String vm) {
        try {
            if (!isActive(vm)) hypervisor.undefine(vm);
        } catch (HypervisorException e) {
            log.debug("undefine {}: {}", vm, e.getMessage());
        }
    }

    private Object lockFor(String vm) {
        return vmLocks.computeIfAbsent(vm, k -> new Object());
    }

    private CommandResult ok(AgentCommand cmd) {
        return ok(cmd, null);
    }

    private CommandResult ok(AgentCommand cmd, String detail) {
        return new CommandResult(host, cmd.id(), cmd.vm(), true, null, 0, detail);
    }

    private CommandResult fail(AgentCommand cmd, String error) {
        return new CommandResult(host, cmd.id(), cmd.vm(), false, error, 0);
    }

    private static String describe(AgentCommand c) {
        if (c instanceof AgentCommand.StartVm s)
            return "start " + s.vm() + " at lease generation " + s.generation() + (s.haEnabled() ? " (HA)" : "")
                    + (s.restoreFrom() != null ? " from saved state " + s.restoreFrom() : "");
        if (c instanceof AgentCommand.StopVm s) return "stop " + s.vm() + " (timeout " + s.timeoutSeconds() + " s)";
        if (c instanceof AgentCommand.DestroyVm d) return "destroy " + d.vm();
        if (c instanceof AgentCommand.UndefineVm u) return "undefine " + u.vm();
        if (c instanceof AgentCommand.SaveVm v) return "save " + v.vm() + " to " + v.saveTo();
        return c.toString();
    }
}
