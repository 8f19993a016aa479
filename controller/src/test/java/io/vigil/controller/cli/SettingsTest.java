package io.vigil.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** KEY=VALUE words: JSON when the whole value parses as JSON, a string otherwise. */
class SettingsTest {
    private final ObjectMapper json = new ObjectMapper();

    private String parsed(String... pairs) throws CliException {
        return Settings.parse("test", List.of(pairs), json).toString();
    }

    @Test
    void valuesAreJsonWhenTheyParseElseStrings() throws CliException {
        assertEquals("{\"a\":3,\"b\":true,\"c\":null,\"d\":\"high\",\"e\":[\"x\",\"y\"]}",
                parsed("a=3", "b=true", "c=null", "d=high", "e=[\"x\",\"y\"]"));
        assertEquals("{\"p\":[{\"host\":\"h1\",\"priority\":10}]}", parsed("p=[{\"host\":\"h1\",\"priority\":10}]"));
        assertEquals("{\"a\":\"10abc\",\"b\":\"1 2\",\"c\":\"\",\"d\":\"x=y\",\"e\":\"\\\"q\\\"\"}",
                parsed("a=10abc", "b=1 2", "c=", "d=x=y", "e=\"\\\"q\\\"\""));
        assertEquals("{\"name\":\"123\"}", parsed("name=\"123\""), "a quoted number stays a string");
    }

    @Test
    void aWordWithoutKeyIsAUsageError() {
        assertEquals(ExitCode.USAGE, assertThrows(CliException.class, () -> parsed("=3")).exitCode);
        assertEquals(ExitCode.USAGE, assertThrows(CliException.class, () -> parsed("priority")).exitCode);
    }
}
