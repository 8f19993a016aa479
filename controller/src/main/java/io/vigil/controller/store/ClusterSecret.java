package io.vigil.controller.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.Set;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller cluster's shared secret: random bytes in a file ({@code clusterSecretFile}) of which every controller
 * of one cluster holds an identical copy, readable by its owner only. Hazelcast's community edition has no member
 * authentication and no TLS, so this is what separates the cluster from whoever can reach its port. Two things are
 * derived from it with HKDF-SHA256 (RFC 5869), each under a label of its own, so that neither tells anything of the
 * other or of the secret:
 * <ul>
 *   <li>the Hazelcast cluster name ({@link #clusterName}): Hazelcast refuses a member whose cluster name differs, so a
 *       member without the secret is not admitted. The name travels in clear when members join: it keeps out whoever
 *       does not hold the secret, not whoever can sniff the controllers' network.
 *   <li>the {@link SealingKey}: secret values are sealed with it before they enter Hazelcast or shared storage, so a
 *       member admitted with a sniffed name still reads only ciphertext.
 * </ul>
 * A missing file is created (32 random bytes, 0600) by the first controller that starts; every further controller of
 * the cluster must be given a copy before it starts, or it would make a secret (and so a cluster) of its own.
 */
public final class ClusterSecret {
    private static final Logger log = LoggerFactory.getLogger(ClusterSecret.class);
    public static final int MIN_BYTES = 32;
    static final int MAX_BYTES = 4096;
    private static final byte[] SALT = "vigil cluster secret".getBytes(StandardCharsets.US_ASCII);
    private static final String CLUSTER_NAME_LABEL = "vigil hazelcast cluster name 1";
    private static final String SEALING_KEY_LABEL = "vigil sealing key 1";
    private static final String SEALING_KEY_ID_LABEL = "vigil sealing key id 1";
    private static final Set<PosixFilePermission> NOT_OWNER = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] secret;

    private ClusterSecret(byte[] secret) {
        this.secret = secret.clone();
    }

    /** A secret held by this process alone (tests and benchmarks that run the store without a controller). */
    public static ClusterSecret random() {
        byte[] bytes = new byte[MIN_BYTES];
        RANDOM.nextBytes(bytes);
        return new ClusterSecret(bytes);
    }

    /**
     * The secret in {@code file}, which is created first when it does not exist. If two controllers create it at once,
     * one file wins (created whole with {@code link(2)}, which does not replace) and both read it.
     *
     * @throws IOException when the file is readable or writable by anyone but its owner, is not a regular file, or
     *                     holds fewer than {@value #MIN_BYTES} bytes: the message says what to do
     */
    public static ClusterSecret loadOrCreate(Path file) throws IOException {
        if (!Files.exists(file)) create(file);
        return load(file);
    }

    static ClusterSecret load(Path file) throws IOException {
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (UnsupportedOperationException e) {
            throw new IOException("cannot check who may read the cluster secret " + file + ": not a POSIX file system");
        }
        if (!attributes.isRegularFile()) throw new IOException("the cluster secret " + file + " is not a regular file");
        Set<PosixFilePermission> loose = EnumSet.copyOf(NOT_OWNER);
        loose.retainAll(attributes.permissions());
        if (!loose.isEmpty())
            throw new IOException("the cluster secret " + file + " is open to group or others ("
                    + PosixFilePermissions.toString(attributes.permissions()) + "): whoever reads it can join the "
                    + "controller cluster and read its secrets. Make it readable by the controller's user only: chmod 600 "
                    + file);
        if (attributes.size() > MAX_BYTES)
            throw new IOException("the cluster secret " + file + " is " + attributes.size() + " bytes; at most " + MAX_BYTES);
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < MIN_BYTES)
            throw new IOException("the cluster secret " + file + " holds " + bytes.length + " bytes; it needs at least "
                    + MIN_BYTES + " random bytes (remove it to have one made, or copy the cluster's)");
        return new ClusterSecret(bytes);
    }

    private static void create(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        try {
            byte[] bytes = new byte[MIN_BYTES];
            RANDOM.nextBytes(bytes);
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                out.write(ByteBuffer.wrap(bytes));
                out.force(true);
            }
            Files.createLink(file, tmp);
            log.warn("created a new cluster secret in {}: every further controller of this cluster needs a copy of it "
                    + "(owner-only, mode 0600) at its clusterSecretFile before it starts", file);
        } catch (FileAlreadyExistsException raced) {
            // another controller created it first: both use that one
        } catch (NoSuchFileException e) {
            throw new IOException("cannot create the cluster secret " + file + ": " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The Hazelcast cluster name: {@code vigil-} and 128 bits derived from the secret, in hex. */
    public String clusterName() {
        return "vigil-" + SealingKey.hex(derive(CLUSTER_NAME_LABEL, 16));
    }

    /** The key secret values are sealed with before they enter Hazelcast or shared storage. */
    public SealingKey sealingKey() {
        return new SealingKey(derive(SEALING_KEY_LABEL, 32), SealingKey.hex(derive(SEALING_KEY_ID_LABEL, 8)));
    }

    private byte[] derive(String label, int length) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(secret, SALT, label.getBytes(StandardCharsets.US_ASCII)));
        byte[] out = new byte[length];
        hkdf.generateBytes(out, 0, length);
        return out;
    }

    @Override
    public String toString() { // never the secret
        return "ClusterSecret";
    }
}
