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
        assertEquals("127.0.0.1", c.hazelcastInterface(), "a cluster of one listens on loopback");
        assertEquals("/var/lib/vigil/controller/cluster-secret", c.clusterSecretFile());
        assertTrue(!c.name().isBlank());
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        ControllerConfig c = ControllerConfig.load(yaml("name: c1\nhttpPort: 9000\nsharedStorage: /a\n"), Map.of(
                "VIGIL_CONTROLLER_HTTP_PORT", "9100", "VIGIL_CONTROLLER_HAZELCAST_MEMBERS", "10.0.0.2:5701, 10.0.0.3",
                "VIGIL_CONTROLLER_ISOLATION_RESPONSE", "poweroff", "VIGIL_CONTROLLER_AGENT_PORT", "9443",
                "VIGIL_CONTROLLER_HAZELCAST_INTERFACE", "10.0.0.1"));
        assertEquals(9100, c.httpPort());
        assertEquals(List.of("10.0.0.2:5701", "10.0.0.3"), c.hazelcastMembers());
        assertEquals(IsolationResponse.POWEROFF, c.isolationResponse());
        assertEquals("10.0.0.1", c.hazelcastInterface());
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

    @Test
    void hazelcastListensOnOneAddressThatCanReachTheOtherMembers() throws Exception {
        String base = "sharedStorage: /a\n";
        assertEquals("127.0.0.1", load(base + "hazelcastMembers: [ '127.0.0.1:5702', 'localhost:5703' ]\n").hazelcastInterface());
        assertEquals("10.0.0.5", load(base + "httpHost: 10.0.0.5\nhazelcastMembers: [ '10.0.0.6' ]\n").hazelcastInterface(),
                "the API's address when it is one");
        assertEquals("10.1.0.5", load(base + "httpHost: 0.0.0.0\nhazelcastInterface: 10.1.0.5\nhazelcastMembers: [ '10.1.0.6' ]\n")
                .hazelcastInterface());
        assertEquals("fd00::5", load(base + "hazelcastInterface: 'fd00::5'\nhazelcastMembers: [ '[fd00::6]:5701' ]\n")
                .hazelcastInterface());
        assertMessage(base + "hazelcastMembers: [ '10.0.0.6:5701' ]\n", "hazelcastInterface"); // loopback cannot reach it
        assertMessage(base + "httpHost: 0.0.0.0\nhazelcastMembers: [ '10.0.0.6' ]\n", "hazelcastInterface");
        assertMessage(base + "httpHost: ctl1.example\nhazelcastMembers: [ '10.0.0.6' ]\n", "hazelcastInterface");
        assertMessage(base + "hazelcastInterface: 0.0.0.0\n", "hazelcastInterface");
        assertMessage(base + "hazelcastInterface: eth0\n", "hazelcastInterface");
        assertMessage(base + "hazelcastInterface: 10.0.0.300\n", "hazelcastInterface");
    }

    private ControllerConfig load(String text) throws Exception {
        return ControllerConfig.load(yaml(text), Map.of());
    }

    @Test
    void theRestApiIsHttpsUnlessPlainHttpSaysOtherwise() throws Exception {
        ControllerConfig defaults = ControllerConfig.load(yaml("sharedStorage: /a\n"), Map.of());
        assertEquals(false, defaults.plainHttp());
        assertEquals(null, defaults.tlsCertificateFile());
        assertEquals(null, defaults.tlsKeyFile());
        assertEquals("https://127.0.0.1:8080/api/v1", defaults.restBaseUrl(8080));

        ControllerConfig files = ControllerConfig.load(yaml("sharedStorage: /a\ntlsCertificateFile: /etc/vigil/rest.crt\n"
                + "tlsKeyFile: /etc/vigil/rest.key\n"), Map.of());
        assertEquals("/etc/vigil/rest.crt", files.tlsCertificateFile());
        assertEquals("/etc/vigil/rest.key", files.tlsKeyFile());
        assertEquals("https://127.0.0.1:9000/api/v1", files.restBaseUrl(9000));

        ControllerConfig plain = ControllerConfig.load(yaml("sharedStorage: /a\n"), Map.of("VIGIL_CONTROLLER_PLAIN_HTTP", "true"));
        assertEquals(true, plain.plainHttp());
        assertEquals("http://127.0.0.1:9000/api/v1", plain.restBaseUrl(9000));
        assertEquals("https://[::1]:9000/api/v1", ControllerConfig.load(yaml("sharedStorage: /a\nhttpHost: '::1'\n"), Map.of())
                .restBaseUrl(9000), "an IPv6 address in brackets");

        assertMessage("sharedStorage: /a\ntlsCertificateFile: /etc/vigil/rest.crt\n", "tlsKeyFile");
        assertMessage("sharedStorage: /a\ntlsKeyFile: /etc/vigil/rest.key\n", "tlsCertificateFile");
        assertMessage("sharedStorage: /a\nplainHttp: true\ntlsCertificateFile: /c\ntlsKeyFile: /k\n", "plainHttp");
        assertMessage("sharedStorage: /a\nplainHttp: sometimes\n", "plainHttp");
    }

    private void assertMessage(String text, String field) throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> ControllerConfig.load(yaml(text), Map.of()));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }
}
