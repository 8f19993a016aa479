package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import io.vigil.controller.testing.TestController.Reply;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every REST error case against a real controller (Vert.x HTTP, Hazelcast member, libvirt's test driver). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RestApiTest {
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    static String domain(String name) {
        return "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>96</memory><vcpu>2</vcpu>"
                + "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
    }

    static String createBody(String xml, String extra) {
        return "{\"domainXml\":" + Jsons.string(xml) + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private static void assertProblem(Reply r, int status, String... detailFragments) {
        assertEquals(status, r.status(), r.body());
        assertEquals("application/problem+json", r.contentType(), r.body());
        Map<String, Object> p = r.json();
        assertEquals(status, p.get("status"));
        assertNotNull(p.get("type"));
        assertNotNull(p.get("title"));
        String detail = (String) p.get("detail");
        for (String f : detailFragments) assertTrue(detail.contains(f), "detail '" + detail + "' should mention '" + f + "'");
    }

    private int vmCount() {
        return ctl.get("/api/v1/vms").jsonList().size();
    }

    @Test
    void malformedJsonIs400AndChangesNothing() {
        int before = vmCount();
        Reply r = ctl.post("/api/v1/vms", "{\"domainXml\": \"<domain/>\",");
        assertProblem(r, 400, "not valid JSON");
        assertEquals("Malformed JSON", r.json().get("title"));
        assertEquals(before, vmCount());
    }

    @Test
    void schemaViolationNamesTheField() {
        Reply r = ctl.post("/api/v1/vms", createBody(domain("schema-vm"), "\"priority\":\"urgent\""));
        assertProblem(r, 400, "priority");
        Reply missing = ctl.post("/api/v1/vms", "{\"haEnabled\":true}");
        assertProblem(missing, 400, "domainXml");
        Reply wrongType = ctl.post("/api/v1/vms", createBody(domain("schema-vm"), "\"haEnabled\":\"yes\""));
        assertProblem(wrongType, 400, "haEnabled");
        Reply unknown = ctl.post("/api/v1/vms", createBody(domain("schema-vm"), "\"prio\":\"high\""));
        assertProblem(unknown, 400, "prio");
        assertEquals(404, ctl.get("/api/v1/vms/schema-vm").status());
    }

    @Test
    void invalidDomainXmlGivesLibvirtsReason() {
        Reply noType = ctl.post("/api/v1/vms", createBody("<domain><name>x1</name></domain>", ""));
        assertProblem(noType, 400, "libvirt", "missing domain type attribute");
        Reply noOs = ctl.post("/api/v1/vms", createBody("<domain type='kvm'><name>x2</name><memory>65536</memory></domain>", ""));
        assertProblem(noOs, 400, "libvirt", "os <type>");
        Reply notXml = ctl.post("/api/v1/vms", createBody("<domain type='kvm'><name>x3", ""));
        assertProblem(notXml, 400, "libvirt");
        assertEquals("Invalid Domain XML", notXml.json().get("title"));
        for (String n : List.of("x1", "x2", "x3")) assertEquals(404, ctl.get("/api/v1/vms/" + n).status());
    }

    @Test
    void unsafeVmNameIsRefused() {
        Reply r = ctl.post("/api/v1/vms", createBody(domain("../etc"), ""));
        assertProblem(r, 400, "name");
    }

    @Test
    void unknownVmAndHostAre404() {
        assertProblem(ctl.get("/api/v1/vms/nope"), 404, "nope");
        assertProblem(ctl.postEmpty("/api/v1/vms/nope/start"), 404, "nope");
        assertProblem(ctl.postEmpty("/api/v1/vms/nope/stop"), 404, "nope");
        assertProblem(ctl.delete("/api/v1/vms/nope"), 404, "nope");
        assertProblem(ctl.get("/api/v1/hosts/nohost"), 404, "nohost");
    }

    @Test
    void unknownRouteIs404AndWrongMethod405() {
        assertProblem(ctl.get("/api/v1/nothing-here"), 404, "/api/v1/nothing-here");
        assertProblem(ctl.get("/elsewhere"), 404);
        assertProblem(ctl.put("/api/v1/vms", "{}"), 405, "PUT");
    }

    @Test
    void duplicateNameIs409AndKeepsTheFirst() {
        Reply first = ctl.post("/api/v1/vms", createBody(domain("dup-vm"), "\"start\":false,\"priority\":\"high\""));
        assertEquals(201, first.status(), first.body());
        Reply second = ctl.post("/api/v1/vms", createBody(domain("dup-vm"), "\"priority\":\"low\""));
        assertProblem(second, 409, "dup-vm", "already exists");
        assertEquals("high", ctl.get("/api/v1/vms/dup-vm").json().get("priority"));
    }

    @Test
    void createReadsNameMemoryAndVcpusFromTheXmlAndAppliesDefaults() {
        Reply r = ctl.post("/api/v1/vms", createBody(domain("made-vm"), "\"start\":false"));
        assertEquals(201, r.status(), r.body());
        assertEquals("/api/v1/vms/made-vm", r.location());
        Map<String, Object> vm = r.json();
        assertEquals("made-vm", vm.get("name"));
        assertEquals(96, vm.get("memoryMiB"));
        assertEquals(2, vm.get("vcpus"));
        assertEquals("medium", vm.get("priority"));
        assertEquals(true, vm.get("haEnabled"));
        assertEquals("stopped", vm.get("requestedState"));
        assertEquals(List.of(), vm.get("preferredHosts"));
        assertEquals(false, vm.get("strict"));
        assertEquals(List.of(), vm.get("startAfter"));
        assertEquals(120, vm.get("startAfterTimeoutSeconds"));
        assertEquals(1, vm.get("maxRestarts"));
        assertEquals(1, vm.get("maxRelocations"));
        assertEquals(false, vm.get("failback"));
        assertEquals("write-back", vm.get("cacheMode"));
        Map<String, Object> read = ctl.get("/api/v1/vms/made-vm").json();
        assertEquals("made-vm", read.get("name"));
        assertTrue(ctl.get("/api/v1/vms").jsonList().stream().anyMatch(v -> "made-vm".equals(((Map<?, ?>) v).get("name"))));
    }

    @Test
    void badPolicyIs400NamingTheFieldAndChangesNothing() {
        Map<String, Object> before = ctl.get("/api/v1/policy").json();
        Reply inconsistent = ctl.put("/api/v1/policy", "{\"heartbeatIntervalSeconds\":2,\"failureTimeoutSeconds\":3,"
                + "\"leaseTimeoutSeconds\":8,\"isolationResponse\":\"none\"}");
        assertProblem(inconsistent, 400, "failureTimeoutSeconds");
        Reply badEnum = ctl.put("/api/v1/policy", "{\"heartbeatIntervalSeconds\":1,\"failureTimeoutSeconds\":3,"
                + "\"leaseTimeoutSeconds\":4,\"isolationResponse\":\"reboot\"}");
        assertProblem(badEnum, 400, "isolationResponse");
        // Fields left out of a PUT take their defaults (failureTimeoutSeconds 3), which must fit the fields given.
        Reply defaulted = ctl.put("/api/v1/policy", "{\"heartbeatIntervalSeconds\":2}");
        assertProblem(defaulted, 400, "failureTimeoutSeconds");
        assertEquals(before, ctl.get("/api/v1/policy").json());
    }

    @Test
    void policyCanBeReadAndReplaced() {
        Map<String, Object> original = ctl.get("/api/v1/policy").json();
        assertEquals(1, original.get("heartbeatIntervalSeconds"));
        Reply r = ctl.put("/api/v1/policy", "{\"heartbeatIntervalSeconds\":1,\"failureTimeoutSeconds\":4,"
                + "\"leaseTimeoutSeconds\":5,\"isolationResponse\":\"shutdown\"}");
        assertEquals(200, r.status(), r.body());
        assertEquals("shutdown", ctl.get("/api/v1/policy").json().get("isolationResponse"));
        assertEquals(200, ctl.put("/api/v1/policy", io.vigil.protocol.Json.write(original)).status());
    }

    @Test
    void eventQueryParametersAreValidated() {
        assertProblem(ctl.get("/api/v1/events?limit=0"), 400, "limit");
        assertProblem(ctl.get("/api/v1/events?since=yesterday"), 400, "since");
        assertEquals(200, ctl.get("/api/v1/events?limit=5&type=vm-created").status());
    }

    @Test
    void healthAndOpenApiDocumentAreServed() throws Exception {
        Reply health = ctl.get("/api/v1/health");
        assertEquals(200, health.status());
        assertEquals("ok", health.json().get("status"));
        Reply doc = ctl.get("/api/v1/openapi.yaml");
        assertEquals(200, doc.status());
        assertTrue(doc.contentType().startsWith("application/yaml"), doc.contentType());
        var parsed = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readTree(doc.body());
        assertEquals("3.1.0", parsed.get("openapi").asText());
        for (String path : List.of("/api/v1/hosts", "/api/v1/hosts/{name}", "/api/v1/hosts/{name}/maintenance",
                "/api/v1/vms", "/api/v1/vms/{name}", "/api/v1/vms/{name}/start", "/api/v1/vms/{name}/stop",
                "/api/v1/vms/{name}/migrate", "/api/v1/vms/{name}/relocate", "/api/v1/policy", "/api/v1/rules",
                "/api/v1/rules/{name}", "/api/v1/events", "/api/v1/health")) {
            assertTrue(parsed.get("paths").has(path), path);
        }
        // The served document is also what vertx-openapi accepted as a contract (it validated this very request).
        assertNotNull(RestApi.validatorView(doc.body()).getJsonObject("paths"));
    }
}
