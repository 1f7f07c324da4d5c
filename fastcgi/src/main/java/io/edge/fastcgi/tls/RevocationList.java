package io.edge.fastcgi.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1InputStream;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.DLSequence;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * An X.509 CRL as edge's revocation check reads it ({@code ssl_crl}, {@code proxy_ssl_crl}): its issuer, dates and
 * extensions, its signature, and which serials it revokes, without an object for each entry. The JDK's
 * {@link X509CRL} makes some 300 bytes of objects of each entry (a CRL of 200 000 entries: 70 MB, and seconds to
 * read); this one keeps the CRL's signed bytes and the serials it revokes, each one's bytes in one array and one long
 * for each in another, sorted, and finds a serial by binary search.
 *
 * <p>The CRL is read by BouncyCastle's ASN.1 classes, lazily: its SEQUENCEs, without parsing its
 * revokedCertificates. All but the entries is the JDK's reading: the CRL without its revokedCertificates (issuer,
 * thisUpdate, nextUpdate, extensions, signature algorithm, version, each checked as the JDK checks them) is given to
 * the JDK's CertificateFactory, and the signature is checked over the CRL's signed part as {@link X509CRL#verify}
 * checks it. The entries are walked here, in their DER, with no object made of an entry: BouncyCastle's {@code
 * TBSCertList.CRLEntry} and {@code Extensions} of each made a CRL of 200 000 entries 5 to 7 times slower to read
 * (see the commit that says so); a certificateIssuer extension's names (an indirect CRL's, rare) are BouncyCastle's
 * {@link GeneralNames}. Entries are keyed as OpenSSL's crl_set_issuers and def_crl_lookup key them: by the
 * certificate issuers an entry's certificateIssuer extension names, each of its directory names (the names kept for
 * the entries after it), the CRL's own issuer before any; the first entry of a serial (of the CRL's issuer) is the one
 * that counts; one whose reasonCode is removeFromCRL revokes nothing; after an entry with two reasonCodes or two
 * certificateIssuers OpenSSL reads no more reasons nor issuers (EXFLAG_INVALID), nor does edge. (The JDK's
 * X509CRLImpl takes the first directory name alone and the last entry of a serial: a serial listed revoked, then
 * removeFromCRL, it judges good.)
 */
public final class RevocationList {

    private static final int BOOLEAN = 0x01;
    private static final int INTEGER = 0x02;
    private static final int OCTET_STRING = 0x04;
    private static final int OID = 0x06;
    private static final int ENUMERATED = 0x0a;
    private static final int SEQUENCE = 0x30;
    private static final int UTC_TIME = 0x17;
    private static final int GENERALIZED_TIME = 0x18;
    /** id-ce-cRLReasons (2.5.29.21) and id-ce-certificateIssuer (2.5.29.29), as DER contents. */
    private static final byte[] REASON_CODE = {0x55, 0x1d, 0x15};
    private static final byte[] CERTIFICATE_ISSUER = {0x55, 0x1d, 0x1d};

    /** The CRL's signed part (tbsCertList) as encoded: what its signature is checked over. */
    private final byte[] signed;
    /** The CRL without its entries, as the JDK reads it: all but the entries and the signature check. */
    private final X509CRL outline;
    /** The serials revoked under the CRL's own issuer, each as {@link BigInteger#toByteArray}, one after another. */
    private final byte[] serials;
    /**
     * The serials of {@link #serials}, each its offset there (high 32 bits) and length (low 31 bits), sorted by
     * {@link #compare}.
     */
    private final long[] revoked;
    /** Whether an entry has a critical extension but a certificateIssuer: OpenSSL's EXFLAG_CRITICAL of entries. */
    private final boolean criticalEntryExtension;
    private final int hash;
    /** The key that verified the signature last: a check with the same key is not made again, as X509CRL's. */
    private volatile PublicKey verifiedKey;

    private RevocationList(byte[] signed, X509CRL outline, byte[] serials, long[] revoked,
            boolean criticalEntryExtension) {
        this.signed = signed;
        this.outline = outline;
        this.serials = serials;
        this.revoked = revoked;
        this.criticalEntryExtension = criticalEntryExtension;
        this.hash = Arrays.hashCode(signed) * 31 + Arrays.hashCode(outline.getSignature());
    }

