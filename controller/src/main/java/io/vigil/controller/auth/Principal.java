package io.vigil.controller.auth;

/**
 * Who made a request: the name the token was issued to (a user, or a name given to an automation token), its role,
 * and the token's id ({@code kind} {@code api} for API tokens, {@code session} for dashboard logins).
 */
public record Principal(String name, Role role, String tokenId, String kind) {}
