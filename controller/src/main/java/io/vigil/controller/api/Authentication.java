package io.vigil.controller.api;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The API's door, one per operation: the first handler on the route that serves it, ahead of validation and of the
 * operation's own handler. The router has already matched the request (whatever its spelling: a trailing slash,
 * repeated slashes, dot segments, percent-encoding), so the operation decided here is exactly the one that will run;
 * no second parse of the path can disagree with it. Each operation's least role comes from the OpenAPI document
 * ({@code x-vigil-role}: {@code public}, {@code viewer}, {@code operator} or {@code admin}); unless the operation is
 * public, the request must carry {@code Authorization: Bearer <token>} of a valid token (else 401) whose role includes
 * that one (else 403). Neither refusal reaches a handler, so neither changes anything. The caller's {@link Principal}
 * rides on the context for the handlers and the audit log ({@link #principal}), and so does the operation
 * ({@link #operationId}).
 *
 * <p>A request that matches no operation gets {@link #refuseStranger}: 401 unless it carries a valid token, so an
 * unknown path tells an anonymous caller nothing about which paths exist.
 *
 * <p>Fail closed: every operation must name its role, or the controller does not start.
 */
public final class Authentication {
    public static final String PUBLIC = "public";
    private static final String PRINCIPAL = "vigil.principal";
    private static final String OPERATION = "vigil.operation";

    private final Vertx vertx;
    private final ApiTokens tokens;
    /** operationId -> role, null for public operations. */
    private final Map<String, Role> roles = new HashMap<>();

    public Authentication(Vertx vertx, OpenAPIContract contract, ApiTokens tokens) {
        this.vertx = vertx;
        this.tokens = tokens;
        JsonObject paths = contract.getRawContract().getJsonObject("paths", new JsonObject());
        for (String path : paths.fieldNames()) {
            if (!(paths.getValue(path) instanceof JsonObject item)) continue;
            for (String method : item.fieldNames()) {
                if (!(item.getValue(method) instanceof JsonObject op) || !op.containsKey("operationId")) continue;
                String id = op.getString("operationId");
                String role = op.getString("x-vigil-role");
                if (role == null)
                    throw new IllegalStateException("openapi.yaml: operation " + id + " has no x-vigil-role (public, viewer, operator or admin)");
                roles.put(id, PUBLIC.equals(role) ? null : Role.fromWire(role));
            }
        }
    }

    /** The least role {@code operationId} needs; empty for a public operation. */
    public Optional<Role> required(String operationId) {
        if (!roles.containsKey(operationId)) throw new IllegalArgumentException("no operation " + operationId);
        return Optional.ofNullable(roles.get(operationId));
    }

    /** Who made the request, once its operation's door let it through (null only for a public operation without a token). */
    public static Principal principal(RoutingContext ctx) {
        return ctx.get(PRINCIPAL);
    }

    /** The operation whose route took the request, or null if none did (an unknown path). */
    public static String operationId(RoutingContext ctx) {
        return ctx.get(OPERATION);
    }

    /** A login's new session: the audit log names who logged in. */
    static void loggedIn(RoutingContext ctx, Principal principal) {
        ctx.put(PRINCIPAL, principal);
    }

    /** The bearer token of a request, or null if it carries none. */
    static String bearer(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null) return null;
        header = header.trim();
        if (header.length() < 7 || !header.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) return null;
        return header.substring(7).trim();
    }

    /** The first handler of {@code operationId}'s route. */
    public Handler<RoutingContext> door(String operationId) {
        if (!roles.containsKey(operationId)) throw new IllegalStateException("openapi.yaml has no operation " + operationId);
        Role required = roles.get(operationId);
        return ctx -> {
            ctx.put(OPERATION, operationId);
            String token = bearer(ctx);
            if (required == null && token == null) {
                ctx.next();
                return;
            }
            authenticate(token).onComplete(ar -> {
                if (ar.failed()) {
                    ctx.fail(ar.cause());
                    return;
                }
                Optional<Principal> who = ar.result();
                if (who.isEmpty() && required == null) {
                    ctx.next(); // a public operation: a bad token is no reason to refuse it
                } else if (who.isEmpty()) {
                    ctx.fail(unauthorized(ctx, token));
                } else if (required != null && !who.get().role().includes(required)) {
                    ctx.put(PRINCIPAL, who.get()); // refused, but known: the audit log names who was refused
                    ctx.fail(new ApiException(403, "Forbidden", who.get().name() + " has role " + who.get().role().wireName()
                            + "; " + operationId + " needs " + required.wireName()));
                } else {
                    ctx.put(PRINCIPAL, who.get());
                    ctx.next();
                }
            });
        };
    }

    /**
     * For a request no operation took: {@code answer} runs (a 404 or 405) only if it carries a valid token; without
     * one it is 401, whatever the path.
     */
    public void refuseStranger(RoutingContext ctx, Runnable answer, java.util.function.Consumer<ApiException> refuse) {
        String token = bearer(ctx);
        if (token == null) {
            refuse.accept(unauthorized(ctx, null));
            return;
        }
        authenticate(token).onComplete(ar -> {
            if (ar.succeeded() && ar.result().isPresent()) {
                ctx.put(PRINCIPAL, ar.result().get());
                answer.run();
            } else {
                refuse.accept(unauthorized(ctx, token));
            }
        });
    }

    private io.vertx.core.Future<Optional<Principal>> authenticate(String token) {
        if (token == null) return io.vertx.core.Future.succeededFuture(Optional.empty());
        return vertx.executeBlocking(() -> tokens.authenticate(token, System.currentTimeMillis()), false);
    }

    private static ApiException unauthorized(RoutingContext ctx, String token) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"vigil\"");
        return new ApiException(401, "Unauthorized", token == null
                ? "this request needs an API token: send Authorization: Bearer <token> (see /api/v1/openapi.yaml)"
                : "the API token is unknown, expired or revoked");
    }
}
