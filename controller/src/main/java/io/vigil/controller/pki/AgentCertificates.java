package io.vigil.controller.pki;

import io.vigil.controller.store.StateMap;
import io.vigil.controller.store.StateMaps;

import io.vigil.protocol.Json;
import io.vigil.protocol.tls.CertificateRequests;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent certificates the cluster's CA issued, by serial, in the durable state map {@code agent-certificates}, and
 * what may be done with them: issue one for a checked CSR, list, look up (the agent gateway asks at every WebSocket
 * handshake), revoke. A revocation reaches every member through the map's change feed, and each member's gateway cuts
 * that certificate's connection at once. Revocation is a compare-and-set on storage and is never undone.
 *
 * <p>Controllers of earlier versions kept a copy of the registry in {@code stateDir/ca/agents/<serial>.json}; such
 * copies are merged in at start (an unknown certificate is added, a revocation is applied).
 */
public final class AgentCertificates {
    private static final Logger log = LoggerFactory.getLogger(AgentCertificates.class);

    private final StateMap<AgentCertificate> map;
    private final CertificateAuthority authority;
    private final Path legacyDir;

    public AgentCertificates(StateMaps maps, CertificateAuthority authority, Path stateDir) {
        this.map = maps.map(StateMaps.Name.AGENT_CERTIFICATES, AgentCertificate.class);
        this.authority = authority;
        this.legacyDir = stateDir.resolve("ca").resolve("agents");
    }

    /** Merges the records an earlier version kept in the state directory, if any. */
    public AgentCertificates start() throws IOException {
        if (!Files.isDirectory(legacyDir)) return this;
        int loaded = 0;
        try (Stream<Path> files = Files.list(legacyDir)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.getFileName().toString().endsWith(".json"))::iterator) {
                AgentCertificate c;
                try {
                    c = Json.read(Files.readString(f), AgentCertificate.class);
                } catch (IOException | IllegalArgumentException e) {
                    log.warn("ignoring unreadable agent certificate record {}: {}", f, e.toString());
                    continue;
                }
                if (merge(c)) loaded++;
            }
        }
        if (loaded > 0) log.info("merged {} agent certificate record(s) from {}", loaded, legacyDir);
        return this;
    }

    /** Adds {@code c} unless known; applies its revocation to a known, unrevoked entry. True if the registry changed. */
    private boolean merge(AgentCertificate c) {
        if (map.create(c.serial(), c)) return true;
        if (!c.revoked()) return false;
        return map.update(c.serial(), current -> current.revoked() ? current : c).map(AgentCertificate::revoked).orElse(false);
    }

    public CertificateAuthority authority() {
        return authority;
    }

    /** The certificate and its registry entry. */
    public record Issued(X509Certificate certificate, AgentCertificate record) {
        public String certificatePem() {
            return Pem.certificate(certificate);
        }
    }

    /**
     * Issues and records an agent certificate for {@code csr}, for host {@code host}. The request must be signed by
     * the key it carries (else {@link IllegalArgumentException}).
     */
    public Issued issue(PKCS10CertificationRequest csr, String host) {
        if (!CertificateRequests.isSignatureValid(csr))
            throw new IllegalArgumentException("the certificate request's signature does not verify with its own public key");
        X509Certificate certificate = authority.issueAgentCertificate(csr, host);
        AgentCertificate record = new AgentCertificate(CertificateAuthority.serialOf(certificate), host,
                Fingerprints.sha256(certificate), certificate.getNotBefore().getTime(), certificate.getNotAfter().getTime(),
                System.currentTimeMillis(), null, null);
        map.put(record.serial(), record);
        return new Issued(certificate, record);
    }

    public Optional<AgentCertificate> get(String serial) {
        return map.get(serial);
    }

    /** As {@link #get}, without blocking the caller (the gateway's event loop). */
    public CompletionStage<Optional<AgentCertificate>> getAsync(String serial) {
        return map.getAsync(serial);
    }

    /** Every issued certificate, or those of {@code host} (null: all), oldest first. */
    public List<AgentCertificate> list(String host) {
        return map.values().stream().filter(c -> host == null || host.equals(c.host()))
                .sorted(Comparator.comparingLong(AgentCertificate::issuedAt).thenComparing(AgentCertificate::serial)).toList();
    }

    /** The outcome of a revocation: the certificate as revoked, and whether this call revoked it. */
    public record Revocation(AgentCertificate certificate, boolean revokedNow) {}

    /**
     * Revokes the certificate (compare-and-set: of two concurrent revocations one revokes it, the other finds it
     * revoked). Empty: unknown serial. Revoking a revoked certificate changes nothing.
     */
    public Optional<Revocation> revoke(String serial, String by) {
        boolean[] now = {false};
        return map.update(serial, current -> {
            now[0] = !current.revoked();
            return current.revoked() ? current : current.revoke(System.currentTimeMillis(), by);
        }).map(c -> new Revocation(c, now[0]));
    }

    /** {@code listener} sees every revocation, made on any member (on a Hazelcast event thread). */
    public void onRevoked(Consumer<AgentCertificate> listener) {
        map.onChange((serial, c) -> {
            if (c != null && c.revoked()) listener.accept(c);
        });
    }
}
