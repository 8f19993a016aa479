package io.vigil.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControllerConfigTest {
    @TempDir Path dir;

    private Path yaml(String text) throws Exception {
        Path f = dir.resolve("controller.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void defaultsFillEverythingButSharedStorage() throws Exception {
        ControllerConfig c = ControllerConfig.load(yaml("sharedStorage: /srv/shared\n"), Map.of());
        assertEquals("127.0.0.1", c.httpHost());
        assertEquals(8080, c.httpPort());
        assertEquals(5701, c.hazelcastPort());
        assertEquals(List.of(), c.hazelcastMembers());
        assertEquals("wss://127.0.0.1:8443/agent/v1", c.advertisedAgentUrl());
        assertEquals(8443, c.agentPort());
        assertEquals(java.nio.file.Path.of("/var/lib/vigil/controller"), c.stateDirPath());
        assertEquals(java.nio.file.Path.of("/var/lib/vigil/controller/admin-token"), c.adminTokenPath());
        assertEquals(ClusterPolicy.DEFAULT, c.initialPolicy());
        assertTrue(!c.name().isBlank());
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        ControllerConfig c = ControllerConfig.load(yaml("name: c1\nhttpPort: 9000\nsharedStorage: /a\n"), Map.of(
                "VIGIL_CONTROLLER_HTTP_PORT", "9100", "VIGIL_CONTROLLER_HAZELCAST_MEMBERS", "10.0.0.2:5701, 10.0.0.3",
                "VIGIL_CONTROLLER_ISOLATION_RESPONSE", "poweroff", "VIGIL_CONTROLLER_AGENT_PORT", "9443"));
        assertEquals(9100, c.httpPort());
        assertEquals(List.of("10.0.0.2:5701", "10.0.0.3"), c.hazelcastMembers());
        assertEquals(IsolationResponse.POWEROFF, c.isolationResponse());
        assertEquals("wss://127.0.0.1:9443/agent/v1", c.advertisedAgentUrl());
    }

    @Test
    void badFieldsAreNamed() throws Exception {
        assertMessage("name: c1\n", "sharedStorage");
        assertMessage("sharedStorage: /a\nhttpPort: 70000\n", "httpPort");
        assertMessage("sharedStorage: /a\nhttpPort: eighty\n", "httpPort");
        assertMessage("sharedStorage: /a\nhazelcastPort: 0\n", "hazelcastPort");
        assertMessage("sharedStorage: /a\nadvertisedAgentUrl: http://x/agent/v1\n", "advertisedAgentUrl");
        assertMessage("sharedStorage: /a\nadvertisedAgentUrl: ws://x/agent/v1\n", "advertisedAgentUrl");
        assertMessage("sharedStorage: /a\nagentPort: 70000\n", "agentPort");
        assertMessage("sharedStorage: /a\nname: 'bad name'\n", "name");
        assertMessage("sharedStorage: /a\nheartbeatIntervalSeconds: 2\nfailureTimeoutSeconds: 3\n", "failureTimeoutSeconds");
        assertMessage("sharedStorage: /a\nisolationResponse: reboot\n", "isolationResponse");
        assertMessage("sharedStorage: /a\nhttpPrt: 1\n", "httpPrt");
    }

    private void assertMessage(String text, String field) throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> ControllerConfig.load(yaml(text), Map.of()));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }
}
