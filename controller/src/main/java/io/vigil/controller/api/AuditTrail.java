package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vigil.controller.audit.AuditEntry;
import io.vigil.controller.audit.AuditLog;
import io.vigil.controller.auth.Principal;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every mutating request (POST, PUT, PATCH, DELETE), whatever path it names, to the {@link AuditLog} once its response has
 * ended, whatever it ended with: refusals by {@link Authentication} (401, 403) and by validation or a resource (400,
 * 404, 409, 413, 429) too. A root handler ahead of the body handler and Authentication (Vert.x orders handlers by
 * kind, hence a {@link PlatformHandler}), so it sees every request; who made it is read at the end, from what
 * Authentication (or a login) left on the context.
 *
 * <p>The summary names the fields sent, with the values of short scalar ones; a field whose name looks like it holds a
 * secret or a definition (password, secret, token, key, XML) is named without its value, so no password, token or domain
 * XML reaches the log.
 */
final class AuditTrail implements PlatformHandler {
    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
    /** Where {@link RestApi} leaves the problem a request was answered with. */
    static final String PROBLEM = "vigil.audit.problem";
    private static final Set<HttpMethod> MUTATING = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE);
    private static final Pattern UNRECORDED = Pattern.compile("(?i).*(pass|secret|token|key|xml).*");
    /** Where a handler leaves its own target and summary, for a request whose body must not be read as it is. */
    private static final String DESCRIBED = "vigil.audit.described";
    private static final int MAX_VALUE = 64;
    private static final int MAX_SUMMARY = 500;

    private final Vertx vertx;
    private final OpenAPIContract contract;
    private final AuditLog audit;

    AuditTrail(Vertx vertx, OpenAPIContract contract, AuditLog audit) {
        this.vertx = vertx;
        this.contract = contract;
        this.audit = audit;
    }

    /** What a handler says the request was about, in place of what its path and body say. */
    private record Description(String target, String summary) {}

    /** Records {@code target} and {@code summary} for this request instead of those read from its path and body. */
    static void describe(RoutingContext ctx, String target, String summary) {
        ctx.put(DESCRIBED, new Description(target, summary));
    }

    @Override
    public void handle(RoutingContext ctx) {
        // Every mutating request, whatever path it names: "//api/v1/vms" or "/api/v1/./vms" reach the same operation
        // as "/api/v1/vms", and a request to no operation at all is an attempt worth recording too.
        if (MUTATING.contains(ctx.request().method())) {
            long arrivedMillis = System.currentTimeMillis();
            // Before the status line goes out: an entry is durable by the time its client can see the answer, so no
            // acknowledged change is ever missing from the log. This blocks the event loop for one append and fsync.
            ctx.addHeadersEndHandler(v -> record(ctx, arrivedMillis));
        }
        ctx.next();
    }

    private void record(RoutingContext ctx, long arrivedMillis) {
        AuditEntry entry;
        try {
            entry = entry(ctx, arrivedMillis);
        } catch (RuntimeException e) {
            log.error("could not build the audit entry of {} {}", ctx.request().method(), ctx.request().path(), e);
            return;
        }
        log.debug("audit: {}", entry);
        try {
            audit.append(entry);
        } catch (RuntimeException e) {
            log.error("audit entry not stored: {} {} by {} -> {} ({})", entry.method(), entry.path(), entry.principal(),
                    entry.status(), e.toString());
        }
    }

    /**
     * Records a mutating request the router never saw, because its target is no path at all ({@code \\api\\v1\\vms},
     * {@code *}): nobody is authenticated and no operation is named, but the attempt is on record.
     */
    void recordUnroutable(io.vertx.core.http.HttpServerRequest request, Problem answer) {
        if (!MUTATING.contains(request.method())) return;
        try {
            audit.append(new AuditEntry(0, System.currentTimeMillis(), null, null, null, null,
                    request.remoteAddress() == null ? null : request.remoteAddress().hostAddress(), request.method().name(),
                    clip(String.valueOf(request.uri())), null, null, answer.status(), answer.title() + ": " + answer.detail(), null));
        } catch (RuntimeException e) {
            log.error("audit entry not stored: {} {} -> {} ({})", request.method(), request.uri(), answer.status(), e.toString());
        }
    }

    private AuditEntry entry(RoutingContext ctx, long arrivedMillis) {
        String path = ctx.request().path();
        String operationId = Authentication.operationId(ctx);
        Operation operation = operationId == null ? null : contract.operation(operationId);
        Principal who = Authentication.principal(ctx);
        int status = ctx.response().getStatusCode();
        Description described = ctx.get(DESCRIBED);
        JsonNode body = described == null ? body(ctx) : null;
        String target = described == null ? target(operation, path, ctx, body) : described.target();
        String summary = described == null ? summary(body) : described.summary();
        return new AuditEntry(0, arrivedMillis, who == null ? null : who.name(), who == null ? null : who.tokenId(),
                who == null ? null : who.kind(), who == null ? null : who.role().wireName(),
                ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress(),
                ctx.request().method().name(), path, operation == null ? null : operation.getOperationId(),
                target, status, outcome(ctx, status), summary);
    }

    private static String outcome(RoutingContext ctx, int status) {
        if (status >= 200 && status < 300) return AuditEntry.OK;
        Problem p = ctx.get(PROBLEM);
        if (p != null) return p.title() + ": " + p.detail();
        return HttpResponseStatus.valueOf(status).reasonPhrase();
    }

    /**
     * What the request is about: the path's parameter (a VM, host, rule, user or token id), else what it created (its
     * Location), else the name (or, for a login, the user) in its body.
     */
    static String target(Operation operation, String path, RoutingContext ctx, JsonNode body) {
        if (operation != null) {
            // The router's own reading of the path parameters: the same values the handler was given.
            List<String> values = new ArrayList<>();
            for (String segment : operation.getOpenAPIPath().split("/")) {
                if (!segment.startsWith("{")) continue;
                String value = ctx.pathParam(segment.substring(1, segment.length() - 1));
                if (value != null) values.add(value);
            }
            if (!values.isEmpty()) return clip(String.join("/", values));
        }
        String location = ctx.response().headers().get("Location");
        if (location != null) return clip(location.substring(location.lastIndexOf('/') + 1));
        for (String field : List.of("name", "user")) {
            if (body != null && body.path(field).isTextual()) return clip(body.get(field).asText());
        }
        return null;
    }

    private static JsonNode body(RoutingContext ctx) {
        try {
            String text = ctx.body() == null ? null : ctx.body().asString();
            return text == null || text.isBlank() ? null : Json.mapper().readTree(text);
        } catch (Exception e) {
            return null;
        }
    }

    /** The fields of a JSON object body: {@code enabled=true, host=h2, password=(not recorded)}. */
    static String summary(JsonNode body) {
        if (body == null) return null;
        if (!body.isObject()) return "(a JSON " + body.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + ")";
        List<String> parts = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = clip(field.getKey());
            JsonNode value = field.getValue();
            if (UNRECORDED.matcher(field.getKey()).matches()) parts.add(name + "=(not recorded)");
            else if (value.isValueNode()) parts.add(name + "=" + clip(value.isTextual() ? value.asText() : value.toString()));
            else parts.add(name + "=" + clip(value.toString()));
        }
        String s = String.join(", ", parts);
        return s.length() <= MAX_SUMMARY ? s : s.substring(0, MAX_SUMMARY) + "...";
    }

    private static String clip(String s) {
        String printable = s.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= MAX_VALUE ? printable : printable.substring(0, MAX_VALUE) + "...";
    }
}
