package io.vigil.controller.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The controllers whose CA this user pinned with {@code vigil trust}, like SSH's {@code known_hosts}: the file
 * {@code $XDG_CONFIG_HOME/vigil/known-controllers} (else {@code $HOME/.config/vigil/known-controllers}), one line per
 * controller, {@code https://HOST:PORT SHA256-OF-ITS-CA}. Blank lines and lines starting with {@code #} are skipped; a
 * controller pinned again replaces its line. Nothing here is secret, but whoever can write the file decides whom
 * the client trusts: it lives in the user's own configuration directory.
 */
final class KnownControllers {
    static final String FILE = "known-controllers";
    private final Path file;

    private KnownControllers(Path file) {
        this.file = file;
    }

    /** The file the environment names; its path is null when neither XDG_CONFIG_HOME nor HOME is set. */
    static KnownControllers of(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        String home = env.get("HOME");
        Path dir = xdg != null && !xdg.isBlank() ? Path.of(xdg, "vigil")
                : home != null && !home.isBlank() ? Path.of(home, ".config", "vigil") : null;
        return new KnownControllers(dir == null ? null : dir.resolve(FILE));
    }

    /** Where the pins are kept (null: nowhere, no HOME). */
    Path file() {
        return file;
    }

    /** {@code https://host:port} of {@code base}, host in lower case, the port always written out. */
    static String origin(URI base) {
        int port = base.getPort() >= 0 ? base.getPort() : "https".equals(base.getScheme()) ? 443 : 80;
        return base.getScheme() + "://" + base.getHost().toLowerCase(Locale.ROOT) + ":" + port;
    }

    /** The fingerprint pinned for {@code base}, or null. */
    String fingerprint(URI base) throws CliException {
        if (file == null || !Files.exists(file)) return null;
        String origin = origin(base);
        for (String line : lines()) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && words[0].equals(origin)) return words[1];
        }
        return null;
    }

    /** Pins {@code fingerprint} for {@code base}, replacing its earlier pin; the file is replaced atomically. */
    void pin(URI base, String fingerprint) throws CliException {
        if (file == null) {
            throw CliException.usage("nowhere to keep the pin: set HOME or XDG_CONFIG_HOME (or pass --ca-fingerprint or"
                    + " --ca-file with every command)");
        }
        String origin = origin(base);
        List<String> kept = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : readAll()) {
                if (!line.strip().split("\\s+")[0].equals(origin)) kept.add(line);
            }
        } else {
            kept.add("# Controllers whose CA vigil trusts: URL and SHA-256 of the CA certificate (written by vigil trust)");
        }
        kept.add(origin + " " + fingerprint);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "." + FILE, ".tmp");
            try {
                Files.write(tmp, kept, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot write " + file + ": " + e);
        }
    }

    /** The pins: the lines that are neither blank nor comments. */
    private List<String> lines() throws CliException {
        return readAll().stream().filter(l -> !l.isBlank() && !l.strip().startsWith("#")).toList();
    }

    private List<String> readAll() throws CliException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot read the pinned controllers in " + file + ": " + e);
        }
    }
}
