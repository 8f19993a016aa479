package io.vigil.controller.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.TestController.Reply;
import java.util.Map;

/** Assertions on RFC 9457 problem replies. */
public final class Problems {
    private Problems() {}

    /** {@code r} is a problem with {@code status} whose detail mentions every fragment; returns the problem object. */
    public static Map<String, Object> assertProblem(Reply r, int status, String... detailFragments) {
        assertEquals(status, r.status(), r.body());
        assertEquals("application/problem+json", r.contentType(), r.body());
        Map<String, Object> p = r.json();
        assertEquals(status, p.get("status"));
        assertNotNull(p.get("type"));
        assertNotNull(p.get("title"));
        String detail = (String) p.get("detail");
        for (String f : detailFragments) assertTrue(detail.contains(f), "detail '" + detail + "' should mention '" + f + "'");
        return p;
    }
}
