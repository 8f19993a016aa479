package io.vigil.controller.agents;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;
import com.hazelcast.topic.Message;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.runtime.AgentLink;
import io.vigil.controller.store.SealingKey;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.Json;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets an agent connect to any controller member. Two Hazelcast topics, JSON strings on both:
 * <ul>
 *   <li>{@value #REPORTS_TOPIC}: {@link AgentReport}s from members that do not lead; only the member that leads when
 *       one arrives feeds it to its HA loop. On the leader, its own gateway's reports go to the loop directly.
 *   <li>{@value #DELIVERIES_TOPIC}: the leader's messages for agents ({@link Delivery}). The leader sends over its own
 *       connection when it holds the host's; otherwise every member gets the message and the one holding the host's
 *       connection sends it. Fanning out beats tracking which member holds which host: no map to keep right across
 *       reconnects and member crashes, and commands are few and small. During a reconnect two members may both hold
 *       a connection for the host for a moment; both send, which is harmless since commands are idempotent by id.
 * </ul>
 * Topics are plain {@code ITopic}s: a member's messages arrive in the order it published them (so one connection's
 * reports stay in order), and a lost message only delays convergence: heartbeats carry the full inventory and the
 * core re-sends unanswered commands. Nothing here is safety-critical; the storage leases are.
 *
 * <p>Every message is sealed with the cluster's key ({@link SealingKey}, the topic's name as context): reports carry
 * the memory keepers' grant keys and commands carry region grants, and a member admitted to Hazelcast without the
 * cluster secret must neither read them nor have a forged report reach the HA core or a forged command reach an
 * agent. A message that does not open is dropped and logged.
 */
public final class AgentRelay implements AgentLink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentRelay.class);
    public static final String REPORTS_TOPIC = "vigil.agent-reports";
    public static final String DELIVERIES_TOPIC = "vigil.agent-deliveries";

    /** A message for {@code host}'s agent; {@code host} null: for every connected agent. */
    public record Delivery(String host, ControllerMessage message) {}

    private final HazelcastInstance hz;
    private final SealingKey sealing;
    private final ITopic<String> reports;
    private final ITopic<String> deliveries;
    private final BooleanSupplier isLeader;
    private final AgentLink local;
    private final BiConsumer<String, HaInput> leaderInputs;
    private UUID reportsListener;
    private UUID deliveriesListener;

    /**
     * @param local        this member's agent connections (the gateway)
     * @param leaderInputs the local HA loop, given each agent input with its connection's name
     */
    public AgentRelay(HazelcastInstance hz, SealingKey sealing, BooleanSupplier isLeader, AgentLink local,
            BiConsumer<String, HaInput> leaderInputs) {
        this.hz = hz;
        this.sealing = sealing;
        this.reports = hz.getTopic(REPORTS_TOPIC);
        this.deliveries = hz.getTopic(DELIVERIES_TOPIC);
        this.isLeader = isLeader;
        this.local = local;
        this.leaderInputs = leaderInputs;
    }

    public void start() {
        reportsListener = reports.addMessageListener(this::onReport);
        deliveriesListener = deliveries.addMessageListener(this::onDelivery);
    }

    /** A report from this member's gateway: to the local loop when this member leads, else to the leader. */
    public void report(AgentReport report) {
        try {
            if (isLeader.getAsBoolean()) {
                leaderInputs.accept(report.connection(), report.toInput());
            } else {
                reports.publish(sealing.seal(REPORTS_TOPIC, Json.write(report)));
            }
        } catch (RuntimeException e) { // the member is shutting down or cut off: the leader's timeouts take over
            log.warn("could not relay {} of host {} to the leader: {}", report.getClass().getSimpleName(),
                    report.host(), e.toString());
        }
    }

    private void onReport(Message<String> m) {
        // Checked on arrival, not at publishing: a report published just before the leader left reaches its successor.
        if (!isLeader.getAsBoolean()) return;
        try {
            AgentReport report = Json.read(sealing.openString(REPORTS_TOPIC, m.getMessageObject()), AgentReport.class);
            leaderInputs.accept(report.connection(), report.toInput());
        } catch (RuntimeException e) {
            log.warn("ignored a relayed agent report from {}: {}", m.getPublishingMember(), e.toString());
        }
    }

    @Override
    public boolean send(String host, ControllerMessage message) {
        if (local.send(host, message)) return true;
        if (hz.getCluster().getMembers().size() < 2) return false;
        deliveries.publish(sealing.seal(DELIVERIES_TOPIC, Json.write(new Delivery(host, message))));
        return true;
    }

    @Override
    public void broadcast(ControllerMessage message) {
        local.broadcast(message);
        if (hz.getCluster().getMembers().size() > 1)
            deliveries.publish(sealing.seal(DELIVERIES_TOPIC, Json.write(new Delivery(null, message))));
    }

    private void onDelivery(Message<String> m) {
        if (m.getPublishingMember() != null && m.getPublishingMember().localMember()) return; // tried locally already
        try {
            Delivery d = Json.read(sealing.openString(DELIVERIES_TOPIC, m.getMessageObject()), Delivery.class);
            if (d.message() == null) throw new IllegalArgumentException("no message");
            if (d.host() == null) {
                local.broadcast(d.message());
            } else if (local.send(d.host(), d.message())) {
                log.debug("delivered a relayed {} to {}", d.message().getClass().getSimpleName(), d.host());
            }
        } catch (RuntimeException e) {
            log.warn("ignored a relayed agent message from {}: {}", m.getPublishingMember(), e.toString());
        }
    }

    @Override
    public void close() {
        if (!hz.getLifecycleService().isRunning()) return;
        if (reportsListener != null) reports.removeMessageListener(reportsListener);
        if (deliveriesListener != null) deliveries.removeMessageListener(deliveriesListener);
    }
}
