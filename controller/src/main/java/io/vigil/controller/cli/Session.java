package io.vigil.controller.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** What a command works with: the controller, stdout as {@link Output}, stderr, stdin and the terminal (or null). */
record Session(ControllerClient api, Output out, PrintStream err, InputStream in, Console console, ObjectMapper json) {
    /** A note for people on stderr (never part of what scripts parse). */
    void note(String line) {
        err.println("vigil: " + line);
    }

    /**
     * A password typed twice at the terminal when there is one, else the first line of stdin; never from the
     * command line.
     */
    String password(String prompt) throws CliException {
        if (console != null) {
            char[] first = console.readPassword("%s: ", prompt);
            char[] again = console.readPassword("%s (again): ", prompt);
            if (first == null || again == null) throw CliException.usage("no password given");
            if (!Arrays.equals(first, again)) throw CliException.usage("the passwords differ");
            return nonEmpty(new String(first));
        }
        try {
            String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
            return nonEmpty(line);
        } catch (IOException e) {
            throw CliException.usage("cannot read the password from stdin: " + e.getMessage());
        }
    }

    private static String nonEmpty(String password) throws CliException {
        if (password == null || password.isEmpty()) {
            throw CliException.usage("no password given (type it at the prompt, or send it on stdin)");
        }
        return password;
    }
}
