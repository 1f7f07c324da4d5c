package io.edge.fastcgi.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.Date;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * An X.509 CRL as edge's revocation check reads it ({@code ssl_crl}, {@code proxy_ssl_crl}): its issuer, dates and
 * extensions, its signature, and which serials it revokes, without an object for each entry. The JDK's
 * {@link X509CRL} makes some 300 bytes of objects of each entry (a CRL of 200 000 entries: 70 MB, and seconds to
 * read); this one keeps the CRL's bytes and one long for each serial it revokes, sorted, and finds a serial by binary
 * search.
 *
 * <p>All but the entries is the JDK's reading: the CRL without its revokedCertificates (issuer, thisUpdate,
 * nextUpdate, extensions, signature algorithm, version, each checked as the JDK checks them) is given to the JDK's
 * CertificateFactory, and the signature is checked over the CRL's own signed bytes as {@link X509CRL#verify} checks
 * it. The entries are read here, as the JDK's X509CRLImpl keys them: by the certificate issuer an entry's
 * certificateIssuer extension names (kept for the entries after it), the CRL's own issuer before any; the last entry
 * of a serial is the one that counts; one whose reasonCode is removeFromCRL revokes nothing.
 *
 * <pre>
 * CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
 * TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name, thisUpdate Time,
 *     nextUpdate Time OPTIONAL,
 *     revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time,
 *                                                crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 * </pre>
 */
public final class RevocationList {

    private static final int INTEGER = 0x02;
    private static final int OCTET_STRING = 0x04;
    private static final int OID = 0x06;
    private static final int ENUMERATED = 0x0a;
    private static final int SEQUENCE = 0x30;
    private static final int UTC_TIME = 0x17;
    private static final int GENERALIZED_TIME = 0x18;
    private static final int DIRECTORY_NAME = 0xa4;
    private static final int BOOLEAN = 0x01;
    /** id-ce-cRLReasons (2.5.29.21) and id-ce-certificateIssuer (2.5.29.29), as DER contents. */
    private static final byte[] REASON_CODE = {0x55, 0x1d, 0x15};
    private static final byte[] CERTIFICATE_ISSUER = {0x55, 0x1d, 0x1d};
    /** The reasonCode that lifts a hold: the entry revokes nothing. */
    private static final int REMOVE_FROM_CRL = 8;

    /** The CRL as read, DER. */
    private final byte[] der;
    private final int tbsStart;
    private final int tbsEnd;
    /** The CRL without its entries, as the JDK reads it: all but the entries and the signature check. */
    private final X509CRL outline;
    /**
     * The serials revoked under the CRL's own issuer, each its offset in {@link #der} (high 32 bits) and length (low
     * 32 bits) of its INTEGER's contents without redundant leading bytes, sorted by {@link #compare}.
     */
    private final long[] revoked;
    private final int hash;
    /** The key that verified the signature last: a check with the same key is not made again, as X509CRL's. */
    private volatile PublicKey verifiedKey;

    private RevocationList(byte[] der, int tbsStart, int tbsEnd, X509CRL outline, long[] revoked) {
        this.der = der;
        this.tbsStart = tbsStart;
        this.tbsEnd = tbsEnd;
        this.outline = outline;
        this.revoked = revoked;
        this.hash = Arrays.hashCode(der);
    }

    /**
     * The CRL of {@code der}.
     *
     * @throws IllegalArgumentException where it is not one, saying what is wrong
     */
    public static RevocationList of(byte[] der) {
        Der list = Der.at(der, 0, der.length, SEQUENCE, "the CRL");
        if (list.end != der.length) {
            throw new IllegalArgumentException((der.length - list.end) + " bytes after the CRL");
        }
        Der tbs = Der.at(der, list.start, list.end, SEQUENCE, "the signed part (tbsCertList)");
        // the optional version, signature, issuer, thisUpdate, the optional nextUpdate: a SEQUENCE after them is
        // revokedCertificates (the JDK's reading of the rest says what is wrong with them)
        int at = tbs.start;
        if (Der.at(der, at, tbs.end, -1, "the signed part's first field").tag == INTEGER) {
            at = Der.at(der, at, tbs.end, INTEGER, "the version").end;
        }
        for (String field : new String[] {"the signature algorithm", "the issuer", "thisUpdate"}) {
            at = Der.at(der, at, tbs.end, -1, field).end;
        }
        if (at < tbs.end && (der[at] == UTC_TIME || der[at] == GENERALIZED_TIME)) {
            at = Der.at(der, at, tbs.end, -1, "nextUpdate").end;
        }
        Der entries = at < tbs.end && der[at] == SEQUENCE
                ? Der.at(der, at, tbs.end, SEQUENCE, "revokedCertificates") : null;
        X509CRL outline = outline(der, list, tbs, entries);
        return new RevocationList(der, tbs.header, tbs.end, outline, entries == null ? new long[0]
                : revoked(der, entries, outline.getIssuerX500Principal()));
    }

