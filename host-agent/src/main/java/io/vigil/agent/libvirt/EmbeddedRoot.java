package io.vigil.agent.libvirt;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The embedded QEMU driver ({@code qemu:///embed?root=DIR}) runs libvirt's QEMU driver inside this process with
 * all its state under DIR. Its {@code DIR/etc/qemu.conf} must let QEMU run as root without a security driver,
 * and QEMU's output go to files (no virtlogd here).
 */
public final class EmbeddedRoot {
    static final String QEMU_CONF = """
            user = "root"
            group = "root"
            security_driver = "none"
            stdio_handler = "file"
            """;

    private EmbeddedRoot() {}

    /** The root directory of an embed URI, if {@code uri} is one. */
    public static Optional<Path> rootOf(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (Exception e) {
            return Optional.empty();
        }
        if (!"/embed".equals(parsed.getPath()) || parsed.getRawQuery() == null) return Optional.empty();
        for (String param : parsed.getRawQuery().split("&")) {
            if (param.startsWith("root="))
                return Optional.of(Path.of(URLDecoder.decode(param.substring(5), StandardCharsets.UTF_8)));
        }
        return Optional.empty();
    }

    /** Writes {@code root/etc/qemu.conf} if {@code uri} is an embed URI. */
    public static void prepare(String uri) throws IOException {
        Optional<Path> root = rootOf(uri);
        if (root.isEmpty()) return;
        Path conf = root.get().resolve("etc").resolve("qemu.conf");
        Files.createDirectories(conf.getParent());
        if (!Files.exists(conf) || !Files.readString(conf).equals(QEMU_CONF)) Files.writeString(conf, QEMU_CONF);
    }
}
