package io.vigil.controller.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The words of one command after its name: its options ({@code --opt VALUE} or {@code --opt=VALUE}, and flags) and its
 * positional arguments. An option the command does not know is a usage error.
 */
final class Args {
    private final String command;
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final List<String> positionals = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    static Args parse(String command, List<String> words, Set<String> valueOptions, Set<String> flags) throws CliException {
        Args args = new Args(command);
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (!word.startsWith("--") || word.equals("--")) {
                args.positionals.add(word);
                continue;
            }
            int eq = word.indexOf('=');
            String option = eq < 0 ? word : word.substring(0, eq);
            if (flags.contains(option)) {
                if (eq >= 0) throw CliException.usage(command + ": " + option + " takes no value");
                args.values.computeIfAbsent(option, o -> new ArrayList<>()).add("true");
            } else if (valueOptions.contains(option)) {
                String value;
                if (eq >= 0) {
                    value = word.substring(eq + 1);
                } else if (i + 1 < words.size()) {
                    value = words.get(++i);
                } else {
                    throw CliException.usage(command + ": " + option + " needs a value");
                }
                args.values.computeIfAbsent(option, o -> new ArrayList<>()).add(value);
            } else {
                throw CliException.usage(command + ": unknown option " + option);
            }
        }
        return args;
    }

    /** The option's value (the last one given), or null. */
    String value(String option) {
        List<String> given = values.get(option);
        return given == null ? null : given.get(given.size() - 1);
    }

    /** Every value of a repeatable option, in order. */
    List<String> values(String option) {
        return values.getOrDefault(option, List.of());
    }

    boolean flag(String option) {
        return values.containsKey(option);
    }

    /** A required option's value. */
    String required(String option, String what) throws CliException {
        String v = value(option);
        if (v == null || v.isEmpty()) throw CliException.usage(command + ": " + option + " " + what + " is required");
        return v;
    }

    /** The option as a non-negative whole number, or null when not given. */
    Long number(String option) throws CliException {
        String v = value(option);
        if (v == null) return null;
        try {
            long n = Long.parseLong(v);
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliException.usage(command + ": " + option + " needs a whole number, not '" + v + "'");
    }

    /** The positional argument at {@code index}, named {@code what} in the error when it is missing. */
    String positional(int index, String what) throws CliException {
        if (index >= positionals.size()) throw CliException.usage(command + ": " + what + " is missing");
        return positionals.get(index);
    }

    /** The positional arguments from {@code index} on. */
    List<String> positionalsFrom(int index) {
        return index >= positionals.size() ? List.of() : positionals.subList(index, positionals.size());
    }

    /** Refuses positional arguments beyond the first {@code count}. */
    Args atMost(int count) throws CliException {
        if (positionals.size() > count) throw CliException.usage(command + ": unexpected argument '" + positionals.get(count) + "'");
        return this;
    }
}
