package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterView;
import io.vigil.controller.ha.FailoverReserve;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.MoveKind;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import io.vigil.controller.libvirt.DomainXmlValidator;
import io.vigil.controller.runtime.MoveRequests;
import io.vigil.controller.store.ClusterStore;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/vms}: VMs created from libvirt domain XML, their HA settings (PATCH, a JSON Merge Patch), start,
 * stop and delete (the requested state), and migrate/relocate requests. Writes go to the store; the HA core learns of
 * them through the store's listener, and of moves through {@link MoveRequests}. Anything that would make a VM
 * restartable passes {@link AdmissionCheck} first.
 */
final class VmResource {
    private static final Logger log = LoggerFactory.getLogger(VmResource.class);
    static final String INVALID = "Invalid VM Settings";
    /** The fields a client may set, at creation or by PATCH. */
    static final List<String> WRITABLE = List.of("haEnabled", "priority", "requestedState", "preferredHosts", "strict",
            "startAfter", "startAfterTimeoutSeconds", "maxRestarts", "maxRelocations", "failback", "cacheMode",
            "cacheWeight");
    /** The fields the controller owns (read from the domain XML or reported by the core or the agents). */
    static final List<String> READ_ONLY = List.of("name", "host", "state", "stateReason", "generation", "memoryMiB",
            "vcpus", "lastError", "domainXml", "cacheBudgetMiB", "cacheMiB", "cacheDirtyMiB");
    /** The writable fields' defaults: those of a VM created without them. */
    private static final ObjectNode DEFAULTS = Documents.tree(new VmSpec("defaults", "", 0, 1, true, Priority.MEDIUM,
            RequestedState.STARTED, 0));

    private final ClusterStore store;
    private final DomainXmlValidator validator;
    private final AdmissionCheck admission;
    private final MoveRequests moves;

    VmResource(ClusterStore store, DomainXmlValidator validator, AdmissionCheck admission, MoveRequests moves) {
        this.store = store;
        this.validator = validator;
        this.admission = admission;
        this.moves = moves;
    }

    List<Views.VmView> list() {
        Map<String, VmStatus> statuses = store.vmStatuses().stream()
                .collect(Collectors.toMap(VmStatus::name, Function.identity(), (a, b) -> a));
        Map<String, HostStatus> hosts = store.hostStatuses().stream()
                .collect(Collectors.toMap(HostStatus::name, Function.identity(), (a, b) -> a));
        return store.specs().stream().sorted(Comparator.comparing(VmSpec::name)).map(s -> {
            VmStatus status = statuses.get(s.name());
            return Views.vm(s, status, Views.hostOf(status, h -> Optional.ofNullable(hosts.get(h))));
        }).toList();
    }

    Views.VmView get(String name) {
        return view(store.spec(name).orElseThrow(() -> unknownVm(name)));
    }

    static ApiException unknownVm(String name) {
        return ApiException.notFound("no VM named '" + name + "'; GET /api/v1/vms lists the VMs");
    }

    private Views.VmView view(VmSpec spec) {
        VmStatus status = store.vmStatus(spec.name()).orElse(null);
        return Views.vm(spec, status, Views.hostOf(status, store::hostStatus));
    }

    // ---- create ---------------------------------------------------------------------------------------------------

