package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import io.vigil.controller.agents.AgentGateway;
import io.vigil.controller.audit.AuditLog;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.LoginThrottle;
import io.vigil.controller.auth.Users;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.MoveKind;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.libvirt.DomainXmlValidator;
import io.vigil.controller.runtime.MoveRequests;
import io.vigil.controller.store.ClusterStore;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API under {@code /api/v1}, routed and validated by the OpenAPI document {@code openapi.yaml}
 * (vertx-openapi's validator checks parameters and bodies before a handler runs); the resources (hosts, VMs, policy,
 * rules) do the rest. Handlers read and write the cluster store; the HA core learns of spec, policy, rule and
 * maintenance changes through the store's listeners, and of move requests through {@link MoveRequests}, so any
 * controller member can serve the API. Store and libvirt calls block, so they run on worker threads.
 */
public final class RestApi {
    private static final Logger log = LoggerFactory.getLogger(RestApi.class);
    public static final String OPENAPI_RESOURCE = "openapi.yaml";
    /** RFC 7396's media type; PATCH requests may also say application/json. */
    static final String MERGE_PATCH = "application/merge-patch+json";
    /** An event sequence (a flake id) is about 10^18; an epoch time in milliseconds is about 10^12. */
    static final long SEQUENCE_THRESHOLD = 1_000_000_000_000_000L;
    /** How often the event stream sends a comment line to an idle client. */
    static final long EVENT_STREAM_KEEP_ALIVE_MILLIS = 15_000;
    /** The largest request body read (in memory, never on disk); a larger one is answered 413. */
    static final int MAX_BODY_BYTES = 2 * 1024 * 1024;

    private static final com.fasterxml.jackson.databind.ObjectMapper YAML =
            new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP_TYPE =
            new com.fasterxml.jackson.core.type.TypeReference<>() {};

    private final Vertx vertx;
    private final ClusterStore store;
    private final AgentGateway gateway;
    private final String controllerName;
    private final String openApiText;
    private final HostResource hosts;
    private final VmResource vms;
    private final PolicyResource policy;
    private final RuleResource rules;
    private final ApiTokens tokens;
    private final AuditLog auditLog;
    private final TokenResource tokenResource;
    private final UserResource users;
    private final SessionResource sessions;
    private final AuditResource audit;

    private final AgentCertificateResource agentCertificates;
    private final ClusterOverview overview;
    private final FailoverHistory failovers;
    private final EventStream stream;
    /** Set when the router is built from the contract. */
    private OpenAPIContract contract;
    private Authentication authentication;
    private io.vertx.openapi.validation.RequestValidator validator;
    private RequestExtractor requestExtractor;
    private final java.util.Set<String> routed = new java.util.HashSet<>();

    private RestApi(Vertx vertx, ClusterStore store, DomainXmlValidator validator, AgentGateway gateway,
            MoveRequests moves, ApiTokens tokens, Users users, AuditLog auditLog, String controllerName,
            AgentCertificateResource agentCertificates) {
        this.vertx = vertx;
        this.tokens = tokens;
        this.store = store;
        this.gateway = gateway;
        this.controllerName = controllerName;
        this.openApiText = readResource(OPENAPI_RESOURCE);
        this.hosts = new HostResource(store);
        this.vms = new VmResource(store, validator, new AdmissionCheck(store), moves);
        this.policy = new PolicyResource(store);
        this.rules = new RuleResource(store);
        this.auditLog = auditLog;
        this.tokenResource = new TokenResource(tokens);
        this.users = new UserResource(users, tokens);
        this.sessions = new SessionResource(users, tokens, new LoginThrottle(store.hazelcast(), LoginThrottle.Rules.DEFAULT));
        this.audit = new AuditResource(auditLog);
        this.agentCertificates = agentCertificates;
        this.overview = new ClusterOverview(store, controllerName);
        this.failovers = new FailoverHistory(store);
        this.stream = new EventStream(vertx, store, tokens::grant, EVENT_STREAM_KEEP_ALIVE_MILLIS, EventStream.MAX_PER_TOKEN,
                EventStream.GRANT_CHECK_MILLIS);
    }

