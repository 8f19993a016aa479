package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.protocol.tls.Fingerprints;
import java.io.Console;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * {@code trust}: the first contact with a controller, as agents have it at enrollment and SSH at a new host. The
 * controller's CA is shown with its SHA-256 fingerprint and pinned for that controller only once a person has
 * confirmed it (typing {@code yes} or the fingerprint at the terminal) or the fingerprint was given
 * ({@code --ca-fingerprint}, which must match). Without either, nothing is pinned: a script cannot trust by accident.
 * Before the pin is saved, a request through it checks that the CA really vouches for this controller and its name.
 */
final class TrustCommands {
    private TrustCommands() {}

    static Family trust() {
        return new Family("trust", "pin the controller's CA", List.of(Command.of("trust", "trust [--ca-fingerprint SHA256]",
                "show the CA of the controller's certificate with its SHA-256 fingerprint, and pin it for this controller"
                        + " (in ~/.config/vigil/known-controllers) once confirmed: typed at the terminal, or given with"
                        + " --ca-fingerprint (compare it with the fingerprint the controller logs at start)",
                TrustCommands::trust)));
    }

    private static void trust(Args args, Session s) throws CliException {
        args.atMost(0);
        URI base = s.api().base();
        ControllerTrust current = s.api().trust();
        if (!"https".equals(base.getScheme())) {
            throw CliException.usage("trust pins the CA of an https:// controller; " + base + " serves plain HTTP");
        }
        if (current.caFile()) throw CliException.usage("--ca-file already names the CA to trust; trust pins a fingerprint instead");
        List<X509Certificate> chain = ControllerTrust.presentedChain(base, s.api().timeout());
        X509Certificate ca = chain.get(chain.size() - 1);
        String fingerprint = Fingerprints.sha256(ca);
        String given = current.givenFingerprint();
        String origin = KnownControllers.origin(base);
        if (given != null) {
            if (!given.equals(fingerprint)) {
                throw new CliException(ExitCode.UNTRUSTED, "the controller's CA is not the one given: " + base + " presents CA '"
                        + ca.getSubjectX500Principal().getName() + "' with SHA-256 " + fingerprint + ", not " + given
                        + "; nothing was pinned", List.of("a wrong controller URL, a mistyped fingerprint, or someone in between ("
                        + ControllerTrust.CHECK + ")"), null);
            }
        } else if (s.console() != null) {
            confirm(s.console(), origin, chain, fingerprint);
        } else {
            throw new CliException(ExitCode.UNTRUSTED, "not pinned: " + base + " presents CA '"
                    + ca.getSubjectX500Principal().getName() + "' with SHA-256 fingerprint " + fingerprint + ", which nobody"
                    + " confirmed", List.of("compare it with your cluster's (" + ControllerTrust.CHECK + "), then run vigil"
                    + " --controller " + base + " trust --ca-fingerprint " + fingerprint + " (or vigil trust at a terminal)"), null);
        }
        KnownControllers known = current.known();
        // Through the pin, as every later command will connect: the chain must verify and name this host.
        s.api().trusting(ControllerTrust.pinned(fingerprint, "the fingerprint confirmed", known)).get(path("health"));
        known.pin(base, fingerprint);
        ObjectNode pinned = s.json().createObjectNode()
                .put("controller", origin)
                .put("certificate", chain.get(0).getSubjectX500Principal().getName())
                .put("ca", ca.getSubjectX500Principal().getName())
                .put("fingerprint", fingerprint)
                .put("pinnedIn", known.file().toString());
        s.out().object(pinned);
    }

    private static void confirm(Console console, String origin, List<X509Certificate> chain, String fingerprint)
            throws CliException {
        X509Certificate ca = chain.get(chain.size() - 1);
        console.printf("%s presents the certificate %s (for %s)%nissued under the CA %s%nSHA-256 fingerprint of that CA: %s%n"
                        + "Compare it with your cluster's: %s.%n", origin, chain.get(0).getSubjectX500Principal().getName(),
                ControllerTrust.names(chain.get(0)), ca.getSubjectX500Principal().getName(), fingerprint, ControllerTrust.CHECK);
        String answer = console.readLine("Trust this CA for %s? Type yes or the fingerprint: ", origin);
        boolean confirmed = answer != null
                && (answer.strip().equalsIgnoreCase("yes") || ControllerTrust.normalize(answer).equals(fingerprint));
        if (!confirmed) throw new CliException(ExitCode.UNTRUSTED, "not confirmed: nothing was pinned");
    }
}
