package io.vigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.controller.pki.CertificateAuthority;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.SharedStorage;
import io.vigil.protocol.tls.Pem;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Real controller processes for bench/control-plane: {@code size} controllers on loopback, started with
 * {@code scripts/controller --config FILE} (so each is a JVM exactly as an operator starts it), in one Hazelcast
 * cluster (every member lists all of them), on one shared storage directory, all with one pre-written bootstrap admin
 * token file and one HTTPS certificate for their REST APIs. Every incarnation of a controller logs to its own file.
 * Signals are sent with kill(1); {@link #close} kills whatever is still running (SIGKILL works on a stopped process
 * too).
 */
final class ControllerCluster implements AutoCloseable {
    private static final Pattern MEMBERS = Pattern.compile("Members \\{size:(\\d+), ver:\\d+\\}");
    private static final Pattern HAZELCAST_STARTED = Pattern.compile("LifecycleService - .* is STARTED");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One controller: its fixed ports and files, and its current process (null when not running). */
    static final class Member {
        final int index;
        final String name;
        final int httpPort;
        final int hazelcastPort;
        final int agentPort;
        final Path dir;
        final Path config;
        volatile Process process;
        volatile Path log;
        private long logOffset;
        private int clusterSize;
        private int incarnation;
        volatile long startedNanos; // when this incarnation was started
        volatile long hazelcastStartedNanos; // when its log was first seen to say its Hazelcast member is STARTED (0: not yet)
        volatile long firstOutputNanos; // when its log was first seen non-empty: the JVM runs the controller (0: not yet)

        Member(int index, int httpPort, int hazelcastPort, int agentPort, Path dir) {
            this.index = index;
            this.name = "c" + (index + 1);
            this.httpPort = httpPort;
            this.hazelcastPort = hazelcastPort;
            this.agentPort = agentPort;
            this.dir = dir;
            this.config = dir.resolve("controller.yaml");
        }

        long pid() {
            return process.pid();
        }

        boolean running() {
            Process p = process;
            return p != null && p.isAlive();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A /health answer (or its absence) as last seen by a {@link Poller}. */
    record Seen(boolean answered, boolean leader, long atNanos) {}

    private final Path vigilHome;
    private final Path root;
    private final Path shared;
    private final Path pidFile;
    private final String token;
    private final List<Member> members = new ArrayList<>();
    /** Trusts the bench's own CA only, which issued the certificate every member's REST API presents. */
    private final SSLContext tls;
    private final HttpClient http;

    ControllerCluster(Path vigilHome, Path root, int size, Path pidFile) throws IOException {
        this.vigilHome = vigilHome;
        this.root = root;
        this.shared = Files.createDirectories(root.resolve("shared"));
        this.pidFile = pidFile;
        this.token = writeToken(root.resolve("admin-token"));
        // HTTPS with one operator-provided certificate (tlsCertificateFile) for every member, from a CA of the bench's
        // own: the members start together, and the bench trusts one CA from the start instead of whichever cluster CA
        // they settle on.
        CertificateAuthority ca = CertificateAuthority.create();
        var restCertificate = ca.issueServerCertificate("bench controller", List.of("127.0.0.1", "localhost"));
        Path certificateFile = root.resolve("rest.crt");
        Path keyFile = root.resolve("rest.key");
        Pem.writePublic(certificateFile, Pem.certificate(restCertificate.certificate()) + ca.certificatePem());
        Pem.writeSecret(keyFile, Pem.privateKey(restCertificate.key()));
        this.tls = trusting(ca.certificate());
        this.http = newHttpClient(Duration.ofSeconds(1));
        int[] ports = freePorts(size * 3);
        String hzMembers = java.util.stream.IntStream.range(0, size)
                .mapToObj(i -> "\"127.0.0.1:" + ports[size + i] + "\"").collect(Collectors.joining(", "));
        for (int i = 0; i < size; i++) {
            Member m = new Member(i, ports[i], ports[size + i], ports[2 * size + i], Files.createDirectories(root.resolve("c" + (i + 1))));
            Files.writeString(m.config, String.join("\n",
                    "name: " + m.name,
                    "httpHost: 127.0.0.1",
                    "httpPort: " + m.httpPort,
                    "agentPort: " + m.agentPort,
                    "hazelcastPort: " + m.hazelcastPort,
                    "hazelcastMembers: [" + hzMembers + "]",
                    "sharedStorage: " + shared,
                    "stateDir: " + m.dir.resolve("state"),
                    "adminTokenFile: " + root.resolve("admin-token"),
                    "tlsCertificateFile: " + certificateFile,
                    "tlsKeyFile: " + keyFile,
                    "clusterSecretFile: " + root.resolve("cluster-secret"), // one secret for the whole cluster
                    ""));
            members.add(m);
        }
    }

    List<Member> members() {
        return members;
    }

    Path shared() {
        return shared;
    }

    String token() {
        return token;
    }

    HttpClient http() {
        return http;
    }

    /** A client of its own (its own connections), trusting the members' certificate. */
    HttpClient newHttpClient(Duration connectTimeout) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls).connectTimeout(connectTimeout).build();
    }

