package io.vigil.protocol.memory;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A credential the controller issues to the host taking over {@code vm}: it may read that VM's cache arenas (every
 * region {@code <vm>/...}) from the memory keeper of {@code keeperHost} until {@code expiresAtMillis}. Signed with
 * HMAC-SHA256 under the keeper's own key ({@link MemoryKeeperEndpoint#grantKey()}), so only the controller and that
 * keeper can make or check one, and a grant for one keeper is worthless at another.
 *
 * <p>Token form: {@code v1:<vm>:<keeperHost>:<grantee>:<expiresAtMillis>:<hex mac>}.
 */
public record RegionGrant(String vm, String keeperHost, String grantee, long expiresAtMillis, String mac) {
    private static final String VERSION = "v1";

    /** Why a keeper refuses a grant. */
    public static final class Refused extends Exception {
        public Refused(String reason) {
            super(reason);
        }
    }

    public static RegionGrant issue(String grantKey, String vm, String keeperHost, String grantee, long expiresAtMillis) {
        check(vm, "vm");
        check(keeperHost, "keeperHost");
        check(grantee, "grantee");
        return new RegionGrant(vm, keeperHost, grantee, expiresAtMillis,
                sign(grantKey, vm, keeperHost, grantee, expiresAtMillis));
    }

    public static RegionGrant parse(String token) throws Refused {
        if (token == null) throw new Refused("no grant presented");
        String[] p = token.split(":", -1);
        if (p.length != 6 || !VERSION.equals(p[0])) throw new Refused("malformed grant");
        try {
            return new RegionGrant(p[1], p[2], p[3], Long.parseLong(p[4]), p[5]);
        } catch (NumberFormatException e) {
            throw new Refused("malformed grant");
        }
    }

    public String token() {
        return VERSION + ":" + vm + ":" + keeperHost + ":" + grantee + ":" + expiresAtMillis + ":" + mac;
    }

    /** Checks the signature under {@code grantKey}, the keeper's name and the expiry; throws with the reason. */
    public void verify(String grantKey, String thisKeeperHost, long nowMillis) throws Refused {
        String expected;
        try {
            expected = sign(grantKey, vm, keeperHost, grantee, expiresAtMillis);
        } catch (IllegalArgumentException e) {
            throw new Refused("malformed grant");
        }
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), mac.getBytes(StandardCharsets.US_ASCII)))
            throw new Refused("grant signature does not verify: not issued by the controller for this keeper");
        if (!keeperHost.equals(thisKeeperHost))
            throw new Refused("grant is for the memory keeper of " + keeperHost + ", not " + thisKeeperHost);
        if (nowMillis > expiresAtMillis) throw new Refused("grant expired " + (nowMillis - expiresAtMillis) + " ms ago");
    }

    /** Whether this grant lets its holder read {@code region}. */
    public boolean covers(String region) {
        try {
            return Regions.vm(region).equals(vm);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void check(String name, String what) {
        if (name == null || name.isEmpty() || name.indexOf(':') >= 0)
            throw new IllegalArgumentException(what + " must be non-empty and without ':', not '" + name + "'");
    }

    private static String sign(String grantKey, String vm, String keeperHost, String grantee, long expires) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(Base64.getDecoder().decode(grantKey), "HmacSHA256"));
            byte[] mac = hmac.doFinal(String.join("|", VERSION, vm, keeperHost, grantee, Long.toString(expires))
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(mac);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    @Override
    public String toString() { // the token is a bearer credential: never logged whole
        return "RegionGrant[vm=" + vm + ", keeperHost=" + keeperHost + ", grantee=" + grantee + ", expiresAtMillis="
                + expiresAtMillis + "]";
    }
}
