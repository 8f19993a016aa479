package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * VerbsLayout, vigil_layout.h (checked against the installed headers when the shim compiles) and the built shim
 * agree.
 */
class VerbsLayoutTest {
    private static final Path HEADER = Path.of("src/main/c/vigil_layout.h");
    private static final Pattern DEFINE = Pattern.compile("#define VIGIL_(\\w+) (-?\\d+)");

    static Map<String, Integer> header() throws IOException {
        Map<String, Integer> values = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(HEADER);
        for (String line : lines) {
            if (!line.startsWith("#define VIGIL_") || line.equals("#define VIGIL_LAYOUT_H")) continue;
            Matcher m = DEFINE.matcher(line.strip());
            assertTrue(m.matches(), "vigil_layout.h must hold plain '#define VIGIL_<NAME> <integer>' lines: " + line);
            assertEquals(null, values.put(m.group(1), Integer.parseInt(m.group(2))), "defined twice: " + m.group(1));
        }
        return values;
    }

    @Test
    void javaMirrorsTheHeader() throws IOException {
        Map<String, Integer> header = header();
        assertTrue(header.size() > 50, "parsed " + header.size() + " values");
        assertEquals(header, VerbsLayout.constants());
    }

    @Test
    void theLoadedShimWasBuiltWithTheSameLayout() throws IOException {
        assertEquals(Optional.empty(), VerbsShim.UNAVAILABLE, "the build puts the shim on the classpath");
        for (Map.Entry<String, Integer> e : header().entrySet())
            assertEquals((long) e.getValue(), VerbsShim.vigil_layout(e.getKey()), e.getKey());
        assertEquals(-1L, VerbsShim.vigil_layout("NOT_A_FIELD"));
        assertEquals(Optional.empty(), RdmaDevices.layoutMismatch());
    }
}
