package io.vigil.controller.runtime;

import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.MoveKind;
import io.vigil.controller.store.StateMap;
import io.vigil.controller.store.StateMaps;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's migrate and relocate requests, from the REST API of any member to the leader's HA loop. A request is
 * durable before the API acknowledges it (the state map {@code move-requests}, one per VM: a newer request replaces an
 * older one), reaches every member's loop through the map's change feed (only the leader's acts), and is removed by
 * the leader once the core has taken it, after that step's decisions are durable. A leader that takes over carries
 * out the requests its predecessor had not yet taken, so an acknowledged move is never silently dropped.
 */
public final class MoveRequests {
    private static final Logger log = LoggerFactory.getLogger(MoveRequests.class);

    /** {@code kind} is migrate or relocate; {@code target} null lets placement choose. */
    public record Request(String vm, String target, String kind, long requestedAtMillis) {
        HaInput.MoveRequested input() {
            return new HaInput.MoveRequested(vm, target, MoveKind.valueOf(kind.toUpperCase(java.util.Locale.ROOT)));
        }

        boolean sameAs(HaInput.MoveRequested m) {
            return vm.equals(m.vm()) && java.util.Objects.equals(target, m.target()) && kind.equals(m.kind().wireName());
        }
    }

    private final StateMap<Request> requests;

    public MoveRequests(StateMaps maps) {
        this.requests = maps.map(StateMaps.Name.MOVE_REQUESTS, Request.class);
    }

    /** Hands every request, made on any member from now on, to {@code loop}. */
    public void start(Consumer<HaInput> loop) {
        requests.onChange((vm, r) -> {
            if (r == null) return;
            try {
                loop.accept(r.input());
            } catch (RuntimeException e) {
                log.warn("ignored the move request of {}: {}", vm, e.toString());
            }
        });
    }

    /** Stores the request; durable when this returns. */
    public void request(String vm, String target, MoveKind kind) {
        requests.put(vm, new Request(vm, target, kind.wireName(), System.currentTimeMillis()));
    }

    /** The requests not yet taken by a leader. */
    public List<Request> pending() {
        return requests.values();
    }

    /** The core took {@code m}: forget it (unless a newer request for the VM replaced it meanwhile). */
    public void taken(HaInput.MoveRequested m) {
        requests.removeIf(m.vm(), r -> r.sameAs(m));
    }
}
