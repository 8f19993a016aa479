package io.vigil.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.config.ControllerConfig;
import io.vigil.controller.pki.CertificateAuthority;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.ui.Dashboard;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.Pem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST port (API and dashboard) speaks HTTPS by default: TLS 1.3 or 1.2 with a certificate from the cluster CA for
 * the controller's names, sent with the CA; a plain-HTTP request to it gets no data. An operator's certificate and key
 * replace the CA's certificate on the REST port only (agents keep pinning the cluster CA); plain HTTP only when
 * {@code plainHttp: true} says so, and then without Strict-Transport-Security.
 */
class RestTlsTest {
    @TempDir Path dir;

    @Test
    void theRestPortSpeaksTlsWithTheClusterCasCertificate() throws Exception {
        try (TestController ctl = new TestController()) {
            assertTrue(ctl.controller.restBaseUrl().startsWith("https://127.0.0.1:"), ctl.controller.restBaseUrl());
            assertEquals(200, ctl.get("/api/v1/hosts").status());
            X509Certificate ca = ctl.controller.certificates().authority().certificate();
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                try (SSLSocket tls = handshake(ctl.sslContext(), ctl.port(), protocol)) {
                    assertEquals(protocol, tls.getSession().getProtocol());
                    Certificate[] chain = tls.getSession().getPeerCertificates();
                    assertEquals(2, chain.length, "the certificate and the CA, so that a client can pin the CA");
                    assertEquals(Fingerprints.sha256(ca), Fingerprints.sha256((X509Certificate) chain[1]));
                    String names = ((X509Certificate) chain[0]).getSubjectAlternativeNames().toString();
                    assertTrue(names.contains("127.0.0.1") && names.contains("localhost"), names);
                }
            }
            ctl.controller.restCertificate().verify(ca.getPublicKey()); // issued by the cluster CA
            assertTrue(Files.exists(ctl.caFile()), "the CA an operator hands to clients: STATEDIR/ca/ca.crt");
            assertEquals(Fingerprints.sha256(ca), Fingerprints.sha256(Pem.readCertificate(Files.readString(ctl.caFile()))));
        }
    }

    @Test
    void aPlainHttpRequestToTheHttpsPortGetsNoData() throws Exception {
        try (TestController ctl = new TestController()) {
            for (String path : List.of("/api/v1/health", "/api/v1/hosts", "/ui/")) {
                String answer = plainRequest(ctl.port(), path, ctl.adminToken());
                assertFalse(answer.contains("HTTP/1."), path + ": no HTTP answer: " + answer);
                assertFalse(answer.contains("{") || answer.contains("<html"), path + ": no data: " + answer);
            }
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + ctl.port() + "/api/v1/health")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()));
            assertEquals(200, ctl.get("/api/v1/health").status(), "the port still serves HTTPS");
        }
    }

    @Test
    void anOperatorsCertificateIsServedOnTheRestPortOnly() throws Exception {
        CertificateAuthority operatorCa = CertificateAuthority.create();
        var issued = operatorCa.issueServerCertificate("vigil.example.net", List.of("127.0.0.1", "vigil.example.net"));
        Path certificate = dir.resolve("rest.crt");
        Path key = dir.resolve("rest.key");
        Files.writeString(certificate, Pem.certificate(issued.certificate()) + operatorCa.certificatePem());
        Files.writeString(key, Pem.privateKey(issued.key()));
        try (Controller c = Controller.start(config("tls-file", "tlsCertificateFile: " + certificate + "\ntlsKeyFile: " + key + "\n"))) {
            assertEquals(issued.certificate(), c.restCertificate());
            assertEquals(200, get(TestController.trusting(operatorCa.certificate()), c.restBaseUrl() + "/health").statusCode());
            X509Certificate clusterCa = c.certificates().authority().certificate();
            assertThrows(SSLHandshakeException.class, () -> get(TestController.trusting(clusterCa), c.restBaseUrl() + "/health"),
                    "the cluster CA does not vouch for the operator's certificate");
            try (SSLSocket agentPort = handshake(TestController.trusting(clusterCa), c.agentPort(), "TLSv1.3")) {
                assertEquals(clusterCa, agentPort.getSession().getPeerCertificates()[1], "agents keep pinning the cluster CA");
            }
        }
    }

    @Test
    void aKeyThatIsNotTheCertificatesStopsTheStartNamingTheField() throws Exception {
        CertificateAuthority operatorCa = CertificateAuthority.create();
        var issued = operatorCa.issueServerCertificate("a", List.of("127.0.0.1"));
        var other = operatorCa.issueServerCertificate("b", List.of("127.0.0.1"));
        Path certificate = dir.resolve("a.crt");
        Path key = dir.resolve("b.key");
        Files.writeString(certificate, Pem.certificate(issued.certificate()));
        Files.writeString(key, Pem.privateKey(other.key()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Controller.start(
                config("tls-bad", "tlsCertificateFile: " + certificate + "\ntlsKeyFile: " + key + "\n")).close());
        assertTrue(e.getMessage().contains("tlsKeyFile " + key) && e.getMessage().contains("not the key"), e.getMessage());
        Files.writeString(key, "not PEM");
        e = assertThrows(IllegalArgumentException.class, () -> Controller.start(
                config("tls-bad2", "tlsCertificateFile: " + certificate + "\ntlsKeyFile: " + key + "\n")).close());
        assertTrue(e.getMessage().contains("tlsKeyFile"), e.getMessage());
    }

    @Test
    void plainHttpOnlyWhenConfiguredAndWithoutHsts() throws Exception {
        try (Controller c = Controller.start(config("plain", "plainHttp: true\n"))) {
            assertTrue(c.restBaseUrl().startsWith("http://127.0.0.1:"), c.restBaseUrl());
            assertNull(c.restCertificate());
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> health = plain.send(HttpRequest.newBuilder(URI.create(c.restBaseUrl() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            HttpResponse<String> ui = plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.httpPort() + "/ui/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ui.statusCode());
            assertEquals(Dashboard.CSP, ui.headers().firstValue("Content-Security-Policy").orElse(null));
            assertTrue(ui.headers().firstValue("Strict-Transport-Security").isEmpty(), "HSTS means nothing over plain HTTP");
        }
    }

    /** A controller of its own on loopback: ephemeral ports, a cluster of one, state under the test's directory. */
    private ControllerConfig config(String name, String extraYaml) throws Exception {
        Path base = Files.createDirectories(dir.resolve(name));
        Files.createDirectories(base.resolve("shared").resolve("hosts"));
        Path yaml = base.resolve("controller.yaml");
        Files.writeString(yaml, "name: " + name + "\nhttpHost: 127.0.0.1\nhttpPort: 0\nagentPort: 0\nhazelcastPort: "
                + TestController.freePort() + "\nsharedStorage: " + base.resolve("shared") + "\nstateDir: "
                + base.resolve("state") + "\n" + extraYaml);
        return ControllerConfig.load(yaml, Map.of());
    }

    private static HttpResponse<String> get(SSLContext trust, String url) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(trust).connectTimeout(Duration.ofSeconds(2)).build();
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static SSLSocket handshake(SSLContext trust, int port, String protocol) throws IOException {
        SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", port);
        SSLParameters p = socket.getSSLParameters();
        p.setProtocols(new String[] {protocol});
        p.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(p);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        assertTrue(Set.of("TLSv1.3", "TLSv1.2").contains(socket.getSession().getProtocol()));
        return socket;
    }

    /** Sends a plain-HTTP GET with the admin token and returns whatever comes back until the connection closes. */
    private static String plainRequest(int port, String path, String token) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(15_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nAccept: application/json\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            try {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) answer.write(buffer, 0, n);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the HTTPS port kept a plain-HTTP connection open for 15 s", e);
            } catch (IOException reset) {
                // closed by the TLS layer: what was read so far is the answer
            }
            return answer.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
