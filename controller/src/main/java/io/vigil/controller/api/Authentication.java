package io.vigil.controller.api;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The API's door: a root handler that runs before any operation's validation. It finds the operation a request is
 * for, and the least role the OpenAPI document gives it ({@code x-vigil-role}: {@code public}, {@code viewer},
 * {@code operator} or {@code admin}); unless the operation is public, the request must carry
 * {@code Authorization: Bearer <token>} of a valid token (else 401) whose role includes that one (else 403). Neither
 * refusal reaches a handler, so neither changes anything. The caller's {@link Principal} rides on the context for
 * the handlers and the audit log ({@link #principal}).
 *
 * <p>Every operation must name its role: one that does not stops the controller at start (fail closed).
 */
public final class Authentication implements Handler<RoutingContext> {
    public static final String PUBLIC = "public";
    private static final String PRINCIPAL = "vigil.principal";

    private final Vertx vertx;
    private final OpenAPIContract contract;
    private final ApiTokens tokens;
    /** operationId -> role, null for public operations. */
    private final Map<String, Role> roles = new HashMap<>();

    public Authentication(Vertx vertx, OpenAPIContract contract, ApiTokens tokens) {
        this.vertx = vertx;
        this.contract = contract;
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

    /** Who made the request, once this handler let it through (null for a public operation without a token). */
    public static Principal principal(RoutingContext ctx) {
        return ctx.get(PRINCIPAL);
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

    @Override
    public void handle(RoutingContext ctx) {
        Operation operation = contract.findOperation(ctx.request().path(), ctx.request().method());
        if (operation == null) {
            ctx.next(); // not an operation: the router answers 404 or 405
            return;
        }
        Role required = roles.get(operation.getOperationId());
        String token = bearer(ctx);
        if (required == null && token == null) {
            ctx.next();
            return;
        }
        vertx.executeBlocking(() -> tokens.authenticate(token, System.currentTimeMillis())).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            Optional<Principal> who = ar.result();
            if (who.isEmpty() && required == null) {
                ctx.next(); // a public operation: a bad token is no reason to refuse it
            } else if (who.isEmpty()) {
                ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"vigil\"");
                ctx.fail(new ApiException(401, "Unauthorized", token == null
                        ? "this request needs an API token: send Authorization: Bearer <token> (see /api/v1/openapi.yaml)"
                        : "the API token is unknown, expired or revoked"));
            } else if (required != null && !who.get().role().includes(required)) {
                ctx.put(PRINCIPAL, who.get()); // refused, but known: the audit log names who was refused
                ctx.fail(new ApiException(403, "Forbidden", who.get().name() + " has role " + who.get().role().wireName()
                        + "; " + operation.getOperationId() + " needs " + required.wireName()));
            } else {
                ctx.put(PRINCIPAL, who.get());
                ctx.next();
            }
        });
    }
}
