package io.vigil.controller.runtime;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;
import com.hazelcast.topic.Message;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.MoveKind;
import io.vigil.protocol.Json;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's migrate and relocate requests, from the REST API of any member to the leader's HA loop: published on
 * the topic {@value #TOPIC} (JSON), which every member hands to its own loop, and only the leader's loop acts on (the
 * others drop inputs). A move is a one-off order, not a state to converge to, so it is not stored: one lost while the
 * leader changes is simply not carried out, and the VM stays where it runs (the operator asks again).
 */
public final class MoveRequests implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MoveRequests.class);
    public static final String TOPIC = "vigil.move-requests";

    /** On the topic: {@code kind} is migrate or relocate. */
    record Request(String vm, String target, String kind) {}

    private final HazelcastInstance hz;
    private final ITopic<String> topic;
    private final Consumer<HaInput> loop;
    private UUID listener;

    /** @param loop this member's HA loop */
    public MoveRequests(HazelcastInstance hz, Consumer<HaInput> loop) {
        this.hz = hz;
        this.topic = hz.getTopic(TOPIC);
        this.loop = loop;
    }

    public void start() {
        listener = topic.addMessageListener(this::onRequest);
    }

    /** Hands the request to the leader, wherever it runs. */
    public void request(String vm, String target, MoveKind kind) {
        topic.publish(Json.write(new Request(vm, target, kind.wireName())));
    }

    private void onRequest(Message<String> m) {
        try {
            Request r = Json.read(m.getMessageObject(), Request.class);
            MoveKind kind = MoveKind.valueOf(r.kind().toUpperCase(java.util.Locale.ROOT));
            loop.accept(new HaInput.MoveRequested(r.vm(), r.target(), kind));
        } catch (RuntimeException e) {
            log.warn("ignored a move request from {}: {}", m.getPublishingMember(), e.toString());
        }
    }

    @Override
    public void close() {
        if (listener != null && hz.getLifecycleService().isRunning()) topic.removeMessageListener(listener);
    }
}
