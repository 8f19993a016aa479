package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterView;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.store.ClusterStore;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/hosts}: the hosts as the HA core last reported them (capacity, failover reserve, maintenance), and
 * maintenance requests. A request is stored ({@link ClusterStore#requestMaintenance}) rather than sent, so that a
 * leader change does not lose it; the store's listener hands it to the HA core.
 */
final class HostResource {
    private static final Logger log = LoggerFactory.getLogger(HostResource.class);

    private final ClusterStore store;

    HostResource(ClusterStore store) {
        this.store = store;
    }

    List<Views.HostView> list() {
        return store.hostStatuses().stream().sorted(Comparator.comparing(HostStatus::name)).map(Views::host).toList();
    }

    Views.HostView get(String name) {
        return Views.host(store.hostStatus(name).orElseThrow(() -> unknownHost(name)));
    }

    private static ApiException unknownHost(String name) {
        return ApiException.notFound("no host named '" + name + "' has ever connected; GET /api/v1/hosts lists the "
                + "known hosts");
    }

    /** Puts the host into maintenance ({@code enabled}) or takes it out, if the cluster as stored allows it now. */
    Views.MaintenanceAccepted maintenance(String name, JsonNode body) {
        boolean enabled = body.path("enabled").asBoolean();
        if (store.hostStatus(name).isEmpty()) throw unknownHost(name);
        ClusterPolicy policy = store.policy().orElse(ClusterPolicy.DEFAULT);
        Optional<String> refusal = new ClusterView(policy, store.hostStatuses(), store.specs(), store.vmStatuses(),
                store.rules()).refuseMaintenance(name, enabled);
        if (refusal.isPresent())
            throw ApiException.conflict("cannot " + (enabled ? "put " + name + " into" : "take " + name + " out of")
                    + " maintenance: " + refusal.get());
        store.requestMaintenance(new ClusterStore.MaintenanceRequest(name, enabled, System.currentTimeMillis()));
        log.info("maintenance of host {} {} requested", name, enabled ? "start" : "end");
        return new Views.MaintenanceAccepted(name, enabled);
    }
}
