package io.vigil.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Why a command failed: the exit status, the line printed as {@code vigil: <message>}, further hint lines, and the
 * controller's RFC 9457 problem when there was one (printed to stdout too with {@code --output json}).
 */
final class CliException extends Exception {
    final ExitCode exitCode;
    final List<String> hints;
    final JsonNode problem;

    CliException(ExitCode exitCode, String message, List<String> hints, JsonNode problem) {
        super(message);
        this.exitCode = exitCode;
        this.hints = List.copyOf(hints);
        this.problem = problem;
    }

    CliException(ExitCode exitCode, String message) {
        this(exitCode, message, List.of(), null);
    }

    static CliException usage(String message) {
        return new CliException(ExitCode.USAGE, message);
    }
}
