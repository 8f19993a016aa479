package io.vigil.agent;

import io.vertx.core.Vertx;
import io.vigil.agent.config.AgentConfig;
import io.vigil.agent.disk.CachedDisks;
import io.vigil.agent.disk.DiskService;
import io.vigil.agent.recovery.DirtyBlockRecovery;
import io.vigil.agent.recovery.KeeperEndpointFile;
import io.vigil.memory.RemoteMemories;
import io.vigil.memory.RemoteMemory;
import io.vigil.agent.fence.FenceDeadlines;
import io.vigil.agent.fence.FenceWatchdogProcess;
import io.vigil.agent.isolation.IsolationMonitor;
import io.vigil.agent.leader.CommandFence;
import io.vigil.agent.leader.LeaderEpochs;
import io.vigil.agent.leader.LeaderLeaseWatch;
import io.vigil.agent.lease.HostLease;
import io.vigil.agent.lease.HostLiveness;
import io.vigil.agent.lease.LeaseRecovery;
import io.vigil.protocol.storage.LeaseTiming;
import io.vigil.agent.lease.LocalState;
import io.vigil.agent.lease.LocalStateStore;
import io.vigil.agent.lease.SelfFenceWatchdog;
import io.vigil.agent.lease.VmLeases;
import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.Hypervisor;
import io.vigil.agent.libvirt.HypervisorException;
import io.vigil.agent.libvirt.LibvirtHypervisor;
import io.vigil.agent.libvirt.LifecycleEvent;
import io.vigil.agent.libvirt.QemuPidFiles;
import io.vigil.agent.link.ControllerLink;
import io.vigil.agent.shutdown.CleanHostShutdown;
import io.vigil.agent.vm.Inventory;
import io.vigil.agent.vm.InventoryFeed;
import io.vigil.agent.vm.PausedVms;
import io.vigil.agent.libvirt.QemuLogs;
import io.vigil.agent.vm.VmCommands;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One host agent: recovers its host lease, connects to libvirt, keeps the lease and the self-fence running, and
 * serves the controller over its link. Assembles the capability packages; holds no logic of its own beyond the
 * start-up order, which matters: a resumed lease is renewed before anything slow (libvirt) happens, and a lapsed
 * one is given up only after the VMs it protected are destroyed.
 */