    /** A new VM from {@code body} ({@code domainXml}, {@code start} and the writable fields). */
    Views.VmView create(JsonNode body, boolean override) {
        String xml = body.path("domainXml").asText();
        DomainXmlValidator.DomainDefinition def;
        try {
            def = validator.validate(xml);
        } catch (DomainXmlValidator.InvalidDomainXml e) {
            throw ApiException.badRequest("Invalid Domain XML", "libvirt rejected domainXml: " + e.getMessage());
        }
        ObjectNode settings = ((ObjectNode) body).deepCopy();
        settings.remove(List.of("domainXml", "start"));
        if (body.has("start")) {
            String implied = body.get("start").asBoolean() ? "started" : "stopped";
            if (settings.has("requestedState") && !settings.get("requestedState").asText().equals(implied))
                throw ApiException.badRequest(INVALID, "start is " + body.get("start").asBoolean()
                        + " but requestedState is " + settings.get("requestedState").asText() + "; give one of them");
            settings.put("requestedState", implied);
        }
        ObjectNode document = Documents.withDefaults(settings, DEFAULTS, WRITABLE);
        document.put("name", def.name());
        document.put("domainXml", xml);
        document.put("memoryMiB", def.memoryMiB());
        document.put("vcpus", def.vcpus());
        document.put("createdAtMillis", System.currentTimeMillis());
        VmSpec spec = Documents.build(document, VmSpec.class, INVALID);
        checkStartAfter(null, spec);
        if (store.spec(spec.name()).isPresent()) throw duplicate(spec.name());
        Optional<FailoverReserve.Admission> overridden = admission.check(null, spec, override);
        if (!store.createSpec(spec)) throw duplicate(spec.name());
        overridden.ifPresent(a -> admission.recordOverride(spec, a, "create"));
        log.info("VM {} created ({} MiB, {} vCPUs, priority {}, ha {}, {})", spec.name(), spec.memoryMiB(),
                spec.vcpus(), spec.priority().wireName(), spec.haEnabled(), spec.requestedState().wireName());
        return Views.vm(spec, null, null);
    }

    private ApiException duplicate(String name) {
        VmSpec existing = store.spec(name).orElse(null);
        String hint = existing != null && existing.requestedState() == RequestedState.DELETED
                ? "it is being deleted; retry once GET /api/v1/vms/" + name + " returns 404"
                : "change <name> in the domain XML, or DELETE /api/v1/vms/" + name + " first";
        return ApiException.conflict("a VM named '" + name + "' already exists; " + hint);
    }

    // ---- change ---------------------------------------------------------------------------------------------------

    /** Applies a JSON Merge Patch of the writable fields; a field patched to null takes its default. */
    Views.VmView patch(String name, JsonNode mergePatch, boolean override) {
        for (String field : READ_ONLY) {
            if (mergePatch.has(field))
                throw ApiException.badRequest(INVALID, "field " + field + ": read-only; only " + String.join(", ", WRITABLE)
                        + " can be changed" + (field.equals("domainXml") || field.equals("memoryMiB") || field.equals("vcpus")
                        ? " (to change the domain definition, delete the VM and create it again)" : ""));
        }
        if ("deleted".equals(mergePatch.path("requestedState").asText(null)))
            throw ApiException.badRequest(INVALID, "field requestedState: deleted is not a state to ask for; "
                    + "DELETE /api/v1/vms/" + name + " deletes the VM");
        AtomicReference<Optional<FailoverReserve.Admission>> overridden = new AtomicReference<>(Optional.empty());
        VmSpec after = store.updateSpec(name, before -> {
            refuseIfDeleted(before, "changed");
            VmSpec next = Documents.build(Documents.withDefaults(MergePatch.apply(Documents.tree(before), mergePatch),
                    DEFAULTS, WRITABLE), VmSpec.class, INVALID);
            checkStartAfter(before, next);
            overridden.set(admission.check(before, next, override));
            return next;
        }).orElseThrow(() -> unknownVm(name));
        overridden.get().ifPresent(a -> admission.recordOverride(after, a, "patch"));
        log.info("VM {} changed: {}", name, mergePatch);
        return view(after);
    }

    /**
     * Start, stop or delete: sets the requested state; starting passes admission control. Every start is recorded in
     * the spec ({@link VmSpec#withStartRequested}), so that the core hears it even when the VM was already requested
     * started: a VM the core gave up on (error), or one that stopped outside Vigil, is started afresh, and passes
     * admission control as a new start would. The answer shows it starting then. A start that cannot be carried out
     * is a 409 that changes nothing.
     */
    Views.VmView request(String name, RequestedState requested, boolean override) {
        AtomicReference<Optional<FailoverReserve.Admission>> overridden = new AtomicReference<>(Optional.empty());
        VmStatus status = store.vmStatus(name).orElse(null);
        boolean startsAgain = requested == RequestedState.STARTED && status != null
                && (status.state() == VmState.ERROR || status.state() == VmState.STOPPED);
        VmSpec after = store.updateSpec(name, before -> {
            if (before.requestedState() == RequestedState.DELETED) {
                if (requested == RequestedState.DELETED) return before;
                refuseIfDeleted(before, requested == RequestedState.STARTED ? "started" : "stopped");
            }
            if (requested != RequestedState.STARTED) {
                VmSpec next = before.withRequested(requested);
                overridden.set(admission.check(before, next, override));
                return next;
            }
            refuseStart(before, status);
            VmSpec next = before.withStartRequested(System.currentTimeMillis());
            overridden.set(admission.check(startsAgain ? null : before, next, override));
            return next;
        }).orElseThrow(() -> unknownVm(name));
        overridden.get().ifPresent(a -> admission.recordOverride(after, a, "start"));
        if (!startsAgain) return view(after);
        log.info("VM {} is started again (it was {}{})", name, status.state().wireName(),
                status.lastError() == null ? "" : ": " + status.lastError());
        // What the core does with it next: placed and started afresh, its error cleared.
        return Views.vm(after, new VmStatus(name, null, VmState.STARTING, status.generation(), null,
                System.currentTimeMillis()), null);
    }

