package io.vigil.controller.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;
import io.vigil.controller.agents.AgentGateway;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmStatus;
import io.vigil.controller.libvirt.DomainXmlValidator;
import io.vigil.controller.store.ClusterStore;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API under {@code /api/v1}, routed and validated by the OpenAPI document {@code openapi.yaml}
 * (vertx-openapi's validator checks parameters and bodies before a handler runs). Handlers read and write the
 * cluster store only; the HA core learns of spec and policy changes through the store's listeners, so any controller
 * member can serve the API. Store and libvirt calls block, so they run on worker threads.
 */
public final class RestApi {
    private static final Logger log = LoggerFactory.getLogger(RestApi.class);
    public static final String OPENAPI_RESOURCE = "openapi.yaml";
    /** An event sequence (a flake id) is about 10^18; an epoch time in milliseconds is about 10^12. */
    static final long SEQUENCE_THRESHOLD = 1_000_000_000_000_000L;

    private static final com.fasterxml.jackson.databind.ObjectMapper YAML =
            new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP_TYPE =
            new com.fasterxml.jackson.core.type.TypeReference<>() {};

    private final Vertx vertx;
    private final ClusterStore store;
    private final DomainXmlValidator validator;
    private final AgentGateway gateway;
    private final String controllerName;
    private final String openApiText;

    private RestApi(Vertx vertx, ClusterStore store, DomainXmlValidator validator, AgentGateway gateway,
            String controllerName) {
        this.vertx = vertx;
        this.store = store;
        this.validator = validator;
        this.gateway = gateway;
        this.controllerName = controllerName;
        this.openApiText = readResource(OPENAPI_RESOURCE);
    }

    public static Future<Router> router(Vertx vertx, ClusterStore store, DomainXmlValidator validator,
            AgentGateway gateway, String controllerName) {
        RestApi api = new RestApi(vertx, store, validator, gateway, controllerName);
        return OpenAPIContract.from(vertx, validatorView(api.openApiText)).map(api::build);
    }

    /**
     * The document as vertx-openapi is given it. Its contract parser refuses response media types it cannot
     * validate (application/problem+json, application/yaml), and this controller validates requests only, so response
     * bodies are left out of its copy. The document served at /api/v1/openapi.yaml is the unmodified one.
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
                if (op instanceof JsonObject operation && operation.containsKey("responses")) {
                    stripContent(operation.getJsonObject("responses"));
                }
            }
        }
        JsonObject components = doc.getJsonObject("components", new JsonObject());
        if (components.containsKey("responses")) stripContent(components.getJsonObject("responses"));
        return doc;
    }

    private static void stripContent(JsonObject responses) {
        for (String code : responses.fieldNames()) {
            JsonObject response = responses.getJsonObject(code);
            if (response != null) response.remove("content");
        }
    }

    private Router build(OpenAPIContract contract) {
        RouterBuilder builder = RouterBuilder.create(vertx, contract, io.vertx.ext.web.openapi.router.RequestExtractor.withBodyHandler());
        builder.rootHandler(BodyHandler.create().setBodyLimit(2 * 1024 * 1024));
        route(builder, "health", ctx -> blocking(ctx, () -> new Views.Health("ok", controllerName,
                store.isLocalLeader(), gateway.connectedHosts().size()), 200));
        route(builder, "openapi", ctx -> ctx.response().putHeader("Content-Type", "application/yaml").end(openApiText));
        route(builder, "listHosts", ctx -> blocking(ctx, () -> store.hostStatuses().stream()
                .sorted(Comparator.comparing(HostStatus::name)).map(Views::host).toList(), 200));
        route(builder, "getHost", ctx -> blocking(ctx, () -> store.hostStatus(name(ctx)).map(Views::host)
                .orElseThrow(() -> ApiException.notFound("no host named '" + name(ctx)
                        + "' has ever connected; GET /api/v1/hosts lists the known hosts")), 200));
        route(builder, "listVms", ctx -> blocking(ctx, this::listVms, 200));
        route(builder, "getVm", ctx -> blocking(ctx, () -> vmView(name(ctx)), 200));
        route(builder, "createVm", this::createVm);
        route(builder, "startVm", ctx -> blocking(ctx, () -> setDesired(name(ctx), RequestedState.STARTED), 202));
        route(builder, "stopVm", ctx -> blocking(ctx, () -> setDesired(name(ctx), RequestedState.STOPPED), 202));
        route(builder, "deleteVm", ctx -> blocking(ctx, () -> setDesired(name(ctx), RequestedState.DELETED), 202));
        route(builder, "getPolicy", ctx -> blocking(ctx, () -> store.policy().orElse(ClusterPolicy.DEFAULT), 200));
        route(builder, "putPolicy", this::putPolicy);
        route(builder, "listEvents", this::listEvents);

        Router router = builder.createRouter();
        router.errorHandler(404, ctx -> problem(ctx, new ApiException(404, "Not Found",
                "no resource at " + ctx.request().path() + "; the API is described at /api/v1/openapi.yaml")));
        router.errorHandler(405, ctx -> problem(ctx, new ApiException(405, "Method Not Allowed",
                ctx.request().method() + " is not supported on " + ctx.request().path())));
        router.errorHandler(413, ctx -> problem(ctx, new ApiException(413, "Payload Too Large",
                "the request body is larger than 2 MiB")));
        router.errorHandler(500, this::failure);
        return router;
    }

    private void route(RouterBuilder builder, String operationId, io.vertx.core.Handler<RoutingContext> handler) {
        OpenAPIRoute route = builder.getRoute(operationId);
        if (route == null) throw new IllegalStateException("openapi.yaml has no operation " + operationId);
        route.addHandler(handler).addFailureHandler(this::failure);
    }

    // ---- handlers -------------------------------------------------------------------------------------------------

    private List<Views.VmView> listVms() {
        Map<String, VmStatus> statuses = store.vmStatuses().stream()
                .collect(Collectors.toMap(VmStatus::name, Function.identity(), (a, b) -> a));
        return store.specs().stream().sorted(Comparator.comparing(VmSpec::name))
                .map(s -> Views.vm(s, statuses.get(s.name()))).toList();
    }

    private Views.VmView vmView(String name) {
        VmSpec spec = store.spec(name).orElseThrow(() -> unknownVm(name));
        return Views.vm(spec, store.vmStatus(name).orElse(null));
    }

    private static ApiException unknownVm(String name) {
        return ApiException.notFound("no VM named '" + name + "'; GET /api/v1/vms lists the VMs");
    }

    private void createVm(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx);
        String xml = body.getString("domainXml");
        boolean haEnabled = body.getBoolean("haEnabled", true);
        Priority priority = Priority.fromWire(body.getString("priority", "medium"));
        boolean start = body.getBoolean("start", true);
        vertx.executeBlocking(() -> {
            DomainXmlValidator.DomainDefinition def;
            try {
                def = validator.validate(xml);
            } catch (DomainXmlValidator.InvalidDomainXml e) {
                throw ApiException.badRequest("Invalid Domain XML", "libvirt rejected domainXml: " + e.getMessage());
            }
            VmSpec spec = new VmSpec(def.name(), xml, def.memoryMiB(), def.vcpus(), haEnabled, priority,
                    start ? RequestedState.STARTED : RequestedState.STOPPED, System.currentTimeMillis());
            if (!store.createSpec(spec)) {
                VmSpec existing = store.spec(def.name()).orElse(null);
                String hint = existing != null && existing.requestedState() == RequestedState.DELETED
                        ? "it is being deleted; retry once GET /api/v1/vms/" + def.name() + " returns 404"
                        : "change <name> in the domain XML, or DELETE /api/v1/vms/" + def.name() + " first";
                throw ApiException.conflict("a VM named '" + def.name() + "' already exists; " + hint);
            }
            log.info("VM {} created ({} MiB, {} vCPUs, priority {}, ha {})", spec.name(), spec.memoryMiB(),
                    spec.vcpus(), priority.wireName(), haEnabled);
            return Views.vm(spec, null);
        }).onSuccess(view -> ctx.response().putHeader("Location", "/api/v1/vms/" + view.name()))
                .onComplete(ar -> respond(ctx, ar.succeeded() ? ar.result() : null, ar.cause(), 201));
    }

    private Views.VmView setDesired(String name, RequestedState desired) {
        VmSpec before = store.spec(name).orElseThrow(() -> unknownVm(name));
        if (before.requestedState() == RequestedState.DELETED && desired != RequestedState.DELETED) {
            throw ApiException.conflict("VM '" + name + "' is being deleted and cannot be started or stopped");
        }
        VmSpec after = store.updateSpec(name, s -> s.requestedState() == RequestedState.DELETED ? s : s.withRequested(desired))
                .orElseThrow(() -> unknownVm(name));
        return Views.vm(after, store.vmStatus(name).orElse(null));
    }

    private void putPolicy(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx);
        ClusterPolicy policy;
        try {
            policy = ClusterPolicy.timing(body.getInteger("heartbeatIntervalSeconds"), body.getInteger("failureTimeoutSeconds"),
                    body.getInteger("leaseTimeoutSeconds"), IsolationResponse.fromWire(body.getString("isolationResponse")));
        } catch (IllegalArgumentException e) {
            problem(ctx, ApiException.badRequest("Invalid Policy", e.getMessage()));
            return;
        }
        blocking(ctx, () -> {
            store.setPolicy(policy);
            log.info("policy changed: {}", policy);
            return policy;
        }, 200);
    }

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

    // ---- plumbing -------------------------------------------------------------------------------------------------

    private static String name(RoutingContext ctx) {
        return ctx.pathParam("name");
    }

    /** The validator has checked the body against the schema already; this only guards against no body at all. */
    private static JsonObject jsonBody(RoutingContext ctx) {
        JsonObject body = ctx.body().asJsonObject();
        return body == null ? new JsonObject() : body;
    }

    private <T> void blocking(RoutingContext ctx, Callable<T> work, int status) {
        vertx.executeBlocking(work).onComplete(ar -> respond(ctx, ar.succeeded() ? ar.result() : null, ar.cause(), status));
    }

    private void respond(RoutingContext ctx, Object value, Throwable failure, int status) {
        if (failure != null) {
            problem(ctx, failure);
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
            p = Problem.of(a.status(), a.title(), a.getMessage(), path);
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
        Problem.of(p.status(), p.title(), p.detail(), path).send(ctx.response());
    }

    /** The parser's own words on where the body stops being JSON. */
    private static String jsonError(RoutingContext ctx) {
        try {
            Json.mapper().readTree(ctx.body().asString());
            return "it could not be decoded";
        } catch (Exception e) {
            String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
                    + " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() : e.getMessage();
            return m;
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
     * Names each offending field with the schema's specific complaint ("/priority: Instance does not match any of
     * [...]"), dropping the validator's generic wrapper errors; a field whose only complaint is generic is one the
     * schema does not know.
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
            } else if (errors.stream().anyMatch(e -> e.contains("additional properties"))) {
                parts.add(field + ": not a known field (see /api/v1/openapi.yaml)");
            } else {
                parts.add(field + ": " + errors.get(0));
            }
        });
        return parts.isEmpty() ? message : what + ": " + String.join("; ", parts);
    }

    private static boolean isGeneric(String error) {
        return error.contains("does not match schema") || error.contains("subschema had errors")
                || error.contains("does not match additional properties schema");
    }

    private static void collect(OutputUnit unit, Map<String, List<String>> out) {
        if (unit == null) return;
        if (unit.getErrors() != null && !unit.getErrors().isEmpty()) {
            for (OutputUnit e : unit.getErrors()) collect(e, out);
            return;
        }
        if (unit.getError() != null) {
            String where = unit.getInstanceLocation();
            String field = where == null || where.isEmpty() || where.equals("#") ? "value"
                    : "field " + where.replaceFirst("^#", "").replaceFirst("^/", "");
            out.computeIfAbsent(field, k -> new ArrayList<>()).add(unit.getError());
        }
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
