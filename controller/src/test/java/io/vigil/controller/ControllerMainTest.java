package io.vigil.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.TestController;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller as a process: --help, refusal of bad configuration, start-up banner and a clean SIGTERM stop. */
class ControllerMainTest {
    @TempDir Path dir;

    private Process launch(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ControllerMain.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(false);
        pb.environment().keySet().removeIf(k -> k.startsWith("VIGIL_CONTROLLER_"));
        return pb.start();
    }

    @Test
    void helpListsTheFields() throws Exception {
        Process p = launch("--help");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        assertTrue(out.contains("sharedStorage") && out.contains("VIGIL_CONTROLLER_"), out);
    }

    @Test
    void badConfigurationExitsNonZeroNamingTheField() throws Exception {
        Path config = dir.resolve("c.yaml");
        Files.writeString(config, "sharedStorage: " + dir + "\nstateDir: " + dir.resolve("state") + "\nhttpPort: 99999\n");
        Process p = launch("--config", config.toString());
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue());
        assertTrue(err.contains("httpPort"), err);
    }

    @Test
    void printsTheRestAddressAndStopsOnSigterm() throws Exception {
        int port = TestController.freePort();
        Path config = dir.resolve("c.yaml");
        Files.writeString(config, "name: main-test\nhttpPort: " + port + "\nhazelcastPort: " + TestController.freePort()
                + "\nsharedStorage: " + dir + "\nstateDir: " + dir.resolve("state") + "\n");
        Process p = launch("--config", config.toString());
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals("Vigil controller main-test REST API: https://127.0.0.1:" + port + "/api/v1", line);
            assertEquals("HTTPS with a certificate from the cluster CA: clients trust " + dir.resolve("state/ca/ca.crt")
                    + " (vigil --ca-file) or pin its fingerprint (vigil trust)", out.readLine());
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stops within 20 s of SIGTERM");
        } finally {
            p.destroyForcibly();
        }
    }
}
