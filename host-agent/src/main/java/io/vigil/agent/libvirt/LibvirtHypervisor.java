package io.vigil.agent.libvirt;

import io.vigil.protocol.VmPowerState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.libvirt.NodeInfo;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.LifecycleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Hypervisor} over libvirt-java. libvirt connections are thread-safe, so calls are not serialized here. */
public final class LibvirtHypervisor implements Hypervisor {
    private static final Logger log = LoggerFactory.getLogger(LibvirtHypervisor.class);

    private final LibvirtConnection connect;
    /** Where libvirt records its QEMU pids (none for drivers without local QEMU processes). */
    private final Optional<QemuPidFiles> pidFiles;
    private final Executor eventExecutor;
    private final LifecycleListener libvirtListener;
    private volatile Consumer<LifecycleEvent> listener = e -> {};

    private LibvirtHypervisor(LibvirtConnection connect, Optional<QemuPidFiles> pidFiles, Executor eventExecutor) throws LibvirtException {
        this.pidFiles = pidFiles;
        this.connect = connect;
        this.eventExecutor = eventExecutor;
        this.libvirtListener = this::onEvent;
        connect.addLifecycleListener(libvirtListener);
    }

    /**
     * Connects to {@code uri} (writing an embedded root's qemu.conf first). Lifecycle events are delivered on
     * {@code eventExecutor}, never on libvirt's event-loop thread.
     */
    public static LibvirtHypervisor open(String uri, Executor eventExecutor) throws HypervisorException {
        try {
            EmbeddedRoot.prepare(uri);
        } catch (IOException e) {
            throw new HypervisorException("cannot prepare embedded libvirt root for " + uri + ": " + e.getMessage(), e);
        }
        LibvirtEventLoop.ensureRunning();
        try {
            LibvirtConnection c = new LibvirtConnection(uri);
            c.setConnectionErrorCallback(LibvirtEventLoop.quietErrors());
            log.info("connected to libvirt at {}", uri);
            warmUp(c);
            return new LibvirtHypervisor(c, QemuPidFiles.forUri(uri), eventExecutor);
        } catch (LibvirtException e) {
            throw new HypervisorException("cannot connect to libvirt at " + uri + ": " + message(e), e);
        }
    }

    /**
     * Makes libvirt probe its hypervisor's capabilities now (seconds on a host that never ran a VM, nothing once
     * cached in the root) rather than during the first define, which on a standby host is the first VM of a failover.
     */
    private static void warmUp(LibvirtConnection c) {
        long started = System.nanoTime();
        try {
            c.getCapabilities();
            log.info("hypervisor capabilities ready in {} ms", (System.nanoTime() - started) / 1_000_000);
        } catch (LibvirtException e) {
            log.warn("could not read hypervisor capabilities ahead of time: {}", message(e));
        }
    }

    /** Runs on libvirt's event-loop thread: only copy what is needed and hand off. */
    private int onEvent(Domain domain, DomainEvent event) {
        try {
            String name = domain.getName();
            String type = event.getType().name().toLowerCase(Locale.ROOT);
            Object detail = event.getDetail();
            String detailText = detail == null ? "" : detail.toString().toLowerCase(Locale.ROOT);
            eventExecutor.execute(() -> listener.accept(new LifecycleEvent(name, type, detailText)));
        } catch (LibvirtException | RuntimeException e) {
            log.warn("dropping a libvirt lifecycle event: {}", e.toString());
        }
        return 0;
    }

    @Override
    public void onLifecycle(Consumer<LifecycleEvent> listener) {
        this.listener = listener;
    }

    @Override
    public NodeResources node() throws HypervisorException {
        try {
            NodeInfo info = connect.nodeInfo();
            return new NodeResources(info.cpus, info.memory / 1024);
        } catch (LibvirtException e) {
            throw wrap("node info", e);
        }
    }

    @Override
    public List<DomainStatus> domains() throws HypervisorException {
        try {
            List<DomainStatus> out = new ArrayList<>();
            for (Domain d : connect.listAllDomains(0)) {
                try {
                    out.add(status(d));
                } catch (LibvirtException e) {
                    if (!isNoDomain(e)) throw e; // undefined while we listed
                } finally {
                    d.free();
                }
            }
            return out;
        } catch (LibvirtException e) {
            throw wrap("listing domains", e);
        }
    }

    @Override
    public Optional<DomainStatus> domain(String name) throws HypervisorException {
        try {
            Domain d = lookup(name);
            if (d == null) return Optional.empty();
            try {
                return Optional.of(status(d));
            } finally {
                d.free();
            }
        } catch (LibvirtException e) {
            if (isNoDomain(e)) return Optional.empty();
            throw wrap("reading domain " + name, e);
        }
    }

    @Override
    public void define(String domainXml) throws HypervisorException {
        try {
            connect.domainDefineXML(domainXml).free();
        } catch (LibvirtException e) {
            throw new HypervisorException(message(e), e);
        }
    }

    @Override
    public void start(String name) throws HypervisorException {
        act(name, "starting", d -> {
            if (d.isActive() == 0) d.create();
        }, false);
    }

