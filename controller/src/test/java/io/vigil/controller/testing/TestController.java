package io.vigil.controller.testing;

import io.vigil.controller.Controller;
import io.vigil.controller.config.ControllerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real controller for tests: a standalone Hazelcast member on a free loopback port (multicast off), the HTTPS
 * server of the REST API on an ephemeral port, and shared storage in a temporary directory. Plus a small HTTPS client
 * that trusts only this controller's cluster CA, as a client that pinned it would. The second constructor makes a
 * member of a cluster on loopback, with shared storage of the test's choosing.
 */
public final class TestController implements AutoCloseable {
    /**
     * Running test controllers by their HTTP and agent ports, so that {@link FakeAgent#join(int, int)} given either
     * port finds the controller whose CA issues its certificate (tests written before agents needed certificates pass
     * the HTTP port).
     */
    private static final ConcurrentHashMap<Integer, TestController> BY_PORT = new ConcurrentHashMap<>();
    public final Path dir;
    private final Path shared;
    public final Controller controller;
    private final HttpClient http;
    private volatile Caller admin;
    private boolean closed;

    /** {@code location}: the Location header, or null. */
    public record Reply(int status, String contentType, String body, String location) {
        public Map<String, Object> json() {
            return Jsons.object(body);
        }

        public List<Object> jsonList() {
            return Jsons.list(body);
        }
    }

    public TestController() throws Exception {
        this("test-ctl", null, freePort(), List.of());
    }

    /**
     * A controller named {@code name} whose Hazelcast member listens on {@code hazelcastPort} and joins
     * {@code hazelcastMembers} (TCP-IP on loopback; empty: a cluster of one). {@code sharedStorage} null: a new
     * directory of its own; otherwise the caller's, which {@link #close} leaves alone.
     */
    public TestController(String name, Path sharedStorage, int hazelcastPort, List<String> hazelcastMembers) throws Exception {
        this(name, sharedStorage, hazelcastPort, hazelcastMembers, null);
    }

    /**
     * As above, keeping the controller's local state (its copy of the CA) in {@code stateDir}, which {@link #close}
     * leaves alone; null: a directory of its own.
     */
    public TestController(String name, Path sharedStorage, int hazelcastPort, List<String> hazelcastMembers, Path stateDir)
            throws Exception {
        dir = Files.createTempDirectory("vigil-ctl-test-");
        shared = sharedStorage != null ? sharedStorage : dir.resolve("shared");
        Files.createDirectories(shared.resolve("hosts"));
        // Members of one test cluster share their storage folder, and so the cluster secret beside it.
        Path clusterSecret = shared.resolveSibling(shared.getFileName() + ".cluster-secret");
        ControllerConfig config = new ControllerConfig(name, "127.0.0.1", 0, shared.toString(), hazelcastPort,
                hazelcastMembers, null, 0, (stateDir != null ? stateDir : dir.resolve("state")).toString(), null, null,
                null, null, null, null, null, null, null, clusterSecret.toString());
        controller = Controller.start(config);
        http = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(Duration.ofSeconds(2)).build();
        BY_PORT.put(controller.httpPort(), this);
        BY_PORT.put(controller.agentPort(), this);
    }

    /** The running test controller listening on {@code port} (HTTP or agent port), or null. */
    static TestController at(int port) {
        return BY_PORT.get(port);
    }

    /** The agent port (TLS): enrollment and the agent WebSocket. */
    public int agentPort() {
        return controller.agentPort();
    }

    /**
     * A key and a client certificate for {@code host} issued directly by this controller's CA and recorded in its
     * registry, as if the host had enrolled with a join token.
     */
    public AgentCredentials agentCredentials(String host) {
        java.security.KeyPair keys = io.vigil.protocol.tls.KeyPairs.generateP256();
        var issued = controller.certificates().issue(io.vigil.protocol.tls.CertificateRequests.forHost(host, keys), host);
        return new AgentCredentials(keys.getPrivate(), issued.certificate(), controller.certificates().authority().certificate());
    }

    /** A fake agent with {@code memoryMiB} joined to this controller, returned once the API shows its host connected. */
    public FakeAgent connectedHost(String host, long memoryMiB) throws Exception {
        FakeAgent agent = new FakeAgent(host, sharedStorage(), memoryMiB).join(port(), io.vigil.protocol.ProtocolVersion.CURRENT);
        Await.until(host + " connected", Duration.ofSeconds(15),
                () -> "connected".equals(get("/api/v1/hosts/" + host).json().get("state")));
        return agent;
    }

