package io.vigil.controller.api;

import io.vertx.core.Vertx;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The long-lived responses (event streams) open on this controller member, by the token each was opened with, held to
 * two rules. A token holds at most {@code maxPerToken} of them at once here ({@link #admit}). And none outlives its
 * grant: every {@code checkMillis} the grant of each token holding one is read again from the store, and a stream
 * whose token was revoked or has expired, whose session's user is gone, or whose role no longer includes
 * {@code required}, is ended. The store's maps are the cluster's, so a revocation through any member ends the streams
 * on every member within one check (plus a store read).
 *
 * <p>A re-read rather than a map listener: it needs no event to arrive, so it also ends streams at an expiry (which no
 * write announces) and after a split heals or a resync changes the maps under it.
 *
 * <p>Threads: {@link #admit}, {@link #remove} and {@link #forEach} are safe from any thread; the checks run on the
 * timer's context, the store reads on a worker.
 *
 * @param <S> the stream
 */
final class OpenStreams<S extends OpenStreams.Stream> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpenStreams.class);

    /** One open stream. */
    interface Stream {
        /** The id of the token it was opened with. */
        String tokenId();

        /** Ends it from any thread (a last comment saying {@code why}, then the end of the response). */
        void end(String why);
    }

    /** What a token grants now (see {@link io.vigil.controller.auth.ApiTokens#grant}); may block on the store. */
    interface Grants {
        Optional<Principal> of(String tokenId, long nowMillis);
    }

    private final Vertx vertx;
    private final Grants grants;
    private final Role required;
    private final int maxPerToken;
    private final Map<String, Set<S>> byToken = new ConcurrentHashMap<>();
    private final AtomicBoolean checking = new AtomicBoolean();
    private final long timer;

    OpenStreams(Vertx vertx, Grants grants, Role required, int maxPerToken, long checkMillis) {
        this.vertx = vertx;
        this.grants = grants;
        this.required = required;
        this.maxPerToken = maxPerToken;
        this.timer = vertx.setPeriodic(checkMillis, id -> checkGrants());
    }

    int maxPerToken() {
        return maxPerToken;
    }

    /** Adds {@code stream} unless its token holds {@code maxPerToken} streams here already; false then. */
    boolean admit(S stream) {
        boolean[] admitted = {false};
        byToken.compute(stream.tokenId(), (id, open) -> {
            Set<S> set = open != null ? open : ConcurrentHashMap.newKeySet();
            if (set.size() < maxPerToken) admitted[0] = set.add(stream);
            return set.isEmpty() ? null : set;
        });
        return admitted[0];
    }

    /** Frees {@code stream}'s place (it ended or its client left); harmless twice. */
    void remove(S stream) {
        byToken.computeIfPresent(stream.tokenId(), (id, open) -> {
            open.remove(stream);
            return open.isEmpty() ? null : open;
        });
    }

    void forEach(Consumer<S> action) {
        for (Set<S> open : byToken.values()) open.forEach(action);
    }

    int size() {
        int n = 0;
        for (Set<S> open : byToken.values()) n += open.size();
        return n;
    }

    /** One check: skipped while the previous one still reads the store (a slow store must not pile up reads). */
    private void checkGrants() {
        if (byToken.isEmpty() || !checking.compareAndSet(false, true)) return;
        List<String> ids = List.copyOf(byToken.keySet());
        vertx.executeBlocking(() -> ended(ids, System.currentTimeMillis()), false).onComplete(ar -> {
            checking.set(false);
            if (ar.failed()) {
                log.warn("could not check the grants of the open event streams (checked again shortly): {}", ar.cause().toString());
                return;
            }
            ar.result().forEach((tokenId, why) -> {
                Set<S> open = byToken.get(tokenId);
                if (open == null) return;
                log.info("ending {} event stream(s) of token {}: {}", open.size(), tokenId, why);
                for (S s : List.copyOf(open)) {
                    remove(s);
                    s.end(why);
                }
            });
        });
    }

    /** The tokens among {@code ids} whose grant no longer covers a stream, each with why. Blocking. */
    private Map<String, String> ended(List<String> ids, long nowMillis) {
        Map<String, String> out = new HashMap<>();
        for (String id : ids) {
            Optional<Principal> grant = grants.of(id, nowMillis);
            if (grant.isEmpty()) {
                out.put(id, "its token was revoked or has expired, or its session's user was deleted");
            } else if (!grant.get().role().includes(required)) {
                out.put(id, grant.get().name() + " now has role " + grant.get().role().wireName() + "; the stream needs "
                        + required.wireName());
            }
        }
        return out;
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        byToken.clear();
    }
}