    @Override
    public void shutdown(String name) throws HypervisorException {
        act(name, "shutting down", d -> {
            if (d.isActive() == 1) d.shutdown();
        }, true);
    }

    @Override
    public void destroy(String name) throws HypervisorException {
        act(name, "destroying", d -> {
            if (d.isActive() == 1) {
                long start = System.nanoTime();
                d.destroy();
                log.info("destroyed {} in {} ms", name, (System.nanoTime() - start) / 1_000_000);
            }
        }, true);
    }

    /**
     * SIGKILLs the QEMU process running the domain (found through libvirt's pid file and checked against its command
     * line, as the fence watchdog does), then lets libvirt clean up with destroy. QEMU dies at once instead of after its SIGTERM handling; where no such process exists
     * (the test driver, another kind of hypervisor) this is a plain destroy.
     */
    @Override
    public void kill(String name) throws HypervisorException {
        long start = System.nanoTime();
        Optional<DomainStatus> d = domain(name);
        if (d.isEmpty() || !d.get().state().isActive()) return;
        List<ProcessHandle> emulators = pidFiles.flatMap(p -> p.runningQemu(name)).stream().toList();
        emulators.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : emulators) {
            try {
                p.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("QEMU process {} of {} did not exit after SIGKILL: {}", p.pid(), name, e.toString());
            }
        }
        if (!emulators.isEmpty())
            log.info("killed QEMU of {} (pid {}) in {} ms", name, emulators.stream().map(ProcessHandle::pid).toList(),
                    (System.nanoTime() - start) / 1_000_000);
        destroy(name);
    }

    @Override
    public void save(String name, Path file) throws HypervisorException {
        act(name, "saving", d -> {
            long start = System.nanoTime();
            d.save(file.toAbsolutePath().toString());
            log.info("saved {} to {} in {} ms", name, file, (System.nanoTime() - start) / 1_000_000);
        }, false);
    }

    @Override
    public SavedDomain savedDomain(Path file) throws HypervisorException {
        String xml;
        try {
            xml = connect.saveImageXml(file.toAbsolutePath().toString());
        } catch (HypervisorException e) {
            throw new HypervisorException("reading saved state " + file + ": " + e.getMessage(), e);
        }
        Optional<String> name = DomainXml.name(xml);
        Optional<String> uuid = DomainXml.uuid(xml);
        if (name.isEmpty() || uuid.isEmpty())
            throw new HypervisorException("saved state " + file + " holds no domain name and UUID");
        return new SavedDomain(name.get(), uuid.get(), xml);
    }

    @Override
    public void restore(Path file) throws HypervisorException {
        try {
            long start = System.nanoTime();
            connect.restore(file.toAbsolutePath().toString());
            log.info("restored from {} in {} ms", file, (System.nanoTime() - start) / 1_000_000);
        } catch (LibvirtException e) {
            throw new HypervisorException("restoring from " + file + ": " + message(e), e);
        }
    }

    @Override
    public void restore(Path file, String domainXml) throws HypervisorException {
        long start = System.nanoTime();
        try {
            connect.restore(file.toAbsolutePath().toString(), domainXml);
        } catch (HypervisorException e) {
            throw new HypervisorException("restoring from " + file + ": " + e.getMessage(), e);
        }
        log.info("restored from {} in {} ms", file, (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void resume(String name) throws HypervisorException {
        act(name, "resuming", d -> {
            if (d.getInfo().state == org.libvirt.DomainInfo.DomainState.VIR_DOMAIN_PAUSED) d.resume();
        }, true);
    }

    @Override
    public void undefine(String name) throws HypervisorException {
        act(name, "undefining", Domain::undefine, true);
    }

    private interface DomainAction {
        void run(Domain d) throws LibvirtException;
    }

    private void act(String name, String what, DomainAction action, boolean missingIsOk) throws HypervisorException {
        try {
            Domain d = lookup(name);
            if (d == null) {
                if (missingIsOk) return;
                throw new HypervisorException("domain " + name + " is not defined on this host");
            }
            try {
                action.run(d);
            } finally {
                d.free();
            }
        } catch (LibvirtException e) {
            if (missingIsOk && isNoDomain(e)) return;
            // raced with the domain stopping by itself: the wanted state is reached
            if (e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_OPERATION_INVALID
                    && (what.equals("destroying") || what.equals("shutting down"))) return;
            throw new HypervisorException(what + " " + name + ": " + message(e), e);
        }
    }

    private Domain lookup(String name) throws LibvirtException {
        try {
            return connect.domainLookupByName(name);
        } catch (LibvirtException e) {
            if (isNoDomain(e)) return null;
            throw e;
        }
    }

    private DomainStatus status(Domain d) throws LibvirtException {
        DomainInfo info = d.getInfo();
        VmPowerState state = powerState(info.state);
        String name = d.getName();
        String reason = state == VmPowerState.PAUSED
                ? connect.stateAndReason(name).filter(sr -> sr[0] == VIR_DOMAIN_PAUSED).map(sr -> pausedReason(sr[1])).orElse(null)
                : null;
        return new DomainStatus(name, d.getUUIDString(), state, info.maxMem / 1024, info.nrVirtCpu, reason);
    }

    private static final int VIR_DOMAIN_PAUSED = 3;
    /** virDomainPausedReason, in its order, as wire names. */
    private static final List<String> PAUSED_REASONS = List.of("unknown", "user", "migration", "save", "dump", "ioerror",
            "watchdog", "from-snapshot", "shutting-down", "snapshot", "crashed", "starting-up", "postcopy",
            "postcopy-failed", "api-error");

    static String pausedReason(int code) {
        return code >= 0 && code < PAUSED_REASONS.size() ? PAUSED_REASONS.get(code) : "unknown";
    }

    @Override
    public Optional<String> qemuDacLabel(String domainXml) {
        Optional<org.w3c.dom.Document> doc = domainXml == null ? Optional.empty() : DomainXml.document(domainXml);
        String type = doc.map(x -> x.getDocumentElement().getAttribute("type")).filter(t -> !t.isEmpty()).orElse(null);
        if (doc.isPresent()) {
            org.w3c.dom.NodeList labels = doc.get().getDocumentElement().getElementsByTagName("seclabel");
            for (int i = 0; i < labels.getLength(); i++) {
                org.w3c.dom.Element l = (org.w3c.dom.Element) labels.item(i);
                if (!"dac".equals(l.getAttribute("model")) || !"static".equals(l.getAttribute("type"))) continue;
                Optional<org.w3c.dom.Element> label = DomainXml.child(l, "label");
                if (label.isPresent()) return Optional.of(label.get().getTextContent().strip());
            }
        }
        return dacBaseLabels().map(labels -> labels.getOrDefault(type == null ? "kvm" : type,
                labels.values().stream().findFirst().orElse(null)));
    }

    private volatile Optional<java.util.Map<String, String>> dacBaseLabels;

    /** The DAC driver's base labels by domain type, from libvirt's capabilities (read once). */
    private Optional<java.util.Map<String, String>> dacBaseLabels() {
        Optional<java.util.Map<String, String>> known = dacBaseLabels;
        if (known != null) return known;
        try {
            known = parseDacBaseLabels(connect.getCapabilities());
        } catch (LibvirtException e) {
            log.warn("cannot read libvirt's capabilities for QEMU's account: {}", message(e));
            return Optional.empty();
        }
        dacBaseLabels = known;
        return known;
    }

    static Optional<java.util.Map<String, String>> parseDacBaseLabels(String capabilities) {
        Optional<org.w3c.dom.Document> doc = DomainXml.document(capabilities, "capabilities");
        if (doc.isEmpty()) return Optional.empty();
        org.w3c.dom.NodeList models = doc.get().getElementsByTagName("secmodel");
        for (int i = 0; i < models.getLength(); i++) {
            org.w3c.dom.Element m = (org.w3c.dom.Element) models.item(i);
            if (!DomainXml.child(m, "model").map(x -> x.getTextContent().strip()).orElse("").equals("dac")) continue;
            java.util.Map<String, String> labels = new java.util.LinkedHashMap<>();
            org.w3c.dom.NodeList base = m.getElementsByTagName("baselabel");
            for (int j = 0; j < base.getLength(); j++) {
                org.w3c.dom.Element b = (org.w3c.dom.Element) base.item(j);
                labels.put(b.getAttribute("type"), b.getTextContent().strip());
            }
            if (!labels.isEmpty()) return Optional.of(java.util.Map.copyOf(labels));
        }
        return Optional.empty();
    }

    static VmPowerState powerState(DomainInfo.DomainState s) {
        if (s == null) return VmPowerState.OTHER;
        return switch (s) {
            case VIR_DOMAIN_RUNNING, VIR_DOMAIN_BLOCKED -> VmPowerState.RUNNING;
            case VIR_DOMAIN_PAUSED, VIR_DOMAIN_PMSUSPENDED -> VmPowerState.PAUSED;
            case VIR_DOMAIN_SHUTDOWN -> VmPowerState.SHUTTING_DOWN;
            case VIR_DOMAIN_SHUTOFF -> VmPowerState.SHUTOFF;
            case VIR_DOMAIN_CRASHED -> VmPowerState.CRASHED;
            default -> VmPowerState.OTHER;
        };
    }

    private static boolean isNoDomain(LibvirtException e) {
        return e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN;
    }

    static String message(LibvirtException e) {
        String m = e.getError() != null ? e.getError().getMessage() : e.getMessage();
        return m == null ? e.toString() : m.strip();
    }

    private static HypervisorException wrap(String what, LibvirtException e) {
        return new HypervisorException(what + ": " + message(e), e);
    }

    @Override
    public void close() {
        try {
            connect.removeLifecycleListener(libvirtListener);
        } catch (LibvirtException | RuntimeException e) {
            log.debug("removing lifecycle listener: {}", e.toString());
        }
        try {
            connect.close();
        } catch (LibvirtException e) {
            log.debug("closing libvirt connection: {}", e.toString());
        }
    }
}