    public Path sharedStorage() {
        return shared;
    }

    public int port() {
        return controller.httpPort();
    }

    /** The bootstrap admin token this controller wrote to its state directory; every plain request carries it. */
    public String adminToken() {
        try {
            return Files.readString(controller.config().adminTokenPath()).trim();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** TLS trusting only this controller's cluster CA (host names checked by the client, as always). */
    public javax.net.ssl.SSLContext sslContext() {
        return trusting(controller.certificates().authority().certificate());
    }

    /** TLS trusting only {@code ca}. */
    public static javax.net.ssl.SSLContext trusting(java.security.cert.X509Certificate ca) {
        try {
            java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            return tls;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cluster CA's certificate as the controller keeps it (STATEDIR/ca/ca.crt): what a client's --ca-file names. */
    public Path caFile() {
        return controller.config().stateDirPath().resolve("ca").resolve("ca.crt");
    }

    /** {@code https://127.0.0.1:PORT} (http:// for a controller configured with plainHttp). */
    public String baseUrl() {
        return (controller.restCertificate() == null ? "http" : "https") + "://127.0.0.1:" + port();
    }

    /**
     * A POST of {@code json} to the agent port (HTTPS, trusting only this controller's CA, no client certificate), as
     * an enrolling agent makes it.
     */
    public Reply postToAgentPort(String path, String json) {
        try {
            HttpClient client = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + agentPort() + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body(), null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Requests carrying {@code token} (null: none) instead of the admin token. */
    public Caller as(String token) {
        return new Caller(token);
    }

    /** Issues a token with {@code role} directly in the store (not through the API) and returns its text. */
    public String tokenFor(String name, io.vigil.controller.auth.Role role) {
        return controller.tokens().issue(name, role, io.vigil.controller.auth.ApiToken.API, null, "test",
                System.currentTimeMillis()).token();
    }

    public Reply get(String path) {
        return admin().get(path);
    }

    public Reply post(String path, String json) {
        return admin().post(path, json);
    }

    public Reply postEmpty(String path) {
        return admin().postEmpty(path);
    }

    public Reply put(String path, String json) {
        return admin().put(path, json);
    }

    /** A PATCH with a JSON Merge Patch (application/merge-patch+json). */
    public Reply patch(String path, String mergePatch) {
        return admin().patch(path, mergePatch);
    }

    public Reply patch(String path, String body, String contentType) {
        return admin().patch(path, body, contentType);
    }

    public Reply delete(String path) {
        return admin().delete(path);
    }

    private Caller admin() {
        Caller a = admin;
        if (a == null) admin = a = new Caller(adminToken());
        return a;
    }

    /** A small HTTP client of this controller's REST API, sending one bearer token (or none). */
    public final class Caller {
        private final String token;

        Caller(String token) {
            this.token = token;
        }

        public Reply get(String path) {
            return send(HttpRequest.newBuilder(uri(path)).GET());
        }

        public Reply post(String path, String json) {
            return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)));
        }

        public Reply postEmpty(String path) {
            return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
        }

        public Reply put(String path, String json) {
            return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(json)));
        }

        public Reply patch(String path, String mergePatch) {
            return patch(path, mergePatch, "application/merge-patch+json");
        }

        public Reply patch(String path, String body, String contentType) {
            return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
                    .method("PATCH", HttpRequest.BodyPublishers.ofString(body)));
        }

        public Reply delete(String path) {
            return send(HttpRequest.newBuilder(uri(path)).DELETE());
        }

        private Reply send(HttpRequest.Builder b) {
            if (token != null) b.header("Authorization", "Bearer " + token);
            try {
                HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body(),
                        r.headers().firstValue("Location").orElse(null));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private URI uri(String path) {
        return URI.create(baseUrl() + path);
    }

    /**
     * A new connection to the REST port, speaking whatever the port speaks (TLS or not), for tests that must send
     * bytes no HTTP client would (raw request lines, odd paths, broken encodings).
     */
    public java.net.Socket rawConnection() throws IOException {
        java.net.Socket s = controller.restCertificate() == null
                ? new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port())
                : sslContext().getSocketFactory().createSocket(java.net.InetAddress.getLoopbackAddress(), port());
        s.setSoTimeout(20_000);
        return s;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) return; // a test may stop a controller before its try-with-resources does
        closed = true;
        BY_PORT.remove(controller.httpPort(), this);
        BY_PORT.remove(controller.agentPort(), this);
        controller.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
