package io.vigil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Vigil cluster of real processes on this machine: one or more controllers ({@code c1..cN}) and host agents started
 * through {@code scripts/controller} and {@code scripts/agent}, each agent on its own embedded QEMU root, all sharing
 * storage in one folder. Each agent reaches each controller through its own {@link TcpProxy} (so its network link can
 * be cut) and reaches shared storage through its own symlink (so its storage can be cut). Everything lives under one
 * short /tmp directory, removed on {@link #close()}, with every process this object started.
 *
 * <p>The controllers ({@link #controllers()}, {@link LocalControllers}) are separate processes with their own ports and
 * local state, joined over Hazelcast TCP and sharing the storage folder (where the durable control-plane state and the
 * leader lease live); each can be killed, stopped, restarted, frozen and thawed by name. Every agent is configured with
 * all controllers, the first one rotated per host so that agents spread over the members.
 *
 * <p>Agents connect to the controller's agent port over mutual TLS: on its first start each agent enrolls with a
 * join token bound to its host, created through the REST API (with the controller's admin token, when the controller
 * writes one), and keeps its certificate in its state directory for later restarts.
 */
public final class LocalCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);
    /** libvirt's QEMU capability probe takes ~8 s per fresh root; its cache is reusable, so roots share a copy. */
    private static final Path CAPABILITY_CACHE = Path.of(System.getProperty("java.io.tmpdir"), "vigil-qemu-capabilities");

    private final Path home;
    private final Path dir;
    private final List<String> hosts;
    private final long hostMemoryMiB;
    private final LocalControllers controllers;
    private final Map<String, Process> agents = new LinkedHashMap<>();
    private final Map<String, Process> keepers = new LinkedHashMap<>();
    /** Each host's links, one per controller (by controller name). */
    private final Map<String, Map<String, TcpProxy>> links = new LinkedHashMap<>();
    private final Map<String, Path> roots = new LinkedHashMap<>();
    /** Hosts whose agent runs on a real libvirtd ({@code qemu:///system}) rather than an embedded root. */
    private final Map<String, SystemLibvirtd> systemHosts = new LinkedHashMap<>();
    private final QemuCensus census;

    /** A cluster with one controller, {@code c1}. */
    public LocalCluster(Path home, List<String> hosts, long hostMemoryMiB) throws IOException {
        this(home, hosts, hostMemoryMiB, 1);
    }

    /** A cluster with {@code controllerCount} controllers, {@code c1} to {@code c<controllerCount>}. */
    public LocalCluster(Path home, List<String> hosts, long hostMemoryMiB, int controllerCount) throws IOException {
        this(home, hosts, hostMemoryMiB, controllerCount, Map.of());
    }

    /**
     * As {@link #LocalCluster(Path, List, long, int)}, the hosts in {@code systemHosts} running their agent on that
     * real libvirtd ({@code qemu:///system}: QEMU as libvirt-qemu under the DAC driver) instead of an embedded root.
     * The cluster folder is then searchable (mode 0711) so that QEMU's account reaches the agents' disk sockets.
     */
    public LocalCluster(Path home, List<String> hosts, long hostMemoryMiB, int controllerCount,
            Map<String, SystemLibvirtd> systemHosts) throws IOException {
        this.home = home;
        this.hosts = List.copyOf(hosts);
        this.hostMemoryMiB = hostMemoryMiB;
        this.dir = Files.createTempDirectory(Path.of("/tmp"), "vg");
        this.controllers = new LocalControllers(this, home, controllerCount);
        this.systemHosts.putAll(systemHosts);
        if (!systemHosts.isEmpty())
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        for (String h : hosts) roots.put(h, systemHosts.containsKey(h) ? SystemLibvirtd.qemuStateDir() : dir.resolve(h));
        this.census = new QemuCensus(roots);
        Files.createDirectories(dir.resolve("shared"));
        Files.createDirectories(dir.resolve("logs"));
        Files.createDirectories(dir.resolve("mnt"));
    }

    /** The repository root, from -Dvigil.home or the working directory's parent chain. */
    public static Path repositoryHome() {
        String prop = System.getProperty("vigil.home");
        Path start = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isExecutable(p.resolve("scripts/agent"))) return p;
        }
        throw new IllegalStateException("cannot find the Vigil repository (scripts/agent) from " + start);
    }

    public Path dir() {
        return dir;
    }

    /** The controllers: start, kill, stop, freeze and thaw them by name; their REST clients; who leads. */
    public LocalControllers controllers() {
        return controllers;
    }

    /** The REST client of a controller that answers (see {@link LocalControllers#rest()}). */
    public RestClient rest() {
        return controllers.rest();
    }

    /** Starts every controller that is not running and waits for them (see {@link LocalControllers#start()}). */
    public void startController() throws IOException {
        controllers.start();
    }

    public QemuCensus census() {
        return census;
    }

    public List<String> hosts() {
        return hosts;
    }

    public Path root(String host) {
        return roots.get(host);
    }

    /** The agent's record of the highest leader epoch it has seen ({@code <stateDir>/leader-epoch}). */
    private record AgentEpoch(long highestEpoch) {}

    /** The highest leader epoch {@code host}'s agent has recorded (0 when it has recorded none). */
    public long agentLeaderEpoch(String host) {
        try {
            return io.vigil.protocol.storage.RecordFiles.read(stateDir(host).resolve("leader-epoch"), AgentEpoch.class)
                    .map(AgentEpoch::highestEpoch).orElse(0L);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the controllers keep their bootstrap admin token (one file for all: the REST API's first bearer token). */
    public Path adminTokenFile() {
        return dir.resolve("admin-token");
    }

    /** A one-time join token for {@code host}, from the REST API. */
    public String joinToken(String host) {
        RestClient.Reply r = rest().post("/join-tokens", Map.of("host", host, "ttlSeconds", 3600));
        if (r.status() != 201 || r.body() == null) throw new IllegalStateException("cannot create a join token for " + host
                + ": " + r.status() + " " + r.body());
        return r.body().path("token").asText();
    }

    public void startAgent(String host) throws IOException {
        Path root = roots.get(host);
        SystemLibvirtd system = systemHosts.get(host);
        if (system == null) {
            Files.createDirectories(root.resolve("cache"));
            if (Files.isDirectory(CAPABILITY_CACHE) && !Files.exists(root.resolve("cache/qemu"))) {
                copyTree(CAPABILITY_CACHE, root.resolve("cache/qemu"));
            }
        }
        Path mount = dir.resolve("mnt").resolve(host);
        if (!Files.exists(mount, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(mount, dir.resolve("shared"));
        Map<String, TcpProxy> hostLinks = links.computeIfAbsent(host, h -> new LinkedHashMap<>());
        for (String c : controllers.names()) {
            if (!hostLinks.containsKey(c)) hostLinks.put(c, new TcpProxy(controllers.agentPort(c)));
        }
        // Every controller, starting with a different one per host, so that the agents spread over the members.
        List<String> urls = new ArrayList<>();
        List<String> names = controllers.names();
        int first = hosts.indexOf(host);
        for (int i = 0; i < names.size(); i++) {
            urls.add("\"wss://127.0.0.1:" + hostLinks.get(names.get(Math.floorMod(first + i, names.size()))).port() + "/agent/v1\"");
        }
        Path config = dir.resolve(host + ".yaml");
        // Enrolled once; a restarted agent keeps its certificate (stateDir/tls) and needs no token.
        boolean enrolled = Files.exists(stateDir(host).resolve("tls/agent.crt"));
        Files.writeString(config, String.join("\n",
                "host: " + host,
                "controllers: [ " + String.join(", ", urls) + " ]",
                enrolled ? "" : "joinToken: " + joinToken(host),
                "libvirtUri: \"" + (system != null ? system.uri() : "qemu:///embed?root=" + root) + "\"",
                "sharedStorage: " + mount,
                "stateDir: " + stateDir(host),
                "cacheDir: " + stateDir(host).resolve("cache"),
                "nbdSocketDir: " + dir.resolve(host + "-nbd"),
                "memoryKeeperDir: " + keeperDir(host),
                "remoteMemory: tcp",
                "cacheFlushIntervalMillis: 30000",
                "memoryMiB: " + hostMemoryMiB,
                "cpus: 2",
                ""));
        agents.put(host, launch("agent-" + host, home.resolve("scripts/agent"), config));
    }

    public void startAgents() throws IOException {
        for (String h : hosts) startAgent(h);
    }

    /**
     * Starts the host's memory keeper, serving the host agent's arena directory over TCP on loopback, and waits until
     * it has written its endpoint file (which the agent reports to the controller).
     */
    public void startKeeper(String host) throws IOException {
        Path state = keeperDir(host);
        Files.createDirectories(stateDir(host).resolve("cache"));
        Files.deleteIfExists(state.resolve("keeper.json"));
        keepers.put(host, launch("keeper-" + host, home.resolve("scripts/memory-keeper"), "--host", host, "--arenas",
                stateDir(host).resolve("cache").toString(), "--state", state.toString(), "--listen", "127.0.0.1:0"));
        awaitTrue("the memory keeper of " + host, Duration.ofSeconds(60), () -> Files.exists(state.resolve("keeper.json")));
    }

    public void startKeepers() throws IOException {
        for (String h : hosts) startKeeper(h);
    }

    /** SIGKILLs the host's memory keeper: its arenas can no longer be read from other hosts. */
    public void killKeeper(String host) {
        Process keeper = keepers.remove(host);
        if (keeper != null) {
            keeper.destroyForcibly();
            waitFor(keeper);
        }
    }

    public Path keeperDir(String host) {
        return stateDir(host).resolve("keeper");
    }

    /** The agent's NBD socket for {@code vm} on {@code host}, where that VM's disks are served ({@code <vm>/<target>}). */
    public Path nbdSocket(String host, String vm) {
        return dir.resolve(host + "-nbd").resolve(vm + ".sock");
    }

    /** A raw disk image of {@code mib} MiB on shared storage, zero-filled, for a VM's domain XML. */
    public Path createDiskImage(String name, long mib) throws IOException {
        Path image = dir.resolve("shared").resolve("images").resolve(name + ".img");
        Files.createDirectories(image.getParent());
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(mib << 20);
        }
        return image;
    }

    /** Starts {@code script --config config}, its output appended to the log {@code name}. */
    Process launch(String name, Path script, Path config) throws IOException {
        return launch(name, script, "--config", config.toString());
    }

    private Process launch(String name, Path script, String... args) throws IOException {
        Path logFile = dir.resolve("logs").resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(script.toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.environment().remove("VIGIL_REBUILD");
        log.info("starting {} (log {})", name, logFile);
        return pb.start();
    }

    /** Waits until {@code count} hosts report state "connected". */
    public void awaitConnectedHosts(int count, Duration timeout) {
        awaitTrue(count + " connected hosts", timeout, () -> connectedHosts().size() >= count);
        saveCapabilityCache(); // agents probe QEMU before they say Hello
    }

    public List<String> connectedHosts() {
        List<String> names = new ArrayList<>();
        JsonNode body = rest().get("/hosts").body();
        if (body != null) body.forEach(h -> {
            if ("connected".equals(h.path("state").asText())) names.add(h.path("name").asText());
        });
        return names;
    }

    /** Creates an HA VM from the demo's qboot domain template; returns the REST reply. */
    public RestClient.Reply createVm(String name, long memoryMiB, String priority) {
        return rest().post("/vms", Map.of("domainXml", domainXml(name, memoryMiB), "haEnabled", true, "priority", priority));
    }

    public static String domainXml(String name, long memoryMiB) {
        return domainXml(name, memoryMiB, null);
    }

    /** As {@link #domainXml(String, long)}, with {@code disk} (may be null) as the raw virtio disk vda. */
    public static String domainXml(String name, long memoryMiB, Path disk) {
        String type = Files.isWritable(Path.of("/dev/kvm")) ? "kvm" : "qemu";
        String diskXml = disk == null ? "" : "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='"
                + disk + "'/><target dev='vda' bus='virtio'/></disk>";
        return "<domain type='" + type + "'>\n"
                + "  <name>" + name + "</name>\n"
                + "  <memory unit='MiB'>" + memoryMiB + "</memory>\n"
                + "  <vcpu>1</vcpu>\n"
                + "  <os><type arch='x86_64' machine='pc'>hvm</type><loader type='rom'>/usr/share/qemu/qboot.rom</loader></os>\n"
                + "  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>" + diskXml + "<video><model type='none'/></video>"
                + "<memballoon model='none'/></devices>\n"
                + "</domain>\n";
    }

    public JsonNode vm(String name) {
        return rest().get("/vms/" + name).body();
    }

    /**
     * Waits until the REST API says {@code vm} is running and libvirt has finished starting it (the controller may
     * call a VM running from a heartbeat while its QEMU is still starting; an agent killed then leaves a half-started
     * domain, which libvirt kills when the next agent reconnects), and remembers the probe cache for later roots.
     */
    public void awaitRunning(String vm, Duration timeout) {
        try {
            awaitTrue(vm + " running", timeout, () -> {
                JsonNode v = vm(vm);
                return v != null && "running".equals(v.path("state").asText()) && startCompleted(v.path("host").asText(), vm);
            });
        } catch (AssertionError e) {
            JsonNode v = vm(vm);
            String host = v == null ? "" : v.path("host").asText("");
            throw new AssertionError(e.getMessage() + "\nthe VM: " + v + "\nits events: " + events("vm=" + vm)
                    + (host.isEmpty() ? "" : "\nagent-" + host + " log:\n" + logTail("agent-" + host, 30)), e);
        }
        saveCapabilityCache();
    }

    /**
     * Whether libvirt has finished starting {@code vm} on {@code host}: its status file in the host's root says running
     * (while QEMU is still starting it says paused, and an agent killed then leaves a domain libvirt will kill).
     */
    private boolean startCompleted(String host, String vm) {
        Path root = roots.get(host);
        if (root == null) return false;
        Path status = systemHosts.containsKey(host) ? SystemLibvirtd.statusFile(vm) : root.resolve("run/qemu/" + vm + ".xml");
        try {
            return Files.readString(status).contains("<domstatus state='running'");
        } catch (IOException notYet) {
            return false;
        }
    }

    /** Adds every probe result a root has that the shared cache lacks (one file per QEMU binary). */
    private void saveCapabilityCache() {
        Path shared = CAPABILITY_CACHE.resolve("capabilities");
        for (Map.Entry<String, Path> hostRoot : roots.entrySet()) {
            if (systemHosts.containsKey(hostRoot.getKey())) continue;
            Path caps = hostRoot.getValue().resolve("cache/qemu/capabilities");
            if (!Files.isDirectory(caps)) continue;
            try (Stream<Path> files = Files.list(caps)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path target = shared.resolve(f.getFileName().toString());
                    if (Files.exists(target)) continue;
                    Files.createDirectories(shared);
                    Path tmp = Files.createTempFile(shared, ".probe", ".tmp");
                    Files.copy(f, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (IOException e) {
                log.warn("could not save QEMU capability cache: {}", e.toString());
            }
        }
    }

    /**
     * Host failure: SIGKILL the host's agent, its fence watchdog and all its QEMU processes. Returns System.nanoTime()
     * of the kill.
     */
    public long killHost(String host) {
        long at = System.nanoTime();
        Process agent = agents.remove(host);
        fenceWatchdogs(stateDir(host).toString()).forEach(ProcessHandle::destroyForcibly);
        if (agent != null) agent.destroyForcibly();
        for (QemuCensus.Qemu q : census.take()) {
            if (q.host().equals(host)) ProcessHandle.of(q.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (agent != null) waitFor(agent);
        return at;
    }

    /**
     * SIGKILL only the agent: its VMs' QEMU processes keep running, as they would after an agent crash, and so does
     * its fence watchdog (which kills them once the agent's fence deadline passes).
     */
    public void killAgent(String host) {
        Process agent = agents.remove(host);
        if (agent != null) {
            agent.destroyForcibly();
            waitFor(agent);
        }
    }

    public Path stateDir(String host) {
        return dir.resolve(host + "-state");
    }

    /** The live fence watchdog processes whose command line names {@code pathPart} (a state dir, or the cluster dir). */
    public static List<ProcessHandle> fenceWatchdogs(String pathPart) {
        return ProcessHandle.allProcesses().filter(p -> {
            try {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
                return cmdline.contains("io.vigil.agent.fence.FenceWatchdogMain") && cmdline.contains(pathPart);
            } catch (IOException | RuntimeException gone) {
                return false;
            }
        }).toList();
    }

    /** Cuts the host's network links to every controller; its storage stays reachable. */
    public void cutLink(String host) {
        links.get(host).values().forEach(TcpProxy::cut);
    }

    public void restoreLink(String host) {
        links.get(host).values().forEach(TcpProxy::restore);
    }

    /** Cuts the host's network link to controller {@code controller} only. */
    public void cutLink(String host, String controller) {
        links.get(host).get(controller).cut();
    }

    public void restoreLink(String host, String controller) {
        links.get(host).get(controller).restore();
    }


    /** Makes shared storage unreachable for this host only (its mount symlink disappears). */
    public void cutStorage(String host) throws IOException {
        Files.delete(dir.resolve("mnt").resolve(host));
    }

    public void restoreStorage(String host) throws IOException {
        Files.createSymbolicLink(dir.resolve("mnt").resolve(host), dir.resolve("shared"));
    }

    /** Events from the REST API, oldest first, optionally filtered ("type=host-failed&host=h2"). */
    public List<JsonNode> events(String query) {
        JsonNode body = rest().get("/events" + (query.isEmpty() ? "" : "?" + query)).body();
        List<JsonNode> list = new ArrayList<>();
        if (body != null) body.forEach(list::add);
        return list;
    }

    public static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** A process's log file ({@code controller-c1}, {@code agent-h1}, {@code keeper-h1}). */
    public Path logFile(String name) {
        return dir.resolve("logs").resolve(name + ".log");
    }

    /** A process's whole log so far, as lines (none when it has no log yet). */
    public List<String> logLines(String name) {
        try {
            return Files.readAllLines(logFile(name), java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (java.nio.file.NoSuchFileException none) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tail of a process's log, for failure messages. */
    public String logTail(String name, int lines) {
        try {
            List<String> all = Files.readAllLines(logFile(name), java.nio.charset.StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        killFenceWatchdogs(); // first, so that stopping the agents makes no watchdog fire during clean-up
        for (Process p : agents.values()) p.destroy();
        for (Process p : agents.values()) waitFor(p);
        for (Process p : keepers.values()) p.destroy();
        for (Process p : keepers.values()) waitFor(p);
        controllers.close();
        killFenceWatchdogs(); // again: an agent may have restarted its watchdog meanwhile
        for (QemuCensus.Qemu q : census.take()) {
            if (!q.host().equals("?")) ProcessHandle.of(q.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        links.values().stream().flatMap(m -> m.values().stream()).forEach(l -> {
            try {
                l.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        });
        if (!Boolean.getBoolean("vigil.keepClusterDir")) {
            try {
                deleteTree(dir);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", dir, e.toString());
            }
        }
    }

    /** Watchdogs outlive agents by design: a test must not leave them behind. */
    private void killFenceWatchdogs() {
        for (ProcessHandle w : fenceWatchdogs(dir.toString() + "/")) {
            w.destroyForcibly();
            try {
                w.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("fence watchdog {} did not exit: {}", w.pid(), e.toString());
            }
        }
    }

    private static void waitFor(Process p) {
        try {
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
