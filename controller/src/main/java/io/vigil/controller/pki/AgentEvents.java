package io.vigil.controller.pki;

import io.vigil.controller.ha.ClusterEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The event log's entries about agents' credentials: {@code agent-enrolled}, {@code agent-certificate-revoked} and
 * {@code agent-refused}. Refusals are recorded at most once a minute per host (or per address, when the agent did not
 * say who it is) on each member, with the number of refusals left out since: a revoked agent retrying every few
 * seconds must not flood the log.
 */
public final class AgentEvents {
    static final long REFUSAL_INTERVAL_MILLIS = 60_000;
    private static final int MAX_TRACKED = 10_000;

    private final Consumer<ClusterEvent> log;
    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Refusals> refusals = new ConcurrentHashMap<>();

    private record Refusals(long lastRecordedAt, int suppressed) {}

    public AgentEvents(Consumer<ClusterEvent> log, LongSupplier clock) {
        this.log = log;
        this.clock = clock;
    }

    public void enrolled(AgentCertificate c, Map<String, Object> more) {
        Map<String, Object> details = new LinkedHashMap<>(more);
        details.put("serial", c.serial());
        details.put("fingerprint", c.fingerprint());
        details.put("notAfter", c.notAfter());
        log.accept(new ClusterEvent(0, clock.getAsLong(), "agent-enrolled", c.host(), null, "join token",
                "host " + c.host() + " enrolled: certificate " + c.serial(), details));
    }

    public void revoked(AgentCertificate c) {
        log.accept(new ClusterEvent(0, clock.getAsLong(), "agent-certificate-revoked", c.host(), null, "revoked by " + c.revokedBy(),
                "certificate " + c.serial() + " of host " + c.host() + " revoked; its connection is cut",
                Map.of("serial", c.serial(), "revokedBy", String.valueOf(c.revokedBy()))));
    }

    /**
     * A refused agent: {@code host} as it claims to be (its certificate's CN, or null), {@code from} its address.
     * Recorded unless one was recorded for the same host within the last minute.
     */
    public void refused(String host, String from, String reason) {
        String key = host != null ? "host:" + host : "from:" + addressOnly(from);
        long now = clock.getAsLong();
        boolean[] record = {false};
        int[] suppressed = {0};
        refusals.compute(key, (k, r) -> {
            if (r == null || now - r.lastRecordedAt() >= REFUSAL_INTERVAL_MILLIS) {
                record[0] = true;
                suppressed[0] = r == null ? 0 : r.suppressed();
                return new Refusals(now, 0);
            }
            return new Refusals(r.lastRecordedAt(), r.suppressed() + 1);
        });
        if (!record[0]) return;
        if (refusals.size() > MAX_TRACKED) refusals.entrySet().removeIf(e -> now - e.getValue().lastRecordedAt() >= REFUSAL_INTERVAL_MILLIS);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("reason", reason);
        details.put("from", String.valueOf(from));
        if (suppressed[0] > 0) details.put("refusedSinceLastEvent", suppressed[0]);
        log.accept(new ClusterEvent(0, now, "agent-refused", host, null, reason,
                "refused " + (host != null ? "host " + host : "an agent at " + from) + ": " + reason, details));
    }

    private static String addressOnly(String from) {
        if (from == null) return "?";
        int colon = from.lastIndexOf(':');
        return colon > 0 ? from.substring(0, colon) : from;
    }
}
