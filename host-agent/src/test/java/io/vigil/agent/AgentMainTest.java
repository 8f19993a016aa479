package io.vigil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The program as e2e tests start it: a separate JVM. */
class AgentMainTest {
    @TempDir Path dir;

    private record Run(int status, String output) {}

    private Run run(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), AgentMain.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("VIGIL_AGENT_"));
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the agent did not exit");
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void helpListsTheFieldsAndTheirEnvironmentNames() throws Exception {
        Run r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.output().contains("sharedStorage"), r.output());
        assertTrue(r.output().contains("VIGIL_AGENT_LIBVIRT_URI"), r.output());
    }

    @Test
    void badConfigurationExitsNonZeroNamingTheField() throws Exception {
        Path config = Files.writeString(dir.resolve("a.yaml"),
                "host: h1\ncontrollers: [ws://127.0.0.1:1/agent/v1]\nsharedStorage: /tmp\nheartbeatIntervalMillis: 0\n");
        Run r = run("--config", config.toString());
        assertEquals(2, r.status());
        assertTrue(r.output().contains("heartbeatIntervalMillis"), r.output());
    }
}