public final class HostAgent implements ControllerLink.Agent, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostAgent.class);

    private final AgentConfig config;
    private final SharedStorage storage;
    /** A VM start spends most of its time waiting on QEMU, so a failover's starts run side by side. */
    private final ExecutorService commandWorkers = Executors.newFixedThreadPool(16, named("vigil-command"));
    private final ExecutorService eventWorker = Executors.newSingleThreadExecutor(named("vigil-libvirt-events"));
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(named("vigil-heartbeat-poll"));
    private LocalStateStore stateStore;
    private HostLease hostLease;
    private SelfFenceWatchdog watchdog;
    /** Null where libvirt runs no QEMU process this agent can find (the test driver): nothing to guard. */
    private FenceDeadlines fenceDeadlines;
    private FenceWatchdogProcess fenceWatchdogProcess;
    private HostLiveness liveness;
    private Hypervisor hypervisor;
    private VmLeases vmLeases;
    private volatile VmCommands vmCommands;
    private Inventory inventory;
    private InventoryFeed inventoryFeed;
    /** VMs paused on a disk error: resumed once their disks work, or reported with the cause. */
    private PausedVms paused;
    private RemoteMemory remoteMemory;
    private KeeperEndpointFile memoryKeeper;
    private volatile DiskService disks;
    private Vertx vertx;
    private ControllerLink link;
    private LeaderLeaseWatch leaderLease;
    private CommandFence commandFence;
    private IsolationMonitor isolation;
    private volatile AgentPolicy policy;
    private final CleanHostShutdown hostShutdown = new CleanHostShutdown();
    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();

    private HostAgent(AgentConfig config) {
        this.config = config;
        this.storage = new SharedStorage(config.sharedStorage());
        this.policy = new AgentPolicy(config.heartbeatIntervalMillis(), config.leaseTimeoutMillis(), IsolationResponse.NONE);
    }

    /** Opens the hypervisor; lifecycle events must be delivered on {@code events}. */
    public interface HypervisorFactory {
        Hypervisor open(AgentConfig config, java.util.concurrent.Executor events) throws HypervisorException;
    }

    /** Starts an agent on libvirt at the configured URI. */
    public static HostAgent start(AgentConfig config) throws Exception {
        return start(config, (c, events) -> LibvirtHypervisor.open(c.libvirtUri(), events));
    }

    /** Starts an agent; {@code hypervisorFactory} opens libvirt (tests may pass another). */
    public static HostAgent start(AgentConfig config, HypervisorFactory hypervisorFactory) throws Exception {
        HostAgent agent = new HostAgent(config);
        try {
            agent.startUp(hypervisorFactory);
        } catch (Exception | Error e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    private void startUp(HypervisorFactory hypervisorFactory) throws Exception {
        String host = config.host();
        if (Files.isDirectory(storage.root())) {
            Files.createDirectories(storage.hostsDir());
            Files.createDirectories(storage.leasesDir());
        } else {
            log.error("shared storage {} is not reachable; the host lease cannot be renewed", storage.root());
        }
        stateStore = LocalStateStore.open(config.stateDir(), host, LocalStateStore.currentBootId());
        Optional<LocalState> previous = stateStore.previous();
        Optional<HostHeartbeat> onStorage = readOwnHeartbeat();
        if (previous.isEmpty() && onStorage.isPresent()) {
            log.info("no local state but a heartbeat for {} on shared storage: checking nobody else renews it", host);
            onStorage = LeaseRecovery.checkNoOtherWriter(storage, host, Thread::sleep);
        }
        LeaseRecovery.Decision decision = LeaseRecovery.decide(previous, stateStore.bootId(), System.nanoTime(), onStorage);
        log.info("host lease: {}", decision.reason());
        liveness = new HostLiveness(storage, System::nanoTime);
        if (config.fenceWatchdog() && QemuPidFiles.forUri(config.libvirtUri()).isPresent()) {
            // Launched now so that its JVM starts while libvirt connects; waited for before any VM is touched.
            fenceWatchdogProcess = new FenceWatchdogProcess(config.stateDir(), System.getProperty("java.class.path"));
            try {
                fenceWatchdogProcess.startIfNone();
            } catch (IOException e) {
                log.error("fence watchdog: cannot start it: {}", e.getMessage()); // tried again below
            }
        }

        if (decision.resumed()) {
            // Renew first: the predecessor's deadline is running.
            hostLease = new HostLease(host, storage, System::nanoTime, stateStore, decision.generation(), decision.counter(),
                    decision.lastRenewalStartNanos(), previous.get().leaseTimeoutMillis());
            hostLease.setLeaseTimeoutMillis(config.leaseTimeoutMillis());
            hostLease.addListener(fenceListener());
            guardWithDeadlineFile();
            hostLease.renew(); // writes the fence deadline file at once: the watchdog's old deadline is about to pass
            startWatchdog();
            startFenceWatchdogProcess();
            hypervisor = hypervisorFactory.open(config, eventWorker);
        } else {
            hypervisor = hypervisorFactory.open(config, eventWorker);
            // Our old VM leases may have lapsed and been taken over: the VMs they covered must go before we rejoin.
            for (String vm : stateStore.leasedVms()) {
                Optional<DomainStatus> d = hypervisor.domain(vm);
                if (d.isPresent() && d.get().state().isActive()) {
                    log.warn("destroying VM {}: its lease lapsed while no agent renewed it", vm);
                    hypervisor.destroy(vm);
                }
            }
            hostLease = new HostLease(host, storage, System::nanoTime, stateStore, decision.generation(), 0,
                    System.nanoTime(), config.leaseTimeoutMillis());
            hostLease.addListener(fenceListener());
            guardWithDeadlineFile();
            if (!hostLease.renew()) log.error("first heartbeat at generation {} failed", decision.generation());
            startWatchdog();
            startFenceWatchdogProcess();
        }

        vmLeases = new VmLeases(storage, hostLease, liveness, System::nanoTime, Thread::sleep);
        if (decision.resumed()) {
            var held = vmLeases.reattach();
            log.info("re-attached to {} VM lease(s): {}", held.size(), held);
        }
        paused = new PausedVms(hypervisor, this::diskTrouble, 60_000, Thread::sleep);
        disks = serveDisks();
        remoteMemory = RemoteMemories.open(config.remoteMemory());
        memoryKeeper = new KeeperEndpointFile(config.memoryKeeperDir());
        vmCommands = new VmCommands(host, hypervisor, storage, vmLeases, hostLease, stateStore, commandWorkers,
                this::publishFenceDeadline, disks, new DirtyBlockRecovery(remoteMemory));
        if (hostLease.generation() != decision.generation() || hostLease.phase() != HostLease.Phase.LIVE) {
            // fenced while libvirt was connecting: the fence could not reach the VMs then
            List<String> destroyed = vmCommands.destroyLeasedVmsNow();
            log.error("SELF-FENCE: the host lease lapsed while libvirt was connecting; destroyed VMs {}", destroyed);
        }
        inventory = new Inventory(hypervisor, vmLeases, config.cpus(), config.memoryMiB(), disks);
        inventory.memoryKeeper(memoryKeeper::endpoint);
        inventory.problems(paused::problem);
        logInventory();
        inventoryFeed.start(500);
        hypervisor.onLifecycle(this::onLifecycle);
        poller.scheduleWithFixedDelay(() -> {
            try {
                liveness.pollAll();
            } catch (RuntimeException e) {
                log.warn("heartbeat poll failed: {}", e.toString());
            }
        }, 0, 250, TimeUnit.MILLISECONDS);

        vertx = Vertx.vertx();
        io.vigil.agent.tls.TlsFiles tls = null;
        if (config.usesTls()) {
            tls = new io.vigil.agent.tls.TlsFiles(config.tlsDir());
            if (!tls.present()) log.error("controllers are wss:// but {} holds no certificate: the controllers will refuse "
                    + "this agent until it enrolls (start it with a joinToken)", tls.dir());
        }
        LeaderEpochs epochs = LeaderEpochs.open(config.stateDir());
        leaderLease = new LeaderLeaseWatch(new LeaderLeaseFiles(storage), epochs, System::nanoTime, config.leaseTimeoutMillis());
        leaderLease.read(); // the epoch on storage is known before the first command can arrive
        leaderLease.start();
        commandFence = new CommandFence(host, epochs, commandWorkers, c -> vmCommands.execute(c));
        link = new ControllerLink(vertx, config.controllers(), this, config.failureTimeoutMillis(), tls != null && tls.present() ? tls : null);
        isolation = new IsolationMonitor(link, hostLease::isLive, leaderLease::controlPlaneAlive, leaderLease::renewedAfter,
                timeout -> vmCommands.stopHaVms(timeout), config.failureTimeoutMillis(),
                config.isolationShutdownTimeoutMillis(), System::nanoTime);
        link.start(config.heartbeatIntervalMillis());
        isolation.start();
        log.info("agent {} started: generation {}, libvirt {}, shared storage {}, controllers {}", host,
                hostLease.generation(), config.libvirtUri(), storage.root(), config.controllers());
    }

    private HostLease.Listener fenceListener() {
        return new HostLease.Listener() {
            @Override
            public void fence(long lostGeneration) {
                VmCommands commands = vmCommands;
                if (commands == null) { // libvirt not connected yet: start-up destroys them once it is
                    log.error("SELF-FENCE: the host lease lapsed during start-up; its VMs are destroyed once libvirt is connected");
                    return;
                }
                List<String> destroyed = commands.destroyLeasedVmsNow();
                log.error("SELF-FENCE: destroyed VMs {}", destroyed);
            }

            @Override
            public void rejoined(long newGeneration) {
                if (vmLeases != null) vmLeases.forgetAll();
            }
        };
    }

    /**
     * From the first renewal on, every renewal tells the fence watchdog process the new deadline and the running HA
     * VMs' QEMU pids. Must be in place before any VM is re-attached or started.
     */
    private void guardWithDeadlineFile() {
        Optional<QemuPidFiles> pids = QemuPidFiles.forUri(config.libvirtUri());
        if (pids.isEmpty()) {
            log.warn("fence watchdog: libvirt {} runs no QEMU process this agent can find, so VMs are unguarded "
                    + "if the agent dies", config.libvirtUri());
            return;
        }
        fenceDeadlines = new FenceDeadlines(config.stateDir(), config.host(), stateStore.bootId(),
                hostLease::fenceDeadlineAtNanos, stateStore::leasedVms, pids.get()::pidOf);
        hostLease.addListener(new HostLease.Listener() {
            @Override
            public void fence(long lostGeneration) {
                // the watchdog process fires on its own at the same deadline
            }

            @Override
            public void renewed(long generation) {
                publishFenceDeadline();
            }
        });
    }

    private void publishFenceDeadline() {
        FenceDeadlines d = fenceDeadlines;
        if (d != null) d.publish();
    }

    /**
     * Starts the watchdog process unless one is alive (a predecessor's keeps guarding across an agent restart), and
     * waits until it polls, before any VM is re-attached or started; then checks on it every 5 s.
     */
    private void startFenceWatchdogProcess() throws InterruptedException {
        if (fenceDeadlines == null) return;
        if (fenceWatchdogProcess == null) {
            log.warn("fence watchdog disabled (fenceWatchdog: false): VMs are unguarded if the agent dies, unless "
                    + "your own watchdog acts on {}", config.stateDir().resolve(io.vigil.agent.fence.FenceDeadlineFile.NAME));
            return;
        }
        try {
            log.info("fence watchdog: pid {} guards the VMs if this agent dies", fenceWatchdogProcess.ensureRunning(10_000));
        } catch (IOException e) {
            log.error("fence watchdog: cannot start it ({}); retrying every 5 s", e.getMessage());
        }
        fenceWatchdogProcess.keepAlive(5_000);
    }

    private void startWatchdog() {
        watchdog = new SelfFenceWatchdog(hostLease);
        watchdog.start(config.heartbeatIntervalMillis());
    }

    private Optional<HostHeartbeat> readOwnHeartbeat() {
        try {
            return RecordFiles.read(storage.hostHeartbeat(config.host()), HostHeartbeat.class);
        } catch (IOException e) {
            log.warn("cannot read own heartbeat: {}", e.getMessage());
            return Optional.empty();
        }
    }

    /** Right after connecting to an embedded root libvirt may still be re-attaching to QEMU: retry once or twice. */
    /**
     * The NBD server and disk caches, serving again what a previous agent served (its arenas re-attached); VMs that
     * QEMU paused on a disk error while no agent served them are resumed.
     */
    private DiskService serveDisks() throws IOException {
        if (!config.diskCache()) return DiskService.DIRECT;
        Hypervisor h = hypervisor;
        CachedDisks cached = CachedDisks.start(config.nbdSocketDir(), config.cacheDir(), config.stateDir().resolve("disks"),
                config.cacheFlushIntervalMillis(), h::qemuDacLabel);
        List<String> again = cached.recover(vm -> vmLeases.held(vm).isPresent(), this::isActive);
        if (!again.isEmpty()) {
            log.info("serving the disks of {} again", again);
            commandWorkers.execute(() -> resumePaused(again));
        }
        return cached;
    }

    /** Resumes the VMs QEMU paused on a disk error (see {@link PausedVms}); a VM left paused is reported. */
    private void resumePaused(List<String> vms) {
        try {
            if (!paused.resume(vms).isEmpty() && inventoryFeed != null) inventoryFeed.refreshSoon();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the agent can see of why {@code vm}'s disks fail: its socket, then QEMU's own words in its log. */
    private String diskTrouble(String vm) {
        List<String> causes = new java.util.ArrayList<>();
        if (disks instanceof CachedDisks cached) {
            java.nio.file.Path socket = cached.socketOf(vm);
            if (!Files.exists(socket)) causes.add("its disk socket " + socket + " does not exist (its disks are not served)");
            else {
                try {
                    causes.add("its disk socket " + socket + " is owned by uid " + Files.getAttribute(socket, "unix:uid")
                            + " gid " + Files.getAttribute(socket, "unix:gid") + " with mode "
                            + java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))
                            + ", QEMU runs as " + hypervisor.qemuDacLabel(null).orElse("?"));
                } catch (IOException | RuntimeException e) {
                    causes.add("its disk socket " + socket + " cannot be read: " + e.getMessage());
                }
            }
        }
        QemuLogs.forUri(config.libvirtUri()).flatMap(l -> l.lastDiskError(vm)).ifPresent(line -> causes.add("QEMU says: " + line));
        return causes.isEmpty() ? "no cause found on this host" : String.join("; ", causes);
    }

    private boolean isActive(String vm) {
        try {
            return hypervisor.domain(vm).map(d -> d.state().isActive()).orElse(false);
        } catch (HypervisorException e) {
            return false;
        }
    }

    @Override
    public void cacheBudgets(java.util.Map<String, Long> budgetsMiB) {
        DiskService d = disks;
        if (d != null) d.budgets(budgetsMiB);
    }

    private void logInventory() throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                inventoryFeed = new InventoryFeed(inventory::snapshot);
                HostInventory inv = inventoryFeed.latest();
                log.info("inventory: {} CPUs, {} MiB, domains {}", inv.cpus(), inv.memoryTotalMiB(),
                        inv.vms().stream().map(v -> v.name() + "=" + v.state().wireName()).toList());
                return;
            } catch (HypervisorException e) {
                if (attempt >= 5) throw e;
                Thread.sleep(200L * attempt);
            }
        }
    }

    private void onLifecycle(LifecycleEvent event) {
        VmPowerState state;
        String reason = null;
        try {
            Optional<DomainStatus> d = hypervisor.domain(event.vm());
            state = d.map(DomainStatus::state).orElse(VmPowerState.SHUTOFF);
            reason = d.map(DomainStatus::stateReason).orElse(null);
        } catch (HypervisorException e) {
            state = VmPowerState.OTHER;
        }
        if (state != VmPowerState.PAUSED) paused.cleared(event.vm());
        if (state == VmPowerState.PAUSED && "ioerror".equals(reason) && disks instanceof CachedDisks
                && paused.worthResuming(event.vm())) {
            // a disk request failed (the agent restarted, or QEMU lost its connection): resume once QEMU reconnects
            String vm = event.vm();
            commandWorkers.execute(() -> resumePaused(List.of(vm)));
        }
        try {
            inventoryFeed.refresh(); // before the event goes out: no later heartbeat carries an older state
        } catch (HypervisorException | RuntimeException e) {
            log.debug("inventory refresh after a lifecycle event: {}", e.toString());
        }
        log.info("libvirt: {} {} ({}) -> {}", event.vm(), event.event(), event.detail(), state.wireName());
        if (event.domainStopped()) vmCommands.domainStopped(event.vm());
        ControllerLink l = link;
        if (l != null) l.send(new AgentMessage.VmLifecycle(config.host(), event.vm(), event.event(), event.detail(), state));
    }

    // ---- ControllerLink.Agent

    @Override
    public AgentMessage.Hello hello() {
        HostInventory inv;
        try {
            inv = inventoryFeed.refresh();
        } catch (HypervisorException e) {
            log.warn("libvirt inventory failed; saying hello with the last one ({} ms old): {}", inventoryFeed.ageMillis(),
                    e.getMessage());
            inv = inventoryFeed.latest();
        }
        return new AgentMessage.Hello(config.host(), hostLease.generation(), ProtocolVersion.CURRENT, inv, hostLease.isLive());
    }

    /** Never waits on libvirt: the latest inventory the feed has (at most about half a second old). */
    @Override
    public AgentMessage.Heartbeat heartbeat(long sequence) {
        return new AgentMessage.Heartbeat(config.host(), hostLease.generation(), sequence, inventoryFeed.latest(),
                hostLease.isLive());
    }

    /** The command's result goes out after an inventory read once it ended, so no later heartbeat contradicts it. */
    @Override
    public CompletableFuture<AgentMessage.CommandResult> execute(ControllerMessage.Command command) {
        return commandFence.execute(command).thenApplyAsync(result -> {
            try {
                inventoryFeed.refresh();
            } catch (HypervisorException | RuntimeException e) {
                log.debug("inventory refresh after a command: {}", e.toString());
            }
            return result;
        }, commandWorkers);
    }

    /** Executes {@code command} without a leader epoch to check: for callers inside this process (tests), not controllers. */
    public CompletableFuture<AgentMessage.CommandResult> execute(AgentCommand command) {
        return vmCommands.execute(command);
    }

    @Override
    public void applyPolicy(AgentPolicy next) {
        AgentPolicy current = policy;
        if (next == null || next.equals(current)) return;
        if (LeaseTiming.fenceDeadlineMillis(next.leaseTimeoutMillis()) <= next.heartbeatIntervalMillis()) {
            log.error("ignoring policy {}: the self-fence deadline (0.75 x lease timeout - 500 ms) must exceed the heartbeat interval", next);
            return;
        }
        long failureTimeout = failureTimeout(next);
        log.info("policy: heartbeat {} ms, lease timeout {} ms, failure timeout {} ms, isolation response {}",
                next.heartbeatIntervalMillis(), next.leaseTimeoutMillis(), failureTimeout, next.isolationResponse().wireName());
        hostLease.setLeaseTimeoutMillis(next.leaseTimeoutMillis());
        publishFenceDeadline(); // a shorter timeout moves the deadline earlier at once
        if (next.heartbeatIntervalMillis() != current.heartbeatIntervalMillis()) {
            watchdog.setInterval(next.heartbeatIntervalMillis());
            link.setHeartbeatInterval(next.heartbeatIntervalMillis());
        }
        // The controller declares this host isolated after its failure timeout: the host must judge by the same one.
        link.setFailureTimeoutMillis(failureTimeout);
        isolation.setFailureTimeoutMillis(failureTimeout);
        isolation.setResponse(next.isolationResponse());
        policy = next;
    }

    /** The policy's failure timeout; the configured one when it names none (an older controller) or an unusable one. */
    private long failureTimeout(AgentPolicy next) {
        long millis = next.failureTimeoutMillis();
        if (millis == 0) return config.failureTimeoutMillis();
        if (millis < next.heartbeatIntervalMillis()) {
            log.error("ignoring the policy's failure timeout of {} ms: it must be at least the heartbeat interval ({} ms); "
                    + "keeping {} ms", millis, next.heartbeatIntervalMillis(), config.failureTimeoutMillis());
            return config.failureTimeoutMillis();
        }
        return millis;
    }

    @Override
    public void lostVms(List<String> vms) {
        log.warn("controller says these VMs were restarted elsewhere: {}", vms);
        vmCommands.lost(vms);
    }

    @Override
    public void shutdownCleared(String detail) {
        hostShutdown.cleared(detail);
    }

    // ---- stopping

    /**
     * Stops the agent for a clean shutdown of the host (not a restart): tells the controller, keeps serving it while it
     * moves or stops the VMs, until it clears the host or {@code hostShutdownTimeoutSeconds} pass; then stops the VMs
     * still running under a lease, releases their leases, and stops the agent. The fence deadline file then lists no
     * running VM, so the fence watchdog has nothing left to kill once renewals end.
     */
    public CleanHostShutdown.Outcome shutDownHost(String reason) throws InterruptedException {
        CleanHostShutdown.Outcome outcome;
        try {
            outcome = hostShutdown.run(new CleanHostShutdown.Host() {
                @Override
                public void announce(String why) {
                    link.announceHostShutdown(new AgentMessage.HostShutdown(config.host(), why));
                }

                @Override
                public void refuseStarts(String why) {
                    vmCommands.refuseStarts(why);
                }

                @Override
                public List<String> stopRunningVms(long timeoutMillis) {
                    return vmCommands.stopLeasedVms(timeoutMillis);
                }
            }, reason, config.hostShutdownTimeoutSeconds() * 1000, config.hostShutdownVmStopTimeoutSeconds() * 1000);
            publishFenceDeadline();
        } finally {
            stop("agent " + config.host() + " stopping for the host's shutdown");
        }
        return outcome;
    }

    // ---- for tests and main

    public HostLease hostLease() {
        return hostLease;
    }

    public VmLeases vmLeases() {
        return vmLeases;
    }

    public ControllerLink link() {
        return link;
    }

    public AgentPolicy policy() {
        return policy;
    }

    public IsolationMonitor isolation() {
        return isolation;
    }

    public CommandFence commandFence() {
        return commandFence;
    }

    /**
     * Stops the agent; VMs keep running and leases are not released (a restart within the deadline resumes them).
     * The fence deadline file stays: an agent not back within F has its VMs killed by the fence watchdog.
     */
    @Override
    public void close() {
        stop("agent " + config.host() + " stopping; VMs are left running");
    }

    private void stop(String why) {
        if (stopped.getAndSet(true)) return;
        log.info("{}", why);
        if (isolation != null) isolation.close();
        if (leaderLease != null) leaderLease.close();
        if (link != null) link.close();
        if (vertx != null) vertx.close();
        poller.shutdownNow();
        if (inventoryFeed != null) inventoryFeed.close();
        if (watchdog != null) watchdog.close();
        // The fence watchdog process keeps running with the last deadline: not back within F, the VMs are killed.
        if (fenceWatchdogProcess != null) fenceWatchdogProcess.close();
        commandWorkers.shutdownNow();
        // Arenas stay with their dirty blocks; the next agent serves the disks from them again.
        if (disks != null) disks.close();
        if (remoteMemory != null) remoteMemory.close();
        eventWorker.shutdownNow();
        if (hypervisor != null) hypervisor.close();
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
