package io.vigil.agent.shutdown;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShutdownDetectorTest {
    @TempDir Path dir;

    private ShutdownDetector detector(String mode, String systemState) {
        return new ShutdownDetector(mode, dir, () -> Optional.ofNullable(systemState));
    }

    @Test
    void aPlainStopIsAnAgentRestart() {
        assertEquals(Optional.empty(), detector("auto", "running").hostShutdownReason());
        assertEquals(Optional.empty(), detector("auto", "degraded").hostShutdownReason());
        assertEquals(Optional.empty(), detector("auto", null).hostShutdownReason(), "no systemd");
    }

    @Test
    void systemdStoppingTheSystemIsAHostShutdown() {
        assertEquals(Optional.of("systemd is shutting the host down"), detector("auto", "stopping").hostShutdownReason());
    }

    @Test
    void anOperatorsRequestIsAHostShutdownOnceAndSaysWhy() throws Exception {
        Files.writeString(dir.resolve(ShutdownDetector.REQUEST_FILE), "kernel update\n");
        ShutdownDetector d = detector("auto", "running");
        assertEquals(Optional.of("kernel update"), d.hostShutdownReason());
        assertFalse(Files.exists(dir.resolve(ShutdownDetector.REQUEST_FILE)), "consumed");
        assertEquals(Optional.empty(), d.hostShutdownReason(), "the next stop is a restart again");

        Files.createFile(dir.resolve(ShutdownDetector.REQUEST_FILE)); // a plain touch
        assertEquals(Optional.of("requested through " + dir.resolve("host-shutdown")), d.hostShutdownReason());
    }

    @Test
    void aRequestNoAgentActedOnIsClearedAtStartUp() throws Exception {
        Files.writeString(dir.resolve(ShutdownDetector.REQUEST_FILE), "long ago");
        ShutdownDetector d = detector("auto", "running");
        d.clearStaleRequest();
        assertEquals(Optional.empty(), d.hostShutdownReason());
    }

    @Test
    void shutdownModeHostMakesEveryStopAHostShutdown() {
        assertEquals(Optional.of("shutdownMode is host: every stop of this agent is a host shutdown"),
                detector("host", "running").hostShutdownReason());
    }
}
