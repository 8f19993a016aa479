package io.vigil.protocol.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFilesTest {
    record Sample(String host, int port, List<String> controllers) {
        Sample {
            if (host == null || host.isBlank()) throw new IllegalArgumentException("host is required");
            if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be between 1 and 65535");
            if (controllers == null) controllers = List.of();
        }
    }

    @TempDir Path dir;

    @Test
    void readsYamlAndLetsTheEnvironmentOverrideFields() throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "host: h1\nport: 80\ncontrollers: [a]\n");
        Sample s = ConfigFiles.load(file, Sample.class, Map.of("X_PORT", "8080", "X_CONTROLLERS", "ws://a, ws://b"), "X_");
        assertEquals(new Sample("h1", 8080, List.of("ws://a", "ws://b")), s);
    }

    @Test
    void unknownFieldIsRefusedByName() throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "host: h1\nport: 80\nprot: 9\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.load(file, Sample.class, Map.of(), "X_"));
        assertTrue(e.getMessage().contains("'prot'"), e.getMessage());
    }

    @Test
    void wrongTypeNamesTheField() throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "host: h1\nport: eighty\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.load(file, Sample.class, Map.of(), "X_"));
        assertTrue(e.getMessage().contains("port"), e.getMessage());
    }

    @Test
    void semanticCheckMessageIsKept() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigFiles.load(null, Sample.class, Map.of("X_HOST", "h1", "X_PORT", "0"), "X_"));
        assertTrue(e.getMessage().contains("port must be between"), e.getMessage());
    }

    @Test
    void missingFileIsAnError() {
        assertThrows(ConfigException.class, () -> ConfigFiles.load(dir.resolve("nope.yaml"), Sample.class, Map.of(), "X_"));
    }

    @Test
    void envNameSplitsCamelCase() {
        assertEquals("LIBVIRT_URI", ConfigFiles.envName("libvirtUri"));
        assertEquals("HTTP_PORT", ConfigFiles.envName("httpPort"));
    }
}
