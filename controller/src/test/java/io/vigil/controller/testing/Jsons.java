package io.vigil.controller.testing;

import com.fasterxml.jackson.core.type.TypeReference;
import io.vigil.protocol.Json;
import java.util.List;
import java.util.Map;

public final class Jsons {
    private Jsons() {}

    public static Map<String, Object> object(String text) {
        try {
            return Json.mapper().readValue(text, new TypeReference<Map<String, Object>>() {});
        } catch (Exception e) {
            throw new AssertionError("not a JSON object: " + text, e);
        }
    }

    public static List<Object> list(String text) {
        try {
            return Json.mapper().readValue(text, new TypeReference<List<Object>>() {});
        } catch (Exception e) {
            throw new AssertionError("not a JSON array: " + text, e);
        }
    }

    public static String string(String s) {
        return Json.write(s);
    }
}
