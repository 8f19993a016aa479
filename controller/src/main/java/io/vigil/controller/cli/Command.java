package io.vigil.controller.cli;

import java.util.List;
import java.util.Set;

/**
 * One command of a family ({@code vms set}): its name, usage and summary for {@code --help}, the options it takes
 * (with a value, or flags) and what it does.
 */
record Command(String name, String usage, String summary, Set<String> valueOptions, Set<String> flags, Action action) {
    @FunctionalInterface
    interface Action {
        void run(Args args, Session session) throws CliException;
    }

    static Command of(String name, String usage, String summary, Action action) {
        return new Command(name, usage, summary, Set.of(), Set.of(), action);
    }

    Command options(String... valueOptions) {
        return new Command(name, usage, summary, Set.of(valueOptions), flags, action);
    }

    Command flags(String... flags) {
        return new Command(name, usage, summary, valueOptions, Set.of(flags), action);
    }

    /**
     * A family of commands under one word ({@code vms}). The first command runs when no command is named (e.g.
     * {@code vms} lists); a family of one command named like the family ({@code maintenance}) takes every word.
     */
    record Family(String name, String summary, List<Command> commands) {
        boolean single() {
            return commands.size() == 1 && commands.get(0).name().equals(name);
        }
    }
}
