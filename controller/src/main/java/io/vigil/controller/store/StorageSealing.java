package io.vigil.controller.store;

import io.vigil.protocol.Json;
import io.vigil.protocol.storage.RecordFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the durable state on shared storage to one cluster secret, before a controller serves anything from it.
 * <ul>
 *   <li>{@value #KEY_ID_FILE} (in the control-plane directory) names the {@link SealingKey#id} the state is sealed
 *       with; the first controller writes it (exclusively, so of two racing controllers with different secrets one
 *       loses). A controller whose key differs refuses to start: its secret file is not the cluster's, and it could
 *       neither read the sealed records nor be admitted to the cluster.
 *   <li>A format-1 directory (written before secrets were sealed: an upgrade) is converted: every plaintext record
 *       of a secret collection is written again, sealed, as its next revision, its older revisions are removed, and
 *       the directory becomes format 2. From then on a plaintext record in a secret collection is corrupt, so that
 *       whoever can write the shared storage (every host mounts it) cannot plant a user or a token in plaintext.
 * </ul>
 * Controllers converting at once are harmless: each write is a compare-and-set, and a record sealed by one is left
 * alone by the other.
 */
public final class StorageSealing {
    private static final Logger log = LoggerFactory.getLogger(StorageSealing.class);
    public static final String KEY_ID_FILE = "cluster-key-id";

    private StorageSealing() {}

    /** Checks (or records) the key {@code disk} is sealed with, and converts a format-1 directory. */
    public static void bind(Path controlPlaneDir, StateDirectory disk, SealingKey key) throws IOException {
        checkKeyId(controlPlaneDir.resolve(KEY_ID_FILE), key);
        if (disk.holdsPlaintextSecrets()) {
            List<String> sealed = sealPlaintext(disk, key);
            disk.secretsSealed();
            log.info("converted the control-plane state to format 2: sealed {} plaintext secret record(s) {}",
                    sealed.size(), sealed);
        }
    }

    private static void checkKeyId(Path file, SealingKey key) throws IOException {
        if (!Files.exists(file)) {
            Path tmp = file.resolveSibling("." + file.getFileName() + "." + java.util.UUID.randomUUID() + ".tmp");
            try {
                Files.writeString(tmp, key.id() + "\n");
                Files.createLink(file, tmp);
                RecordFiles.syncDirectory(file.getParent());
            } catch (FileAlreadyExistsException raced) {
                // another controller recorded its key first: checked below
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        String recorded = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (!recorded.equals(key.id()))
            throw new IOException("the cluster state on shared storage is sealed with key " + recorded + " (" + file
                    + "), but this controller's cluster secret gives key " + key.id() + ": give this controller a copy of "
                    + "the cluster's secret file (clusterSecretFile of the other controllers)");
    }

    /** Seals every plaintext record of the secret collections; returns them as collection/key. */
    private static List<String> sealPlaintext(StateDirectory disk, SealingKey key) {
        List<String> sealed = new ArrayList<>();
        for (StateMaps.Name name : StateMaps.Name.values()) {
            if (!name.secret() || name.durability() != StateMaps.Durability.DURABLE) continue;
            String collection = name.collection();
            for (Map.Entry<String, StoredRecord> e : disk.readAll(collection).records().entrySet()) {
                StoredRecord r = e.getValue();
                if (!r.deleted() && r.sealed() == null) {
                    String value = key.seal(StoredRecord.sealingContext(collection, e.getKey()), Json.write(r.value()));
                    // False: another controller converting at the same time wrote the next revision (sealed) first.
                    if (disk.writeSealed(collection, e.getKey(), r.revision(), value))
                        sealed.add(StoredRecord.sealingContext(collection, e.getKey()));
                }
                disk.keepNewestRevisionOnly(collection, e.getKey());
            }
        }
        return sealed;
    }
}
