package io.vigil.controller.auth;

import io.vigil.controller.store.StateMap;
import io.vigil.controller.store.StateMaps;

import io.vigil.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster's API tokens, in a Hazelcast map shared by every controller member. A token reads
 * {@code vgl_<id>_<secret>}: the id (12 characters) finds the record, the secret (256 random bits) proves it. Only the
 * secret's SHA-256 is stored, and it is compared in constant time; a token is shown once, when it is issued. Revoking
 * removes the record, so the token stops working on every member at once.
 *
 * <p>What a token grants is decided at each use ({@link #grant}), never copied at issue: a session acts with its user's
 * role as it is now, and ends with its user.
 */
public final class ApiTokens {
    private static final Pattern FORMAT = Pattern.compile("vgl_([a-z2-7]{12})_([A-Za-z0-9_-]{43})");
    private static final char[] ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ApiTokens.class);

    private final StateMap<ApiToken> tokens;
    /** Ids of revoked API tokens, so that a member restarting with a revoked bootstrap token does not bring it back. */
    private final StateMap<Long> revoked;
    /** The users whose sessions these tokens may be. */
    private final Users users;

    public ApiTokens(StateMaps maps) {
        this.tokens = maps.map(StateMaps.Name.API_TOKENS, ApiToken.class);
        this.revoked = maps.map(StateMaps.Name.REVOKED_TOKENS, Long.class);
        this.users = new Users(maps);
    }

    /** A token just issued: its text, shown once, and what is stored of it. */
    public record Issued(String token, ApiToken record) {}

    /** Issues a new token for {@code name} with {@code role}; {@code ttlMillis} null: it never expires. */
    public Issued issue(String name, Role role, String kind, Long ttlMillis, String createdBy, long nowMillis) {
        String id = newId();
        String secret = newSecret();
        ApiToken record = new ApiToken(id, name, role, kind, sha256(secret), nowMillis, createdBy,
                ttlMillis == null ? null : nowMillis + ttlMillis);
        tokens.put(id, record);
        return new Issued(text(id, secret), record);
    }

    /** The principal {@code token} stands for, if it is well formed, known, its secret matches and it grants anything now. */
    public Optional<Principal> authenticate(String token, long nowMillis) {
        if (token == null) return Optional.empty();
        Matcher m = FORMAT.matcher(token);
        if (!m.matches()) return Optional.empty();
        Optional<ApiToken> stored = tokens.get(m.group(1));
        if (stored.isEmpty()) return Optional.empty();
        ApiToken record = stored.get();
        byte[] expected = record.secretSha256().getBytes(StandardCharsets.US_ASCII);
        byte[] presented = sha256(m.group(2)).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, presented)) return Optional.empty();
        return grant(record, nowMillis);
    }

    /**
     * What the token {@code id} grants at {@code nowMillis}: the principal its requests act as, or empty once it is
     * revoked or expired. Long-lived requests (event streams) ask again while they last, so they end with their grant.
     */
    public Optional<Principal> grant(String id, long nowMillis) {
        return tokens.get(id).flatMap(t -> grant(t, nowMillis));
    }

    /**
     * What {@code token} grants at {@code nowMillis}. An API token grants the role it was issued with. A session acts
     * for its user as the user is now: with the user's current role (a role change holds at once for every session,
     * on every member), and not at all once the user is gone, or when the user of that name was created after the
     * session began (a session of an earlier, deleted user whose revocation was cut short must not pass to a new one;
     * the two times may come from two members' clocks, which agree far closer than a login takes).
     */
    public Optional<Principal> grant(ApiToken token, long nowMillis) {
        if (token.expiredAt(nowMillis)) return Optional.empty();
        if (!ApiToken.SESSION.equals(token.kind())) return Optional.of(token.principal());
        return users.get(token.name()).filter(u -> u.createdAtMillis() <= token.createdAtMillis())
                .map(u -> new Principal(u.name(), u.role(), token.id(), token.kind()));
    }

    public Optional<ApiToken> get(String id) {
        return tokens.get(id);
    }

    /** Every stored token, oldest first. */
    public List<ApiToken> list() {
        List<ApiToken> out = new ArrayList<>(tokens.values());
        out.sort(Comparator.comparingLong(ApiToken::createdAtMillis).thenComparing(ApiToken::id));
        return out;
    }

    /** Revokes the token {@code id}; false if there is none. */
    public boolean revoke(String id) {
        Optional<ApiToken> token = tokens.get(id);
        if (token.isEmpty()) return false;
        // The revocation is recorded before the token goes, so that no crash between the two can bring it back.
        if (ApiToken.API.equals(token.get().kind())) revoked.put(id, System.currentTimeMillis());
        return tokens.remove(id);
    }

    /** Revokes every session of the user {@code name} (after a password change, or the user's deletion). */
    public int revokeSessionsOf(String name) {
        int removed = 0;
        for (ApiToken t : list()) {
            if (ApiToken.SESSION.equals(t.kind()) && t.name().equals(name) && revoke(t.id())) removed++;
        }
        return removed;
    }

    /** Drops expired tokens (sessions, mostly); returns how many. */
    public int removeExpired(long nowMillis) {
        int removed = 0;
        for (ApiToken t : list()) {
            if (t.expiredAt(nowMillis) && tokens.remove(t.id())) removed++;
        }
        return removed;
    }

    /**
     * The bootstrap admin token: read from {@code file}, or, when the file does not exist, issued anew and written there
     * (mode 0600), so the first admin can reach the API; registered as an admin API token named {@code bootstrap-admin}.
     * Registering again (a restart, or another member with the same file) is harmless. A token revoked through the API
     * stays revoked: it is not registered again (empty then; removing the file makes a new one at the next start).
     *
     * @throws IllegalStateException if the file holds something other than a Vigil token
     */
    public Optional<ApiToken> registerBootstrap(Path file, long nowMillis) throws IOException {
        String token;
        if (Files.exists(file)) {
            token = Files.readString(file, StandardCharsets.UTF_8).trim();
        } else {
            token = text(newId(), newSecret());
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        Matcher m = FORMAT.matcher(token);
        if (!m.matches())
            throw new IllegalStateException(file + " does not hold a Vigil API token (vgl_<id>_<secret>); remove it to have a new one made");
        if (revoked.containsKey(m.group(1))) {
            log.warn("the bootstrap admin token in {} was revoked and stays so; remove the file to have a new one made at the next start", file);
            return Optional.empty();
        }
        ApiToken record = new ApiToken(m.group(1), "bootstrap-admin", Role.ADMIN, ApiToken.API, sha256(m.group(2)),
                nowMillis, "controller", null);
        tokens.create(record.id(), record);
        return tokens.get(record.id());
    }

    private static String text(String id, String secret) {
        return "vgl_" + id + "_" + secret;
    }

    private static String newId() {
        char[] id = new char[12];
        for (int i = 0; i < id.length; i++) id[i] = ID_ALPHABET[RANDOM.nextInt(ID_ALPHABET.length)];
        return new String(id);
    }

    private static String newSecret() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    static String sha256(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
