package io.vigil.controller.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.protocol.ControllerMessage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Budgets go to a host when they change, again after it reconnects, and again when they could not be delivered. */
class CacheBudgetSenderTest {
    private final List<String> sent = new ArrayList<>();
    private final Set<String> unreachable = new HashSet<>();
    private final CacheBudgetSender sender = new CacheBudgetSender(new AgentLink() {
        @Override
        public boolean send(String host, ControllerMessage message) {
            if (unreachable.contains(host)) return false;
            sent.add(host + " " + ((ControllerMessage.CacheBudgets) message).budgetsMiB());
            return true;
        }

        @Override
        public void broadcast(ControllerMessage message) {}
    });

    @Test
    void onlyChangesAreSent() {
        sender.update(Map.of("h1", Map.of("a", 100L), "h2", Map.of()));
        assertEquals(List.of("h1 {a=100}", "h2 {}"), sent.stream().sorted().toList());
        sent.clear();
        sender.update(Map.of("h1", Map.of("a", 100L), "h2", Map.of()));
        assertEquals(List.of(), sent, "nothing changed");
        sender.update(Map.of("h1", Map.of("a", 60L, "b", 40L), "h2", Map.of()));
        assertEquals(List.of("h1 {a=60, b=40}"), sent.stream().map(s -> s.replace("{b=40, a=60}", "{a=60, b=40}"))
                .toList());
    }

    @Test
    void aHostThatReconnectsOrCouldNotBeReachedIsSentItsBudgetsAgain() {
        unreachable.add("h2");
        sender.update(Map.of("h1", Map.of("a", 100L), "h2", Map.of("b", 50L)));
        assertEquals(List.of("h1 {a=100}"), sent);
        sent.clear();
        unreachable.clear();
        sender.forget("h1"); // h1 said Hello on a new connection
        sender.update(Map.of("h1", Map.of("a", 100L), "h2", Map.of("b", 50L)));
        assertEquals(List.of("h1 {a=100}", "h2 {b=50}"), sent.stream().sorted().toList());
        sent.clear();
        sender.update(Map.of("h1", Map.of("a", 100L)));
        sender.update(Map.of("h1", Map.of("a", 100L), "h2", Map.of("b", 50L)));
        assertEquals(List.of("h2 {b=50}"), sent, "a host that was gone from the state is sent its budgets when back");
    }
}
