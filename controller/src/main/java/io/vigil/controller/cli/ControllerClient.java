package io.vigil.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;

/**
 * The REST API over {@link HttpClient}: one request per call, with the bearer token when there is one, over HTTPS
 * verified as {@link ControllerTrust} says (or plain HTTP for an http:// URL). A 2xx answer is returned as its JSON
 * (null when it has no body); anything else becomes a {@link CliException} with the exit status of its HTTP status and
 * the controller's problem. A controller whose certificate is not trusted is sent nothing. The token never appears in
 * a message.
 */
final class ControllerClient {
    static final String API = "/api/v1";
    private final URI base;
    private final String token;
    private final Duration timeout;
    private final ObjectMapper json;
    private final ControllerTrust trust;
    private final HttpClient http;

    ControllerClient(URI base, String token, Duration timeout, ObjectMapper json, ControllerTrust trust) {
        this.base = base;
        this.token = token;
        this.timeout = timeout;
        this.json = json;
        this.trust = trust;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .sslContext(trust.sslContext()).sslParameters(ControllerTrust.parameters()).build();
    }

    /** The controller's URL, without /api/v1. */
    URI base() {
        return base;
    }

    Duration timeout() {
        return timeout;
    }

    ControllerTrust trust() {
        return trust;
    }

    /** The same controller with another trust and no token (vigil trust checks a pin before saving it). */
    ControllerClient trusting(ControllerTrust other) {
        return new ControllerClient(base, null, timeout, json, other);
    }

    /** {@code /api/v1/} and the segments, each percent-encoded. */
    static String path(String... segments) {
        StringBuilder out = new StringBuilder(API);
        for (String s : segments) out.append('/').append(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
        return out.toString();
    }

    /** {@code path} with the query parameters that are not null. */
    static String query(String path, Map<String, ?> parameters) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        parameters.forEach((k, v) -> {
            if (v != null) q.add(k + "=" + URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8));
        });
        return path + q;
    }

    JsonNode get(String path) throws CliException {
        return send("GET", path, null);
    }

    JsonNode post(String path, JsonNode body) throws CliException {
        return send("POST", path, body);
    }

    JsonNode put(String path, JsonNode body) throws CliException {
        return send("PUT", path, body);
    }

    /** A JSON Merge Patch (RFC 7396). */
    JsonNode patch(String path, JsonNode mergePatch) throws CliException {
        return send("PATCH", path, mergePatch);
    }

    JsonNode delete(String path) throws CliException {
        return send("DELETE", path, null);
    }

    private JsonNode send(String method, String path, JsonNode body) throws CliException {
        HttpRequest.Builder request = request(path).timeout(timeout).header("Accept", "application/json");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", method.equals("PATCH") ? "application/merge-patch+json" : "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        }
        HttpResponse<String> response = exchange(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (response.statusCode() / 100 != 2) throw failure(response.statusCode(), response.body());
        String text = response.body();
        if (text == null || text.isBlank()) return null;
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CliException(ExitCode.FAILURE, "unreadable response from " + base + path + ": not JSON ("
                    + e.getOriginalMessage() + ")");
        }
    }

    /**
     * Opens a Server-Sent Events stream ({@code Last-Event-ID} sent when {@code lastEventId} is not null) and returns
     * its lines; null when the server answers 204 (per the SSE spec: do not reconnect). No request timeout: events
     * may be minutes apart.
     */
    Stream<String> openEventStream(String path, String lastEventId) throws CliException {
        HttpRequest.Builder request = request(path).header("Accept", "text/event-stream").GET();
        if (lastEventId != null) request.header("Last-Event-ID", lastEventId);
        HttpResponse<Stream<String>> response = exchange(request.build(), HttpResponse.BodyHandlers.ofLines());
        if (response.statusCode() == 204) {
            response.body().close();
            return null;
        }
        if (response.statusCode() / 100 != 2) {
            List<String> lines = new ArrayList<>();
            try (Stream<String> body = response.body()) {
                body.limit(100).forEach(lines::add);
            }
            throw failure(response.statusCode(), String.join("\n", lines));
        }
        return response.body();
    }

    private HttpRequest.Builder request(String path) throws CliException {
        HttpRequest.Builder b;
        try {
            b = HttpRequest.newBuilder(base.resolve(path));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("bad controller URL " + base + " (--controller, VIGIL_CONTROLLER)");
        }
        if (token != null) b.header("Authorization", "Bearer " + token);
        return b;
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws CliException {
        try {
            return http.send(request, handler);
        } catch (ConnectException | HttpTimeoutException e) {
            String why = e instanceof HttpTimeoutException ? "no answer within " + timeout.toSeconds() + " s"
                    : e.getMessage() == null ? "connection refused" : e.getMessage();
            throw new CliException(ExitCode.UNREACHABLE, "controller unreachable at " + base + ": " + why,
                    List.of("set the controller's URL with --controller URL or VIGIL_CONTROLLER"), null);
        } catch (SSLException e) {
            throw trust.refused(base, e);
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "no readable answer from " + base + ": " + e, "http".equals(base.getScheme())
                    ? List.of("controllers serve HTTPS unless configured with plainHttp: true: try https://" + base.getRawAuthority())
                    : List.of(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCode.FAILURE, "interrupted");
        }
    }

    /** The error of a non-2xx answer: {@code <title>: <detail>} from its problem, or the status and the body's start. */
    private CliException failure(int status, String body) {
        JsonNode problem = null;
        try {
            JsonNode parsed = body == null || body.isBlank() ? null : json.readTree(body);
            if (parsed != null && parsed.isObject()) problem = parsed;
        } catch (JsonProcessingException e) {
            // not a problem document: described by its text below
        }
        String title = problem != null && problem.hasNonNull("title") ? problem.get("title").asText() : reason(status);
        String detail = problem != null && problem.hasNonNull("detail") ? problem.get("detail").asText()
                : body == null || body.isBlank() ? "HTTP " + status : "HTTP " + status + " " + abbreviate(body.strip());
        List<String> hints = new ArrayList<>();
        if (status == 401) {
            hints.add(token == null
                    ? "pass a token with --token-file FILE or VIGIL_TOKEN_FILE (or --token, VIGIL_TOKEN); the controller"
                      + " writes its bootstrap admin token to STATEDIR/admin-token, and vigil tokens create issues more"
                    : "the token sent was refused; issue a new one with vigil tokens create, or use the bootstrap admin"
                      + " token (STATEDIR/admin-token)");
        }
        if (problem != null && (problem.has("missingMiB") || problem.has("missingCpus"))) {
            hints.add("missingMiB: " + problem.path("missingMiB").asText("0") + ", missingCpus: "
                    + problem.path("missingCpus").asText("0") + " (--override does it anyway)");
        }
        return new CliException(ExitCode.ofHttpStatus(status), title + ": " + detail, hints, problem);
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\s+", " ");
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "HTTP " + status;
        };
    }
}
