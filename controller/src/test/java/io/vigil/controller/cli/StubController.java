package io.vigil.controller.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.vigil.controller.pki.CertificateAuthority;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for endpoints this tree has no controller for yet: a JDK HTTPS server on loopback, with a certificate
 * from a CA of its own ({@link #caFile}), that records each request and answers it with the next canned answer for its
 * method and path (the last one repeats).
 */
final class StubController implements AutoCloseable {
    /** A request as the client sent it; {@code uri} is the path with its query. */
    record Request(String method, String uri, String authorization, String contentType, String accept,
            String lastEventId, String body) {}

    @FunctionalInterface
    interface Answer {
        void send(HttpExchange exchange) throws IOException;
    }

    private final HttpsServer server;
    private final CertificateAuthority ca = CertificateAuthority.create();
    private final Path caFile;
    private final Map<String, Deque<Answer>> answers = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();

    /** With a certificate for 127.0.0.1 and localhost. */
    StubController() throws IOException {
        this(List.of("127.0.0.1", "localhost"));
    }

    /** With a certificate for {@code names} only. */
    StubController(List<String> names) throws IOException {
        caFile = Files.createTempFile("vigil-stub-ca-", ".crt");
        Files.writeString(caFile, ca.certificatePem());
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls(names)));
        server.createContext("/", this::handle);
        server.start();
    }

    private SSLContext tls(List<String> names) throws IOException {
        var issued = ca.issueServerCertificate("stub controller", names);
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", issued.key(), new char[0], new Certificate[] {issued.certificate(), ca.certificate()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), null, null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The stub's CA certificate (PEM), for --ca-file or VIGIL_CA_FILE. */
    Path caFile() {
        return caFile;
    }

    /** The SHA-256 fingerprint of the stub's CA. */
    String caFingerprint() {
        return ca.fingerprint();
    }

    /** Answers {@code METHOD /path} (no query) with {@code answer}, after the answers queued before it. */
    StubController on(String methodAndPath, Answer answer) {
        answers.computeIfAbsent(methodAndPath, k -> new ArrayDeque<>()).add(answer);
        return this;
    }

    StubController on(String methodAndPath, int status, String json) {
        return on(methodAndPath, json(status, json));
    }

    static Answer json(int status, String body) {
        return exchange -> {
            String type = status >= 400 ? "application/problem+json" : "application/json";
            send(exchange, status, type, body);
        };
    }

    static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (contentType != null) exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The next request the client made (fails the test after 5 s without one). */
    Request next() throws InterruptedException {
        Request r = requests.poll(5, TimeUnit.SECONDS);
        if (r == null) throw new AssertionError("the client sent no request");
        return r;
    }

    boolean noMoreRequests() {
        return requests.isEmpty();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        var h = exchange.getRequestHeaders();
        requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().toString(), h.getFirst("Authorization"),
                h.getFirst("Content-Type"), h.getFirst("Accept"), h.getFirst("Last-Event-ID"), body));
        Deque<Answer> queue = answers.get(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
        Answer answer;
        synchronized (this) {
            answer = queue == null ? null : queue.size() > 1 ? queue.poll() : queue.peek();
        }
        if (answer == null) {
            send(exchange, 404, "application/problem+json", "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                    + "\"detail\":\"no stub for " + exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + "\"}");
            return;
        }
        answer.send(exchange);
    }

    @Override
    public void close() {
        server.stop(0);
        try {
            Files.deleteIfExists(caFile);
        } catch (IOException e) {
            // a temporary file left behind
        }
    }
}
