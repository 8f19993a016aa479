package io.vigil.agent.tls;

import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vigil.protocol.tls.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;

/**
 * The agent's credentials in {@code tlsDir}: {@code agent.key} (PKCS#8, 0600), {@code agent.crt} (its client
 * certificate, CN = the host) and {@code ca.crt} (the controller cluster's CA, the only certificate the agent
 * trusts on wss:// links).
 */
public record TlsFiles(Path dir) {
    public Path key() {
        return dir.resolve("agent.key");
    }

    public Path certificate() {
        return dir.resolve("agent.crt");
    }

    public Path ca() {
        return dir.resolve("ca.crt");
    }

    /** Whether the agent has enrolled: all three files are there. */
    public boolean present() {
        return Files.isRegularFile(key()) && Files.isRegularFile(certificate()) && Files.isRegularFile(ca());
    }

    /** Writes the credentials, the certificate last: a crash half-way leaves no certificate, so the agent enrolls again. */
    public void write(PrivateKey key, String certificatePem, String caPem) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(certificate());
        Pem.writeSecret(key(), Pem.privateKey(key));
        Pem.writePublic(ca(), caPem);
        Pem.writePublic(certificate(), certificatePem);
    }

    /**
     * The controller link's client options: this certificate as the client certificate, the CA as the only trust
     * anchor, the controller's host name verified against its certificate. Applies to wss:// URLs only.
     */
    public WebSocketClientOptions applyTo(WebSocketClientOptions options) {
        return options.setKeyCertOptions(new PemKeyCertOptions().setKeyPath(key().toString()).setCertPath(certificate().toString()))
                .setTrustOptions(new PemTrustOptions().addCertPath(ca().toString()))
                .setVerifyHost(true);
    }
}