    public static Future<Router> router(Vertx vertx, ClusterStore store, DomainXmlValidator validator,
            AgentGateway gateway, MoveRequests moves, ApiTokens tokens, Users users, AuditLog auditLog, String controllerName,
            AgentCertificateResource agentCertificates) {
        RestApi api = new RestApi(vertx, store, validator, gateway, moves, tokens, users, auditLog, controllerName,
                agentCertificates);
        return OpenAPIContract.from(vertx, validatorView(api.openApiText)).map(api::build);
    }

    /**
     * The document as vertx-openapi is given it. Its contract parser refuses media types it cannot validate
     * (application/problem+json, application/yaml, application/merge-patch+json), and this controller validates
     * requests only, so response bodies are left out of its copy, and so are the merge-patch request bodies: a merge
     * patch is validated as the application/json body beside it ({@link #extractor}). The document served at
     * /api/v1/openapi.yaml is the unmodified one.
     */
    static JsonObject validatorView(String yaml) {
        JsonObject doc;
        try {
            doc = new JsonObject(YAML.readValue(yaml, MAP_TYPE));
        } catch (IOException e) {
            throw new UncheckedIOException("openapi.yaml is not valid YAML", e);
        }
        JsonObject paths = doc.getJsonObject("paths", new JsonObject());
        for (String path : paths.fieldNames()) {
            JsonObject item = paths.getJsonObject(path);
            for (String method : item.fieldNames()) {
                Object op = item.getValue(method);
                if (op instanceof JsonObject operation) operation.remove("security");
                if (op instanceof JsonObject operation && operation.containsKey("responses")) {
                    stripContent(operation.getJsonObject("responses"));
                }
                if (op instanceof JsonObject operation && operation.getJsonObject("requestBody") != null) {
                    JsonObject content = operation.getJsonObject("requestBody").getJsonObject("content");
                    if (content != null) content.remove(MERGE_PATCH);
                }
            }
        }
        // Security is enforced by Authentication (x-vigil-role), not by the router's security handlers.
        doc.remove("security");
        JsonObject components = doc.getJsonObject("components", new JsonObject());
        components.remove("securitySchemes");
        if (components.containsKey("responses")) stripContent(components.getJsonObject("responses"));
        return doc;
    }

    private static void stripContent(JsonObject responses) {
        for (String code : responses.fieldNames()) {
            JsonObject response = responses.getJsonObject(code);
            if (response != null) response.remove("content");
        }
    }

