package io.vigil.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.RawHttp;
import io.vigil.controller.testing.TestController;
import io.vigil.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Seeded fuzzing of every operation of the OpenAPI document the controller serves: thousands of requests with odd path
 * parameters ({@code ..%2F}, {@code %00}, 3,000 characters, bytes that are not UTF-8), odd query values, bodies that
 * are malformed, of the wrong types, deeply nested or larger than the limit, wrong content types, and request lines
 * and headers over the limits, mostly with an admin token so that they reach the handlers. No answer may be a 5xx;
 * every 4xx is a problem document whose status is the answer's; the controller answers afterwards; nothing is written
 * to an upload folder.
 *
 * <p>The seed is printed; replay a failure with {@code -Dvigil.fuzz.seed=<seed>} (and {@code -Dvigil.fuzz.requests=<n>}
 * for a longer run).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiFuzzTest {
    private static final long SEED = Long.getLong("vigil.fuzz.seed", System.nanoTime());
    private static final int REQUESTS = Integer.getInteger("vigil.fuzz.requests", 2000);

    private TestController ctl;
    private FakeAgent agent;
    private String admin;
    private String viewer;
    private JsonNode doc;
    private final List<Op> operations = new ArrayList<>();

    record Op(String method, String path, String id, JsonNode node) {}

    private static final String[] NAMES = {"fz-a", "fz-b", "fz-h1", "fz-rule", "fz-user", "nothing-here"};
    private static final String[] ODD = {"..%2F..%2Fetc", "..%2F..%2Fetc%2Fpasswd", "%00", "a%00b", "%FF%FE", "%C3%28",
            "%E2%82", "a%2Fb", "%2F", ".", "..", "%2e%2e", "%2E", "%25", "%", "%zz", "a%", "%u0041", "~", "-", "_a",
            "%20", "a%20b", "%0d%0aX-Injected:%201", "%3Cscript%3E", "%27%22", "%F0%9F%92%A9", "0", "-1",
            "99999999999999999999999", "null", "true", "[]", "%7B%7D", "CON", "a.b.c", "A".repeat(3000),
            "%41".repeat(1000), "vgl_x"};
    private static final String[] CONTENT_TYPES = {"application/json", "application/json", "application/json",
            "application/merge-patch+json", "text/plain", "application/xml", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=fuzz", "application/json; charset=utf-16", "application/problem+json",
            "application/json; charset=\"", ";", "*/*", "application/", null};

    @BeforeAll
    void start() throws Exception {
        System.out.printf("api fuzz: seed %d, %d requests (replay: -Dvigil.fuzz.seed=%d)%n", SEED, REQUESTS, SEED);
        ctl = new TestController();
        admin = ctl.adminToken();
        viewer = ctl.tokenFor("fz-viewer", Role.VIEWER);
        agent = ctl.connectedHost("fz-h1", 8192);
        for (String vm : List.of("fz-a", "fz-b"))
            assertEquals(201, ctl.post("/api/v1/vms", RestApiTest.createBody(RestApiTest.domain(vm), "\"start\":false")).status());
        assertEquals(201, ctl.post("/api/v1/rules", "{\"name\":\"fz-rule\",\"type\":\"affinity\",\"vms\":[\"fz-a\",\"fz-b\"]}").status());
        assertEquals(201, ctl.post("/api/v1/users", "{\"name\":\"fz-user\",\"role\":\"viewer\",\"password\":\"a long enough password\"}").status());
        doc = new ObjectMapper(new YAMLFactory()).readTree(ctl.as(null).get("/api/v1/openapi.yaml").body());
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> methods = path.getValue().fields(); methods.hasNext(); ) {
                Map.Entry<String, JsonNode> m = methods.next();
                if (m.getValue().has("operationId"))
                    operations.add(new Op(m.getKey().toUpperCase(), path.getKey(), m.getValue().get("operationId").asText(), m.getValue()));
            }
        }
        assertTrue(operations.size() >= 40, "operations: " + operations.size());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) agent.close();
        if (ctl != null) ctl.close();
    }

    @Test
    void noInputGetsA5xxAndEvery4xxIsAProblemDocument() throws Exception {
        Path uploads = Path.of(System.getProperty("user.dir"), "file-uploads");
        boolean uploadsBefore = Files.exists(uploads);
        Random random = new Random(SEED);
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            Op op = operations.get(random.nextInt(operations.size()));
            Request r = request(op, random);
            RawHttp.Answer a;
            try {
                a = RawHttp.send(ctl, r.method, r.target, r.body, r.headers.toArray(String[]::new));
            } catch (java.io.IOException e) {
                wrong.add("#" + i + " " + r + ": no answer (" + e + ")");
                continue;
            }
            statuses.merge(a.status(), 1, Integer::sum);
            String problem = r.method.equals("HEAD") ? checkHead(a) : check(a);
            if (problem != null) wrong.add("#" + i + " " + r + " -> " + a.status() + ": " + problem);
            if (wrong.size() > 20) break;
        }
        System.out.printf("api fuzz: seed %d, %d requests, statuses %s%n", SEED, statuses.values().stream()
                .mapToInt(Integer::intValue).sum(), statuses);
        assertEquals(List.of(), wrong, "seed " + SEED + ": answers that break the API's promise");
        assertEquals(200, ctl.as(null).get("/api/v1/health").status(), "the controller answers after the fuzzing");
        assertEquals(200, ctl.as(admin).get("/api/v1/vms").status());
        if (!uploadsBefore) assertTrue(Files.notExists(uploads), "nothing is written to " + uploads);
    }

    /** What is wrong with an answer, or null. */
    private static String check(RawHttp.Answer a) {
        if (a.status() >= 500) return "a server error: " + a.text();
        if (a.status() < 400) return null;
        if (!a.contentType().startsWith("application/problem+json")) return "a " + a.status() + " that is not a problem document";
        try {
            JsonNode p = Json.mapper().readTree(a.body());
            if (p.path("status").asInt() != a.status()) return "the problem's status is " + p.path("status");
            if (p.path("detail").asText("").isBlank()) return "a problem with no detail";
        } catch (Exception e) {
            return "a problem document that is not JSON: " + a.text();
        }
        return null;
    }

    /** An answer to HEAD has no body (RFC 9110), so only its status and type can be judged. */
    private static String checkHead(RawHttp.Answer a) {
        if (a.status() >= 500) return "a server error";
        if (a.status() >= 400 && !a.contentType().startsWith("application/problem+json")) return "a " + a.status() + " that is not a problem";
        return null;
    }

    private record Request(String method, byte[] target, byte[] body, List<String> headers) {
        @Override
        public String toString() {
            String t = new String(target, StandardCharsets.ISO_8859_1);
            String b = body == null ? "" : " body " + (body.length > 200 ? body.length + " bytes" : new String(body, StandardCharsets.UTF_8));
            return method + " " + (t.length() > 200 ? t.substring(0, 200) + "..." : t) + " " + headers + b;
        }
    }

    private Request request(Op op, Random random) {
        List<String> headers = new ArrayList<>();
        // Mostly an admin, so that the request reaches the handler; logout would end the admin's token, so it gets
        // a token of its own.
        String token = op.id().equals("logout") ? ctl.tokenFor("fz-out-" + random.nextInt(1_000_000), Role.VIEWER)
                : random.nextInt(10) == 0 ? viewer : admin;
        headers.add("Authorization: Bearer " + token);
        String method = random.nextInt(25) == 0 ? pick(random, "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO")
                : op.method();
        StringBuilder target = new StringBuilder();
        for (String segment : op.path().substring(1).split("/")) {
            target.append('/');
            if (segment.startsWith("{")) target.append(random.nextInt(3) == 0 ? pick(random, NAMES) : pick(random, ODD));
            else target.append(segment);
        }
        target.append(query(op, random));
        byte[] targetBytes = target.toString().getBytes(StandardCharsets.ISO_8859_1);
        int shape = random.nextInt(60);
        if (shape == 0) targetBytes = (target + "?pad=" + "x".repeat(9000)).getBytes(StandardCharsets.ISO_8859_1); // 414
        if (shape == 1) headers.add("X-Padding: " + "y".repeat(20_000)); // 431
        if (shape == 2) { // raw bytes that are not UTF-8 in the path
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(targetBytes);
            out.writeBytes(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF});
            targetBytes = out.toByteArray();
        }
        byte[] body = null;
        if (!method.equals("GET") && !method.equals("HEAD") || random.nextInt(20) == 0) body = body(op, random);
        if (body != null) {
            String type = pick(random, CONTENT_TYPES);
            if (type != null) headers.add("Content-Type: " + type);
            if (type != null && type.startsWith("multipart/form-data")) body = multipart(random);
        }
        return new Request(method, targetBytes, body, headers);
    }

    private String query(Op op, Random random) {
        List<String> names = new ArrayList<>();
        for (JsonNode p : op.node().path("parameters")) {
            if (p.path("in").asText().equals("query")) names.add(p.path("name").asText());
        }
        if (random.nextInt(6) == 0) names.add(pick(random, "since", "limit", "override", "kind", "host", "zzz"));
        StringBuilder q = new StringBuilder();
        for (String name : names) {
            if (random.nextBoolean()) continue;
            q.append(q.length() == 0 ? '?' : '&').append(name).append('=').append(pick(random, "1", "0", "-1", "100",
                    "1000", "1001", "abc", "", "9223372036854775808", "1e3", "true", "TRUE", "%00", "%FF", "1%2C2",
                    "fz-a", "..%2F", "2000000000000000000", String.valueOf(random.nextLong())));
            if (random.nextInt(5) == 0) q.append('&').append(name).append("=2"); // the same parameter twice
        }
        return q.toString();
    }

    private byte[] body(Op op, Random random) {
        int kind = random.nextInt(20);
        String text = switch (kind) {
            case 0 -> "";
            case 1 -> "{";
            case 2 -> "[".repeat(5000) + "]".repeat(5000);
            case 3 -> "{\"a\":".repeat(3000) + "1" + "}".repeat(3000);
            case 4 -> "nul";
            case 5 -> "\"just a string\"";
            case 6 -> "[1,2,3]";
            case 7 -> "{\"name\":\"" + "n".repeat(2 * 1024 * 1024 + 10) + "\"}"; // over the limit: 413
            case 8 -> "{\"name\":\"\\ud800\"}";
            case 9 -> "{\"a\":1,\"a\":2}";
            case 10 -> null;
            default -> Json.write(fromSchema(bodySchema(op), random, 0));
        };
        if (text == null) return new byte[] {(byte) 0xFF, (byte) 0xFE, '{', (byte) 0x80, '}'};
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] multipart(Random random) {
        String part = "--fuzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x" + random.nextInt(1000)
                + ".txt\"\r\nContent-Type: application/octet-stream\r\n\r\n" + "z".repeat(random.nextInt(5000)) + "\r\n--fuzz--\r\n";
        return part.getBytes(StandardCharsets.UTF_8);
    }

    private JsonNode bodySchema(Op op) {
        JsonNode content = op.node().path("requestBody").path("content");
        JsonNode schema = content.path("application/json").path("schema");
        if (schema.isMissingNode()) schema = content.path("application/merge-patch+json").path("schema");
        return resolve(schema);
    }

    private JsonNode resolve(JsonNode schema) {
        for (int i = 0; i < 5 && schema.has("$ref"); i++) {
            String ref = schema.get("$ref").asText().replaceFirst("^#/", "");
            JsonNode at = doc;
            for (String part : ref.split("/")) at = at.path(part);
            schema = at;
        }
        return schema;
    }

    /** A value shaped like {@code schema} most of the time, and like something else the rest. */
    private Object fromSchema(JsonNode schema, Random random, int depth) {
        schema = resolve(schema);
        if (depth > 6 || random.nextInt(8) == 0) return anyValue(random, depth);
        if (schema.has("enum") && random.nextInt(3) > 0) {
            JsonNode values = schema.get("enum");
            return Json.mapper().convertValue(values.get(random.nextInt(values.size())), Object.class);
        }
        for (String combinator : List.of("oneOf", "anyOf", "allOf")) {
            if (schema.has(combinator)) return fromSchema(schema.get(combinator).get(random.nextInt(schema.get(combinator).size())), random, depth + 1);
        }
        String type = schema.path("type").asText(schema.has("properties") ? "object" : "");
        switch (type) {
            case "object" -> {
                Map<String, Object> out = new java.util.LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> p = it.next();
                    if (random.nextInt(4) > 0) out.put(p.getKey(), fromSchema(p.getValue(), random, depth + 1));
                }
                if (random.nextInt(10) == 0) out.put(pick(random, "extra", "__proto__", "constructor", ""), anyValue(random, depth + 1));
                return out;
            }
            case "array" -> {
                List<Object> out = new ArrayList<>();
                int n = random.nextInt(10) == 0 ? 1000 : random.nextInt(4);
                for (int i = 0; i < n; i++) out.add(fromSchema(schema.path("items"), random, depth + 1));
                return out;
            }
            case "integer" -> {
                return pick(random, 0L, 1L, -1L, 42L, 100L, 101L, Long.MAX_VALUE, Long.MIN_VALUE, (long) Integer.MAX_VALUE + 1, random.nextLong());
            }
            case "number" -> {
                return pick(random, 0.5, -0.0, 1e308, Double.MIN_VALUE, 42.0);
            }
            case "boolean" -> {
                return random.nextBoolean();
            }
            case "string" -> {
                return string(random);
            }
            default -> {
                return anyValue(random, depth);
            }
        }
    }

    private Object anyValue(Random random, int depth) {
        return switch (random.nextInt(depth > 4 ? 5 : 7)) {
            case 0 -> null;
            case 1 -> random.nextBoolean();
            case 2 -> random.nextLong();
            case 3 -> string(random);
            case 4 -> random.nextDouble();
            case 5 -> java.util.Arrays.asList(anyValue(random, depth + 1), anyValue(random, depth + 1));
            default -> java.util.Collections.singletonMap("k" + random.nextInt(5), anyValue(random, depth + 1));
        };
    }

    private static String string(Random random) {
        return pick(random, "", " ", "fz-a", "fz-h1", "fz-rule", "fz-user", "admin", "viewer", "operator", "high", "off",
                "../../etc/passwd", "a/b", "\u0000", "<domain type='kvm'><name>fz-x</name></domain>",
                "<domain><name>../x</name><devices><disk type='file'><source file='/etc/shadow'/></disk></devices></domain>",
                "<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain>&e;</domain>", "x".repeat(5000),
                "\uD83D\uDCA9", "2026-12-07T00:00:00Z", "-1", "1e999", "vgl_aaaaaaaaaaaa_" + "A".repeat(43));
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... values) {
        return values[random.nextInt(values.length)];
    }
}