    /**
     * The CRL of {@code der}.
     *
     * @throws IllegalArgumentException where it is not one, saying what is wrong
     */
    public static RevocationList of(byte[] der) {
        ASN1Sequence list;
        ASN1Sequence fields;
        byte[] signed;
        ASN1Encodable entries;
        try (ASN1InputStream in = new ASN1InputStream(der, true)) { // lazy: a SEQUENCE is parsed when asked
            ASN1Primitive read = in.readObject();
            if (read == null) {
                throw new IllegalArgumentException("it is empty");
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " bytes after the CRL");
            }
            list = ASN1Sequence.getInstance(read);
            if (list.size() != 3) {
                throw new IllegalArgumentException("a SEQUENCE of " + list.size() + ", not of 3 (tbsCertList,"
                        + " signatureAlgorithm, signature)");
            }
            // the signed part's bytes as read (DER's header, its contents' own bytes), before its fields are parsed
            signed = list.getObjectAt(0).toASN1Primitive().getEncoded();
            fields = ASN1Sequence.getInstance(list.getObjectAt(0));
            entries = revokedCertificates(fields); // the signed part's fields parsed: malformed ones are found here
        } catch (IOException | IllegalStateException e) { // IllegalStateException: BouncyCastle's ASN1ParsingException
            throw new IllegalArgumentException("the CRL's DER cannot be read (" + e.getMessage() + ")", e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the CRL is no CertificateList (" + e.getMessage() + ")", e);
        }
        X509CRL outline = outline(list, fields, entries);
        Serials revoked = new Serials();
        if (entries != null) {
            try {
                revoked.read(entries.toASN1Primitive().getEncoded(), outline.getIssuerX500Principal());
            } catch (IOException e) {
                throw new IllegalArgumentException("the revokedCertificates cannot be read (" + e.getMessage() + ")",
                        e);
            }
        }
        return new RevocationList(signed, outline, Arrays.copyOf(revoked.bytes, revoked.size), revoked.sorted(),
                revoked.critical);
    }

    /**
     * The revokedCertificates of a TBSCertList's {@code fields} (version?, signature, issuer, thisUpdate,
     * nextUpdate?, revokedCertificates?, [0] crlExtensions?): the SEQUENCE after thisUpdate, null where there is none.
     */
    private static ASN1Encodable revokedCertificates(ASN1Sequence fields) {
        boolean dated = false;
        for (ASN1Encodable field : fields) {
            if (dated && field instanceof ASN1Sequence) {
                return field;
            }
            dated |= field instanceof ASN1UTCTime || field instanceof ASN1GeneralizedTime;
        }
        return null;
    }