    /**
     * The body handler's extractor, except that a merge patch is validated as JSON: vertx-openapi has no analyser for
     * application/merge-patch+json, and its body is JSON by definition.
     */
    static RequestExtractor extractor() {
        RequestExtractor withBody = RequestExtractor.withBodyHandler();
        return (ctx, operation) -> withBody.extractValidatableRequest(ctx, operation).map(r -> {
            String type = r.getContentType();
            if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith(MERGE_PATCH)) return r;
            return new ValidatableRequestImpl(r.getCookies(), r.getHeaders(), r.getPathParameters(), r.getQuery(), r.getBody(),
                    "application/json");
        });
    }

    private Router build(OpenAPIContract contract) {
        RequestExtractor extractor = extractor();
        RouterBuilder builder = RouterBuilder.create(vertx, contract, extractor);
        this.contract = contract;
        this.authentication = new Authentication(vertx, contract, tokens);
        this.validator = io.vertx.openapi.validation.RequestValidator.create(vertx, contract);
        this.requestExtractor = extractor;
        AuditTrail trail = new AuditTrail(vertx, contract, auditLog);
        builder.rootHandler(trail); // first: it records refusals of the later ones too
        builder.rootHandler((io.vertx.ext.web.handler.PlatformHandler) RestApi::admitBodyType); // ahead of the body handler
        // In memory only: nothing a request sends is written to disk (Vert.x would keep uploads in ./file-uploads).
        builder.rootHandler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        route(builder, "health", ctx -> blocking(ctx, () -> new Views.Health("ok", controllerName,
                store.isLocalLeader(), gateway.connectedHosts().size()), 200));
        route(builder, "openapi", ctx -> ctx.response().putHeader("Content-Type", "application/yaml").end(openApiText));
        route(builder, "whoami", ctx -> blocking(ctx, () -> Views.whoami(Authentication.principal(ctx),
                tokens.get(Authentication.principal(ctx).tokenId()).map(t -> t.expiresAtMillis()).orElse(null)), 200));
        route(builder, "listHosts", ctx -> blocking(ctx, hosts::list, 200));
        route(builder, "getHost", ctx -> blocking(ctx, () -> hosts.get(name(ctx)), 200));
        route(builder, "setHostMaintenance", ctx -> withBody(ctx, body -> hosts.maintenance(name(ctx), body), 202));
        route(builder, "listVms", ctx -> blocking(ctx, vms::list, 200));
        route(builder, "getVm", ctx -> blocking(ctx, () -> vms.get(name(ctx)), 200));
        route(builder, "createVm", ctx -> withBody(ctx, body -> vms.create(body, override(ctx)), 201,
                vm -> "/api/v1/vms/" + vm.name()));
        route(builder, "patchVm", ctx -> withBody(ctx, patch -> vms.patch(name(ctx), patch, override(ctx)), 200));
        route(builder, "startVm", ctx -> blocking(ctx, () -> vms.request(name(ctx), RequestedState.STARTED,
                override(ctx)), 202));
        route(builder, "stopVm", ctx -> blocking(ctx, () -> vms.request(name(ctx), RequestedState.STOPPED, false), 202));
        route(builder, "deleteVm", ctx -> blocking(ctx, () -> vms.request(name(ctx), RequestedState.DELETED, false), 202));
        route(builder, "migrateVm", ctx -> withBody(ctx, body -> vms.move(name(ctx), body, MoveKind.MIGRATE), 202));
        route(builder, "relocateVm", ctx -> withBody(ctx, body -> vms.move(name(ctx), body, MoveKind.RELOCATE), 202));
        route(builder, "getPolicy", ctx -> blocking(ctx, policy::get, 200));
        route(builder, "putPolicy", ctx -> withBody(ctx, policy::put, 200));
        route(builder, "patchPolicy", ctx -> withBody(ctx, policy::patch, 200));
        route(builder, "listRules", ctx -> blocking(ctx, rules::list, 200));
        route(builder, "createRule", ctx -> withBody(ctx, rules::create, 201, rule -> "/api/v1/rules/" + rule.name()));
        route(builder, "getRule", ctx -> blocking(ctx, () -> rules.get(name(ctx)), 200));
        route(builder, "replaceRule", ctx -> withBody(ctx, body -> rules.replace(name(ctx), body), 200));
        route(builder, "patchRule", ctx -> withBody(ctx, patch -> rules.patch(name(ctx), patch), 200));
        route(builder, "deleteRule", ctx -> blocking(ctx, () -> {
            rules.delete(name(ctx));
            return null;
        }, 204));
        route(builder, "listEvents", this::listEvents);
        route(builder, "createToken", ctx -> withBody(ctx, body -> tokenResource.create(body, Authentication.principal(ctx)), 201,
                t -> "/api/v1/tokens/" + t.id()));
        route(builder, "listTokens", ctx -> blocking(ctx, () -> tokenResource.list(ctx.queryParams().get("kind")), 200));
        route(builder, "getToken", ctx -> blocking(ctx, () -> tokenResource.get(ctx.pathParam("id")), 200));
        route(builder, "revokeToken", ctx -> blocking(ctx, () -> {
            tokenResource.revoke(ctx.pathParam("id"), Authentication.principal(ctx));
            return null;
        }, 204));
        route(builder, "listUsers", ctx -> blocking(ctx, users::list, 200));
        route(builder, "createUser", ctx -> withBody(ctx, body -> users.create(body, Authentication.principal(ctx)), 201,
                u -> "/api/v1/users/" + u.name()));
        route(builder, "getUser", ctx -> blocking(ctx, () -> users.get(name(ctx)), 200));
        route(builder, "patchUser", ctx -> withBody(ctx, patch -> users.patch(name(ctx), patch, Authentication.principal(ctx)), 200));
        route(builder, "deleteUser", ctx -> blocking(ctx, () -> {
            users.delete(name(ctx), Authentication.principal(ctx));
            return null;
        }, 204));
        // No Location for a session; the hook names the new session's user for the audit log.
        route(builder, "login", ctx -> withBody(ctx, body -> {
            describeLogin(ctx, body);
            return sessions.login(body, remoteAddress(ctx));
        }, 200, login -> {
            Authentication.loggedIn(ctx, login.principal());
            return null;
        }));
        route(builder, "logout", ctx -> blocking(ctx, () -> {
            sessions.logout(Authentication.principal(ctx));
            return null;
        }, 204));
        route(builder, "listAudit", this::listAudit);
        route(builder, "createJoinToken", ctx -> withBody(ctx, agentCertificates::createJoinToken, 201));
        route(builder, "listJoinTokens", ctx -> blocking(ctx, agentCertificates::listJoinTokens, 200));
        route(builder, "deleteJoinToken", ctx -> blocking(ctx, () -> {
            agentCertificates.deleteJoinToken(ctx.pathParam("id"));
            return null;
        }, 204));
        route(builder, "listAgentCertificates", ctx -> blocking(ctx, () ->
                agentCertificates.listCertificates(ctx.queryParams().get("host")), 200));
        route(builder, "revokeAgentCertificate", ctx -> blocking(ctx, () -> {
            agentCertificates.revoke(ctx.pathParam("serial"), Authentication.principal(ctx).name());
            return null;
        }, 204));
        route(builder, "streamEvents", stream::handle);
        route(builder, "getCluster", ctx -> blocking(ctx, overview::get, 200));
        route(builder, "listFailovers", ctx -> blocking(ctx, () -> failovers.list(intParam(ctx, "limit", 20)), 200));

        for (io.vertx.openapi.contract.Operation operation : contract.operations()) {
            if (!routed.contains(operation.getOperationId())) // fail closed: the router would answer it without a door
                throw new IllegalStateException("openapi.yaml operation " + operation.getOperationId() + " has no handler");
        }
        Router router = builder.createRouter();
        router.putMetadata(AUDIT_TRAIL, trail);
        io.vigil.controller.ui.Dashboard.mount(router);
        // No operation took these: an anonymous caller learns nothing about which paths exist (401 for all of them).
        router.errorHandler(404, ctx -> authentication.refuseStranger(ctx, () -> problem(ctx, new ApiException(404,
                "Not Found", "no resource at " + printable(ctx.request().path())
                        + "; the API is described at /api/v1/openapi.yaml")), refusal -> problem(ctx, refusal)));
        router.errorHandler(405, ctx -> authentication.refuseStranger(ctx, () -> problem(ctx, new ApiException(405,
                "Method Not Allowed", ctx.request().method() + " is not supported on " + printable(ctx.request().path()))),
                refusal -> problem(ctx, refusal)));
        router.errorHandler(413, ctx -> problem(ctx, new ApiException(413, "Payload Too Large",
                "the request body is larger than " + MAX_BODY_BYTES / (1024 * 1024) + " MiB")));
        router.errorHandler(500, this::failure);
        // Any other refusal Vert.x makes by status alone still answers with a problem document.
        for (int status : new int[] {400, 401, 403, 406, 408, 411, 414, 415, 416, 422, 431, 501, 503})
            router.errorHandler(status, this::failure);
        return router;
    }

    /**
     * Routes {@code operationId} to {@code handler}, behind its door ({@link Authentication#door}) and then the
     * OpenAPI validation of its parameters and body: who may call it is settled on the very route that serves it,
     * before anything about the request is looked at.
     */
    private void route(RouterBuilder builder, String operationId, io.vertx.core.Handler<RoutingContext> handler) {
        OpenAPIRoute route = builder.getRoute(operationId);
        if (route == null) throw new IllegalStateException("openapi.yaml has no operation " + operationId);
        io.vertx.openapi.contract.Operation operation = contract.operation(operationId);
        route.setDoValidation(false) // the builder would validate ahead of the door
                .addHandler(authentication.door(operationId))
                .addHandler(ctx -> requestExtractor.extractValidatableRequest(ctx, operation)
                        .compose(request -> validator.validate(request, operationId))
                        .onSuccess(validated -> {
                            ctx.put(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST, validated);
                            ctx.next();
                        })
                        .onFailure(ctx::fail))
                .addHandler(handler)
                .addFailureHandler(this::failure);
        routed.add(operationId);
    }

    /** A path as a person can read it in a problem: control characters shown as '?', at most 200 characters. */
    static String printable(String path) {
        String p = path == null ? "" : path.replaceAll("\\p{Cntrl}", "?");
        return p.length() <= 200 ? p : p.substring(0, 200) + "...";
    }

    /** A Content-Type as RFC 9110 spells it: type/subtype, then parameters whose values are tokens or quoted strings. */
    private static final java.util.regex.Pattern MEDIA_TYPE = java.util.regex.Pattern.compile(
            "\\s*[-!#$%&'*+.^_`|~0-9A-Za-z]+/[-!#$%&'*+.^_`|~0-9A-Za-z]+"
                    + "(\\s*;\\s*[-!#$%&'*+.^_`|~0-9A-Za-z]+=([-!#$%&'*+.^_`|~0-9A-Za-z]+|\"([^\"\\\\]|\\\\.)*\"))*\\s*;?\\s*");

    /**
     * Turns away, before its body is read, a request whose body the API could never take: a malformed Content-Type
     * (400), or a form or multipart body (415), which the body handler would otherwise decode field by field. Every
     * operation takes JSON; which JSON type an operation accepts is the validator's to say.
     */
    private static void admitBodyType(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null) {
            ctx.next();
            return;
        }
        if (type.length() > 256 || !MEDIA_TYPE.matcher(type).matches()) { // short: a regex on a long one recurses deep
            ctx.fail(ApiException.badRequest("Malformed Content-Type", "the Content-Type header is not a media type "
                    + "(type/subtype; name=value): send application/json"));
            return;
        }
        String media = type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        if (media.startsWith("multipart/") || media.equals("application/x-www-form-urlencoded")) {
            ctx.fail(new ApiException(415, "Unsupported Media Type", "the API takes JSON bodies (application/json, "
                    + "application/merge-patch+json), not " + media));
            return;
        }
        ctx.next();
    }

    // ---- handlers -------------------------------------------------------------------------------------------------

    private void listEvents(RoutingContext ctx) {
        var params = ctx.queryParams();
        Long since = null;
        int limit = 100;
        try {
            if (params.get("since") != null) since = Long.parseLong(params.get("since"));
            if (params.get("limit") != null) limit = Integer.parseInt(params.get("limit"));
        } catch (NumberFormatException e) {
            problem(ctx, ApiException.badRequest("Bad Request", "since and limit must be integers"));
            return;
        }
        boolean isSequence = since != null && since >= SEQUENCE_THRESHOLD;
        var query = new ClusterStore.EventQuery(isSequence ? since : null, since != null && !isSequence ? since : null,
                params.get("host"), params.get("vm"), params.get("type"), limit);
        blocking(ctx, () -> {
            List<Views.EventView> out = new ArrayList<>();
            for (ClusterEvent e : store.events(query)) out.add(Views.event(e));
            return out;
        }, 200);
    }

    /**
     * A login is audited with the user tried only if there is such a user: a name that is none may be a password typed
     * into the wrong field.
     */
    private void describeLogin(RoutingContext ctx, JsonNode body) {
        String name = body.path("user").asText("");
        boolean known = users.exists(name);
        AuditTrail.describe(ctx, known ? name : null, "user=" + (known ? name : "(not a user)") + ", password=(not recorded)");
    }

    private void listAudit(RoutingContext ctx) {
        var params = ctx.queryParams();
        Long since;
        Integer status;
        int limit;
        try {
            since = params.get("since") == null ? null : Long.parseLong(params.get("since"));
            status = params.get("status") == null ? null : Integer.parseInt(params.get("status"));
            limit = params.get("limit") == null ? 100 : Integer.parseInt(params.get("limit"));
        } catch (NumberFormatException e) {
            problem(ctx, ApiException.badRequest("Bad Request", "since, status and limit must be integers"));
            return;
        }
        blocking(ctx, () -> audit.list(since, params.get("principal"), status, limit), 200);
    }

    /**
     * What the REST server hands each request: the router, unless the request's target is not a path (a backslash
     * for a slash, an asterisk), which the router would turn away with a bare 404 before any of its handlers (the
     * audit trail included) ran. Such a request gets a problem document, and a mutating one is audited.
     */
    public static io.vertx.core.Handler<io.vertx.core.http.HttpServerRequest> entrance(Router router) {
        AuditTrail trail = router.getMetadata(AUDIT_TRAIL);
        return request -> {
            String path = request.path();
            String wrong = path == null || !path.startsWith("/") ? "the request target must be a path starting with '/'"
                    : !wellEscaped(path) ? "the request path has a '%' that is not followed by two hex digits"
                    : null;
            if (wrong == null) {
                router.handle(request);
                return;
            }
            Problem p = Problem.of(400, "Bad Request", wrong, null);
            if (trail != null) trail.recordUnroutable(request, p);
            p.send(request.response());
        };
    }

    private static final String AUDIT_TRAIL = "vigil.audit-trail";
    /** Whether every '%' in {@code path} starts an escape (RFC 3986: '%' HEXDIG HEXDIG). */
    static boolean wellEscaped(String path) {
        for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
            if (i + 2 >= path.length() || Character.digit(path.charAt(i + 1), 16) < 0 || Character.digit(path.charAt(i + 2), 16) < 0)
                return false;
        }
        return true;
    }

    /** The longest request line (method, URI, version) the REST server reads; a longer one is answered 414. */
    public static final int MAX_REQUEST_LINE = 8 * 1024;
    /** The most header bytes the REST server reads; more are answered 431. */
    public static final int MAX_HEADER_BYTES = 16 * 1024;

    /**
     * The REST server's answer to a request its HTTP decoder could not read (a request line or headers over the
     * limits above, a malformed request line): a problem document instead of the bare status Vert.x sends by default.
     * No handler, no authentication and no audit is reached: nothing was understood, so nothing can change.
     */
    public static void invalidRequest(io.vertx.core.http.HttpServerRequest request) {
        Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
        Problem p;
        if (cause instanceof io.netty.handler.codec.TooLongFrameException && cause.getClass().getSimpleName().contains("Line")) {
            p = Problem.of(414, "URI Too Long", "the request line is longer than " + MAX_REQUEST_LINE
                    + " bytes; send long values in a request body", null);
        } else if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
            p = Problem.of(431, "Request Header Fields Too Large", "the request headers are larger than " + MAX_HEADER_BYTES
                    + " bytes", null);
        } else {
            p = Problem.of(400, "Bad Request", "the request could not be read as HTTP/1.1"
                    + (cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"), null);
        }
        request.response().putHeader("Connection", "close");
        p.send(request.response());
        request.connection().close();
    }

    // ---- plumbing -------------------------------------------------------------------------------------------------

    private static String name(RoutingContext ctx) {
        return ctx.pathParam("name");
    }

    private static String remoteAddress(RoutingContext ctx) {
        return ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    }

    /** A query parameter the validator has checked to be an integer, or {@code otherwise} when absent. */
    private static int intParam(RoutingContext ctx, String name, int otherwise) {
        String value = ctx.queryParams().get(name);
        return value == null ? otherwise : Integer.parseInt(value);
    }

    private static boolean override(RoutingContext ctx) {
        return "true".equalsIgnoreCase(ctx.queryParams().get("override"));
    }

    /**
     * Runs {@code work} on a worker thread with the request body as a JSON tree (null members kept, as a merge patch
     * needs them). The validator has checked the body against the schema already; no body at all is an empty object.
     */
    private <T> void withBody(RoutingContext ctx, Function<JsonNode, T> work, int status) {
        withBody(ctx, work, status, null);
    }

    /**
     * As {@link #withBody(RoutingContext, Function, int)}, with a {@code Location} header naming what was created
     * ({@code location} returning null: none).
     */
    private <T> void withBody(RoutingContext ctx, Function<JsonNode, T> work, int status, Function<T, String> location) {
        JsonNode body;
        try {
            String text = bodyText(ctx);
            body = text == null || text.isBlank() ? Json.mapper().createObjectNode() : Json.mapper().readTree(text);
        } catch (IOException e) {
            problem(ctx, new DecodeException(e.getMessage()));
            return;
        }
        // Unordered: requests need not wait for each other's storage writes (each is a compare-and-set of its own).
        vertx.executeBlocking(() -> work.apply(body), false).onComplete(ar -> {
            String where = ar.succeeded() && location != null ? location.apply(ar.result()) : null;
            if (where != null) ctx.response().putHeader("Location", where);
            respond(ctx, ar.succeeded() ? ar.result() : null, ar.cause(), status);
        });
    }

    private <T> void blocking(RoutingContext ctx, Callable<T> work, int status) {
        vertx.executeBlocking(work, false).onComplete(ar -> respond(ctx, ar.succeeded() ? ar.result() : null, ar.cause(), status));
    }

    private void respond(RoutingContext ctx, Object value, Throwable failure, int status) {
        if (failure != null) {
            problem(ctx, failure);
            return;
        }
        if (status == 204) {
            ctx.response().setStatusCode(204).end();
            return;
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(Json.write(value));
    }

    private void failure(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure == null) {
            int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
            problem(ctx, new ApiException(status, status == 500 ? "Internal Server Error" : "Error",
                    "the request failed with status " + status));
        } else {
            problem(ctx, failure);
        }
    }

    private void problem(RoutingContext ctx, Throwable failure) {
        String path = ctx.request().path();
        // The OpenAPI router wraps validation failures in an HttpException(400).
        if (failure instanceof io.vertx.ext.web.handler.HttpException h && h.getCause() != null) failure = h.getCause();
        Problem p;
        if (failure instanceof ApiException a) {
            p = Problem.of(a.status(), a.title(), a.getMessage(), path, a.extensions());
        } else if (failure instanceof SchemaValidationException s) {
            p = Problem.of(400, "Request Does Not Match The API", schemaDetail(s), path);
        } else if (failure instanceof ValidatorException v) {
            p = isMalformedJson(v)
                    ? Problem.of(400, "Malformed JSON", "the request body is not valid JSON (" + jsonError(ctx)
                            + "); send a JSON object as described in /api/v1/openapi.yaml", path)
                    : Problem.of(400, "Invalid Request", validatorDetail(v), path);
        } else if (failure instanceof DecodeException d) {
            p = Problem.of(400, "Malformed JSON", "the request body is not valid JSON: " + d.getMessage(), path);
        } else if (failure instanceof io.vertx.ext.web.handler.HttpException h) {
            p = Problem.of(h.getStatusCode(), "Error", h.getPayload() != null ? h.getPayload() : h.getMessage(), path);
        } else {
            log.error("request {} {} failed", ctx.request().method(), path, failure);
            p = Problem.of(500, "Internal Server Error",
                    "the controller failed to handle the request (" + failure + "); see its log", path);
        }
        if (failure instanceof ApiException a && a.extensions().get("retryAfterSeconds") instanceof Number n)
            ctx.response().putHeader("Retry-After", String.valueOf(n.longValue()));
        ctx.put(AuditTrail.PROBLEM, p);
        p.send(ctx.response());
    }

    /**
     * The request body as text. JSON is UTF-8 (RFC 8259), whatever charset the Content-Type names; Vert.x's own
     * {@code asString()} would follow the header, and fails on a malformed one.
     */
    static String bodyText(RoutingContext ctx) {
        return ctx.body() == null || ctx.body().buffer() == null ? null : ctx.body().buffer().toString(StandardCharsets.UTF_8);
    }

    /** The parser's own words on where the body stops being JSON. */
    private static String jsonError(RoutingContext ctx) {
        try {
            Json.mapper().readTree(bodyText(ctx));
            return "it could not be decoded";
        } catch (Exception e) {
            if (!(e instanceof com.fasterxml.jackson.core.JsonProcessingException j)) return e.getMessage();
            return j.getLocation() == null ? j.getOriginalMessage()
                    : j.getOriginalMessage() + " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr();
        }
    }

    private static boolean isMalformedJson(ValidatorException v) {
        for (Throwable t = v; t != null; t = t.getCause()) {
            if (t instanceof DecodeException) return true;
        }
        return v.type() == io.vertx.openapi.validation.ValidatorErrorType.ILLEGAL_VALUE
                && String.valueOf(v.getMessage()).contains("body can't be decoded");
    }

    private static String validatorDetail(ValidatorException v) {
        StringBuilder sb = new StringBuilder(String.valueOf(v.getMessage()));
        for (Throwable t = v.getCause(); t != null; t = t.getCause()) {
            if (t.getMessage() != null) sb.append(": ").append(t.getMessage());
        }
        return sb.toString();
    }

    /**
     * Names each offending field with the schema's specific complaint ("field priority: Instance does not match any of
     * [...]", "field preferredHosts[0].priority: ..."), dropping the validator's generic wrapper errors and those of a
     * list or object whose items have their own; any other field whose only complaint is generic is one the schema
     * does not know.
     */
    static String schemaDetail(SchemaValidationException s) {
        java.util.LinkedHashMap<String, List<String>> byField = new java.util.LinkedHashMap<>();
        collect(s.getOutputUnit(), byField);
        String message = String.valueOf(s.getMessage());
        int reason = message.indexOf(" Reason:");
        String what = (reason > 0 ? message.substring(0, reason) : message).replaceFirst("\\.$", "");
        List<String> parts = new ArrayList<>();
        byField.forEach((field, errors) -> {
            List<String> specific = errors.stream().filter(e -> !isGeneric(e)).distinct().toList();
            if (!specific.isEmpty()) {
                parts.add(field + ": " + String.join(", ", specific));
            } else if (byField.keySet().stream().anyMatch(f -> f.startsWith(field + "[") || f.startsWith(field + "."))) {
                return; // a list or object whose items say what is wrong with them
            } else if (errors.stream().anyMatch(e -> e.contains("additional properties"))) {
                parts.add(field + ": not a known field (see /api/v1/openapi.yaml)");
            } else {
                parts.add(field + ": " + errors.get(0));
            }
        });
        return parts.isEmpty() ? message : what + ": " + String.join("; ", parts);
    }

    private static boolean isGeneric(String error) {
        return error.contains("does not match schema") || error.contains("did not match schema")
                || error.contains("subschema had errors") || error.contains("does not match additional properties schema");
    }

    private static void collect(OutputUnit unit, Map<String, List<String>> out) {
        if (unit == null) return;
        if (unit.getErrors() != null && !unit.getErrors().isEmpty()) {
            for (OutputUnit e : unit.getErrors()) collect(e, out);
            return;
        }
        if (unit.getError() != null) {
            String where = unit.getInstanceLocation();
            String field = where == null || where.isEmpty() || where.equals("#") ? "value" : "field " + fieldName(where);
            out.computeIfAbsent(field, k -> new ArrayList<>()).add(unit.getError());
        }
    }

    /** A JSON pointer into the body ("#/preferredHosts/0/priority") as a person writes it ("preferredHosts[0].priority"). */
    static String fieldName(String pointer) {
        StringBuilder out = new StringBuilder();
        for (String segment : pointer.replaceFirst("^#", "").replaceFirst("^/", "").split("/")) {
            String name = segment.replace("~1", "/").replace("~0", "~");
            if (name.matches("\\d+")) out.append('[').append(name).append(']');
            else out.append(out.length() == 0 ? "" : ".").append(name);
        }
        return out.toString();
    }

    private static String readResource(String name) {
        try (InputStream in = RestApi.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException(name + " missing from the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
