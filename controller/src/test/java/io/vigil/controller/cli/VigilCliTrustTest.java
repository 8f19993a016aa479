package io.vigil.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.cli.CliRun.Result;
import io.vigil.controller.cli.StubController.Request;
import io.vigil.controller.pki.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whom the client trusts over HTTPS, against a stub controller with a CA of its own: nothing unknown (and nothing is
 * sent to it), a CA pinned by {@code vigil trust} only once its fingerprint is confirmed, then trusted for that
 * controller; a pin, a CA file or a host name that does not match is refused with exit status 9.
 */
class VigilCliTrustTest {
    private static final String TOKEN = "vgl_admin1_s3cr3t";
    @TempDir Path config;
    private StubController stub;
    private Path knownControllers;

    @BeforeEach
    void start() throws Exception {
        stub = new StubController();
        stub.on("GET /api/v1/health", 200, "{\"status\":\"ok\"}").on("GET /api/v1/hosts", 200, "[]");
        knownControllers = config.resolve("vigil").resolve(KnownControllers.FILE);
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    /** A client with its own configuration directory and a token, trusting what that directory pins. */
    private CliRun client() {
        return new CliRun(stub.url()).env("XDG_CONFIG_HOME", config.toString()).env("VIGIL_TOKEN", TOKEN);
    }

    private static Result fails(int exit, Result r, String... errFragments) {
        assertEquals(exit, r.exit(), r.toString());
        for (String f : errFragments) assertTrue(r.err().contains(f), "stderr should mention '" + f + "': " + r);
        return r;
    }

    private static Result ok(Result r) {
        assertEquals(0, r.exit(), r.toString());
        return r;
    }

    @Test
    void anUnknownCaIsRefusedWithItsFingerprintAndNothingIsSent() {
        String fingerprint = stub.caFingerprint();
        fails(9, client().run("hosts"), "the controller's certificate is not trusted", fingerprint,
                "vigil --controller " + stub.url() + " trust --ca-fingerprint " + fingerprint, "--ca-file");
        assertTrue(stub.noMoreRequests(), "not a byte of HTTP (nor the token) went to an untrusted controller");
    }

    @Test
    void trustPinsNothingUntilTheFingerprintIsConfirmed() {
        String fingerprint = stub.caFingerprint();
        fails(9, client().run("trust"), "not pinned", fingerprint, "trust --ca-fingerprint " + fingerprint);
        String other = CertificateAuthority.create().fingerprint();
        fails(9, client().run("trust", "--ca-fingerprint", other), "not the one given", fingerprint, other);
        assertFalse(Files.exists(knownControllers), "nothing pinned");
        assertTrue(stub.noMoreRequests());
    }

    @Test
    void aConfirmedCaIsPinnedForThatControllerAndTrustedFromThenOn() throws Exception {
        String fingerprint = stub.caFingerprint();
        // As openssl prints it: upper case with colons.
        String openssl = String.join(":", fingerprint.toUpperCase(Locale.ROOT).split("(?<=\\G..)"));
        Result pinned = ok(client().run("trust", "--ca-fingerprint", openssl));
        assertTrue(pinned.out().contains("fingerprint") && pinned.out().contains(fingerprint), pinned.toString());
        Request check = stub.next();
        assertEquals("GET /api/v1/health", check.method() + " " + check.uri(), "the pin is tried before it is saved");
        assertNull(check.authorization(), "no token while trusting");
        assertTrue(Files.readAllLines(knownControllers).contains(stub.url() + " " + fingerprint), knownControllers.toString());

        ok(client().run("hosts"));
        assertEquals("Bearer " + TOKEN, stub.next().authorization());
        ok(client().run("trust", "--ca-fingerprint", fingerprint));
        assertEquals(1, Files.readAllLines(knownControllers).stream().filter(l -> l.startsWith(stub.url())).count(),
                "pinned again: one line per controller");

        String other = CertificateAuthority.create().fingerprint();
        fails(9, client().run("--ca-fingerprint", other, "hosts"), "not the pinned one", fingerprint, other);
        try (StubController elsewhere = new StubController()) {
            elsewhere.on("GET /api/v1/hosts", 200, "[]");
            fails(9, new CliRun(elsewhere.url()).env("XDG_CONFIG_HOME", config.toString()).env("VIGIL_TOKEN", TOKEN).run("hosts"),
                    "not trusted", elsewhere.caFingerprint());
            assertTrue(elsewhere.noMoreRequests(), "a pin is for one controller only");
        }
    }

    @Test
    void aCaFileTrustsTheControllersItVouchesForOnly() throws Exception {
        ok(client().env("VIGIL_CA_FILE", stub.caFile().toString()).run("hosts"));
        ok(client().run("--ca-file", stub.caFile().toString(), "hosts"));
        Path otherCa = config.resolve("other-ca.crt");
        Files.writeString(otherCa, CertificateAuthority.create().certificatePem());
        fails(9, client().run("--ca-file", otherCa.toString(), "hosts"), "does not vouch for", stub.caFingerprint());
    }

    @Test
    void aCertificateForAnotherNameIsRefused() throws Exception {
        try (StubController localhostOnly = new StubController(List.of("localhost"))) {
            localhostOnly.on("GET /api/v1/hosts", 200, "[]");
            fails(9, new CliRun(localhostOnly.url()).env("VIGIL_CA_FILE", localhostOnly.caFile().toString()).run("hosts"),
                    "refused", "localhost");
            assertTrue(localhostOnly.noMoreRequests());
        }
    }

    @Test
    void badTrustOptionsAreUsageErrors() {
        fails(2, client().run("--ca-fingerprint", "abc", "hosts"), "64 hex digits");
        fails(2, client().run("--ca-file", config.resolve("missing.crt").toString(), "hosts"), "cannot read the CA file");
        fails(2, client().run("--ca-file", stub.caFile().toString(), "trust"), "--ca-file already names the CA");
        fails(2, new CliRun("http://127.0.0.1:1").env("XDG_CONFIG_HOME", config.toString()).run("trust"), "plain HTTP");
        fails(2, new CliRun(stub.url()).run("trust", "--ca-fingerprint", stub.caFingerprint()), "HOME");
    }
}
