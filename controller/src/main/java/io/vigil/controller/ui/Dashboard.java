package io.vigil.controller.ui;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The web dashboard: static files under {@code /ui/}, read from the classpath ({@value #WEBROOT}, copied there from
 * {@code web-ui/src/main/webapp} by the controller's build, so they are inside the controller's jar). No token is
 * needed for the files; the data comes from the API with the user's bearer token. Every file is sent with a strict
 * Content-Security-Policy (only this origin, no inline scripts or styles, no frames) and is revalidated on each load
 * ({@code index.html} is never stored), so an upgraded controller serves its own dashboard at once. Served over HTTPS
 * (the default), every dashboard response carries {@code Strict-Transport-Security}, so a browser that has seen it once
 * never goes to this host over plain HTTP again (RFC 6797: never sent over plain HTTP, where it would mean nothing).
 */
public final class Dashboard {
    public static final String WEBROOT = "webroot/ui";
    public static final String PATH = "/ui/";
    /** Only this origin: scripts, styles, API calls; no inline code, no plugins, no framing, no other origins. */
    public static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";
    /** One year, the usual value; no includeSubDomains: the controller speaks for its own host name only. */
    public static final String HSTS = "max-age=31536000";

    private Dashboard() {}

    /** Adds the dashboard's routes to {@code router}: {@code /} and {@code /ui} redirect to {@code /ui/}. */
    public static void mount(Router router) {
        // Exact matches: a plain "/ui" route would match "/ui/" too (Vert.x ignores a trailing slash).
        router.getWithRegex("^/(ui)?$").handler(Dashboard::redirect);
        StaticHandler files = StaticHandler.create(WEBROOT)
                .setIndexPage("index.html")
                .setCachingEnabled(false)
                .setDirectoryListing(false)
                .setIncludeHidden(false);
        router.route(PATH + "*").handler(Dashboard::headers).handler(files);
    }

    private static void headers(RoutingContext ctx) {
        String path = ctx.request().path();
        boolean index = path.endsWith("/") || path.endsWith("/index.html");
        ctx.response()
                .putHeader("Content-Security-Policy", CSP)
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Referrer-Policy", "no-referrer")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader(HttpHeaders.CACHE_CONTROL, index ? "no-store" : "no-cache");
        strictTransportSecurity(ctx);
        ctx.next();
    }

    private static void redirect(RoutingContext ctx) {
        strictTransportSecurity(ctx);
        ctx.response().setStatusCode(302).putHeader(HttpHeaders.LOCATION, PATH).end();
    }

    private static void strictTransportSecurity(RoutingContext ctx) {
        if (ctx.request().isSSL()) ctx.response().putHeader("Strict-Transport-Security", HSTS);
    }
}
