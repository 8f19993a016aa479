package io.vigil.controller.agents;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vigil.controller.api.Problem;
import io.vigil.controller.pki.Enrollment;
import io.vigil.controller.pki.EnrollmentRefused;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.tls.EnrollRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the agent port: {@code POST /agent/v1/enroll} {@code {token, csr}} answers 200
 * {@code {certificate, ca}} (PEM), or an RFC 9457 problem: 400 for a malformed body or CSR, 401 for a token that is
 * malformed, unknown, used or expired, 403 for a token bound to another host. It needs no client certificate (the
 * agent has none yet). Anything else on the agent port is a 404.
 */
public final class EnrollmentEndpoint {
    private static final Logger log = LoggerFactory.getLogger(EnrollmentEndpoint.class);
    /** A CSR is about 500 bytes; this leaves room and nothing more. */
    private static final long BODY_LIMIT = 64 * 1024;

    private EnrollmentEndpoint() {}

    public static Router router(Vertx vertx, Enrollment enrollment) {
        Router router = Router.router(vertx);
        router.route(HttpMethod.POST, ProtocolVersion.ENROLL_PATH).handler(BodyHandler.create().setBodyLimit(BODY_LIMIT))
                .handler(ctx -> enroll(vertx, enrollment, ctx));
        router.route(ProtocolVersion.ENROLL_PATH).handler(ctx -> Problem.of(405, "Method Not Allowed",
                "enroll with POST " + ProtocolVersion.ENROLL_PATH + " {token, csr}", ctx.request().path()).send(ctx.response()));
        router.route().handler(ctx -> Problem.of(404, "Not Found", "the agent port serves only POST "
                + ProtocolVersion.ENROLL_PATH + " and the agent WebSocket " + ProtocolVersion.AGENT_PATH, ctx.request().path())
                .send(ctx.response()));
        router.errorHandler(413, ctx -> Problem.of(413, "Payload Too Large", "an enrollment request is at most 64 KiB",
                ctx.request().path()).send(ctx.response()));
        return router;
    }

    private static void enroll(Vertx vertx, Enrollment enrollment, RoutingContext ctx) {
        String path = ctx.request().path();
        EnrollRequest request;
        try {
            request = Json.read(ctx.body().asString(), EnrollRequest.class);
        } catch (IllegalArgumentException | NullPointerException e) {
            Problem.of(400, "Malformed JSON", "send a JSON object {\"token\": \"vj1...\", \"csr\": \"-----BEGIN CERTIFICATE "
                    + "REQUEST-----...\"}: " + e.getMessage(), path).send(ctx.response());
            return;
        }
        String from = String.valueOf(ctx.request().remoteAddress());
        vertx.executeBlocking(() -> enrollment.enroll(request, from)).onComplete(ar -> {
            if (ar.succeeded()) {
                ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(Json.write(ar.result()));
            } else if (ar.cause() instanceof EnrollmentRefused r) {
                Problem.of(r.status(), r.title(), r.getMessage(), path).send(ctx.response());
            } else {
                log.error("enrollment from {} failed", from, ar.cause());
                Problem.of(500, "Internal Server Error", "the controller failed to enroll the agent (" + ar.cause()
                        + "); see its log", path).send(ctx.response());
            }
        });
    }
}
