package io.vigil.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {
    @TempDir Path dir;

    private Path yaml(String text) throws Exception {
        return Files.writeString(dir.resolve("agent.yaml"), text);
    }

    private static final String MINIMAL = "host: h1\ncontrollers: [ws://127.0.0.1:8080/agent/v1]\nsharedStorage: /srv/shared\n";

    @Test
    void defaultsFillWhatTheFileLeavesOut() throws Exception {
        AgentConfig c = AgentConfig.load(yaml(MINIMAL), Map.of());
        assertEquals("qemu:///system", c.libvirtUri());
        assertEquals(1000, c.heartbeatIntervalMillis());
        assertEquals(4000, c.leaseTimeoutMillis());
        assertEquals(0, c.memoryMiB());
        assertEquals(0, c.cpus());
        assertEquals(Path.of("/srv/shared"), c.sharedStorage());
    }

    @Test
    void enrollmentFields() throws Exception {
        AgentConfig plain = AgentConfig.load(yaml(MINIMAL + "stateDir: /var/lib/a\n"), Map.of());
        assertEquals(Path.of("/var/lib/a/tls"), plain.tlsDir());
        assertEquals(null, plain.joinToken());
        assertEquals(false, plain.usesTls());
        String token = "vj1.0a1b2c3d." + "5".repeat(32) + "." + "ab".repeat(32);
        AgentConfig tls = AgentConfig.load(yaml("host: h1\ncontrollers: [wss://10.0.0.1:8443/agent/v1]\nsharedStorage: /s\n"
                + "tlsDir: /etc/vigil/tls\n"), Map.of("VIGIL_AGENT_JOIN_TOKEN", token));
        assertEquals(token, tls.joinToken());
        assertEquals(Path.of("/etc/vigil/tls"), tls.tlsDir());
        assertEquals(true, tls.usesTls());
        var e = assertThrows(ConfigException.class, () -> AgentConfig.load(yaml(MINIMAL + "joinToken: letmein\n"), Map.of()));
        assertTrue(e.getMessage().contains("joinToken"), e.getMessage());
        assertTrue(!e.getMessage().contains("letmein"), "the token is not repeated: " + e.getMessage());
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        AgentConfig c = AgentConfig.load(yaml(MINIMAL + "memoryMiB: 512\n"), Map.of(
                "VIGIL_AGENT_HOST", "h2",
                "VIGIL_AGENT_CONTROLLERS", "ws://a:1/agent/v1, ws://b:2/agent/v1",
                "VIGIL_AGENT_LIBVIRT_URI", "test:///default",
                AgentConfig.envName("memoryMiB"), "2048"));
        assertEquals("h2", c.host());
        assertEquals(List.of("ws://a:1/agent/v1", "ws://b:2/agent/v1"), c.controllers());
        assertEquals("test:///default", c.libvirtUri());
        assertEquals(2048, c.memoryMiB());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "controllers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\n|host",
        "host: 'bad/name'\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\n|host",
        "host: h1\\nsharedStorage: /s\\n|controllers",
        "host: h1\\ncontrollers: [http://x:1/agent/v1]\\nsharedStorage: /s\\n|controllers",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\n|sharedStorage",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\nmemoryMiB: -1\\n|memoryMiB",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\ncpus: lots\\n|cpus",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\nheartbeatIntervalMillis: 0\\n|heartbeatIntervalMillis",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\nleaseTimeoutMillis: 2000\\n|leaseTimeoutMillis",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\nlibvirtUri: nonsense\\n|libvirtUri",
        "host: h1\\ncontrollers: [ws://x:1/agent/v1]\\nsharedStorage: /s\\nleaseTimout: 5\\n|leaseTimout",
    })
    void badConfigurationNamesTheField(String text, String field) throws Exception {
        Path file = yaml(text.replace("\\n", "\n"));
        ConfigException e = assertThrows(ConfigException.class, () -> AgentConfig.load(file, Map.of()));
        assertTrue(e.getMessage().contains(field), "'" + e.getMessage() + "' does not name " + field);
    }
}
