package io.vigil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.protocol.storage.LeaderEpoch;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The controllers of a {@link LocalCluster}: {@code c1..cN}, each its own process with its own HTTP, agent and
 * Hazelcast ports and its own local state directory, all on the cluster's shared storage (where the durable
 * control-plane state and the leader lease live) and joined to each other over Hazelcast TCP. A controller keeps its
 * ports, configuration and state across {@link #kill kills}, {@link #stop clean stops} and restarts, and can be frozen
 * ({@link #freeze}, SIGSTOP) and thawed. One REST client per controller, over HTTPS trusting the cluster CA (as the
 * controller keeps it in its state directory); {@link #rest()} picks one that answers.
 */
public final class LocalControllers {
    private final LocalCluster cluster;
    private final Path home;
    private final Path dir;
    /** By name, in order. */
    private final Map<String, ControllerProcess> controllers = new LinkedHashMap<>();
    private volatile String bearerToken;

    /** One controller: its fixed ports, and its process while it runs. */
    private static final class ControllerProcess {
        final String name;
        final int httpPort;
        final int agentPort;
        final int hazelcastPort;
        /** Advertised to agents in Welcome; nobody listens there (agents reach controllers only through their links). */
        final int unreachableAgentPort;
        final RestClient rest;
        final RestClient health;
        volatile Process process;
        volatile boolean frozen;
        /** Answered its health endpoint since it was last started. */
        volatile boolean ready;

        /** {@code caFile}: the cluster CA as this controller keeps it, which its REST clients trust (HTTPS). */
        ControllerProcess(String name, Path caFile) throws IOException {
            this.name = name;
            this.httpPort = freePort();
            this.agentPort = freePort();
            this.hazelcastPort = freePort();
            this.unreachableAgentPort = freePort();
            this.rest = new RestClient("https://127.0.0.1:" + httpPort + "/api/v1", Duration.ofSeconds(20), caFile);
            this.health = new RestClient("https://127.0.0.1:" + httpPort + "/api/v1", Duration.ofSeconds(3), caFile);
        }

        boolean running() {
            Process p = process;
            return p != null && p.isAlive();
        }
    }

    LocalControllers(LocalCluster cluster, Path home, int count) throws IOException {
        if (count < 1) throw new IllegalArgumentException("at least one controller");
        this.cluster = cluster;
        this.home = home;
        this.dir = cluster.dir();
        for (int i = 1; i <= count; i++) {
            String name = "c" + i;
            controllers.put(name, new ControllerProcess(name, stateDir(name).resolve("ca").resolve("ca.crt")));
        }
    }

    public List<String> names() {
        return List.copyOf(controllers.keySet());
    }

    /** The agent port of controller {@code name} (mutual TLS), where the agents' links lead. */
    int agentPort(String name) {
        return controller(name).agentPort;
    }

    // ---- REST ------------------------------------------------------------------------------------------------------

    /**
     * The REST client of the first controller that runs, is not frozen and has answered since it started (of {@code c1}
     * when none does, so that a request then fails as "unreachable"). Every client carries the bearer token set last
     * ({@link #bearerToken}).
     */
    public RestClient rest() {
        for (ControllerProcess c : controllers.values()) {
            if (c.running() && !c.frozen && c.ready) return c.rest;
        }
        return controllers.values().iterator().next().rest;
    }

    /** The REST client of controller {@code name}, whatever its state. */
    public RestClient rest(String name) {
        return controller(name).rest;
    }

    /** From now on every controller's REST client sends {@code token} (null: none). */
    public void bearerToken(String token) {
        this.bearerToken = token;
        for (ControllerProcess c : controllers.values()) c.rest.bearerToken(token);
    }

    /** The REST API's base URL on controller {@code name} (clients of a test's own: {@code rest(name).withoutToken()}). */
    public String restBase(String name) {
        return controller(name).rest.base();
    }

    // ---- lifecycle -------------------------------------------------------------------------------------------------

    /**
     * Starts every controller that is not running and waits until each answers its health endpoint. When none has
     * ever run, {@code c1} starts first and alone (it creates the cluster's CA, which the others then adopt over
     * Hazelcast), the others together after it; later (a restart of the whole control plane) all start together.
     */
    public void start() throws IOException {
        List<ControllerProcess> toStart = controllers.values().stream().filter(c -> !c.running()).toList();
        if (toStart.isEmpty()) return;
        boolean first = !Files.exists(stateDir(toStart.get(0).name).resolve("ca"));
        if (first && toStart.size() > 1) {
            start(toStart.get(0).name);
            toStart = toStart.subList(1, toStart.size());
        }
        for (ControllerProcess c : toStart) launch(c);
        for (ControllerProcess c : toStart) awaitHealthy(c);
        readAdminToken();
    }

    /** Starts controller {@code name} (again, on the same configuration) and waits until it answers health. */
    public void start(String name) throws IOException {
        launch(name);
        await(name);
    }

    /**
     * Starts controller {@code name} (again, on the same configuration) without waiting for it; {@link #await} waits.
     * The first controller of a new cluster must be up before others start (they adopt its CA).
     */
    public void launch(String name) throws IOException {
        ControllerProcess c = controller(name);
        if (c.running()) throw new IllegalStateException("controller " + name + " is running already");
        launch(c);
    }

    /** Waits until controller {@code name} answers its health endpoint. */
    public void await(String name) throws IOException {
        awaitHealthy(controller(name));
        readAdminToken();
    }

    /** SIGKILLs controller {@code name} (a crash: no lease released, no goodbye); returns System.nanoTime() of the kill. */
    public long kill(String name) {
        ControllerProcess c = controller(name);
        long at = System.nanoTime();
        Process p = c.process;
        if (p != null) {
            p.destroyForcibly(); // SIGKILL, which also ends a stopped process
            waitFor(p, 10);
        }
        c.frozen = false;
        return at;
    }

    /** Stops controller {@code name} cleanly (SIGTERM: it releases the leader lease if it holds it) and waits for it. */
    public void stop(String name) {
        terminate(name);
        awaitStopped(name);
    }

    /** Asks controller {@code name} to stop (SIGTERM) and returns at once; {@link #awaitStopped} waits. */
    public void terminate(String name) {
        ControllerProcess c = controller(name);
        Process p = c.process;
        if (p == null) return;
        if (c.frozen) thaw(name); // a stopped process acts on SIGTERM only once continued
        p.destroy();
    }

    /** Waits until controller {@code name}'s process has exited (at most 30 s). */
    public void awaitStopped(String name) {
        Process p = controller(name).process;
        if (p == null) return;
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("controller " + name
                    + " did not stop within 30 s of SIGTERM:\n" + cluster.logTail(logName(name), 30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGSTOPs controller {@code name}: it keeps its sockets and files but does nothing until {@link #thaw}. */
    public long freeze(String name) {
        ControllerProcess c = controller(name);
        if (!c.running()) throw new IllegalStateException("controller " + name + " is not running");
        long at = System.nanoTime();
        signal(c.process.pid(), "STOP");
        c.frozen = true;
        return at;
    }

    /** SIGCONTs a frozen controller. */
    public void thaw(String name) {
        ControllerProcess c = controller(name);
        if (c.running()) signal(c.process.pid(), "CONT");
        c.frozen = false;
    }

    public boolean running(String name) {
        return controller(name).running();
    }

    public boolean frozen(String name) {
        return controller(name).frozen;
    }

    /** Controller {@code name}'s process id while it runs. */
    public long pid(String name) {
        Process p = controller(name).process;
        if (p == null || !p.isAlive()) throw new IllegalStateException("controller " + name + " is not running");
        return p.pid();
    }

    // ---- leadership ------------------------------------------------------------------------------------------------

    /**
     * The health of controller {@code name} ({@code {status, controller, leader, connectedAgents}}), or null when it is
     * not running, frozen, or does not answer within 3 s.
     */
    public JsonNode health(String name) {
        ControllerProcess c = controller(name);
        if (!c.running() || c.frozen) return null;
        try {
            RestClient.Reply r = c.health.get("/health");
            return r.status() == 200 ? r.body() : null;
        } catch (IllegalStateException unreachable) {
            return null;
        }
    }

    /** The running, unfrozen controllers whose health says they lead now (normally one). */
    public List<String> leaders() {
        List<String> leaders = new ArrayList<>();
        for (String name : controllers.keySet()) {
            JsonNode h = health(name);
            if (h != null && h.path("leader").asBoolean()) leaders.add(name);
        }
        return leaders;
    }

    /** Waits until exactly one running, unfrozen controller says it leads; returns its name. */
    public String awaitLeader(Duration timeout) {
        String[] found = new String[1];
        LocalCluster.awaitTrue("exactly one leader controller", timeout, () -> {
            List<String> l = leaders();
            if (l.size() != 1) return false;
            found[0] = l.get(0);
            return true;
        });
        return found[0];
    }

    /** The highest leader epoch claimed on shared storage (0: none yet). */
    public long leaderEpoch() {
        try {
            return leaderLease().highestEpoch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The controller that claimed leader epoch {@code epoch} on shared storage, or null if it is not (or no more) there. */
    public String leaderOfEpoch(long epoch) {
        try {
            return leaderLease().epoch(epoch).map(LeaderEpoch::controller).orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private LeaderLeaseFiles leaderLease() {
        return new LeaderLeaseFiles(new SharedStorage(dir.resolve("shared")));
    }

    // ---- files -----------------------------------------------------------------------------------------------------

    /** Controller {@code name}'s local state directory (its copy of the CA). */
    public Path stateDir(String name) {
        return dir.resolve("controllers").resolve(name);
    }

    /** The name of controller {@code name}'s log, for {@link LocalCluster#logLines} and {@link LocalCluster#logTail}. */
    public static String logName(String name) {
        return "controller-" + name;
    }

    /** Thaws and stops (SIGTERM) every controller, then waits for them. */
    void close() {
        for (ControllerProcess c : controllers.values()) {
            if (c.frozen) thaw(c.name);
            if (c.process != null) c.process.destroy();
        }
        for (ControllerProcess c : controllers.values()) if (c.process != null) waitFor(c.process, 10);
    }

    private void launch(ControllerProcess c) throws IOException {
        Path config = dir.resolve("controller-" + c.name + ".yaml");
        List<String> members = controllers.values().stream().filter(o -> o != c)
                .map(o -> "\"127.0.0.1:" + o.hazelcastPort + "\"").toList();
        // Agents reach a controller only through their own link (TcpProxy), as hosts on a network would; the
        // controller's advertised address is therefore one nobody listens on, or an agent whose link is cut would
        // simply dial the controller directly.
        Files.writeString(config, String.join("\n",
                "name: " + c.name,
                "httpHost: 127.0.0.1",
                "httpPort: " + c.httpPort,
                "agentPort: " + c.agentPort,
                "advertisedAgentUrl: wss://127.0.0.1:" + c.unreachableAgentPort + "/agent/v1",
                "stateDir: " + stateDir(c.name),
                "adminTokenFile: " + cluster.adminTokenFile(),
                "hazelcastPort: " + c.hazelcastPort,
                members.isEmpty() ? "" : "hazelcastMembers: [ " + String.join(", ", members) + " ]",
                "sharedStorage: " + dir.resolve("shared"),
                // One secret for the whole controller cluster: the first controller creates it, the others read it.
                "clusterSecretFile: " + dir.resolve("cluster-secret"),
                ""));
        c.frozen = false;
        c.ready = false;
        c.process = cluster.launch(logName(c.name), home.resolve("scripts/controller"), config);
    }

    private void awaitHealthy(ControllerProcess c) {
        try {
            LocalCluster.awaitTrue("the health endpoint of controller " + c.name, Duration.ofSeconds(60), () -> {
                if (!c.running()) throw new AssertionError("controller " + c.name + " exited");
                try {
                    return c.ready = c.health.get("/health").status() == 200;
                } catch (IllegalStateException notYet) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + cluster.logTail(logName(c.name), 40), e);
        }
    }

    /** The controllers write the bootstrap admin token before they serve requests; it is the REST API's bearer token. */
    private void readAdminToken() throws IOException {
        Path file = cluster.adminTokenFile();
        if (bearerToken == null && Files.exists(file)) bearerToken(Files.readString(file).strip());
    }

    private ControllerProcess controller(String name) {
        ControllerProcess c = controllers.get(name);
        if (c == null) throw new IllegalArgumentException("no controller " + name + " (have " + controllers.keySet() + ")");
        return c;
    }

    private static void signal(long pid, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
            String out = new String(kill.getInputStream().readAllBytes());
            if (kill.waitFor() != 0) throw new IllegalStateException("kill -" + signal + " " + pid + " failed: " + out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void waitFor(Process p, int seconds) {
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