    private static SSLContext trusting(X509Certificate ca) throws IOException {
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            anchors.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /**
     * The bootstrap admin token, written before any controller starts: every controller finds the file and registers
     * the same token (they share the durable token store), and none of them races another to create the file.
     */
    private static String writeToken(Path file) throws IOException {
        SecureRandom random = new SecureRandom();
        char[] alphabet = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < 12; i++) id.append(alphabet[random.nextInt(alphabet.length)]);
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String token = "vgl_" + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token + "\n");
        return token;
    }

    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) s.close();
        }
    }

    // ---- processes ------------------------------------------------------------------------------------------------

    /** Starts {@code m} (it must not be running); returns at once. */
    void start(Member m) throws IOException {
        if (m.running()) throw new IllegalStateException(m + " is running already");
        m.incarnation++;
        m.log = m.dir.resolve("controller-" + m.incarnation + ".log");
        synchronized (this) {
            m.logOffset = 0;
            m.clusterSize = 0;
            m.hazelcastStartedNanos = 0;
            m.firstOutputNanos = 0;
        }
        ProcessBuilder pb = new ProcessBuilder("bash", vigilHome.resolve("scripts/controller").toString(),
                "--config", m.config.toString())
                .redirectErrorStream(true)
                .redirectOutput(m.log.toFile());
        // Only the config file configures the controllers (VIGIL_CONTROLLER_<FIELD> would override its fields).
        pb.environment().keySet().removeIf(k -> k.startsWith("VIGIL_CONTROLLER_") && !k.equals("VIGIL_CONTROLLER_JAVA_OPTS"));
        // Timestamps in the controllers' logs (kept with --keep or after a failure), unless the caller chose the options.
        pb.environment().putIfAbsent("VIGIL_CONTROLLER_JAVA_OPTS", "-Xmx512m -Dorg.slf4j.simpleLogger.showDateTime=true "
                + "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
        m.startedNanos = System.nanoTime();
        m.process = pb.start();
        writePids();
    }

    void startAll() throws IOException {
        for (Member m : members) start(m);
    }

    /** Sends {@code signal} (KILL, STOP, CONT, TERM) to {@code m}'s JVM (scripts/controller execs it: same pid). */
    void signal(Member m, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(m.pid())).inheritIO().start();
        if (kill.waitFor() != 0) throw new IllegalStateException("kill -" + signal + " " + m.pid() + " failed");
    }

    /** Waits for {@code m}'s process to end (after a signal that ends it). */
    void awaitExit(Member m, long timeoutMillis) throws InterruptedException {
        Process p = m.process;
        if (p == null) return;
        if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            throw new IllegalStateException(m + " did not exit within " + timeoutMillis + " ms (killed)");
        }
        m.process = null;
        writePids();
    }

    /** The last Hazelcast cluster size this incarnation of {@code m} logged (0: none yet). */
    int clusterSize(Member m) {
        return scanLog(m);
    }

    /** Reads what {@code m}'s log gained since the last look: cluster sizes and its member's start. */
    synchronized int scanLog(Member m) {
        if (m.log == null) return 0;
        try (RandomAccessFile f = new RandomAccessFile(m.log.toFile(), "r")) {
            long length = f.length();
            if (length > 0 && m.firstOutputNanos == 0) m.firstOutputNanos = System.nanoTime();
            if (length > m.logOffset) {
                long from = Math.max(0, m.logOffset - 64); // a match may straddle the previous read's end
                byte[] bytes = new byte[(int) (length - from)];
                f.seek(from);
                f.readFully(bytes);
                Matcher matcher = MEMBERS.matcher(new String(bytes, StandardCharsets.UTF_8));
                while (matcher.find()) m.clusterSize = Integer.parseInt(matcher.group(1));
                if (m.hazelcastStartedNanos == 0 && HAZELCAST_STARTED.matcher(new String(bytes, StandardCharsets.UTF_8)).find())
                    m.hazelcastStartedNanos = System.nanoTime();
                m.logOffset = length;
            }
        } catch (IOException e) {
            return m.clusterSize;
        }
        return m.clusterSize;
    }

    /** Waits until every running member's log says the cluster has every running member; false on timeout. */
    boolean awaitClusterFormed(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            long running = members.stream().filter(Member::running).count();
            if (members.stream().filter(Member::running).allMatch(m -> clusterSize(m) == running)) return true;
            Thread.sleep(100);
        }
        return false;
    }

    /** The last lines of {@code m}'s current log, for a failure report. */
    String tail(Member m, int lines) {
        if (m.log == null) return "";
        try {
            List<String> all = Files.readAllLines(m.log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | RuntimeException e) {
            return "(cannot read " + m.log + ": " + e + ")";
        }
    }

    /** The highest leader epoch on shared storage. */
    long leaderEpoch() {
        try {
            return new LeaderLeaseFiles(new SharedStorage(shared)).highestEpoch();
        } catch (IOException e) {
            return -1;
        }
    }

    private void writePids() {
        if (pidFile == null) return;
        String pids = members.stream().map(m -> m.process).filter(p -> p != null && p.isAlive())
                .map(p -> Long.toString(p.pid())).collect(Collectors.joining("\n"));
        try {
            Files.writeString(pidFile, pids.isEmpty() ? "" : pids + "\n");
        } catch (IOException e) {
            // the launcher's safety net only
        }
    }

    /** Kills every controller still running (a stopped one too), and waits for them. */
    @Override
    public synchronized void close() {
        for (Member m : members) {
            Process p = m.process;
            if (p != null && p.isAlive()) p.destroyForcibly();
        }
        for (Member m : members) {
            Process p = m.process;
            if (p == null) continue;
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            m.process = null;
        }
        writePids();
    }

    // ---- REST ------------------------------------------------------------------------------------------------------

    URI uri(Member m, String path) {
        return URI.create("https://127.0.0.1:" + m.httpPort + path);
    }

    /** One /health request; null when there is no answer within {@code timeoutMillis}. */
    CompletableFuture<Seen> health(Member m, long timeoutMillis) {
        HttpRequest request = HttpRequest.newBuilder(uri(m, "/api/v1/health")).timeout(Duration.ofMillis(timeoutMillis)).GET().build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
            long at = System.nanoTime();
            if (e != null || r.statusCode() != 200) return new Seen(false, false, at);
            try {
                JsonNode body = JSON.readTree(r.body());
                return new Seen(true, body.path("leader").asBoolean(false), at);
            } catch (IOException ex) {
                return new Seen(false, false, at);
            }
        });
    }

    /** A synchronous /health: null when no answer. */
    Seen healthNow(Member m) {
        try {
            Seen s = health(m, 1000).get(3, TimeUnit.SECONDS);
            return s.answered() ? s : null;
        } catch (Exception e) {
            return null;
        }
    }

    /** The members answering /health as the leader now. */
    List<Member> leaders() {
        List<CompletableFuture<Seen>> answers = members.stream().map(m -> health(m, 1000)).toList();
        List<Member> out = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            try {
                Seen s = answers.get(i).get(3, TimeUnit.SECONDS);
                if (s.answered() && s.leader()) out.add(members.get(i));
            } catch (Exception e) {
                // no answer: not a leader
            }
        }
        return out;
    }

    HttpResponse<String> get(HttpClient client, Member m, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri(m, path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token).GET().build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(HttpClient client, Member m, String path, String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri(m, path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Polls /health of some members every 50 ms (a member whose last request is still unanswered is not asked again
     * until it answers or times out) and keeps the newest answer of each, with the time of the first answer of each
     * and of the first leader answer.
     */
    final class Poller {
        private final List<Member> polled;
        private final Map<Member, CompletableFuture<Seen>> inflight = new ConcurrentHashMap<>();
        final Map<Member, Seen> latest = new ConcurrentHashMap<>();
        final Map<Member, Long> firstAnswerNanos = new ConcurrentHashMap<>();
        final Map<Member, Long> firstLeaderNanos = new ConcurrentHashMap<>();

        Poller(List<Member> polled) {
            this.polled = List.copyOf(polled);
        }

        private void tick() {
            for (Member m : polled) {
                CompletableFuture<Seen> previous = inflight.get(m);
                if (previous != null && !previous.isDone()) continue;
                CompletableFuture<Seen> f = health(m, 1000);
                inflight.put(m, f);
                f.thenAccept(s -> {
                    latest.put(m, s);
                    if (s.answered()) firstAnswerNanos.putIfAbsent(m, s.atNanos());
                    if (s.leader()) firstLeaderNanos.putIfAbsent(m, s.atNanos());
                });
            }
        }

        /** Ticks every 50 ms until {@code done} holds; returns the nanoTime it was seen to hold, or -1 at the deadline. */
        long until(Predicate<Poller> done, long deadlineNanos) throws InterruptedException {
            while (System.nanoTime() < deadlineNanos) {
                tick();
                Thread.sleep(50);
                for (Member m : polled) scanLog(m);
                if (done.test(this)) return System.nanoTime();
            }
            return -1;
        }

        boolean allAnswered() {
            return polled.stream().allMatch(m -> latest.containsKey(m) && latest.get(m).answered());
        }

        long leaderCount() {
            return polled.stream().filter(m -> latest.containsKey(m) && latest.get(m).leader()).count();
        }

        /** The earliest first-leader answer among the polled members (-1: none yet). */
        long firstLeader() {
            return firstLeaderNanos.values().stream().mapToLong(Long::longValue).min().orElse(-1);
        }
    }

    Poller poller(List<Member> polled) {
        return new Poller(polled);
    }
}
