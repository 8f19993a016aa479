/**
 * The agent's TLS identity: enrollment with a join token ({@link io.vigil.agent.tls.Enrollment}, over HTTPS pinned
 * to the CA fingerprint the token carries), the credentials it writes to {@code tlsDir}
 * ({@link io.vigil.agent.tls.TlsFiles}), and what the controller link makes of them.
 */
package io.vigil.agent.tls;
