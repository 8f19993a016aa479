package io.vigil.controller.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.controller.auth.Role;
import io.vigil.controller.testing.Await;
import io.vigil.controller.testing.FakeAgent;
import io.vigil.controller.testing.Jsons;
import io.vigil.controller.testing.TestController;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless Chromium driven by chromedriver, against a real controller with
 * two fake hosts, over HTTPS (Chromium pins the key of the controller's certificate). A viewer sees everything read-only; a user signs in with a password (a wrong one first, and a
 * throttled name), is shown with their role and signs out, which revokes the session; an admin signs in with a pasted
 * token, sees the hosts and VMs,
 * sorts and filters the VMs, gets the API's validation message from the policy editor, fixes the value and sees it
 * saved; then a host fails and its failover appears in the live timeline and in the failover history, pushed by the
 * controller, without the page being reloaded.
 *
 * <p>Chromium and chromedriver come from Debian ({@code apt-get install chromium chromium-driver}; scripts/test installs
 * them as root). Both paths are given explicitly, so Selenium Manager never looks anything up or downloads anything.
 * Screenshots go to {@code target/ui-screenshots}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration FAILOVER_WAIT = Duration.ofSeconds(40);

    private TestController ctl;
    private FakeAgent h1;
    private FakeAgent h2;
    private ChromeDriverService service;
    private WebDriver driver;
    private Path profile;
    private final Path screenshots = Path.of("target", "ui-screenshots");

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "headless Chromium is not installed: apt-get install chromium chromium-driver (scripts/test installs "
                        + "them when run as root)");
        ctl = new TestController();
        h1 = ctl.connectedHost("ui-h1", 4096);
        h2 = ctl.connectedHost("ui-h2", 4096);
        create("ui-web", "\"priority\":\"high\",\"preferredHosts\":[{\"host\":\"ui-h1\",\"priority\":1}]");
        create("ui-db", "\"priority\":\"highest\",\"cacheMode\":\"write-through\","
                + "\"preferredHosts\":[{\"host\":\"ui-h1\",\"priority\":1}]");
        create("ui-batch", "\"priority\":\"low\",\"preferredHosts\":[{\"host\":\"ui-h2\",\"priority\":1}]");
        for (String vm : List.of("ui-web", "ui-db", "ui-batch"))
            Await.until(vm + " running", WAIT, () -> "running".equals(ctl.get("/api/v1/vms/" + vm).json().get("state")));

        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        profile = Files.createTempDirectory("vigil-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // The dashboard is served over HTTPS with a certificate from the test cluster's CA, which Chromium does not know:
        // it trusts exactly that certificate's key (an SPKI pin, honoured with --user-data-dir), nothing else.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,1000", "--user-data-dir=" + profile,
                "--ignore-certificate-errors-spki-list=" + spkiPin(ctl.controller.restCertificate()));
        driver = new ChromeDriver(service, options);
        Files.createDirectories(screenshots);
    }

    @AfterAll
    void stop() throws Exception {
        if (driver != null) driver.quit();
        if (service != null) service.stop();
        if (h1 != null && !h1.isClosed()) h1.close();
        if (h2 != null) h2.close();
        if (ctl != null) ctl.close();
        if (profile != null) deleteTree(profile);
    }

    private void create(String vm, String settings) {
        String xml = "<domain type='kvm'><name>" + vm + "</name><memory unit='MiB'>96</memory><vcpu>1</vcpu>"
                + "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
        var r = ctl.post("/api/v1/vms", "{\"domainXml\":" + Jsons.string(xml) + "," + settings + "}");
        assertEquals(201, r.status(), r.body());
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private String url(String hash) {
        return ctl.baseUrl() + "/ui/" + hash;
    }

    /** Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo: Chromium's form of a key pin. */
    static String spkiPin(java.security.cert.X509Certificate certificate) throws java.security.NoSuchAlgorithmException {
        return java.util.Base64.getEncoder().encodeToString(
                java.security.MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded()));
    }

    /** Waits for {@code condition}; a timeout names it and shows what the page said. */
    private <T> T await(String what, Duration timeout, ExpectedCondition<T> condition) {
        try {
            return new WebDriverWait(driver, timeout).until(condition);
        } catch (TimeoutException e) {
            String page;
            try {
                page = driver.findElement(By.tagName("body")).getText();
            } catch (RuntimeException ignored) {
                page = "(unreadable)";
            }
            throw new AssertionError("timed out waiting for " + what + "; the page shows:\n" + page, e);
        }
    }

    private WebElement visible(String css) {
        return await(css, WAIT, ExpectedConditions.visibilityOfElementLocated(By.cssSelector(css)));
    }

    private boolean present(String css) {
        return !driver.findElements(By.cssSelector(css)).isEmpty();
    }

    private Object js(String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    private void signIn(String token) {
        driver.get(url(""));
        js("sessionStorage.clear()");
        driver.navigate().refresh();
        visible("#login-token").sendKeys(token);
        driver.findElement(By.id("token-submit")).click();
        visible("#nav");
    }

    private void go(String section) {
        driver.findElement(By.cssSelector("#nav a[data-section=" + section + "]")).click();
    }

    private void screenshot(String name) throws IOException {
        Path shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, screenshots.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private void replace(WebElement input, String text) {
        input.clear();
        input.sendKeys(text);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    // ---- scenarios ----------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void viewerSeesEverythingButChangesNothing() {
        signIn(ctl.tokenFor("visitor", Role.VIEWER));
        await("viewer role shown", WAIT, ExpectedConditions.textToBe(By.cssSelector("#who .role"), "viewer"));
        visible("article.host[data-host=ui-h1]");
        assertFalse(present("button[data-action=maintenance]"), "no maintenance button for a viewer");

        go("vms");
        visible("#vm-table tr[data-vm=ui-web] a").click();
        visible("#vm-settings");
        assertFalse(present("#vm-settings-submit"), "no save button");
        assertFalse(driver.findElement(By.id("vm-settings-maxRestarts")).isEnabled()
                && driver.findElement(By.id("vm-settings-maxRestarts")).getAttribute("readonly") == null, "read-only input");
        assertFalse(driver.findElement(By.id("vm-settings-priority")).isEnabled(), "read-only select");
        assertFalse(present("button[data-action=start]"), "no start button for a viewer");
        assertFalse(present("button[data-action=delete]"), "no delete button for a viewer");

        go("policy");
        visible("#policy-form .readonly-note");
        assertFalse(present("#policy-form-submit"), "no save button on the policy");
        assertTrue(driver.findElement(By.id("policy-form-reservePercent")).getAttribute("readonly") != null);

        go("rules");
        visible("#rules-table");
        assertFalse(present("#rule-form"), "no rule editor for a viewer");

        driver.findElement(By.id("logout")).click();
        visible("#login-token");
    }

    @Test
    @Order(2)
    void operatorGetsActionsButNoEditors() {
        signIn(ctl.tokenFor("ops", Role.OPERATOR));
        await("operator role shown", WAIT, ExpectedConditions.textToBe(By.cssSelector("#who .role"), "operator"));
        visible("button[data-action=maintenance][data-host=ui-h1]");
        driver.get(url("#/vms/ui-batch"));
        visible("button[data-action=start]");
        visible("button[data-action=migrate]");
        assertFalse(present("#vm-settings-submit"), "the settings are the admin's");
        assertFalse(present("button[data-action=delete]"), "deleting is the admin's");
        driver.findElement(By.id("logout")).click();
        visible("#login-token");
    }

    @Test
    @Order(3)
    void aUserSignsInWithAPasswordAndOut() throws Exception {
        var created = ctl.post("/api/v1/users", "{\"name\":\"ui-ana\",\"role\":\"operator\",\"password\":"
                + "\"correct horse battery\"}");
        assertEquals(201, created.status(), created.body());

        driver.get(url(""));
        js("sessionStorage.clear()");
        driver.navigate().refresh();
        assertFalse(driver.findElement(By.tagName("body")).getText().contains("paste an API token instead"));
        assertFalse(driver.findElement(By.id("nav")).isDisplayed(), "no navigation before sign-in");
        assertFalse(driver.findElement(By.id("live")).isDisplayed(), "no live indicator before sign-in");

        // A wrong password: the API's 401 (the same for an unknown user), and no token kept.
        visible("#login-user").sendKeys("ui-ana");
        driver.findElement(By.id("login-password")).sendKeys("not the password");
        driver.findElement(By.id("login-submit")).click();
        visible("#login-error");
        await("the API's message", WAIT, ExpectedConditions.textToBe(By.id("login-error"),
                "Login Failed: unknown user or wrong password"));
        assertEquals("", driver.findElement(By.id("login-password")).getAttribute("value"), "the password field is cleared");
        assertEquals(null, js("return sessionStorage.getItem('vigil.token')"));
        screenshot("login-failed");

        // The right one: a session with the user's name and role.
        driver.findElement(By.id("login-password")).sendKeys("correct horse battery");
        driver.findElement(By.id("login-submit")).click();
        await("user name shown", WAIT, ExpectedConditions.textToBe(By.cssSelector("#who .who-name"), "ui-ana"));
        await("operator role shown", WAIT, ExpectedConditions.textToBe(By.cssSelector("#who .role"), "operator"));
        assertFalse(present("#login-form"), "the login form is gone");
        visible("button[data-action=maintenance][data-host=ui-h1]");
        await("live", WAIT, ExpectedConditions.attributeToBe(By.id("live"), "data-state", "live"));
        String session = (String) js("return sessionStorage.getItem('vigil.token')");
        Map<String, Object> who = ctl.as(session).get("/api/v1/whoami").json();
        assertEquals("ui-ana", who.get("name"));
        assertEquals("session", who.get("kind"));
        assertEquals("operator", who.get("role"));
        screenshot("login-session");

        // A reload keeps the session (the tab's sessionStorage).
        driver.navigate().refresh();
        await("still signed in after a reload", WAIT, ExpectedConditions.textToBe(By.cssSelector("#who .who-name"), "ui-ana"));

        // Logout revokes the session on the controller, not only in the tab.
        driver.findElement(By.id("logout")).click();
        visible("#login-user");
        await("signed out", WAIT, ExpectedConditions.textToBe(By.id("login-message"), "Signed out."));
        assertEquals(null, js("return sessionStorage.getItem('vigil.token')"));
        assertFalse(driver.findElement(By.id("nav")).isDisplayed(), "no navigation after sign-out");
        assertFalse(driver.findElement(By.id("live")).isDisplayed(), "no live indicator after sign-out");
        assertFalse(driver.findElement(By.id("who")).isDisplayed(), "no user after sign-out");
        assertEquals(401, ctl.as(session).get("/api/v1/whoami").status(), "the session token is revoked");
        assertTrue(ctl.get("/api/v1/tokens?kind=session").jsonList().stream()
                .noneMatch(t -> ((Map<?, ?>) t).get("name").equals("ui-ana")), "no session of ui-ana left");

        // Too many failed logins for one name: the API's 429 with its wait, even before the right password is tried.
        for (int i = 0; i < 5; i++)
            assertEquals(401, ctl.as(null).post("/api/v1/login", "{\"user\":\"ui-guesser\",\"password\":\"guess " + i
                    + "\"}").status());
        replace(driver.findElement(By.id("login-user")), "ui-guesser");
        driver.findElement(By.id("login-password")).sendKeys("guess 5");
        driver.findElement(By.id("login-submit")).click();
        await("throttled", WAIT, ExpectedConditions.textToBePresentInElementLocated(By.id("login-error"),
                "Too Many Login Attempts: too many failed logins for this user or from this address; try again in "));
        screenshot("login-throttled");
        // Nothing the signed-out session had under way (a view's reload, the event stream) came back as a 401 that
        // re-rendered the login ("your session ended") or showed the navigation again.
        assertEquals("Signed out.", driver.findElement(By.id("login-message")).getText());
        assertFalse(driver.findElement(By.id("nav")).isDisplayed(), "no navigation after sign-out");
    }

    @Test
    @Order(4)
    void adminEditsThePolicyAndWatchesAFailoverLive() throws Exception {
        // A wrong token is refused on the login form.
        driver.get(url(""));
        js("sessionStorage.clear()");
        driver.navigate().refresh();
        visible("#login-token").sendKeys("vgl_wrong_token");
        driver.findElement(By.id("token-submit")).click();
        await("token refused", WAIT, ExpectedConditions.textToBePresentInElementLocated(By.id("token-error"),
                "does not accept this token"));

        replace(driver.findElement(By.id("login-token")), ctl.adminToken());
        driver.findElement(By.id("token-submit")).click();
        await("admin role shown", WAIT, ExpectedConditions.textToBe(By.cssSelector("#who .role"), "admin"));

        // Overview: both hosts with memory bars, the VMs counted, the tolerance against the promise.
        visible("article.host[data-host=ui-h1] svg.membar");
        visible("article.host[data-host=ui-h2] svg.membar");
        await("protected VMs counted", WAIT, ExpectedConditions.textToBe(By.id("vms-protected"), "3"));
        assertTrue(driver.findElement(By.id("failures-tolerated")).getText().startsWith("1"));
        assertTrue(driver.findElement(By.id("failures-promised")).getText().contains("promises 1 host failure"));
        await("live", WAIT, ExpectedConditions.attributeToBe(By.id("live"), "data-state", "live"));
        screenshot("overview");
        // Survives only if the page is never reloaded from here on.
        js("window.__vigilMarker = 'same page'");

        // VMs: sortable and filterable.
        go("vms");
        visible("#vm-table tr[data-vm=ui-batch]");
        driver.findElement(By.cssSelector("button[data-sort=priority]")).click();
        await("sorted by priority", WAIT, d -> rowNames().equals(List.of("ui-db", "ui-web", "ui-batch")));
        driver.findElement(By.cssSelector("button[data-sort=priority]")).click();
        await("sorted by priority, descending", WAIT, d -> rowNames().equals(List.of("ui-batch", "ui-web", "ui-db")));
        visible("#vm-filter").sendKeys("write-through");
        await("filtered by text", WAIT, d -> rowNames().equals(List.of("ui-db")));
        driver.findElement(By.id("vm-filter")).clear();
        driver.findElement(By.id("vm-filter")).sendKeys(" ");
        await("filter cleared", WAIT, d -> rowNames().size() == 3);

        // A VM's page: its fields, its editor and its events.
        driver.findElement(By.cssSelector("#vm-table tr[data-vm=ui-web] a")).click();
        await("VM page", WAIT, ExpectedConditions.textToBe(By.id("vm-name"), "ui-web"));
        visible("#vm-settings-submit");
        visible("#vm-events li[data-type=vm-started]");
        replace(driver.findElement(By.id("vm-settings-cacheWeight")), "5000");
        driver.findElement(By.id("vm-settings-submit")).click();
        await("VM validation message", WAIT, ExpectedConditions.textToBePresentInElementLocated(
                By.id("vm-settings-error"), "cacheWeight"));
        replace(driver.findElement(By.id("vm-settings-cacheWeight")), "4");
        driver.findElement(By.id("vm-settings-submit")).click();
        await("VM saved", WAIT, ExpectedConditions.textToBePresentInElementLocated(By.id("vm-settings-saved"), "Saved"));
        screenshot("vm");
        assertEquals(4, ctl.get("/api/v1/vms/ui-web").json().get("cacheWeight"));

        // The policy editor shows the API's validation message, then saves the corrected value.
        go("policy");
        WebElement reserve = visible("#policy-form-reservePercent");
        replace(reserve, "150");
        driver.findElement(By.id("policy-form-submit")).click();
        WebElement error = await("policy validation message", WAIT, ExpectedConditions.visibilityOfElementLocated(
                By.id("policy-form-error")));
        String expected = (String) ctl.patch("/api/v1/policy", "{\"reservePercent\":150}").json().get("detail");
        assertEquals(expected, error.getText(), "the API's own detail");
        assertTrue(error.getText().contains("reservePercent"), error.getText());
        assertEquals(25, ctl.get("/api/v1/policy").json().get("reservePercent"), "nothing changed");
        replace(driver.findElement(By.id("policy-form-reservePercent")), "30");
        driver.findElement(By.id("policy-form-submit")).click();
        await("policy saved", WAIT, ExpectedConditions.textToBePresentInElementLocated(By.id("policy-form-saved"), "Saved"));
        assertFalse(driver.findElement(By.id("policy-form-error")).isDisplayed(), "the error is gone");
        assertEquals(30, ctl.get("/api/v1/policy").json().get("reservePercent"));

        // The live timeline: the policy change arrives by itself.
        go("events");
        visible("#timeline li[data-type=policy-changed]");

        // A host fails: its failover is pushed into the timeline and the failover history.
        h1.close();
        await("host-failed in the timeline", FAILOVER_WAIT, ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#timeline li[data-type=host-failed][data-host=ui-h1]")));
        go("failovers");
        visible("article.failover[data-host=ui-h1]");
        await("the failover completed in the history", FAILOVER_WAIT, ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("article.failover[data-host=ui-h1][data-status=completed]")));
        WebElement failover = driver.findElement(By.cssSelector("article.failover[data-host=ui-h1]"));
        for (String step : List.of("detected", "declaredFailed", "leasesExpired", "started", "completed"))
            assertTrue(!failover.findElements(By.cssSelector("svg.stepchart g[data-step=" + step + "]")).isEmpty(),
                    step + " drawn");
        assertTrue(failover.getText().contains("2 VMs restarted"), failover.getText());
        screenshot("failovers");
        go("events");
        visible("#timeline li[data-type=failover-completed][data-host=ui-h1]");
        visible("#timeline li[data-type=vm-started][data-vm=ui-db]");
        screenshot("timeline");

        assertEquals("same page", js("return window.__vigilMarker"), "the page was never reloaded");
        Map<String, Object> overview = ctl.get("/api/v1/cluster").json();
        assertEquals(0, overview.get("failuresTolerated"));
        go("overview");
        await("tolerance now 0", WAIT, ExpectedConditions.textToBePresentInElementLocated(By.id("failures-tolerated"), "0"));
        visible("article.host[data-host=ui-h1][data-state=fenced], article.host[data-host=ui-h1][data-state=failed]");
        assertEquals("same page", js("return window.__vigilMarker"), "the page was never reloaded");
    }

    private List<String> rowNames() {
        return driver.findElements(By.cssSelector("#vm-table tbody tr[data-vm]")).stream()
                .map(r -> r.getAttribute("data-vm")).toList();
    }
}
