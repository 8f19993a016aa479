package io.vigil.memory.verbs;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Native resources to release in the reverse order of their creation (queue pair before completion queue, registration
 * before protection domain, ids before their channel), whether setup got all the way or failed half way.
 */
final class Teardown implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Teardown.class);

    private final Deque<Runnable> steps = new ArrayDeque<>();

    void push(Runnable step) {
        steps.push(step);
    }

    @Override
    public void close() {
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (RuntimeException e) {
                log.warn("releasing an RDMA resource failed; continuing with the rest", e);
            }
        }
    }
}
