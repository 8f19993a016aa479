package io.vigil.controller.api;

import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterView;
import io.vigil.controller.ha.FailoverReserve;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.store.ClusterStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission control at the API: a request that would make a VM restartable (an HA VM requested started: created
 * started, started, or changed by PATCH) is checked against the failover reserve the policy asks for
 * ({@link ClusterView#admit}) before it is stored. A refusal is a 409 whose detail and extension members
 * ({@code missingMiB}, {@code missingCpus}) say how much capacity is missing; {@code ?override=true} stores the request
 * anyway and records an {@code admission-overridden} event.
 *
 * <p>The check reads the store as it is when the request arrives; two requests racing each other may both pass. The
 * reserve is a promise about the future, not a safety property, so that is a tolerable gap.
 */
final class AdmissionCheck {
    private static final Logger log = LoggerFactory.getLogger(AdmissionCheck.class);
    static final String OVERRIDDEN_EVENT = "admission-overridden";

    private final ClusterStore store;

    AdmissionCheck(ClusterStore store) {
        this.store = store;
    }

    /**
     * Checks the change from {@code before} (null: a new VM) to {@code after}. Returns empty when admission control has
     * nothing to say, or the refusal that {@code override} set aside (to be recorded with {@link #recordOverride} once
     * the change is stored); throws the 409 otherwise.
     */
    Optional<FailoverReserve.Admission> check(VmSpec before, VmSpec after, boolean override) {
        if (!after.restartable() || before != null && before.restartable() && before.memoryMiB() == after.memoryMiB())
            return Optional.empty();
        ClusterPolicy policy = store.policy().orElse(ClusterPolicy.DEFAULT);
        FailoverReserve.Admission a = new ClusterView(policy, store.hostStatuses(), store.specs(), store.vmStatuses(),
                store.rules()).admit(after);
        if (a.admitted()) return Optional.empty();
        if (override) return Optional.of(a);
        Map<String, Object> missing = new LinkedHashMap<>();
        missing.put("missingMiB", a.missingMiB());
        missing.put("missingCpus", a.missingCpus());
        throw new ApiException(409, "Admission Control Refused", "admission control refuses to start HA VM '"
                + after.name() + "' (" + after.memoryMiB() + " MiB, " + after.vcpus() + " vCPUs): " + a.reason()
                + " (missing " + missingText(a) + "). Free or add capacity, change the policy (GET /api/v1/policy), "
                + "or repeat the request with ?override=true to start it anyway (recorded as an event)", missing);
    }

    /** Records that the operator started {@code spec} against admission control's refusal {@code refused}. */
    void recordOverride(VmSpec spec, FailoverReserve.Admission refused, String request) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("missingMiB", refused.missingMiB());
        details.put("missingCpus", refused.missingCpus());
        details.put("request", request);
        details.put("reason", refused.reason());
        String message = "HA VM " + spec.name() + " was requested started against admission control (" + request
                + " with override=true); missing " + missingText(refused) + ": " + refused.reason();
        ClusterEvent stored = store.appendEvent(new ClusterEvent(0, System.currentTimeMillis(), OVERRIDDEN_EVENT, null,
                spec.name(), "the operator passed override=true", message, details));
        log.warn("event {} vm={}: {}", stored.type(), stored.vm(), message);
    }

    private static String missingText(FailoverReserve.Admission a) {
        return a.missingMiB() + " MiB" + (a.missingCpus() > 0 ? " and " + a.missingCpus() + " CPU(s)" : "");
    }
}