    /** A start that would change nothing now: a 409 that says why and what to do instead. */
    private void refuseStart(VmSpec before, VmStatus status) {
        if (status == null || before.requestedState() != RequestedState.STARTED) return;
        String name = before.name();
        if (status.state() == VmState.FROZEN)
            throw ApiException.conflict("VM '" + name + "' is frozen on " + status.host() + " (the host shut down under "
                    + "the freeze policy) and starts there when " + status.host() + " is back; to start it elsewhere "
                    + "now, stop it (POST /api/v1/vms/" + name + "/stop), then start it");
        Views.VmView shown = Views.vm(before, status, Views.hostOf(status, store::hostStatus));
        if (Views.PAUSED.equals(shown.state()))
            throw ApiException.conflict("VM '" + name + "' runs on " + status.host() + " but is paused ("
                    + shown.lastError() + "); a start cannot resume it: fix the cause and resume it on "
                    + status.host() + " (virsh resume " + name + "), or stop it and start it again to boot it afresh");
    }

    private static void refuseIfDeleted(VmSpec spec, String what) {
        if (spec.requestedState() == RequestedState.DELETED)
            throw ApiException.conflict("VM '" + spec.name() + "' is being deleted and cannot be " + what);
    }

    /** A VM named in {@code startAfter} must exist when it is added (one deleted later is the core's to wait out). */
    private void checkStartAfter(VmSpec before, VmSpec after) {
        Set<String> added = new HashSet<>(after.startAfter());
        if (before != null) added.removeAll(before.startAfter());
        if (added.isEmpty()) return;
        Set<String> known = store.specs().stream().map(VmSpec::name).collect(Collectors.toSet());
        List<String> unknown = added.stream().filter(n -> !known.contains(n)).sorted().toList();
        if (!unknown.isEmpty())
            throw ApiException.badRequest(INVALID, "field startAfter: no VM named " + unknown.stream()
                    .map(n -> "'" + n + "'").collect(Collectors.joining(", ")) + "; GET /api/v1/vms lists the VMs");
    }

    // ---- moves ----------------------------------------------------------------------------------------------------

    /**
     * Asks the HA core to migrate or relocate a running VM to {@code target}, if the cluster as stored allows it now
     * (the core checks again when the request arrives and records a {@code vm-move-refused} event if it no longer
     * does).
     */
    Views.MoveAccepted move(String name, JsonNode body, MoveKind kind) {
        String target = body.path("host").asText();
        VmSpec spec = store.spec(name).orElseThrow(() -> unknownVm(name));
        ClusterPolicy policy = store.policy().orElse(ClusterPolicy.DEFAULT);
        ClusterView view = new ClusterView(policy, store.hostStatuses(), store.specs(), store.vmStatuses(), store.rules());
        Optional<String> refusal = view.refuseMove(name, target, kind);
        String verb = kind == MoveKind.MIGRATE ? "migrate" : "relocate";
        if (refusal.isPresent())
            throw ApiException.conflict("cannot " + verb + " " + name + " to " + target + ": " + refusal.get());
        String from = store.vmStatus(name).map(VmStatus::host).orElse(null);
        moves.request(spec.name(), target, kind);
        log.info("{} of VM {} from {} to {} requested", verb, name, from, target);
        return new Views.MoveAccepted(name, from, target, kind.wireName());
    }
}
