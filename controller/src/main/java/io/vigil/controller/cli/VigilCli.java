package io.vigil.controller.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.vigil.controller.cli.Command.Family;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code scripts/vigil}'s client of the REST API: {@code vigil [OPTIONS] COMMAND [ARGS]}, the global options before
 * or after the command. {@link #run} is the whole program without {@code System.exit}; it returns the exit status.
 */
public final class VigilCli {
    static final String DEFAULT_CONTROLLER = "https://127.0.0.1:8080";
    static final long DEFAULT_TIMEOUT_SECONDS = 30;
    private static final Set<String> GLOBAL_OPTIONS = Set.of("--controller", "--token", "--token-file", "--output", "-o",
            "--timeout", "--ca-file", "--ca-fingerprint");
    private static final int WIDTH = 110;

    static final List<Family> FAMILIES = List.of(
            HostCommands.health(), ClusterCommands.cluster(), HostCommands.hosts(), HostCommands.maintenance(), VmCommands.vms(),
            PolicyCommands.policy(), RuleCommands.rules(), EventCommands.events(), ClusterCommands.failovers(), AccessCommands.whoami(), AccessCommands.tokens(),
            AccessCommands.users(), AccessCommands.audit(), EnrollmentCommands.joinToken(),
            EnrollmentCommands.agentCertificates(), TrustCommands.trust());

    private VigilCli() {}

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err, System.getenv(), System.console()));
    }

    /** Runs one command with {@code env} as the environment and no stdin. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        return run(args, InputStream.nullInputStream(), out, err, env);
    }

    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
        return run(args, in, out, err, env, null);
    }

    /** The global options, and the command's words without them. */
    private record Globals(Map<String, String> options, boolean help, List<String> words) {}

    static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env, Console console) {
        ObjectMapper json = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();
        boolean jsonOutput = false;
        String command = null;
        try {
            Globals globals = globals(args);
            String output = globals.options().getOrDefault("--output", globals.options().getOrDefault("-o", "table"));
            if (!output.equals("table") && !output.equals("json")) {
                throw CliException.usage("--output is table or json, not '" + output + "'");
            }
            jsonOutput = output.equals("json");
            List<String> words = globals.words();
            if (words.isEmpty()) {
                if (globals.help()) {
                    out.print(help());
                    return ExitCode.OK.code;
                }
                throw CliException.usage("a command is missing");
            }
            Family family = FAMILIES.stream().filter(f -> f.name().equals(words.get(0))).findFirst()
                    .orElseThrow(() -> CliException.usage("unknown command '" + words.get(0) + "'"));
            command = family.name();
            List<String> rest = words.subList(1, words.size());
            Command chosen = choose(family, rest);
            boolean named = chosen != null && !family.single() && !rest.isEmpty() && rest.get(0).equals(chosen.name());
            if (named) rest = rest.subList(1, rest.size());
            if (globals.help()) {
                out.print(family.single() || named ? help(chosen) : help(family));
                return ExitCode.OK.code;
            }
            if (chosen == null) throw CliException.usage("unknown " + family.name() + " command '" + rest.get(0) + "'");
            command = family.single() ? family.name() : family.name() + " " + chosen.name();
            Args parsed = Args.parse(command, rest, chosen.valueOptions(), chosen.flags());
            ControllerClient api = client(globals.options(), env, json);
            chosen.action().run(parsed, new Session(api, new Output(out, jsonOutput, json), err, in, console, json));
            out.flush();
            return ExitCode.OK.code;
        } catch (CliException e) {
            out.flush();
            err.println("vigil: " + e.getMessage());
            for (String hint : e.hints) err.println("vigil: " + hint);
            if (e.exitCode == ExitCode.USAGE) err.println("vigil: see vigil " + (command == null ? "" : command + " ") + "--help");
            if (jsonOutput && e.problem != null) new Output(out, true, json).json(e.problem);
            return e.exitCode.code;
        } catch (RuntimeException e) {
            err.println("vigil: unexpected failure: " + e);
            return ExitCode.FAILURE.code;
        }
    }

    private static Globals globals(String[] args) throws CliException {
        Map<String, String> options = new java.util.HashMap<>();
        List<String> words = new ArrayList<>();
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String word = args[i];
            int eq = word.indexOf('=');
            String option = word.startsWith("-") && eq > 0 ? word.substring(0, eq) : word;
            if (word.equals("--")) {
                words.addAll(List.of(args).subList(i + 1, args.length));
                break;
            } else if (word.equals("--help") || word.equals("-h")) {
                help = true;
            } else if (GLOBAL_OPTIONS.contains(option)) {
                String value;
                if (eq > 0) value = word.substring(eq + 1);
                else if (i + 1 < args.length) value = args[++i];
                else throw CliException.usage(option + " needs a value");
                options.put(option, value);
            } else {
                words.add(word);
            }
        }
        return new Globals(options, help, words);
    }

    /** The command {@code rest} names, the family's default when it names none, or null for an unknown one. */
    private static Command choose(Family family, List<String> rest) {
        if (family.single()) return family.commands().get(0);
        if (!rest.isEmpty()) {
            for (Command c : family.commands()) if (c.name().equals(rest.get(0))) return c;
        }
        boolean namesNone = rest.isEmpty() || rest.get(0).startsWith("-");
        return namesNone ? family.commands().get(0) : null;
    }

    /** The client of the controller the options and the environment name, with the token they give (or none). */
    private static ControllerClient client(Map<String, String> options, Map<String, String> env, ObjectMapper json)
            throws CliException {
        String url = first(options.get("--controller"), env.get("VIGIL_CONTROLLER"), DEFAULT_CONTROLLER);
        URI base;
        try {
            base = URI.create(url.replaceAll("/+$", "").replaceAll("/api/v1$", ""));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("bad controller URL '" + url + "' (--controller, VIGIL_CONTROLLER)");
        }
        if (!("http".equals(base.getScheme()) || "https".equals(base.getScheme())) || base.getHost() == null) {
            throw CliException.usage("the controller URL is http(s)://HOST[:PORT], not '" + url + "'");
        }
        String timeoutText = options.get("--timeout");
        long timeout = DEFAULT_TIMEOUT_SECONDS;
        if (timeoutText != null) {
            try {
                timeout = Long.parseLong(timeoutText);
            } catch (NumberFormatException e) {
                timeout = 0;
            }
            if (timeout <= 0) throw CliException.usage("--timeout is a number of seconds, not '" + timeoutText + "'");
        }
        return new ControllerClient(base, token(options, env), Duration.ofSeconds(timeout), json,
                ControllerTrust.resolve(base, options, env));
    }

    /** --token, --token-file, VIGIL_TOKEN, VIGIL_TOKEN_FILE: the first given; null when none is. */
    private static String token(Map<String, String> options, Map<String, String> env) throws CliException {
        if (options.containsKey("--token")) return nonBlankToken(options.get("--token"), "--token");
        if (options.containsKey("--token-file")) return tokenFile(options.get("--token-file"), "--token-file");
        if (env.get("VIGIL_TOKEN") != null && !env.get("VIGIL_TOKEN").isBlank()) return env.get("VIGIL_TOKEN").strip();
        if (env.get("VIGIL_TOKEN_FILE") != null && !env.get("VIGIL_TOKEN_FILE").isBlank()) {
            return tokenFile(env.get("VIGIL_TOKEN_FILE"), "VIGIL_TOKEN_FILE");
        }
        return null;
    }

    private static String tokenFile(String file, String source) throws CliException {
        try {
            return nonBlankToken(Files.readString(Path.of(file)), source + " " + file);
        } catch (IOException e) {
            throw CliException.usage("cannot read the token file " + file + " (" + source + "): "
                    + e.getClass().getSimpleName());
        }
    }

    private static String nonBlankToken(String token, String source) throws CliException {
        if (token.isBlank()) throw CliException.usage("the token of " + source + " is empty");
        return token.strip();
    }

    private static String first(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return v;
        return null;
    }

    static String help() {
        StringBuilder h = new StringBuilder();
        h.append("usage: vigil [OPTIONS] COMMAND [ARGS]   (options before or after the command)\n\n");
        h.append(wrap("", "A client of a Vigil controller's REST API, for people and scripts. vigil COMMAND --help"
                + " describes a command.")).append("\ncommands:\n");
        for (Family f : FAMILIES) for (Command c : f.commands()) h.append("  ").append(c.usage()).append('\n');
        h.append("""

                options:
                  --controller URL      the controller (env VIGIL_CONTROLLER; default https://127.0.0.1:8080); http://
                                        only for a controller configured with plainHttp: true
                  --ca-file FILE        trust the controller's certificate if it chains to a CA in FILE (PEM; env
                                        VIGIL_CA_FILE); a controller's cluster CA is STATEDIR/ca/ca.crt
                  --ca-fingerprint SHA256
                                        trust only a controller that sends the CA with this SHA-256 fingerprint (env
                                        VIGIL_CA_FINGERPRINT); vigil trust pins it for later commands
                  --token-file FILE     a file holding the API token (env VIGIL_TOKEN_FILE); the controller writes its
                                        bootstrap admin token to STATEDIR/admin-token
                  --token TOKEN         the API token itself (env VIGIL_TOKEN); prefer a file: argv is visible to others
                  --output table|json   table (default): aligned columns for people; json: the API's JSON (errors: the
                                        problem document on stdout too)
                  --timeout SECONDS     how long to wait for the controller (default 30)
                  --help                this text; after a command, that command's

                exit status:
                """);
        for (ExitCode e : ExitCode.values()) h.append(String.format("  %d  %s%n", e.code, e.meaning));
        h.append("\nErrors go to stderr as 'vigil: <title>: <detail>'.\n");
        h.append("\n").append(wrap("", "HTTPS: without --ca-file or --ca-fingerprint, vigil trusts the CA pinned for the"
                + " controller by vigil trust (in $XDG_CONFIG_HOME/vigil/known-controllers, default"
                + " ~/.config/vigil/known-controllers), else the system's CAs. It never trusts a certificate on its own."));
        return h.toString();
    }

    static String help(Family family) {
        StringBuilder h = new StringBuilder("vigil ").append(family.name()).append(": ").append(family.summary()).append("\n\n");
        for (Command c : family.commands()) h.append("  vigil ").append(c.usage()).append('\n').append(wrap("      ", c.summary()));
        return h.append("\nGlobal options and exit statuses: vigil --help\n").toString();
    }

    static String help(Command command) {
        return "usage: vigil " + command.usage() + "\n\n" + wrap("", command.summary())
                + "\nGlobal options and exit statuses: vigil --help\n";
    }

    private static String wrap(String indent, String text) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder(indent);
        for (String word : text.split(" ")) {
            if (line.length() > indent.length() && line.length() + 1 + word.length() > WIDTH) {
                out.append(line).append('\n');
                line = new StringBuilder(indent);
            }
            if (line.length() > indent.length()) line.append(' ');
            line.append(word);
        }
        return out.append(line).append('\n').toString();
    }
}