    /**
     * The CRL of {@code list} without its revokedCertificates ({@code entries} of its signed part's {@code fields}),
     * as the JDK's CertificateFactory reads it (and checks: version, algorithms, issuer, dates, extensions).
     */
    private static X509CRL outline(ASN1Sequence list, ASN1Sequence fields, ASN1Encodable entries) {
        ASN1EncodableVector kept = new ASN1EncodableVector();
        for (ASN1Encodable field : fields) {
            if (field != entries) {
                kept.add(field);
            }
        }
        try {
            byte[] outline = new DLSequence(new ASN1Encodable[] {new DLSequence(kept), list.getObjectAt(1),
                    list.getObjectAt(2)}).getEncoded();
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(outline));
        } catch (IOException | CRLException | CertificateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The serials a CRL revokes, as read: their bytes one after another, one long for each (see {@link #revoked}). */
    private static final class Serials {

        /** Whether an entry revokes nothing (removeFromCRL): bit 31 of its long. */
        private static final long LIFTED = 1L << 31;

        byte[] bytes = new byte[256];
        int size;
        long[] listed = new long[16];
        int count;
        /** Whether an entry has a critical extension but a certificateIssuer. */
        boolean critical;

        /**
         * The serials of the entries of {@code der} (revokedCertificates) that revoke a certificate of {@code
         * issuer}'s, in the CRL's order.
         */
        void read(byte[] der, X500Principal issuer) {
            // the names of the last certificateIssuer extension, null before any (the CRL's own issuer)
            List<X500Principal> entryIssuers = null;
            // whether an entry had two reasonCodes or two certificateIssuers: OpenSSL's crl_set_issuers stops there
            // (EXFLAG_INVALID), and that entry and every later one keeps no reason (revoked) and, from the next one
            // (from that one where it had two certificateIssuers), no issuer (the CRL's own)
            boolean stopped = false;
            Der entries;
            try {
                entries = Der.at(der, 0, der.length, SEQUENCE);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the revokedCertificates cannot be read (" + e.getMessage() + ")");
            }
            int number = 0;
            for (int at = entries.start; at < entries.end; ) {
                number++;
                // the part read, said where it cannot be, with the entry's number
                String part = "the entry";
                try {
                    Der entry = Der.at(der, at, entries.end, SEQUENCE);
                    at = entry.end;
                    part = "the serial";
                    Der serial = Der.at(der, entry.start, entry.end, INTEGER);
                    part = "the revocationDate";
                    Der date = Der.at(der, serial.end, entry.end, -1);
                    if (date.tag != UTC_TIME && date.tag != GENERALIZED_TIME) {
                        throw new IllegalArgumentException("tag 0x" + Integer.toHexString(date.tag) + ", no time");
                    }
                    boolean lifted = false;
                    int reasons = 0;
                    List<X500Principal> named = null;
                    int issuers = 0;
                    if (date.end < entry.end) {
                        part = "the extensions";
                        Der extensions = Der.at(der, date.end, entry.end, SEQUENCE);
                        for (int e = extensions.start; e < extensions.end; ) {
                            part = "an extension";
                            Der extension = Der.at(der, e, extensions.end, SEQUENCE);
                            e = extension.end;
                            Der oid = Der.at(der, extension.start, extension.end, OID);
                            Der value = Der.at(der, oid.end, extension.end, -1);
                            if (value.tag == BOOLEAN) { // critical where true (any byte but 0, as OpenSSL reads it)
                                critical |= value.end > value.start && der[value.start] != 0
                                        && !oid.is(der, CERTIFICATE_ISSUER);
                                value = Der.at(der, value.end, extension.end, OCTET_STRING);
                            } else if (value.tag != OCTET_STRING) {
                                throw new IllegalArgumentException("no OCTET STRING value");
                            }
                            if (oid.is(der, REASON_CODE)) {
                                part = "the reasonCode";
                                Der reason = Der.at(der, value.start, value.end, ENUMERATED);
                                reasons++;
                                lifted = reason.end - reason.start == 1 && der[reason.start] == CRLReason.removeFromCRL;
                            } else if (oid.is(der, CERTIFICATE_ISSUER)) {
                                part = "the certificateIssuer";
                                issuers++;
                                named = certificateIssuers(GeneralNames.getInstance(ASN1Primitive.fromByteArray(
                                        Arrays.copyOfRange(der, value.start, value.end))));
                            }
                        }
                    }
                    boolean ours;
                    if (stopped || issuers > 1) {
                        stopped = true;
                        lifted = false;
                        ours = true; // no issuer: the CRL's own
                    } else {
                        entryIssuers = named == null ? entryIssuers : named;
                        ours = entryIssuers == null || entryIssuers.contains(issuer); // else another issuer's only
                        stopped = reasons > 1;
                        lifted &= !stopped;
                    }
                    if (ours) {
                        part = "the serial";
                        add(der, serial, lifted);
                    }
                } catch (IOException | IllegalArgumentException | IllegalStateException e) {
                    // BouncyCastle's words too, for a certificateIssuer (ASN1ParsingException is an
                    // IllegalStateException)
                    throw entryProblem(number, part, e);
                }
            }
        }

        private static IllegalArgumentException entryProblem(int number, String part, Exception e) {
            return new IllegalArgumentException("entry " + number + " of revokedCertificates: " + part
                    + " cannot be read (" + e.getMessage() + ")", e);
        }

        /** The serial of {@code der} at {@code serial}, without the leading bytes DER would not have. */
        private void add(byte[] der, Der serial, boolean lifted) {
            if (serial.end == serial.start) {
                throw new IllegalArgumentException("it is empty");
            }
            int start = serial.start;
            while (start + 1 < serial.end && (der[start] == 0 && der[start + 1] >= 0
                    || der[start] == -1 && der[start + 1] < 0)) {
                start++;
            }
            int length = serial.end - start;
            if (size + length > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + length));
            }
            System.arraycopy(der, start, bytes, size, length);
            if (count == listed.length) {
                listed = Arrays.copyOf(listed, count * 2);
            }
            listed[count++] = (long) size << 32 | length | (lifted ? LIFTED : 0);
            size += length;
        }

        /**
         * The serials revoked, sorted: of one listed twice or more the first entry counts (OpenSSL's sorted stack
         * found by its first equal one); a lifted one is left out.
         */
        long[] sorted() {
            // sorted by serial, the CRL's order kept among equal ones (a stable sort): the first of each is taken
            long[] sorted = Arrays.copyOf(listed, count);
            mergeSort(bytes, sorted, new long[count], 0, count);
            long[] kept = new long[count];
            int keptCount = 0;
            for (int i = 0; i < count; i++) {
                boolean first = i == 0 || compare(bytes, sorted[i - 1], bytes, sorted[i]) != 0;
                if (first && (sorted[i] & LIFTED) == 0) {
                    kept[keptCount++] = sorted[i];
                }
            }
            return Arrays.copyOf(kept, keptCount);
        }
    }

    /**
     * Sorts {@code serials[from, to)} by {@link #compare}, stably, {@code spare} as room: a merge sort of the longs
     * themselves, no boxing, and a run already in order (OpenSSL writes a CRL's entries sorted) not merged again.
     */
    private static void mergeSort(byte[] bytes, long[] serials, long[] spare, int from, int to) {
        if (to - from < 2) {
            return;
        }
        int middle = from + to >>> 1;
        mergeSort(bytes, serials, spare, from, middle);
        mergeSort(bytes, serials, spare, middle, to);
        if (compare(bytes, serials[middle - 1], bytes, serials[middle]) <= 0) {
            return;
        }
        System.arraycopy(serials, from, spare, from, to - from);
        int left = from;
        int right = middle;
        for (int i = from; i < to; i++) {
            serials[i] = right == to || left < middle && compare(bytes, spare[left], bytes, spare[right]) <= 0
                    ? spare[left++] : spare[right++];
        }
    }

    /**
     * The directory names of a certificateIssuer extension's GeneralNames: an entry is of each, as OpenSSL's
     * crl_revoked_issuer_match takes them.
     */
    private static List<X500Principal> certificateIssuers(GeneralNames names) {
        List<X500Principal> issuers = new ArrayList<>();
        for (GeneralName name : names.getNames()) {
            if (name.getTagNo() == GeneralName.directoryName) {
                try {
                    issuers.add(new X500Principal(name.getName().toASN1Primitive().getEncoded()));
                } catch (IOException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            }
        }
        if (issuers.isEmpty()) {
            throw new IllegalArgumentException("it names no X.500 name");
        }
        return issuers;
    }

    /**
     * The order of serials: shorter ones first, then byte by byte. Not the serials' numeric order, but one whose equal
     * elements are equal serials, as each is kept in its one encoding ({@link BigInteger#toByteArray}).
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

    /** Whether the CRL lists {@code serial}, of a certificate of its own issuer, with any reason but removeFromCRL. */
    public boolean revokes(BigInteger serial) {
        byte[] wanted = serial.toByteArray();
        long key = (long) wanted.length;
        int low = 0;
        int high = revoked.length - 1;
        while (low <= high) {
            int middle = low + high >>> 1;
            int order = compare(serials, revoked[middle], wanted, key);
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
            signature.update(signed);
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

    /**
     * Whether an entry has a critical extension but a certificateIssuer (a critical reasonCode too): OpenSSL's
     * EXFLAG_CRITICAL, "unhandled critical CRL extension" for every certificate checked against the CRL.
     */
    public boolean hasCriticalEntryExtension() {
        return criticalEntryExtension;
    }

    /** How many serials it revokes (of its own issuer's certificates, removeFromCRL entries left out). */
    public int revokedCount() {
        return revoked.length;
    }

    /** Equal to another of the same signed bytes and signature, as {@link X509CRL}s of the same bytes are. */
    @Override
    public boolean equals(Object other) {
        return other == this || other instanceof RevocationList list && list.hash == hash
                && Arrays.equals(list.signed, signed) && Arrays.equals(list.outline.getSignature(),
                outline.getSignature());
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
     * A DER element of {@code der}: its tag, where its contents begin and end. DER only: one tag byte, a definite
     * length of at most 4 bytes.
     */
    private record Der(int tag, int start, int end) {

        /** The element at {@code at}, which must end by {@code limit} and have tag {@code expected} (-1: any). */
        static Der at(byte[] der, int at, int limit, int expected) {
            if (at + 1 >= limit) {
                throw new IllegalArgumentException("missing or cut short");
            }
            int tag = der[at] & 0xff;
            if (expected >= 0 && tag != expected) {
                throw new IllegalArgumentException("tag 0x" + Integer.toHexString(tag) + " where 0x"
                        + Integer.toHexString(expected) + " was expected");
            }
            int first = der[at + 1] & 0xff;
            int start = at + 2;
            long length = first;
            if (first > 0x80 && first <= 0x84) {
                length = 0;
                for (int i = 0; i < (first & 0x7f); i++) {
                    if (start >= limit) {
                        throw new IllegalArgumentException("cut short");
                    }
                    length = length << 8 | der[start++] & 0xff;
                }
            } else if (first >= 0x80) {
                throw new IllegalArgumentException("no definite length of at most 4 bytes (not DER)");
            }
            if (start + length > limit) {
                throw new IllegalArgumentException("its length (" + length + " bytes) runs past its end");
            }
            return new Der(tag, start, (int) (start + length));
        }

        /** Whether its contents are {@code contents}. */
        boolean is(byte[] der, byte[] contents) {
            return Arrays.equals(der, start, end, contents, 0, contents.length);
        }
    }
}
