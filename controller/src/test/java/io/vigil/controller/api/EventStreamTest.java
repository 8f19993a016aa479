package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.store.ClusterStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The event stream's seam between the backlog it reads and the live events it is offered. */
class EventStreamTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static ClusterEvent event(long sequence) {
        return new ClusterEvent(sequence, System.currentTimeMillis(), "policy-changed", null, null, null, "policy " + sequence,
                Map.of());
    }

    @Test
    void anEventInTheBacklogThatIsOfferedLiveAfterwardsIsSentOnce() throws Exception {
        ClusterStore store = mock(ClusterStore.class);
        AtomicReference<Consumer<ClusterEvent>> live = new AtomicReference<>();
        when(store.onEventAppended(any())).thenAnswer(i -> {
            live.set(i.getArgument(0));
            return (Runnable) () -> {};
        });
        when(store.events(any())).thenReturn(List.of(event(100))); // appended; its live notification not yet there
        Principal viewer = new Principal("a viewer", Role.VIEWER, "token-1", "api");
        EventStream stream = new EventStream(vertx, store, (id, now) -> Optional.of(viewer), 60_000, 8, 250);
        Router router = Router.router(vertx);
        router.get("/stream").handler(ctx -> {
            Authentication.loggedIn(ctx, viewer); // as the operation's door does
            ctx.next();
        }).handler(stream::handle);
        HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        StringBuffer received = new StringBuffer();
        HttpClient client = vertx.createHttpClient();
        client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/stream?since=1")
                .compose(req -> req.send()).onSuccess(res -> res.handler(b -> received.append(b.toString())));
        await(() -> received.toString().contains("id: 100\n"));

        live.get().accept(event(100)); // the notification of the backlog's event comes late
        live.get().accept(event(101));
        await(() -> received.toString().contains("id: 101\n"));

        String all = received.toString();
        assertEquals(1, all.split("id: 100\n", -1).length - 1, "event 100 sent once: " + all);
        stream.close();
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within 10 s");
            Thread.sleep(10);
        }
    }
}
