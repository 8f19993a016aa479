package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;

/**
 * A command sent to an agent whose result has not come back. {@code command} is null for a placeholder made after
 * a restore: the previous controller sent something whose id is lost, and the core re-sends it if no result comes.
 */
record PendingCommand(String id, String host, String vm, Kind kind, long generation, long sentAtNanos,
        long timeoutMillis, AgentCommand command) {

    enum Kind { START, STOP, DESTROY, UNDEFINE, SAVE }

    boolean expired(Now now) {
        return now.millisSince(sentAtNanos) > timeoutMillis;
    }

    boolean placeholder() {
        return command == null;
    }
}
