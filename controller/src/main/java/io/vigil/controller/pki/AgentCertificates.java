package io.vigil.controller.pki;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
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
 * The agent certificates the cluster's CA issued, by serial, in the map {@value #MAP} (JSON, like the cluster store),
 * and what may be done with them: issue one for a checked CSR, list, look up (the agent gateway asks at every
 * WebSocket handshake), revoke. A revocation reaches every member through the map's entry listener, and each
 * member's gateway cuts that certificate's connection at once.
 *
 * <p>The Hazelcast maps live in memory only, so every member also keeps the registry in
 * {@code stateDir/ca/agents/<serial>.json} and loads it back at start: a controller cluster restarted as a whole
 * must still know (and still refuse the revoked among) the agents it enrolled. Loading merges: an entry missing from
 * the cluster is added, and a revocation found on disk is applied (revocation is never undone).
 */
public final class AgentCertificates {
    private static final Logger log = LoggerFactory.getLogger(AgentCertificates.class);
    public static final String MAP = "vigil.agent-certificates";

    private final IMap<String, HazelcastJsonValue> map;
    private final CertificateAuthority authority;
    private final Path dir;

    public AgentCertificates(HazelcastInstance hz, CertificateAuthority authority, Path stateDir) {
        this.map = hz.getMap(MAP);
        this.authority = authority;
        this.dir = stateDir.resolve("ca").resolve("agents");
    }

    /** Loads this member's copy into the cluster, then keeps the copy up to date with every member's changes. */
    public AgentCertificates start() throws IOException {
        Files.createDirectories(dir);
        map.addEntryListener(new Copier(), true);
        int loaded = 0;
        try (Stream<Path> files = Files.list(dir)) {
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
        // What the cluster knew before this member joined, this member keeps as well.
        for (HazelcastJsonValue v : map.values()) save(read(v));
        if (loaded > 0) log.info("loaded {} agent certificate record(s) from {}", loaded, dir);
        return this;
    }

    /** Adds {@code c} unless known; applies its revocation to a known, unrevoked entry. True if the cluster changed. */
    private boolean merge(AgentCertificate c) {
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue old = map.putIfAbsent(c.serial(), json(c));
            if (old == null) return true;
            AgentCertificate current = read(old);
            if (current.revoked() || !c.revoked()) return false;
            if (map.replace(c.serial(), old, json(c))) return true;
        }
        return false;
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
        map.set(record.serial(), json(record));
        return new Issued(certificate, record);
    }

    public Optional<AgentCertificate> get(String serial) {
        return Optional.ofNullable(map.get(serial)).map(AgentCertificates::read);
    }

    /** As {@link #get}, without blocking the caller (the gateway's event loop). */
    public CompletionStage<Optional<AgentCertificate>> getAsync(String serial) {
        return map.getAsync(serial).thenApply(v -> Optional.ofNullable(v).map(AgentCertificates::read));
    }

    /** Every issued certificate, or those of {@code host} (null: all), oldest first. */
    public List<AgentCertificate> list(String host) {
        return map.values().stream().map(AgentCertificates::read).filter(c -> host == null || host.equals(c.host()))
                .sorted(Comparator.comparingLong(AgentCertificate::issuedAt).thenComparing(AgentCertificate::serial)).toList();
    }

    /** The outcome of a revocation: the certificate as revoked, and whether this call revoked it. */
    public record Revocation(AgentCertificate certificate, boolean revokedNow) {}

    /**
     * Revokes the certificate (compare-and-set: of two concurrent revocations one revokes it, the other finds it
     * revoked). Empty: unknown serial. Revoking a revoked certificate changes nothing.
     */
    public Optional<Revocation> revoke(String serial, String by) {
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue old = map.get(serial);
            if (old == null) return Optional.empty();
            AgentCertificate current = read(old);
            if (current.revoked()) return Optional.of(new Revocation(current, false));
            AgentCertificate revoked = current.revoke(System.currentTimeMillis(), by);
            if (map.replace(serial, old, json(revoked))) return Optional.of(new Revocation(revoked, true));
        }
        throw new IllegalStateException("certificate " + serial + " changed concurrently 100 times in a row");
    }

    /** {@code listener} sees every revocation, made on any member (on a Hazelcast event thread). */
    public void onRevoked(Consumer<AgentCertificate> listener) {
        map.addEntryListener((EntryUpdatedListener<String, HazelcastJsonValue>) e -> {
            AgentCertificate c = read(e.getValue());
            if (c.revoked()) listener.accept(c);
        }, true);
    }

    /** Keeps {@code stateDir/ca/agents} in step with the cluster's map. */
    private final class Copier implements EntryAddedListener<String, HazelcastJsonValue>,
            EntryUpdatedListener<String, HazelcastJsonValue> {
        @Override
        public void entryAdded(EntryEvent<String, HazelcastJsonValue> e) {
            save(read(e.getValue()));
        }

        @Override
        public void entryUpdated(EntryEvent<String, HazelcastJsonValue> e) {
            save(read(e.getValue()));
        }
    }

    private void save(AgentCertificate c) {
        if (!c.serial().matches("[0-9a-f]{1,40}")) return; // never a path outside the directory
        try {
            Pem.writePublic(dir.resolve(c.serial() + ".json"), Json.write(c));
        } catch (IOException e) {
            log.warn("cannot keep agent certificate record {} in {}: {}", c.serial(), dir, e.toString());
        }
    }

    private static HazelcastJsonValue json(AgentCertificate c) {
        return new HazelcastJsonValue(Json.write(c));
    }

    private static AgentCertificate read(HazelcastJsonValue v) {
        return Json.read(v.getValue(), AgentCertificate.class);
    }
}