    /** The CRL of {@code der} without {@code entries} (null: it has none), as the JDK's CertificateFactory reads it. */
    private static X509CRL outline(byte[] der, Der list, Der tbs, Der entries) {
        byte[] outlineDer = der;
        if (entries != null) {
            ByteArrayOutputStream tbsContents = new ByteArrayOutputStream();
            tbsContents.write(der, tbs.start, entries.header - tbs.start);
            tbsContents.write(der, entries.end, tbs.end - entries.end);
            ByteArrayOutputStream listContents = new ByteArrayOutputStream();
            listContents.writeBytes(tagged(SEQUENCE, tbsContents.toByteArray()));
            listContents.write(der, tbs.end, list.end - tbs.end);
            outlineDer = tagged(SEQUENCE, listContents.toByteArray());
        }
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(outlineDer));
        } catch (CRLException | CertificateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The serials {@code entries} revoke under {@code issuer}, sorted (see {@link #revoked}). */
    private static long[] revoked(byte[] der, Der entries, X500Principal issuer) {
        // each entry's serial, and whether it revokes (bit 31 of the low half: it does not), in the CRL's order
        long[] listed = new long[16];
        int count = 0;
        X500Principal entryIssuer = issuer;
        int number = 0;
        for (int at = entries.start; at < entries.end; ) {
            number++;
            Der serial;
            boolean removed = false;
            // the names of the parts, constants: an entry's number is said only where one is wrong
            try {
                Der entry = Der.at(der, at, entries.end, SEQUENCE, "the entry");
                at = entry.end;
                serial = Der.at(der, entry.start, entry.end, INTEGER, "the serial");
                if (serial.end == serial.start) {
                    throw new IllegalArgumentException("the serial is empty");
                }
                Der date = Der.at(der, serial.end, entry.end, -1, "the revocationDate");
                if (date.tag != UTC_TIME && date.tag != GENERALIZED_TIME) {
                    throw new IllegalArgumentException("the revocationDate is no time (tag 0x"
                            + Integer.toHexString(date.tag) + ")");
                }
                if (date.end < entry.end) {
                    Der extensions = Der.at(der, date.end, entry.end, SEQUENCE, "the extensions");
                    for (int e = extensions.start; e < extensions.end; ) {
                        Der extension = Der.at(der, e, extensions.end, SEQUENCE, "an extension");
                        e = extension.end;
                        Der oid = Der.at(der, extension.start, extension.end, OID, "an extension's OID");
                        Der value = Der.at(der, oid.end, extension.end, -1, "an extension's value");
                        if (value.tag == BOOLEAN) {
                            value = Der.at(der, value.end, extension.end, OCTET_STRING, "an extension's value");
                        } else if (value.tag != OCTET_STRING) {
                            throw new IllegalArgumentException("an extension has no OCTET STRING value");
                        }
                        if (oid.is(der, REASON_CODE)) {
                            Der reason = Der.at(der, value.start, value.end, ENUMERATED, "the reasonCode");
                            removed = reason.end - reason.start == 1 && der[reason.start] == REMOVE_FROM_CRL;
                        } else if (oid.is(der, CERTIFICATE_ISSUER)) {
                            entryIssuer = certificateIssuer(der, value);
                        }
                    }
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("entry " + number + " of revokedCertificates: " + e.getMessage(),
                        e);
            }
            if (!entryIssuer.equals(issuer)) {
                continue; // another issuer's certificate (an indirect CRL): none of the CRL issuer's
            }
            // the contents without the leading bytes DER would not have: one value, one encoding, as BigInteger's
            int start = serial.start;
            while (start + 1 < serial.end && (der[start] == 0 && der[start + 1] >= 0
                    || der[start] == -1 && der[start + 1] < 0)) {
                start++;
            }
            if (count == listed.length) {
                listed = Arrays.copyOf(listed, count * 2);
            }
            listed[count++] = (long) start << 32 | serial.end - start | (removed ? 1L << 31 : 0);
        }
        // sorted by serial, the CRL's order kept among equal ones (a stable sort): the last of each is the one taken
        long[] sorted = Arrays.copyOf(listed, count);
        mergeSort(der, sorted, new long[count], 0, count);
        long[] kept = new long[count];
        int keptCount = 0;
        for (int i = 0; i < count; i++) {
            boolean last = i + 1 == count || compare(der, sorted[i], der, sorted[i + 1]) != 0;
            if (last && (sorted[i] & 1L << 31) == 0) {
                kept[keptCount++] = sorted[i];
            }
        }
        return Arrays.copyOf(kept, keptCount);
    }

    /**
     * Sorts {@code serials[from, to)} by {@link #compare}, stably, {@code spare} as room: a merge sort of the longs
     * themselves, no boxing, and a run already in order (OpenSSL writes a CRL's entries sorted) not merged again.
     */
    private static void mergeSort(byte[] der, long[] serials, long[] spare, int from, int to) {
        if (to - from < 2) {
            return;
        }
        int middle = from + to >>> 1;
        mergeSort(der, serials, spare, from, middle);
        mergeSort(der, serials, spare, middle, to);
        if (compare(der, serials[middle - 1], der, serials[middle]) <= 0) {
            return;
        }
        System.arraycopy(serials, from, spare, from, to - from);
        int left = from;
        int right = middle;
        for (int i = from; i < to; i++) {
            serials[i] = right == to || left < middle && compare(der, spare[left], der, spare[right]) <= 0
                    ? spare[left++] : spare[right++];
        }
    }

    /** The first directory name of a certificateIssuer extension's GeneralNames, as the JDK's X509CRLImpl takes it. */
    private static X500Principal certificateIssuer(byte[] der, Der value) {
        Der names = Der.at(der, value.start, value.end, SEQUENCE, "the certificateIssuer");
        for (int at = names.start; at < names.end; ) {
            Der name = Der.at(der, at, names.end, -1, "the certificateIssuer");
            at = name.end;
            if (name.tag == DIRECTORY_NAME) {
                Der x500 = Der.at(der, name.start, name.end, SEQUENCE, "the certificateIssuer");
                try {
                    return new X500Principal(Arrays.copyOfRange(der, x500.header, x500.end));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("the certificateIssuer cannot be read (" + e.getMessage() + ")");
                }
            }
        }
        throw new IllegalArgumentException("the certificateIssuer names no X.500 name");
    }

    /**
     * The order of serials: shorter contents first, then byte by byte. Not the serials' numeric order, but one whose
     * equal elements are equal serials, as their contents are kept without redundant leading bytes.
     */
    private static int compare(byte[] a, long first, byte[] b, long second) {
        int firstLength = (int) first & 0x7fffffff;
        int secondLength = (int) second & 0x7fffffff;
        if (firstLength != secondLength) {
            return Integer.compare(firstLength, secondLength);
        }
        int firstStart = (int) (first >>> 32);
        int secondStart = (int) (second >>> 32);
        return Arrays.compareUnsigned(a, firstStart, firstStart + firstLength, b, secondStart,
                secondStart + secondLength);
    }

    /** DER's tag, length and contents of {@code content}. */
    private static byte[] tagged(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = content.length;
        int bytes = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
        out.write(bytes == 0 ? length : 0x80 | bytes);
        for (int i = bytes - 1; i >= 0; i--) {
            out.write(length >>> 8 * i);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /** Whether the CRL lists {@code serial}, of a certificate of its own issuer, with any reason but removeFromCRL. */
    public boolean revokes(BigInteger serial) {
        byte[] wanted = serial.toByteArray();
        long key = (long) wanted.length;
        int low = 0;
        int high = revoked.length - 1;
        while (low <= high) {
            int middle = low + high >>> 1;
            int order = compare(der, revoked[middle], wanted, key);
            if (order < 0) {
                low = middle + 1;
            } else if (order > 0) {
                high = middle - 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code key} verifies the CRL's signature, as {@link X509CRL#verify(PublicKey)} checks it (its
     * algorithm by the JDK's name, RSASSA-PSS with its parameters); a key that verified it before is not asked again.
     */
    public boolean signedBy(PublicKey key) {
        if (key.equals(verifiedKey)) {
            return true;
        }
        try {
            Signature signature = Signature.getInstance(outline.getSigAlgName());
            signature.initVerify(key);
            byte[] parameters = outline.getSigAlgParams();
            if (parameters != null && outline.getSigAlgName().equalsIgnoreCase("RSASSA-PSS")) {
                AlgorithmParameters pss = AlgorithmParameters.getInstance("RSASSA-PSS");
                pss.init(parameters);
                signature.setParameter(pss.getParameterSpec(PSSParameterSpec.class));
            }
            signature.update(der, tbsStart, tbsEnd - tbsStart);
            if (!signature.verify(outline.getSignature())) {
                return false;
            }
        } catch (GeneralSecurityException | java.io.IOException e) {
            return false;
        }
        verifiedKey = key;
        return true;
    }

    /** The CRL's issuer. */
    public X500Principal getIssuerX500Principal() {
        return outline.getIssuerX500Principal();
    }

    /** Its thisUpdate. */
    public Date getThisUpdate() {
        return outline.getThisUpdate();
    }

    /** Its nextUpdate, null where it has none. */
    public Date getNextUpdate() {
        return outline.getNextUpdate();
    }

    /** The DER OCTET STRING of its extension {@code oid}, null where it has none: as {@link X509CRL}'s. */
    public byte[] getExtensionValue(String oid) {
        return outline.getExtensionValue(oid);
    }

    /** The OIDs of its critical extensions: as {@link X509CRL}'s (null where it has no extensions). */
    public Set<String> getCriticalExtensionOIDs() {
        return outline.getCriticalExtensionOIDs();
    }

    /** How many serials it revokes (of its own issuer's certificates, removeFromCRL entries left out). */
    public int revokedCount() {
        return revoked.length;
    }

    /** The CRL as read, DER. */
    public byte[] getEncoded() {
        return der.clone();
    }

    /** Equal to another of the same bytes, as {@link X509CRL}s are. */
    @Override
    public boolean equals(Object other) {
        return other == this || other instanceof RevocationList list && list.hash == hash
                && Arrays.equals(list.der, der);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "CRL of " + getIssuerX500Principal().getName() + ", thisUpdate " + getThisUpdate().toInstant()
                + ", " + revoked.length + " serials revoked";
    }

    /**
     * A DER element of {@code der}: its tag, where its header begins, where its contents begin and end. DER only:
     * one tag byte, a definite length.
     */
    private record Der(int tag, int header, int start, int end) {

        /** The element at {@code at}, which must end by {@code limit} and have tag {@code expected} (-1: any). */
        static Der at(byte[] der, int at, int limit, int expected, String what) {
            if (at >= limit || at + 1 >= limit) {
                throw new IllegalArgumentException(what + " is missing or cut short (at byte " + at + ")");
            }
            int tag = der[at] & 0xff;
            if (expected >= 0 && tag != expected) {
                throw new IllegalArgumentException(what + " has tag 0x" + Integer.toHexString(tag) + " at byte " + at
                        + " (expected: 0x" + Integer.toHexString(expected) + ")");
            }
            int first = der[at + 1] & 0xff;
            int start = at + 2;
            long length = first;
            if (first > 0x80 && first <= 0x84) {
                length = 0;
                for (int i = 0; i < (first & 0x7f); i++) {
                    if (start >= limit) {
                        throw new IllegalArgumentException(what + " is cut short (at byte " + start + ")");
                    }
                    length = length << 8 | der[start++] & 0xff;
                }
            } else if (first >= 0x80) {
                throw new IllegalArgumentException(what + " has no definite length of at most 4 bytes (at byte "
                        + at + ": not DER)");
            }
            if (start + length > limit) {
                throw new IllegalArgumentException(what + " runs past its end (" + length + " bytes at byte " + at
                        + ")");
            }
            return new Der(tag, at, start, (int) (start + length));
        }

        /** Whether its contents are {@code contents}. */
        boolean is(byte[] der, byte[] contents) {
            return Arrays.equals(der, start, end, contents, 0, contents.length);
        }
    }
}
