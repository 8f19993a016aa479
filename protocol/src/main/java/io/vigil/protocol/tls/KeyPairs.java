package io.vigil.protocol.tls;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/** Key pairs for the agent link: EC on NIST P-256 (secp256r1), signed with SHA256withECDSA. */
public final class KeyPairs {
    public static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";

    private KeyPairs() {}

    public static KeyPair generateP256() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot generate EC P-256 keys", e);
        }
    }
}
