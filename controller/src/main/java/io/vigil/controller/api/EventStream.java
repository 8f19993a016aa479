package io.vigil.controller.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.store.ClusterStore;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/events/stream}: the event log as Server-Sent Events. Each new event, appended on any controller
 * member, is one {@code event: cluster-event} with {@code id: <sequence>} and the JSON of an {@code /events} item. A
 * client resumes after the id in its {@code Last-Event-ID} header (or {@code ?since=}, a sequence or an epoch time in
 * milliseconds as for {@code /events}): the missed events come first (at most {@value #BACKLOG}), then live ones,
 * none twice. A comment line every 15 s keeps proxies and the client's read loop awake.
 *
 * <p>One entry listener on the store per controller fans out to the connected clients; a client that disconnects is
 * dropped from the fan-out and its keep-alive timer cancelled. A client that does not read (its write queue is full)
 * is disconnected rather than buffered without bound; it resumes from its last id.
 *
 * <p>A stream lasts no longer than its grant ({@link OpenStreams}): once its token is revoked or expires, or its
 * session's user is deleted, on whichever member, the stream gets a last comment saying so and ends within
 * {@value #GRANT_CHECK_MILLIS} ms (plus a store read); reconnecting then gets 401. A role change leaves a session's
 * stream open, since every role includes {@link #REQUIRED_ROLE}. One token holds at most {@value #MAX_PER_TOKEN}
 * streams at once on one member; the next is refused with 429 until one of them closes.
 */
final class EventStream implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    static final int BACKLOG = 1000;
    static final String EVENT_NAME = "cluster-event";
    /** Streams one token may hold open at once on one controller member (a dashboard opens one per browser tab). */
    static final int MAX_PER_TOKEN = 8;
    /** How often the open streams' grants are read again. */
    static final long GRANT_CHECK_MILLIS = 250;
    /** The least role a stream needs: streamEvents' x-vigil-role in openapi.yaml (a test holds the two together). */
    static final Role REQUIRED_ROLE = Role.VIEWER;

    private final Vertx vertx;
    private final ClusterStore store;
    private final long keepAliveMillis;
    private final OpenStreams<Subscriber> open;
    private final Runnable unlisten;

    EventStream(Vertx vertx, ClusterStore store, OpenStreams.Grants grants, long keepAliveMillis, int maxPerToken,
            long grantCheckMillis) {
        this.vertx = vertx;
        this.store = store;
        this.keepAliveMillis = keepAliveMillis;
        this.open = new OpenStreams<>(vertx, grants, REQUIRED_ROLE, maxPerToken, grantCheckMillis);
        this.unlisten = store.onEventAppended(e -> open.forEach(s -> s.offer(e)));
    }

    /** Clients connected to this member's stream. */
    int subscribers() {
        return open.size();
    }

    void handle(RoutingContext ctx) {
        Principal who = Authentication.principal(ctx);
        if (who == null) { // the operation needs a token: only a route without the door gets here
            ctx.fail(new ApiException(401, "Unauthorized", "the event stream needs an API token"));
            return;
        }
        Long since;
        try {
            since = since(ctx.request().getHeader("Last-Event-ID"), ctx.queryParams().get("since"));
        } catch (NumberFormatException e) {
            ctx.fail(ApiException.badRequest("Bad Request", "Last-Event-ID and since must be event sequences (integers)"));
            return;
        }
        HttpServerResponse res = ctx.response();
        Subscriber sub = new Subscriber(who.tokenId(), vertx.getOrCreateContext(), res);
        if (!open.admit(sub)) {
            ctx.fail(new ApiException(429, "Too Many Event Streams", "token " + who.tokenId() + " (" + who.name()
                    + ") already has " + open.maxPerToken() + " event streams open on this controller, the most one token"
                    + " may hold at once; close one of them (a browser tab, a vigil events --follow) and try again"));
            return;
        }
        res.setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache, no-store")
                .putHeader("X-Accel-Buffering", "no");
        res.write(": vigil event stream\nretry: 2000\n\n");
        sub.keepAlive = vertx.setPeriodic(keepAliveMillis, id -> sub.comment("keep-alive"));
        res.closeHandler(v -> sub.finish());
        if (res.closed()) { // the client left before the handler was set: its place must not stay taken
            sub.finish();
            return;
        }
        if (since == null) {
            sub.backlog(List.of());
            return;
        }
        boolean isSequence = since >= RestApi.SEQUENCE_THRESHOLD;
        var query = new ClusterStore.EventQuery(isSequence ? since : null, isSequence ? null : since, null, null, null,
                BACKLOG);
        vertx.executeBlocking(() -> store.events(query)).onComplete(ar -> {
            if (ar.failed()) {
                log.warn("event stream backlog since {} failed: {}", since, ar.cause().toString());
                res.reset();
                return;
            }
            sub.backlog(ar.result());
        });
    }

    /** Last-Event-ID wins over ?since=; blank or absent: null (live events only). */
    static Long since(String lastEventId, String sinceParam) {
        if (lastEventId != null && !lastEventId.isBlank()) return Long.parseLong(lastEventId.trim());
        if (sinceParam != null && !sinceParam.isBlank()) return Long.parseLong(sinceParam.trim());
        return null;
    }

    /** One event as an SSE frame. */
    static String frame(ClusterEvent e) {
        return "id: " + e.sequence() + "\nevent: " + EVENT_NAME + "\ndata: " + Json.write(Views.event(e)) + "\n\n";
    }

    @Override
    public void close() {
        unlisten.run();
        open.close();
    }

    /** One client. Everything but {@link #offer} and {@link #end} runs on the client's event-loop context. */
    private final class Subscriber implements OpenStreams.Stream {
        private final String tokenId;
        private final Context context;
        private final HttpServerResponse res;
        private long keepAlive = -1;
        /** Live events that arrived while the backlog was being read; null once it was sent. */
        private List<ClusterEvent> waiting = new ArrayList<>();
        /**
         * The sequences of the events sent lately (the last {@value #RECENT}): an event read in the backlog can still
         * be offered live after the backlog went out (its notification comes after its append), and must not be
         * sent twice.
         */
        private final java.util.LinkedHashSet<Long> recent = new java.util.LinkedHashSet<>();
        private static final int RECENT = 4096;
        volatile boolean closed;

        Subscriber(String tokenId, Context context, HttpServerResponse res) {
            this.tokenId = tokenId;
            this.context = context;
            this.res = res;
        }

        @Override
        public String tokenId() {
            return tokenId;
        }

        @Override
        public void end(String why) {
            context.runOnContext(v -> {
                if (closed) return;
                finish();
                res.end(": the stream ends: " + why + "\n\n");
            });
        }

        /** Out of the fan-out, its place freed, its keep-alive stopped; harmless twice. */
        void finish() {
            closed = true;
            open.remove(this);
            vertx.cancelTimer(keepAlive);
        }

        void offer(ClusterEvent e) {
            if (!closed) context.runOnContext(v -> {
                if (waiting != null) waiting.add(e);
                else send(e);
            });
        }

        void backlog(List<ClusterEvent> events) {
            for (ClusterEvent e : events) send(e);
            for (ClusterEvent e : waiting) send(e);
            waiting = null;
        }

        void comment(String text) {
            if (!closed) res.write(": " + text + "\n\n");
        }

        private void send(ClusterEvent e) {
            if (closed || !recent.add(e.sequence())) return; // closed, or sent already
            if (recent.size() > RECENT) recent.remove(recent.iterator().next());
            if (res.writeQueueFull()) {
                log.info("event stream client is not reading; disconnecting it (it resumes from its last event id)");
                finish();
                res.reset();
                return;
            }
            res.write(frame(e));
        }
    }
}
