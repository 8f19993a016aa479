package io.vigil.controller.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.testing.TestController;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The dashboard's files: served at /ui/ over HTTPS from the classpath without a token, with a strict
 * Content-Security-Policy and Strict-Transport-Security, index.html never cached; / redirects there; and nothing in
 * them reaches for another origin or runs inline.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardAssetsTest {
    private HttpClient http;
    private TestController ctl;

    @BeforeAll
    void start() throws Exception {
        ctl = new TestController();
        http = HttpClient.newBuilder().sslContext(ctl.sslContext()).connectTimeout(Duration.ofSeconds(2)).build();
    }

    @AfterAll
    void stop() throws Exception {
        ctl.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ctl.baseUrl() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = DashboardAssetsTest.class.getClassLoader().getResourceAsStream(Dashboard.WEBROOT + "/" + name)) {
            assertNotNull(in, name + " on the classpath under " + Dashboard.WEBROOT);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void indexIsServedFromTheClasspathWithoutAToken() throws Exception {
        HttpResponse<String> r = get("/ui/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), r.headers().toString());
        assertEquals(resource("index.html"), r.body());
        assertEquals(Dashboard.CSP, r.headers().firstValue("Content-Security-Policy").orElse(null));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null));
        assertEquals(Dashboard.HSTS, r.headers().firstValue("Strict-Transport-Security").orElse(null), "served over HTTPS");
        assertEquals(r.body(), get("/ui/index.html").body());
    }

    @Test
    void scriptsAndStylesCarryTheCspAndAreRevalidated() throws Exception {
        for (String path : List.of("js/app.js", "js/api.js", "js/views/overview.js", "app.css")) {
            HttpResponse<String> r = get("/ui/" + path);
            assertEquals(200, r.statusCode(), path);
            String type = r.headers().firstValue("Content-Type").orElse("");
            assertTrue(path.endsWith(".css") ? type.startsWith("text/css") : type.contains("javascript"), path + ": " + type);
            assertEquals(Dashboard.CSP, r.headers().firstValue("Content-Security-Policy").orElse(null), path);
            assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElse(null), path);
            assertEquals(Dashboard.HSTS, r.headers().firstValue("Strict-Transport-Security").orElse(null), path);
            assertEquals(resource(path), r.body(), path);
        }
        assertTrue(Dashboard.CSP.contains("default-src 'self'"));
        assertFalse(Dashboard.CSP.contains("unsafe-inline"));
        // A path nothing serves tells an anonymous caller nothing (401); with a valid token it is simply not there.
        assertEquals(401, get("/ui/nothing-here.js").statusCode());
        assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(ctl.baseUrl() + "/ui/nothing-here.js"))
                .header("Authorization", "Bearer " + ctl.adminToken()).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void rootRedirectsToTheDashboard() throws Exception {
        for (String path : List.of("/", "/ui")) {
            HttpResponse<String> r = get(path);
            assertEquals(302, r.statusCode(), path);
            assertEquals("/ui/", r.headers().firstValue("Location").orElse(null), path);
            assertEquals(Dashboard.HSTS, r.headers().firstValue("Strict-Transport-Security").orElse(null), path);
        }
    }

    /** No inline script or handler, no other origin: every URL in the files is relative or the SVG namespace. */
    @Test
    void assetsReachForNothingOutsideTheController() throws IOException, URISyntaxException {
        URL root = getClass().getClassLoader().getResource(Dashboard.WEBROOT + "/index.html");
        assertNotNull(root);
        Path dir = Path.of(root.toURI()).getParent();
        Pattern url = Pattern.compile("(?i)(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}[^\\s'\"`)]*");
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String text = Files.readString(f);
                Matcher m = url.matcher(text);
                while (m.find()) {
                    String found = m.group();
                    assertTrue(found.equals("http://www.w3.org/2000/svg"), f + " refers to " + found);
                }
                assertFalse(text.contains("@import"), f + " imports a stylesheet");
                assertFalse(text.contains("eval("), f + " uses eval");
                assertFalse(text.contains(".innerHTML"), f + " writes HTML from strings");
            }
        }
        String index = resource("index.html");
        Matcher scripts = Pattern.compile("<script([^>]*)>").matcher(index);
        int count = 0;
        while (scripts.find()) {
            count++;
            assertTrue(scripts.group(1).contains("src="), "inline script in index.html: " + scripts.group());
        }
        assertEquals(1, count, "one module script");
        assertFalse(Pattern.compile("(?i)\\son[a-z]+=").matcher(index).find(), "inline event handler in index.html");
        assertFalse(index.contains("style="), "inline style in index.html");
    }
}
