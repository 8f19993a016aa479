package io.vigil.controller.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * AES-256-GCM under a key derived from the {@link ClusterSecret}: how secret values (the CA's private key, password
 * and token hashes, relayed agent messages) are kept in Hazelcast and on shared storage, where whoever is admitted to
 * the cluster or mounts the storage can read them. A sealed value is one line of text:
 * <pre>
 *   vigil-sealed-1.&lt;key id, 16 hex&gt;.&lt;base64url: session (16) | nonce (12) | ciphertext | tag (16)&gt;
 * </pre>
 * <ul>
 *   <li>The key id is derived from the secret under a label of its own, so it says nothing of the key; it tells a
 *       value sealed under another cluster's secret from a damaged one.
 *   <li>Each {@code SealingKey} instance (one per controller process) seals under a session key of its own, derived
 *       from the sealing key and a random 128-bit session id, with a counter as the nonce: nonces never repeat under
 *       one key, however many values a long-lived cluster seals (random 96-bit nonces would wear out near 2^32).
 *   <li>The {@code context} (a record's collection and key, a topic's name) is GCM's associated data: a sealed value
 *       copied into another record or map does not open there.
 * </ul>
 * A value that does not open raises {@link UnsealableException}, with a reason a person can act on; never garbage.
 * Thread-safe.
 */
public final class SealingKey {
    static final String PREFIX = "vigil-sealed-1.";
    private static final int SESSION_BYTES = 16;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final byte[] SESSION_LABEL = "vigil sealing session key 1".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_CACHED_SESSIONS = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;
    private final String id;
    private final byte[] session = new byte[SESSION_BYTES];
    private final SecretKey sessionKey;
    private final AtomicLong counter = new AtomicLong();
    /** Session keys of other processes (other controllers, earlier runs), by session id: derived once each. */
    private final Map<ByteBuffer, SecretKey> sessions = new ConcurrentHashMap<>();

    /** @param key 32 bytes; @param id the key's public id (hex) */
    SealingKey(byte[] key, String id) {
        if (key.length != 32) throw new IllegalArgumentException("an AES-256 key has 32 bytes");
        this.key = key.clone();
        this.id = id;
        RANDOM.nextBytes(session);
        this.sessionKey = deriveSessionKey(session);
    }

    /** The key's id: public (it reveals nothing of the key), written beside sealed state to catch a wrong secret. */
    public String id() {
        return id;
    }

    /** Whether {@code text} looks like a sealed value (it may still not open). */
    public static boolean isSealed(String text) {
        return text != null && text.startsWith(PREFIX);
    }

    public String seal(String context, String plaintext) {
        return seal(context, plaintext.getBytes(StandardCharsets.UTF_8));
    }

    public String seal(String context, byte[] plaintext) {
        long n = counter.incrementAndGet();
        byte[] nonce = ByteBuffer.allocate(NONCE_BYTES).putInt(0).putLong(n).array();
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, sessionKey, new GCMParameterSpec(TAG_BITS, nonce));
            gcm.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = gcm.doFinal(plaintext);
            byte[] out = ByteBuffer.allocate(SESSION_BYTES + NONCE_BYTES + sealed.length).put(session).put(nonce).put(sealed).array();
            return PREFIX + id + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot seal with AES-256-GCM: " + e.getMessage(), e);
        }
    }

    public String openString(String context, String sealed) {
        return new String(open(context, sealed), StandardCharsets.UTF_8);
    }

    /** The plaintext of {@code sealed}, which must have been sealed under this key with this {@code context}. */
    public byte[] open(String context, String sealed) {
        if (!isSealed(sealed)) throw new UnsealableException(context + " is not a sealed value");
        String rest = sealed.substring(PREFIX.length());
        int dot = rest.indexOf('.');
        if (dot < 0) throw new UnsealableException(context + " is not a sealed value: no key id");
        String sealedWith = rest.substring(0, dot);
        if (!sealedWith.equals(id))
            throw new UnsealableException(context + " was sealed under another cluster secret (key id " + sealedWith
                    + "; this controller's is " + id + "): this controller's clusterSecretFile is not the cluster's");
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(rest.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            throw new UnsealableException(context + " is not a sealed value: " + e.getMessage());
        }
        if (bytes.length < SESSION_BYTES + NONCE_BYTES + TAG_BITS / 8)
            throw new UnsealableException(context + " is not a sealed value: too short");
        byte[] valueSession = Arrays.copyOfRange(bytes, 0, SESSION_BYTES);
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, sessionKey(valueSession),
                    new GCMParameterSpec(TAG_BITS, bytes, SESSION_BYTES, NONCE_BYTES));
            gcm.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            return gcm.doFinal(bytes, SESSION_BYTES + NONCE_BYTES, bytes.length - SESSION_BYTES - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw new UnsealableException(context + " does not open under the cluster's key: it was altered, or copied "
                    + "from another record");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot open AES-256-GCM: " + e.getMessage(), e);
        }
    }

    private SecretKey sessionKey(byte[] valueSession) {
        if (Arrays.equals(valueSession, session)) return sessionKey;
        if (sessions.size() >= MAX_CACHED_SESSIONS) sessions.clear(); // sessions are few: one per controller run
        return sessions.computeIfAbsent(ByteBuffer.wrap(valueSession), s -> deriveSessionKey(valueSession));
    }

    private SecretKey deriveSessionKey(byte[] sessionId) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(key, sessionId, SESSION_LABEL));
        byte[] out = new byte[32];
        hkdf.generateBytes(out, 0, out.length);
        return new SecretKeySpec(out, "AES");
    }

    @Override
    public String toString() { // never the key
        return "SealingKey[" + id + "]";
    }

    /** Hex of {@code bytes}: how key ids are written. */
    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** A value that does not open: sealed under another secret, altered, moved, or not sealed at all. */
    public static final class UnsealableException extends IllegalStateException {
        public UnsealableException(String message) {
            super(message);
        }
    }
}
