package io.vigil.controller.api;

import static io.vigil.controller.testing.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code /api/v1/rules} over real HTTP: create, read, replace, patch, delete, and every refusal. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RulesApiTest {
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        for (String vm : List.of("ru-a", "ru-b", "ru-c"))
            assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(vm), "\"start\":false")).status());
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private List<Object> rules() {
        return ctl.get("/api/v1/rules").jsonList();
    }

    @Test
    void aRuleIsCreatedReadReplacedPatchedAndDeleted() {
        Reply created = ctl.post("/api/v1/rules", "{\"name\":\"ru-apart\",\"type\":\"anti-affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}");
        assertEquals(201, created.status(), created.body());
        assertEquals("/api/v1/rules/ru-apart", created.location());
        Map<String, Object> expected = Map.of("name", "ru-apart", "type", "anti-affinity", "vms", List.of("ru-a", "ru-b"),
                "strict", false);
        assertEquals(expected, created.json(), "strict defaults to false");
        assertEquals(expected, ctl.get("/api/v1/rules/ru-apart").json());
        assertTrue(rules().contains(expected), rules().toString());

        Reply replaced = ctl.put("/api/v1/rules/ru-apart", "{\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\",\"ru-c\"],\"strict\":true}");
        assertEquals(200, replaced.status(), replaced.body());
        assertEquals(Map.of("name", "ru-apart", "type", "affinity", "vms", List.of("ru-a", "ru-b", "ru-c"), "strict", true),
                ctl.get("/api/v1/rules/ru-apart").json());
        assertEquals(200, ctl.put("/api/v1/rules/ru-apart", "{\"name\":\"ru-apart\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}").status());
        assertEquals(false, ctl.get("/api/v1/rules/ru-apart").json().get("strict"), "a PUT without strict: false");

        Reply patched = ctl.patch("/api/v1/rules/ru-apart", "{\"strict\":true}");
        assertEquals(200, patched.status(), patched.body());
        assertEquals(Map.of("name", "ru-apart", "type", "affinity", "vms", List.of("ru-a", "ru-b"), "strict", true), patched.json());
        assertEquals(200, ctl.patch("/api/v1/rules/ru-apart", "{\"type\":\"anti-affinity\",\"vms\":[\"ru-b\",\"ru-c\"]}").status());
        assertEquals(Map.of("name", "ru-apart", "type", "anti-affinity", "vms", List.of("ru-b", "ru-c"), "strict", true),
                ctl.get("/api/v1/rules/ru-apart").json());
        assertEquals(200, ctl.patch("/api/v1/rules/ru-apart", "{\"strict\":null}", "application/json").status());
        assertEquals(false, ctl.get("/api/v1/rules/ru-apart").json().get("strict"), "null resets strict to false");

        Reply deleted = ctl.delete("/api/v1/rules/ru-apart");
        assertEquals(204, deleted.status(), deleted.body());
        assertProblem(ctl.get("/api/v1/rules/ru-apart"), 404, "ru-apart");
        assertProblem(ctl.delete("/api/v1/rules/ru-apart"), 404, "ru-apart");
    }

    @Test
    void ruleChangesReachTheHaCore() {
        assertEquals(201, ctl.post("/api/v1/rules", "{\"name\":\"ru-seen\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-c\"],"
                + "\"strict\":true}").status());
        Await.until("a rules-changed event naming ru-seen", Duration.ofSeconds(10), () -> ctl.get("/api/v1/events?type=rules-changed")
                .jsonList().stream().anyMatch(e -> String.valueOf(((Map<?, ?>) e).get("message")).contains("ru-seen")));
        assertEquals(204, ctl.delete("/api/v1/rules/ru-seen").status());
    }

    @Test
    void refusalsNameTheProblemAndChangeNothing() {
        assertEquals(201, ctl.post("/api/v1/rules", "{\"name\":\"ru-keep\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}").status());
        Map<String, Object> keep = ctl.get("/api/v1/rules/ru-keep").json();
        List<Object> before = rules();

        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-keep\",\"type\":\"anti-affinity\",\"vms\":[\"ru-b\",\"ru-c\"]}"),
                409, "ru-keep", "already exists");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ghost-vm\"]}"),
                400, "vms", "ghost-vm");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\",\"type\":\"together\",\"vms\":[\"ru-a\",\"ru-b\"]}"), 400, "type");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\",\"type\":\"affinity\",\"vms\":[\"ru-a\"]}"), 400, "vms");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-a\"]}"), 400, "vms");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru x\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}"), 400, "name");
        assertProblem(ctl.post("/api/v1/rules", "{\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}"), 400, "name");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"],\"hard\":true}"),
                400, "hard");
        assertProblem(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"],\"strict\":\"yes\"}"),
                400, "strict");

        assertProblem(ctl.put("/api/v1/rules/ru-nope", "{\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}"), 404, "ru-nope");
        assertProblem(ctl.put("/api/v1/rules/ru-keep", "{\"name\":\"ru-other\",\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ru-b\"]}"),
                400, "name", "renamed");
        assertProblem(ctl.put("/api/v1/rules/ru-keep", "{\"type\":\"affinity\",\"vms\":[\"ru-a\",\"ghost-vm\"]}"), 400, "ghost-vm");
        assertProblem(ctl.put("/api/v1/rules/ru-keep", "{\"vms\":[\"ru-a\",\"ru-b\"]}"), 400, "type");

        assertProblem(ctl.patch("/api/v1/rules/ru-nope", "{\"strict\":true}"), 404, "ru-nope");
        assertProblem(ctl.patch("/api/v1/rules/ru-keep", "{\"vms\":[\"ru-a\",\"ghost-vm\"]}"), 400, "ghost-vm");
        assertProblem(ctl.patch("/api/v1/rules/ru-keep", "{\"type\":null}"), 400, "type");
        assertProblem(ctl.patch("/api/v1/rules/ru-keep", "{\"vms\":null}"), 400, "vms");
        assertProblem(ctl.patch("/api/v1/rules/ru-keep", "{\"name\":\"ru-renamed\"}"), 400, "name");
        assertProblem(ctl.patch("/api/v1/rules/ru-keep", "{\"type\":\"near\"}"), 400, "type");

        for (Reply malformed : List.of(ctl.post("/api/v1/rules", "{\"name\":\"ru-x\","),
                ctl.put("/api/v1/rules/ru-keep", "{\"type\":\"affinity\" \"vms\":[]}"),
                ctl.patch("/api/v1/rules/ru-keep", "{strict:true}"))) {
            assertEquals("Malformed JSON", assertProblem(malformed, 400, "not valid JSON").get("title"));
        }

        assertEquals(keep, ctl.get("/api/v1/rules/ru-keep").json());
        assertEquals(before, rules());
        assertProblem(ctl.get("/api/v1/rules/ru-x"), 404);
        assertEquals(204, ctl.delete("/api/v1/rules/ru-keep").status());
    }
}
